package rooms

import (
	"context"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/homeserver/mxhttp"
)

// What the homeserver's other parts (the appservice pusher) read of the
// event stream.

// StreamEvent is a committed event with its position in the event stream.
type StreamEvent struct {
	Pos   int64
	Event ClientEvent
}

const streamSinceSQL = `SELECT ` + eventColumns + ` FROM hs_events WHERE stream_pos > $1 AND stream_pos <= $2 ORDER BY stream_pos ASC LIMIT $3`

// EventsSince returns up to limit committed events after position from, in
// stream order.
func (e *Engine) EventsSince(ctx context.Context, from int64, limit int) ([]StreamEvent, error) {
	stored, err := e.store.events(ctx, streamSinceSQL, from, e.Latest(), limit)
	if err != nil {
		return nil, err
	}
	out := make([]StreamEvent, 0, len(stored))
	for _, ev := range stored {
		ce, err := e.clientEvent(ctx, ev, mxhttp.Identity{})
		if err != nil {
			return nil, err
		}
		out = append(out, StreamEvent{Pos: ev.pos, Event: ce})
	}
	return out, nil
}

// EventsByID returns events by id in stream order, leaving out unknown ids.
func (e *Engine) EventsByID(ctx context.Context, ids []string) ([]ClientEvent, error) {
	return e.clientEventsByID(ctx, mxhttp.Identity{}, ids)
}

// RoomMembers maps the users with a membership in a room to it.
func (e *Engine) RoomMembers(ctx context.Context, roomID id.RoomID) (map[id.UserID]string, error) {
	r, err := e.room(ctx, roomID)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[id.UserID]string{}
	for t, ev := range r.state {
		if t.EventType == spec.MRoomMember {
			m, _ := ev.Membership()
			out[id.UserID(t.StateKey)] = m
		}
	}
	return out, nil
}

// LocalAliases lists the aliases of this server that point at a room.
func (e *Engine) LocalAliases(ctx context.Context, roomID id.RoomID) ([]id.RoomAlias, error) {
	rows, err := e.opts.DB.Query(ctx, aliasesOfRoomSQL, roomID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []id.RoomAlias
	for rows.Next() {
		var a id.RoomAlias
		if err := rows.Scan(&a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Changed returns a channel closed at the next change of anything /sync
// reports: events, typing, receipts, presence, account data.
func (e *Engine) Changed() <-chan struct{} { return e.changes.wait() }

// EphemeralPositions are the typing and receipt positions an ephemeral
// reader has seen.
type EphemeralPositions struct {
	Typing, Receipts, Presence int64
}

// EphemeralSince returns what changed after pos: typing and (public)
// receipt events per room, presence events, and the positions read up to.
func (e *Engine) EphemeralSince(ctx context.Context, pos EphemeralPositions) (map[id.RoomID][]event.Event, []event.Event, EphemeralPositions, error) {
	now := e.EphemeralNow()
	out := map[id.RoomID][]event.Event{}
	for roomID, users := range e.typing.ChangedSince(pos.Typing) {
		out[roomID] = append(out[roomID], event.Event{
			Type: event.EphemeralEventTyping, RoomID: roomID,
			Content: event.Content{Parsed: &event.TypingEventContent{UserIDs: users}},
		})
	}
	receipts, err := e.receiptsSince(ctx, "", pos.Receipts, now.Receipts)
	if err != nil {
		return nil, nil, pos, err
	}
	for roomID, content := range receipts {
		c := content
		out[roomID] = append(out[roomID], event.Event{Type: event.EphemeralEventReceipt, RoomID: roomID, Content: event.Content{Parsed: &c}})
	}
	return out, e.presence.ChangedSince(pos.Presence), now, nil
}

// EphemeralNow is the current typing and receipt positions: a new reader
// starts here rather than replaying every receipt ever sent.
func (e *Engine) EphemeralNow() EphemeralPositions {
	e.receipts.mu.Lock()
	defer e.receipts.mu.Unlock()
	return EphemeralPositions{Typing: e.typing.Serial(), Receipts: e.receipts.latest, Presence: e.presence.Serial()}
}
