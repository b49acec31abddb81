package db

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// encodeUUIDsNatively makes conn send uuid.UUID parameters as the 16 bytes
// they are. Without it pgx sees uuid.UUID's driver.Valuer before its
// underlying [16]byte: each parameter is formatted as a 36-character
// string, then parsed back by pgx's uuid codec, with a plan lookup for the
// string on every call. That was 6 % of the server's CPU on a project
// create. Pointers (*uuid.UUID, nil as NULL) reach this through pgx's own
// pointer wrapper.
func encodeUUIDsNatively(conn *pgx.Conn) {
	m := conn.TypeMap()
	m.TryWrapEncodePlanFuncs = append([]pgtype.TryWrapEncodePlanFunc{tryWrapUUID}, m.TryWrapEncodePlanFuncs...)
}

func tryWrapUUID(value any) (pgtype.WrappedEncodePlanNextSetter, any, bool) {
	if u, ok := value.(uuid.UUID); ok {
		return &uuidEncodePlan{}, [16]byte(u), true
	}
	return nil, nil, false
}

type uuidEncodePlan struct{ next pgtype.EncodePlan }

func (p *uuidEncodePlan) SetNext(next pgtype.EncodePlan) { p.next = next }

func (p *uuidEncodePlan) Encode(value any, buf []byte) ([]byte, error) {
	return p.next.Encode([16]byte(value.(uuid.UUID)), buf)
}

// AfterConnect prepares each new connection of a pool (PoolConfig sets it;
// tests' pools too), then calls next when there is one.
func AfterConnect(next func(context.Context, *pgx.Conn) error) func(context.Context, *pgx.Conn) error {
	return func(ctx context.Context, conn *pgx.Conn) error {
		encodeUUIDsNatively(conn)
		if next != nil {
			return next(ctx, conn)
		}
		return nil
	}
}
