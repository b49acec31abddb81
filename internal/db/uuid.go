package db

import (
	"context"
	"fmt"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// encodeUUIDsNatively makes conn send uuid.UUID parameters as the 16 bytes
// they are. Without it pgx sees uuid.UUID's driver.Valuer before its
// underlying [16]byte: each parameter is formatted as a 36-character
// string, then parsed back by pgx's uuid codec, with a plan lookup for the
// string on every call. That was 6 % of the server's CPU on a project
// create. *uuid.UUID too: pgx's pointer wrapper leaves pointers to a
// driver.Valuer to the same path (a nil one is sent as NULL before).
func encodeUUIDsNatively(conn *pgx.Conn) {
	m := conn.TypeMap()
	m.TryWrapEncodePlanFuncs = append([]pgtype.TryWrapEncodePlanFunc{tryWrapUUID}, m.TryWrapEncodePlanFuncs...)
}

// scanUUIDsNatively makes m read uuid columns into uuid.UUID (and ent's
// NullScanner around one, for a nullable column) as the 16 bytes they
// are. Without it pgx takes uuid.UUID for a plain sql.Scanner: each value
// is formatted as a 36-character string, which uuid.UUID.Scan then parses
// back; twenty of each per page of projects.
func scanUUIDsNatively(m *pgtype.Map) {
	m.RegisterType(&pgtype.Type{Name: "uuid", OID: pgtype.UUIDOID, Codec: uuidCodec{}})
}

// uuidCodec is pgx's uuid codec with direct scan plans for uuid.UUID.
type uuidCodec struct{ pgtype.UUIDCodec }

func (c uuidCodec) PlanScan(m *pgtype.Map, oid uint32, format int16, target any) pgtype.ScanPlan {
	if format == pgtype.BinaryFormatCode {
		switch t := target.(type) {
		case *uuid.UUID:
			return scanUUIDPlan{}
		case *entsql.NullScanner:
			if _, ok := t.S.(*uuid.UUID); ok {
				return scanUUIDPlan{}
			}
		}
	}
	return c.UUIDCodec.PlanScan(m, oid, format, target)
}

// scanUUIDPlan copies a binary uuid into a *uuid.UUID, or into the
// *uuid.UUID of an *entsql.NullScanner (NULL leaves it not Valid).
type scanUUIDPlan struct{}

func (scanUUIDPlan) Scan(src []byte, target any) error {
	if src != nil && len(src) != 16 {
		return fmt.Errorf("db: a binary uuid is 16 bytes, got %d", len(src))
	}
	switch t := target.(type) {
	case *uuid.UUID:
		if src != nil { // NULL leaves it as it was, as uuid.UUID.Scan does
			*t = uuid.UUID(src)
		}
		return nil
	case *entsql.NullScanner:
		u, ok := t.S.(*uuid.UUID)
		if !ok {
			return fmt.Errorf("db: a uuid scan plan got a NullScanner of %T", t.S)
		}
		t.Valid = src != nil
		if t.Valid {
			*u = uuid.UUID(src)
		}
		return nil
	}
	return fmt.Errorf("db: a uuid scan plan got %T", target)
}

func tryWrapUUID(value any) (pgtype.WrappedEncodePlanNextSetter, any, bool) {
	switch u := value.(type) {
	case uuid.UUID:
		return &uuidEncodePlan{}, [16]byte(u), true
	case *uuid.UUID:
		// pgx's own pointer wrapper passes over pointers to a
		// driver.Valuer; a nil one never gets here (pgx sends NULL).
		if u != nil {
			return &uuidEncodePlan{}, [16]byte(*u), true
		}
	}
	return nil, nil, false
}

// uuidEncodePlan encodes a uuid.UUID or *uuid.UUID (a plan is kept per Go
// type) as its bytes through the next plan, pgx's for [16]byte.
type uuidEncodePlan struct{ next pgtype.EncodePlan }

func (p *uuidEncodePlan) SetNext(next pgtype.EncodePlan) { p.next = next }

func (p *uuidEncodePlan) Encode(value any, buf []byte) ([]byte, error) {
	switch u := value.(type) {
	case uuid.UUID:
		return p.next.Encode([16]byte(u), buf)
	case *uuid.UUID:
		if u != nil {
			return p.next.Encode([16]byte(*u), buf)
		}
	}
	return nil, nil
}

// AfterConnect prepares each new connection of a pool (PoolConfig sets it;
// tests' pools too), then calls next when there is one.
func AfterConnect(next func(context.Context, *pgx.Conn) error) func(context.Context, *pgx.Conn) error {
	return func(ctx context.Context, conn *pgx.Conn) error {
		encodeUUIDsNatively(conn)
		scanUUIDsNatively(conn.TypeMap())
		scanTimestamptzNatively(conn.TypeMap())
		if next != nil {
			return next(ctx, conn)
		}
		return nil
	}
}
