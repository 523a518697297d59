package database

import (
	"errors"
	"fmt"

	"go.mau.fi/util/dbutil"
)

// ErrSchemaTooNew is returned (wrapped) by Migrate when the database was
// written by a newer Switchboard than this one: its version table names a
// version this binary has no migration for. The caller stops start-up and
// tells the user to run a newer Switchboard; the database is left untouched.
// The same error also matches dbutil.ErrUnsupportedDatabaseVersion.
var ErrSchemaTooNew = errors.New("database schema is newer than this Switchboard")

// schemaTooNewError is the one-line error behind ErrSchemaTooNew.
type schemaTooNewError struct {
	schema  string
	version int
	known   int
}

func (e *schemaTooNewError) Error() string {
	return fmt.Sprintf("database schema %q is at v%d, newer than this Switchboard (knows v%d); run a newer Switchboard",
		e.schema, e.version, e.known)
}

func (e *schemaTooNewError) Unwrap() []error {
	return []error{ErrSchemaTooNew, dbutil.ErrUnsupportedDatabaseVersion}
}
