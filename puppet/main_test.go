package puppet_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every database pool a test opens is closed by the end of it.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
