package db

import (
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5/pgtype"
)

// scanTimestamptzNatively makes m read timestamptz columns into
// sql.NullTime (ent's destination for every time field) through pgx's own
// timestamptz plan. Without it pgx takes sql.NullTime for a plain
// sql.Scanner: each value is decoded into a pgtype.Timestamptz, boxed as a
// driver.Value and handed to NullTime.Scan, and the decoding plans its
// scan anew on every value (three allocations); two per project row.
func scanTimestamptzNatively(m *pgtype.Map) {
	t, ok := m.TypeForOID(pgtype.TimestamptzOID)
	if !ok {
		return
	}
	m.RegisterType(&pgtype.Type{Name: t.Name, OID: t.OID, Codec: timestamptzCodec{t.Codec}})
}

// timestamptzCodec is pgx's timestamptz codec with a plan for sql.NullTime.
type timestamptzCodec struct{ pgtype.Codec }

func (c timestamptzCodec) PlanScan(m *pgtype.Map, oid uint32, format int16, target any) pgtype.ScanPlan {
	if _, ok := target.(*sql.NullTime); ok {
		if next := c.Codec.PlanScan(m, oid, format, (*nullTime)(nil)); next != nil {
			return nullTimePlan{next}
		}
	}
	return c.Codec.PlanScan(m, oid, format, target)
}

// nullTime is sql.NullTime as a pgtype.TimestamptzScanner.
type nullTime sql.NullTime

func (t *nullTime) ScanTimestamptz(v pgtype.Timestamptz) error {
	switch {
	case !v.Valid:
		*t = nullTime{}
	case v.InfinityModifier != pgtype.Finite:
		return fmt.Errorf("db: cannot scan timestamptz %s into a time", v.InfinityModifier)
	default:
		*t = nullTime{Time: v.Time, Valid: true}
	}
	return nil
}

// nullTimePlan scans into a *sql.NullTime through pgx's plan for a
// TimestamptzScanner.
type nullTimePlan struct{ next pgtype.ScanPlan }

func (p nullTimePlan) Scan(src []byte, target any) error {
	t, ok := target.(*sql.NullTime)
	if !ok {
		return fmt.Errorf("db: a timestamptz scan plan got %T", target)
	}
	return p.next.Scan(src, (*nullTime)(t))
}
