package appservice

import (
	"testing"

	"go.uber.org/goleak"
)

// Every receiver, fake homeserver and client connection a test starts is
// gone by the end of it.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
