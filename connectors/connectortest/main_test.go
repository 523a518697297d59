package connectortest

import (
	"testing"

	"go.uber.org/goleak"
)

// Every goroutine a test starts (connectors, long-polls, servers) must have
// ended when the tests do.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
