package rooms

import (
	"context"
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"switchboard/homeserver/mxhttp"
)

// FormatStreamToken is the pagination token of a position in the event
// stream. Tokens stay valid across restarts: they name stored positions.
func FormatStreamToken(pos int64) string { return "s" + strconv.FormatInt(pos, 10) }

// ParseStreamToken reads the event position of a pagination token or of a
// /sync token (whose first part is the event position).
func ParseStreamToken(tok string) (int64, error) {
	rest, ok := strings.CutPrefix(tok, "s")
	if !ok {
		return 0, mautrix.MInvalidParam.WithMessage("Invalid token %q", tok)
	}
	if i := strings.IndexByte(rest, '_'); i >= 0 {
		rest = rest[:i]
	}
	pos, err := strconv.ParseInt(rest, 10, 64)
	if err != nil || pos < 0 {
		return 0, mautrix.MInvalidParam.WithMessage("Invalid token %q", tok)
	}
	return pos, nil
}

// currentMembership is requester's membership of r now.
func (r *room) currentMembership(user id.UserID) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.membershipOf(user)
}

// requireSeen refuses users who have never been in a room whose history is
// not world readable.
func (e *Engine) requireSeen(r *room, user id.UserID) (string, error) {
	m := r.currentMembership(user)
	if m != "" {
		return m, nil
	}
	r.mu.Lock()
	hvEvent, ok := r.state[stateTuple{EventType: spec.MRoomHistoryVisibility}]
	r.mu.Unlock()
	if ok {
		var c struct {
			HistoryVisibility string `json:"history_visibility"`
		}
		if json.Unmarshal(hvEvent.Content(), &c) == nil && c.HistoryVisibility == "world_readable" {
			return m, nil
		}
	}
	return "", mautrix.MForbidden.WithMessage("You are not a member of this room")
}

// Event returns one event of a room, if requester may see it.
func (e *Engine) Event(ctx context.Context, requester mxhttp.Identity, roomID id.RoomID, eventID string) (ClientEvent, error) {
	r, err := e.room(ctx, roomID)
	if err != nil {
		return ClientEvent{}, err
	}
	current, err := e.requireSeen(r, requester.UserID)
	if err != nil {
		return ClientEvent{}, err
	}
	ev, err := e.store.event(ctx, eventID)
	if err != nil {
		return ClientEvent{}, err
	}
	if ev == nil || ev.roomID != roomID {
		return ClientEvent{}, mautrix.MNotFound.WithMessage("Event not found")
	}
	ok, err := e.vis.canSee(ctx, ev, requester.UserID, current)
	if err != nil {
		return ClientEvent{}, err
	}
	if !ok {
		return ClientEvent{}, mautrix.MNotFound.WithMessage("Event not found")
	}
	return e.clientEvent(ctx, ev, requester)
}

// MessagesRequest is /messages' query.
type MessagesRequest struct {
	From   string
	To     string
	Dir    string // "b" or "f"
	Limit  int
	Filter *EventFilter
}

// MessagesResponse is /messages' answer.
type MessagesResponse struct {
	Chunk []ClientEvent `json:"chunk"`
	Start string        `json:"start"`
	End   string        `json:"end,omitempty"`
	State []ClientEvent `json:"state,omitempty"`
}

// maxScan bounds how many stored events one page may look at when filters
// and history visibility hide most of them.
const maxScan = 5000

// Messages pages through a room's timeline.
func (e *Engine) Messages(ctx context.Context, requester mxhttp.Identity, roomID id.RoomID, req MessagesRequest) (MessagesResponse, error) {
	r, err := e.room(ctx, roomID)
	if err != nil {
		return MessagesResponse{}, err
	}
	current, err := e.requireSeen(r, requester.UserID)
	if err != nil {
		return MessagesResponse{}, err
	}
	limit := req.Limit
	if limit <= 0 {
		limit = 10
	}
	limit = min(limit, 1000)
	backwards := req.Dir != "f"
	var from int64
	switch {
	case req.From != "":
		if from, err = ParseStreamToken(req.From); err != nil {
			return MessagesResponse{}, err
		}
	case backwards:
		from = e.Latest()
	}
	to := int64(-1)
	if req.To != "" {
		if to, err = ParseStreamToken(req.To); err != nil {
			return MessagesResponse{}, err
		}
	}
	resp := MessagesResponse{Chunk: []ClientEvent{}, Start: FormatStreamToken(from)}
	cursor := from
	scanned := 0
	for len(resp.Chunk) < limit && scanned < maxScan {
		batch := limit - len(resp.Chunk)
		var evs []*storedEvent
		if backwards {
			lower := int64(0)
			if to >= 0 {
				lower = to
			}
			evs, err = e.store.events(ctx, roomEventsBackSQL, roomID, cursor, lower, batch)
		} else {
			upper := e.Latest()
			if to >= 0 {
				upper = min(upper, to)
			}
			evs, err = e.store.events(ctx, roomEventsFwdSQL, roomID, cursor, upper, batch)
		}
		if err != nil {
			return MessagesResponse{}, err
		}
		for _, ev := range evs {
			scanned++
			if backwards {
				cursor = ev.pos - 1
			} else {
				cursor = ev.pos
			}
			ok, err := e.vis.canSee(ctx, ev, requester.UserID, current)
			if err != nil {
				return MessagesResponse{}, err
			}
			if !ok {
				continue
			}
			ce, err := e.clientEvent(ctx, ev, requester)
			if err != nil {
				return MessagesResponse{}, err
			}
			if !req.Filter.Allows(ce.Type, ce.Sender, roomID, hasURL(ce.Content)) {
				continue
			}
			resp.Chunk = append(resp.Chunk, ce)
		}
		if len(evs) < batch {
			// The room has nothing more in this direction: backwards that
			// is the start of the room (no end token); forwards it is the
			// live end, from which a client can page on later.
			if !backwards {
				resp.End = FormatStreamToken(cursor)
			}
			return resp, nil
		}
	}
	resp.End = FormatStreamToken(cursor)
	return resp, nil
}

func hasURL(content json.RawMessage) bool {
	var c struct {
		URL string `json:"url"`
	}
	return json.Unmarshal(content, &c) == nil && c.URL != ""
}

// State returns the current state of a room, for a member (or anyone, in a
// world-readable room).
func (e *Engine) State(ctx context.Context, requester mxhttp.Identity, roomID id.RoomID) ([]ClientEvent, error) {
	r, err := e.room(ctx, roomID)
	if err != nil {
		return nil, err
	}
	current, err := e.requireSeen(r, requester.UserID)
	if err != nil {
		return nil, err
	}
	if current != "join" && current != "" {
		return nil, mautrix.MForbidden.WithMessage("You are not joined to this room")
	}
	r.mu.Lock()
	ids := make([]string, 0, len(r.state))
	for _, ev := range r.state {
		ids = append(ids, ev.EventID())
	}
	r.mu.Unlock()
	return e.clientEventsByID(ctx, requester, ids)
}

// clientEventsByID formats events in stream order.
func (e *Engine) clientEventsByID(ctx context.Context, requester mxhttp.Identity, ids []string) ([]ClientEvent, error) {
	stored, err := e.store.eventsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	sort.Slice(stored, func(i, j int) bool { return stored[i].pos < stored[j].pos })
	out := make([]ClientEvent, 0, len(stored))
	for _, ev := range stored {
		ce, err := e.clientEvent(ctx, ev, requester)
		if err != nil {
			return nil, err
		}
		out = append(out, ce)
	}
	return out, nil
}

// StateEvent returns one piece of a room's current state.
func (e *Engine) StateEvent(ctx context.Context, requester mxhttp.Identity, roomID id.RoomID, evType, stateKey string) (ClientEvent, error) {
	r, err := e.room(ctx, roomID)
	if err != nil {
		return ClientEvent{}, err
	}
	current, err := e.requireSeen(r, requester.UserID)
	if err != nil {
		return ClientEvent{}, err
	}
	if current != "join" && current != "" {
		return ClientEvent{}, mautrix.MForbidden.WithMessage("You are not joined to this room")
	}
	r.mu.Lock()
	ev, ok := r.state[stateTuple{EventType: evType, StateKey: stateKey}]
	r.mu.Unlock()
	if !ok {
		return ClientEvent{}, mautrix.MNotFound.WithMessage("Event not found")
	}
	stored, err := e.store.event(ctx, ev.EventID())
	if err != nil || stored == nil {
		return ClientEvent{}, mautrix.MNotFound.WithMessage("Event not found")
	}
	return e.clientEvent(ctx, stored, requester)
}

// JoinedRooms lists the rooms user is joined to.
func (e *Engine) JoinedRooms(ctx context.Context, user id.UserID) ([]id.RoomID, error) {
	ms, err := e.store.roomsOfUser(ctx, user)
	if err != nil {
		return nil, err
	}
	out := []id.RoomID{}
	for _, m := range ms {
		if m.Membership == "join" {
			out = append(out, m.RoomID)
		}
	}
	return out, nil
}

// Members returns the member events of a room (filtered by membership when
// given), for a member.
func (e *Engine) Members(ctx context.Context, requester mxhttp.Identity, roomID id.RoomID, membership, notMembership string) ([]ClientEvent, error) {
	r, err := e.room(ctx, roomID)
	if err != nil {
		return nil, err
	}
	if _, err := e.requireSeen(r, requester.UserID); err != nil {
		return nil, err
	}
	r.mu.Lock()
	var ids []string
	for t, ev := range r.state {
		if t.EventType != spec.MRoomMember {
			continue
		}
		m, _ := ev.Membership()
		if (membership != "" && m != membership) || (notMembership != "" && m == notMembership) {
			continue
		}
		ids = append(ids, ev.EventID())
	}
	r.mu.Unlock()
	return e.clientEventsByID(ctx, requester, ids)
}

// JoinedMember is an entry of /joined_members.
type JoinedMember struct {
	DisplayName *string `json:"display_name"`
	AvatarURL   *string `json:"avatar_url"`
}

// JoinedMembers maps the joined members of a room to their profiles.
func (e *Engine) JoinedMembers(ctx context.Context, requester mxhttp.Identity, roomID id.RoomID) (map[id.UserID]JoinedMember, error) {
	r, err := e.room(ctx, roomID)
	if err != nil {
		return nil, err
	}
	if r.currentMembership(requester.UserID) != "join" {
		return nil, mautrix.MForbidden.WithMessage("You are not joined to this room")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[id.UserID]JoinedMember{}
	for t, ev := range r.state {
		if t.EventType != spec.MRoomMember {
			continue
		}
		if m, _ := ev.Membership(); m != "join" {
			continue
		}
		var c struct {
			DisplayName *string `json:"displayname"`
			AvatarURL   *string `json:"avatar_url"`
		}
		_ = json.Unmarshal(ev.Content(), &c)
		out[id.UserID(t.StateKey)] = JoinedMember{DisplayName: c.DisplayName, AvatarURL: c.AvatarURL}
	}
	return out, nil
}
