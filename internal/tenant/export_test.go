package tenant

import (
	"slices"

	"github.com/clientiq/clientiq/internal/dbmigrate"
)

// The tests live in package tenant_test (dbtest pulls in half the module);
// these hooks reach the few unexported fields they need. Set them before the
// Service is used: they are plain fields, not synchronized.

// SetFailAfterSchemaForTest makes Create call f inside its transaction once
// the schema is migrated; a non-nil error from f aborts the provisioning.
func (s *Service) SetFailAfterSchemaForTest(f func() error) { s.failAfterSchema = f }

// MigrationsForTest returns a copy of the tenant migrations s applies.
func (s *Service) MigrationsForTest() []dbmigrate.File { return slices.Clone(s.migrations) }

// SetMigrationsForTest replaces the tenant migrations s applies, to simulate
// a new release or a broken file.
func (s *Service) SetMigrationsForTest(files []dbmigrate.File) { s.migrations = slices.Clone(files) }
