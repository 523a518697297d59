package bridge

import (
	"context"
	"sync"
	"time"

	"maunium.net/go/mautrix/id"

	"switchboard/portal"
)

// inflight counts the network messages being sent to each room whose
// message-map rows are not written yet. A Matrix user can react to (or
// reply to, edit, redact) such a message within milliseconds of seeing it,
// before its row lands; twins then waits for the room's sends to be
// recorded instead of taking the message for one the network never had.
type inflight struct {
	mu    sync.Mutex
	next  uint64
	rooms map[id.RoomID]map[uint64]chan struct{}
}

// start marks a send to room as begun; the returned func marks it recorded
// (or failed).
func (f *inflight) start(room id.RoomID) func() {
	done := make(chan struct{})
	f.mu.Lock()
	if f.rooms == nil {
		f.rooms = map[id.RoomID]map[uint64]chan struct{}{}
	}
	sends := f.rooms[room]
	if sends == nil {
		sends = map[uint64]chan struct{}{}
		f.rooms[room] = sends
	}
	f.next++
	key := f.next
	sends[key] = done
	f.mu.Unlock()
	return func() {
		f.mu.Lock()
		delete(sends, key)
		if len(sends) == 0 {
			delete(f.rooms, room)
		}
		f.mu.Unlock()
		close(done)
	}
}

// pending returns the sends to room in flight now (not those started
// later, so a busy room never keeps a lookup waiting).
func (f *inflight) pending(room id.RoomID) []chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]chan struct{}, 0, len(f.rooms[room]))
	for _, done := range f.rooms[room] {
		out = append(out, done)
	}
	return out
}

// recordWait bounds how long a lookup waits for in-flight rows.
const recordWait = 5 * time.Second

// twins returns the message-map rows of a Matrix event, waiting for the
// room's in-flight network messages to be recorded when there are none yet.
func (b *Bridge) twins(ctx context.Context, room id.RoomID, eventID id.EventID) ([]*portal.Message, error) {
	ms, err := b.portals.MessagesByEvent(ctx, b.network, eventID)
	if err != nil || len(ms) > 0 {
		return ms, err
	}
	pending := b.sending.pending(room)
	if len(pending) == 0 {
		return nil, nil
	}
	t := time.NewTimer(recordWait)
	defer t.Stop()
	for _, done := range pending {
		select {
		case <-done:
		case <-t.C:
			return b.portals.MessagesByEvent(ctx, b.network, eventID)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return b.portals.MessagesByEvent(ctx, b.network, eventID)
}
