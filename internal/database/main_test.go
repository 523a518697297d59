package database_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every pool a test opens is closed by the end of it: no database/sql
// opener goroutine, pgx connection or SQLite handle may outlive the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
