package bridge

import (
	"testing"

	"maunium.net/go/mautrix/id"
)

// TestInflightWaitsOnlyForEarlierSends: a lookup waits for the sends in
// flight when it starts, not for those begun after.
func TestInflightWaitsOnlyForEarlierSends(t *testing.T) {
	var f inflight
	room := id.RoomID("!r:example.org")
	first := f.start(room)
	pending := f.pending(room)
	second := f.start(room)
	if len(pending) != 1 {
		t.Fatalf("%d pending, want 1", len(pending))
	}
	select {
	case <-pending[0]:
		t.Fatal("pending send reported done before it was")
	default:
	}
	first()
	<-pending[0]
	second()
	if left := f.pending(room); len(left) != 0 {
		t.Errorf("%d sends still pending", len(left))
	}
}
