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
// create. *uuid.UUID too: pgx's pointer wrapper leaves pointers to a
// driver.Valuer to the same path (a nil one is sent as NULL before).
func encodeUUIDsNatively(conn *pgx.Conn) {
	m := conn.TypeMap()
	m.TryWrapEncodePlanFuncs = append([]pgtype.TryWrapEncodePlanFunc{tryWrapUUID}, m.TryWrapEncodePlanFuncs...)
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
		if next != nil {
			return next(ctx, conn)
		}
		return nil
	}
}
