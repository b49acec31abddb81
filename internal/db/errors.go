package db

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/clientiq/clientiq/internal/apperr"
)

// SQLSTATE codes ClientIQ branches on.
const (
	CodeUniqueViolation          = "23505"
	CodeForeignKeyViolation      = "23503"
	CodeCheckViolation           = "23514"
	CodeNotNullViolation         = "23502"
	CodeUndefinedTable           = "42P01"
	CodeInvalidSchemaName        = "3F000"
	CodeDuplicateSchema          = "42P06"
	CodeQueryCanceled            = "57014"
	CodeCharacterNotInRepertoire = "22021"
	CodeUntranslatableCharacter  = "22P05"
	CodeStringTooLong            = "22001"
	CodeSerialization            = "40001"
	CodeDeadlock                 = "40P01"
)

// HasCode reports whether err is a PostgreSQL error with SQLSTATE code.
func HasCode(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}

// Translate maps PostgreSQL errors to apperr codes once, at the adapter:
// constraint violations become CONFLICT or VALIDATION_ERROR; the rest stay
// INTERNAL with the original error kept for the log.
func Translate(err error) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	switch pgErr.Code {
	case CodeUniqueViolation:
		return apperr.Wrap(apperr.CodeConflict, "already exists", err)
	case CodeForeignKeyViolation:
		return apperr.Wrap(apperr.CodeConflict, "refers to or is referred to by another record", err)
	case CodeCheckViolation, CodeNotNullViolation:
		return apperr.Wrap(apperr.CodeValidation, "invalid value", err)
	case CodeCharacterNotInRepertoire, CodeUntranslatableCharacter:
		return apperr.Wrap(apperr.CodeValidation, "text must not contain NUL or invalid characters", err)
	case CodeStringTooLong:
		return apperr.Wrap(apperr.CodeValidation, "a value is too long", err)
	case CodeQueryCanceled:
		return apperr.Wrap(apperr.CodeUnavailable, "the operation took too long", err)
	}
	return err
}
