package bridge

import (
	"testing"

	"go.uber.org/goleak"
)

// Every lane, batcher and database pool a test starts is stopped by the end
// of it: no goroutine may outlive the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
