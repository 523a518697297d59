package rooms

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/homeserver/mxhttp"
)

// syncToken is a /sync position: the event stream, the typing serial and
// the account data stream. Events and account data are stored positions,
// so a token stays valid across restarts; typing restarts from zero, and a
// token ahead of it just sends the current typing state again.
type syncToken struct {
	events, typing, accountData, receipts, presence int64
}

func (t syncToken) String() string {
	return fmt.Sprintf("s%d_%d_%d_%d_%d", t.events, t.typing, t.accountData, t.receipts, t.presence)
}

func parseSyncToken(s string) (syncToken, error) {
	rest, ok := strings.CutPrefix(s, "s")
	if !ok {
		return syncToken{}, mautrix.MInvalidParam.WithMessage("Invalid since token %q", s)
	}
	parts := strings.Split(rest, "_")
	if len(parts) > 5 {
		return syncToken{}, mautrix.MInvalidParam.WithMessage("Invalid since token %q", s)
	}
	var vals [5]int64
	for i, p := range parts {
		v, err := strconv.ParseInt(p, 10, 64)
		if err != nil || v < 0 {
			return syncToken{}, mautrix.MInvalidParam.WithMessage("Invalid since token %q", s)
		}
		vals[i] = v
	}
	return syncToken{events: vals[0], typing: vals[1], accountData: vals[2], receipts: vals[3], presence: vals[4]}, nil
}

// SyncFilter is the part of the spec's Filter that /sync applies.
type SyncFilter struct {
	Room struct {
		Timeline     *EventFilter `json:"timeline,omitempty"`
		State        *EventFilter `json:"state,omitempty"`
		Ephemeral    *EventFilter `json:"ephemeral,omitempty"`
		AccountData  *EventFilter `json:"account_data,omitempty"`
		IncludeLeave bool         `json:"include_leave,omitempty"`
		Rooms        *[]string    `json:"rooms,omitempty"`
		NotRooms     []string     `json:"not_rooms,omitempty"`
	} `json:"room"`
	AccountData *EventFilter `json:"account_data,omitempty"`
	Presence    *EventFilter `json:"presence,omitempty"`
}

// SyncRequest is one /sync call.
type SyncRequest struct {
	User      mxhttp.Identity
	Since     string
	FullState bool
	Filter    SyncFilter
	Timeout   time.Duration
}

type eventList[T any] struct {
	Events []T `json:"events"`
}

// JoinedRoom is a room under rooms.join.
type JoinedRoom struct {
	Timeline struct {
		Events    []ClientEvent `json:"events"`
		Limited   bool          `json:"limited"`
		PrevBatch string        `json:"prev_batch,omitempty"`
	} `json:"timeline"`
	State               eventList[ClientEvent] `json:"state"`
	Ephemeral           eventList[event.Event] `json:"ephemeral"`
	AccountData         eventList[event.Event] `json:"account_data"`
	UnreadNotifications map[string]int         `json:"unread_notifications"`
	Summary             map[string]any         `json:"summary"`
}

// StrippedEvent is an event of invite_state.
type StrippedEvent struct {
	Type     string          `json:"type"`
	StateKey string          `json:"state_key"`
	Content  json.RawMessage `json:"content"`
	Sender   id.UserID       `json:"sender"`
}

// InvitedRoom is a room under rooms.invite.
type InvitedRoom struct {
	InviteState eventList[StrippedEvent] `json:"invite_state"`
}

// LeftRoom is a room under rooms.leave.
type LeftRoom struct {
	Timeline struct {
		Events    []ClientEvent `json:"events"`
		Limited   bool          `json:"limited"`
		PrevBatch string        `json:"prev_batch,omitempty"`
	} `json:"timeline"`
	State       eventList[ClientEvent] `json:"state"`
	AccountData eventList[event.Event] `json:"account_data"`
}

// SyncResponse is /sync's answer.
type SyncResponse struct {
	NextBatch string `json:"next_batch"`
	Rooms     struct {
		Join   map[id.RoomID]*JoinedRoom  `json:"join"`
		Invite map[id.RoomID]*InvitedRoom `json:"invite"`
		Leave  map[id.RoomID]*LeftRoom    `json:"leave"`
		Knock  map[id.RoomID]any          `json:"knock"`
	} `json:"rooms"`
	AccountData eventList[event.Event] `json:"account_data"`
	Presence    eventList[event.Event] `json:"presence"`
}

func (r *SyncResponse) empty() bool {
	return len(r.Rooms.Join) == 0 && len(r.Rooms.Invite) == 0 && len(r.Rooms.Leave) == 0 &&
		len(r.AccountData.Events) == 0 && len(r.Presence.Events) == 0
}

// defaultTimelineLimit is how many events a room's timeline carries when
// the filter does not say.
const defaultTimelineLimit = 10

// Sync answers /sync: everything that changed for the user since the token,
// waiting up to req.Timeout for something to change when nothing has.
func (e *Engine) Sync(ctx context.Context, req SyncRequest) (*SyncResponse, error) {
	var since *syncToken
	if req.Since != "" {
		t, err := parseSyncToken(req.Since)
		if err != nil {
			return nil, err
		}
		since = &t
	}
	var deadline <-chan time.Time
	if since != nil && req.Timeout > 0 {
		timer := time.NewTimer(req.Timeout)
		defer timer.Stop()
		deadline = timer.C
	}
	for {
		changed := e.changes.wait()
		resp, err := e.syncOnce(ctx, req, since)
		if err != nil {
			return nil, err
		}
		if since == nil || req.FullState || !resp.empty() || deadline == nil {
			return resp, nil
		}
		select {
		case <-changed:
		case <-deadline:
			return resp, nil
		case <-ctx.Done():
			return resp, nil
		}
	}
}

func (e *Engine) syncOnce(ctx context.Context, req SyncRequest, since *syncToken) (*SyncResponse, error) {
	user := req.User.UserID
	e.receipts.mu.Lock()
	now := syncToken{events: e.Latest(), typing: e.typing.Serial(), receipts: e.receipts.latest, presence: e.presence.Serial()}
	e.receipts.mu.Unlock()
	resp := &SyncResponse{}
	resp.Rooms.Join = map[id.RoomID]*JoinedRoom{}
	resp.Rooms.Invite = map[id.RoomID]*InvitedRoom{}
	resp.Rooms.Leave = map[id.RoomID]*LeftRoom{}
	resp.Rooms.Knock = map[id.RoomID]any{}
	resp.AccountData.Events = []event.Event{}
	resp.Presence.Events = []event.Event{}

	var sinceAccountData int64
	if since != nil {
		sinceAccountData = since.accountData
	}
	var roomAccountData map[id.RoomID][]event.Event
	if e.accounts != nil {
		global, perRoom, latest, err := e.accounts.AccountDataSince(ctx, user, sinceAccountData)
		if err != nil {
			return nil, err
		}
		now.accountData = latest
		roomAccountData = perRoom
		for _, ev := range global {
			if req.Filter.AccountData.Allows(ev.Type.Type, "", "", false) {
				resp.AccountData.Events = append(resp.AccountData.Events, ev)
			}
		}
	}
	resp.NextBatch = now.String()

	memberships, err := e.store.roomsOfUser(ctx, user)
	if err != nil {
		return nil, err
	}
	var changedRooms map[id.RoomID]int64
	if since != nil && !req.FullState {
		if changedRooms, err = e.store.roomsChangedSince(ctx, since.events, now.events); err != nil {
			return nil, err
		}
	}
	var sinceReceipts int64
	if since != nil {
		sinceReceipts = since.receipts
	}
	receipts, err := e.receiptsSince(ctx, user, sinceReceipts, now.receipts)
	if err != nil {
		return nil, err
	}
	var forgotten map[id.RoomID]bool
	roomFilter := EventFilter{Rooms: req.Filter.Room.Rooms, NotRooms: req.Filter.Room.NotRooms}
	for _, m := range memberships {
		if m.StreamPos > now.events || !roomFilter.Allows("", "", m.RoomID, false) {
			continue // a change newer than this sync's snapshot: next time
		}
		changedSince := since == nil || m.StreamPos > since.events
		switch m.Membership {
		case "join":
			typing, typingChanged := e.typing.Since(m.RoomID, sinceTyping(since))
			accountData := roomAccountData[m.RoomID]
			receipt, hasReceipt := receipts[m.RoomID]
			if since != nil && !req.FullState && !changedSince && changedRooms[m.RoomID] == 0 && !typingChanged && len(accountData) == 0 && !hasReceipt {
				continue
			}
			jr, err := e.syncJoined(ctx, req, since, now, m, changedSince)
			if err != nil {
				return nil, err
			}
			if typingChanged {
				if typing == nil {
					typing = []id.UserID{}
				}
				jr.Ephemeral.Events = append(jr.Ephemeral.Events, event.Event{
					Type:    event.EphemeralEventTyping,
					Content: event.Content{Parsed: &event.TypingEventContent{UserIDs: typing}},
				})
			}
			if hasReceipt {
				jr.Ephemeral.Events = append(jr.Ephemeral.Events, event.Event{
					Type:    event.EphemeralEventReceipt,
					Content: event.Content{Parsed: &receipt},
				})
			}
			unread, err := e.unreadCount(ctx, m.RoomID, user, now.events)
			if err != nil {
				return nil, err
			}
			jr.UnreadNotifications["notification_count"] = unread
			jr.AccountData.Events = append(jr.AccountData.Events, accountData...)
			resp.Rooms.Join[m.RoomID] = jr
		case "invite":
			if !changedSince && !req.FullState {
				continue
			}
			ir, err := e.inviteState(ctx, m.RoomID, user)
			if err != nil {
				return nil, err
			}
			resp.Rooms.Invite[m.RoomID] = ir
		case "leave", "ban":
			if since == nil && !req.Filter.Room.IncludeLeave {
				continue
			}
			if forgotten == nil {
				if forgotten, err = e.forgotten(ctx, user); err != nil {
					return nil, err
				}
			}
			if forgotten[m.RoomID] {
				continue
			}
			if since != nil && !changedSince {
				continue
			}
			lr, err := e.syncLeft(ctx, req, since, m)
			if err != nil {
				return nil, err
			}
			lr.AccountData.Events = append(lr.AccountData.Events, roomAccountData[m.RoomID]...)
			resp.Rooms.Leave[m.RoomID] = lr
		}
	}
	if req.Filter.Presence == nil || req.Filter.Presence.Allows(string(event.EphemeralEventPresence.Type), "", "", false) {
		var sincePresence int64 = -1
		if since != nil {
			sincePresence = since.presence
		}
		// Walking every member of every room is only worth it when some
		// presence changed (or the token predates a restart).
		if sincePresence != now.presence {
			resp.Presence.Events = append(resp.Presence.Events, e.presence.Since(e.sharedUsers(memberships), sincePresence)...)
		}
	}
	return resp, nil
}

// sharedUsers are the users whose presence a user sees: themselves and the
// members of their joined rooms.
func (e *Engine) sharedUsers(memberships []membership) map[id.UserID]bool {
	users := map[id.UserID]bool{}
	for _, m := range memberships {
		users[m.UserID] = true
		if m.Membership != "join" {
			continue
		}
		e.mu.Lock()
		r := e.rooms[m.RoomID]
		e.mu.Unlock()
		if r == nil {
			continue
		}
		r.mu.Lock()
		for t, ev := range r.state {
			if t.EventType == spec.MRoomMember {
				if mm, _ := ev.Membership(); mm == "join" {
					users[id.UserID(t.StateKey)] = true
				}
			}
		}
		r.mu.Unlock()
	}
	return users
}

func sinceTyping(since *syncToken) int64 {
	if since == nil {
		return -1
	}
	return since.typing
}

// timeline returns up to limit events of a room in (from, to] that user may
// see and the filter allows, oldest first; limited says whether older ones
// in the range were left out, startGroup is the state before the first.
func (e *Engine) timeline(ctx context.Context, requester mxhttp.Identity, r *room, from, to int64, limit int, filter *EventFilter, current string) (events []ClientEvent, limited bool, firstPos int64, startGroup int64, err error) {
	cursor := to
	var stored []*storedEvent
	scanned := 0
	for len(stored) < limit && scanned < maxScan {
		batch, err := e.store.events(ctx, roomEventsBackSQL, r.id, cursor, from, limit-len(stored)+1)
		if err != nil {
			return nil, false, 0, 0, err
		}
		for _, ev := range batch {
			scanned++
			cursor = ev.pos - 1
			if len(stored) == limit {
				limited = true
				break
			}
			ok, err := e.vis.canSee(ctx, ev, requester.UserID, current)
			if err != nil {
				return nil, false, 0, 0, err
			}
			if !ok && len(stored) > 0 {
				// History the user may not see ends the timeline: the
				// state block is the state before its oldest event, so
				// state changed in that hidden stretch (a topic set before
				// they joined a "joined" room) is not lost. limited marks
				// the gap.
				limited = true
				break
			}
			if !ok {
				continue
			}
			var f pduFields
			if json.Unmarshal(ev.json, &f) != nil || !filter.Allows(f.Type, f.Sender, r.id, hasURL(f.Content)) {
				continue
			}
			stored = append(stored, ev)
		}
		if limited || len(batch) < limit-len(stored)+1 {
			break
		}
	}
	if len(stored) == limit && cursor > from && !limited {
		// Stopped exactly at the limit: more may lie below.
		more, err := e.store.events(ctx, roomEventsBackSQL, r.id, cursor, from, 1)
		if err != nil {
			return nil, false, 0, 0, err
		}
		limited = len(more) > 0
	}
	events = make([]ClientEvent, 0, len(stored))
	for i := len(stored) - 1; i >= 0; i-- {
		ce, err := e.clientEvent(ctx, stored[i], requester)
		if err != nil {
			return nil, false, 0, 0, err
		}
		events = append(events, ce)
	}
	if len(stored) > 0 {
		oldest := stored[len(stored)-1]
		return events, limited, oldest.pos, oldest.stateBefore, nil
	}
	group, err := e.stateGroupAt(ctx, r, to)
	return events, limited, to + 1, group, err
}

func timelineLimit(f *EventFilter) int {
	if f != nil && f.Limit > 0 {
		return min(f.Limit, 1000)
	}
	return defaultTimelineLimit
}

func (e *Engine) syncJoined(ctx context.Context, req SyncRequest, since *syncToken, now syncToken, m membership, newlyJoined bool) (*JoinedRoom, error) {
	r, err := e.room(ctx, m.RoomID)
	if err != nil {
		return nil, err
	}
	var from int64
	if since != nil {
		from = since.events
	}
	events, limited, firstPos, startGroup, err := e.timeline(ctx, req.User, r, from, now.events, timelineLimit(req.Filter.Room.Timeline), req.Filter.Room.Timeline, "join")
	if err != nil {
		return nil, err
	}
	jr := &JoinedRoom{}
	jr.Timeline.Events = events
	jr.Timeline.Limited = limited
	jr.Timeline.PrevBatch = FormatStreamToken(firstPos - 1)
	jr.State.Events = []ClientEvent{}
	jr.Ephemeral.Events = []event.Event{}
	jr.AccountData.Events = []event.Event{}
	jr.UnreadNotifications = map[string]int{"highlight_count": 0, "notification_count": 0}
	jr.Summary = map[string]any{}

	var baseGroup int64 = -1 // full state
	if since != nil && !req.FullState && !newlyJoined {
		if !limited {
			return jr, nil // the timeline holds every change since the token
		}
		if baseGroup, err = e.stateGroupAt(ctx, r, since.events); err != nil {
			return nil, err
		}
	}
	state, err := e.stateDelta(ctx, req.User, baseGroup, startGroup, events, req.Filter.Room.State)
	if err != nil {
		return nil, err
	}
	jr.State.Events = state
	return jr, nil
}

// stateDelta returns the state at group "at" that differs from group
// "base" (-1: all of it), leaving out events already in the timeline.
func (e *Engine) stateDelta(ctx context.Context, requester mxhttp.Identity, base, at int64, timeline []ClientEvent, filter *EventFilter) ([]ClientEvent, error) {
	atState, err := e.store.groupState(ctx, at)
	if err != nil {
		return nil, err
	}
	var baseState map[stateTuple]string
	if base >= 0 {
		if baseState, err = e.store.groupState(ctx, base); err != nil {
			return nil, err
		}
	}
	inTimeline := make(map[string]bool, len(timeline))
	for _, ev := range timeline {
		inTimeline[ev.EventID] = true
	}
	var ids []string
	for t, eventID := range atState {
		if inTimeline[eventID] || (baseState != nil && baseState[t] == eventID) {
			continue
		}
		if !filter.Allows(t.EventType, "", "", false) {
			continue
		}
		ids = append(ids, eventID)
	}
	out, err := e.clientEventsByID(ctx, requester, ids)
	if err != nil {
		return nil, err
	}
	if filter != nil && (filter.Senders != nil || len(filter.NotSenders) > 0) {
		kept := out[:0]
		for _, ev := range out {
			if filter.Allows(ev.Type, ev.Sender, "", false) {
				kept = append(kept, ev)
			}
		}
		out = kept
	}
	return out, nil
}

func (e *Engine) syncLeft(ctx context.Context, req SyncRequest, since *syncToken, m membership) (*LeftRoom, error) {
	r, err := e.room(ctx, m.RoomID)
	if err != nil {
		return nil, err
	}
	var from int64
	if since != nil {
		from = since.events
	}
	// The timeline ends with the user's leave: nothing after it is theirs.
	events, limited, firstPos, startGroup, err := e.timeline(ctx, req.User, r, from, m.StreamPos, timelineLimit(req.Filter.Room.Timeline), req.Filter.Room.Timeline, m.Membership)
	if err != nil {
		return nil, err
	}
	lr := &LeftRoom{}
	lr.Timeline.Events = events
	lr.Timeline.Limited = limited
	lr.Timeline.PrevBatch = FormatStreamToken(firstPos - 1)
	lr.AccountData.Events = []event.Event{}
	base := int64(-1)
	if since != nil && !limited {
		lr.State.Events = []ClientEvent{}
		return lr, nil
	}
	if since != nil {
		if base, err = e.stateGroupAt(ctx, r, since.events); err != nil {
			return nil, err
		}
	}
	if lr.State.Events, err = e.stateDelta(ctx, req.User, base, startGroup, events, req.Filter.Room.State); err != nil {
		return nil, err
	}
	return lr, nil
}

// strippedStateTypes are the state events an invitee sees before joining.
var strippedStateTypes = []string{
	spec.MRoomCreate, spec.MRoomJoinRules, spec.MRoomName, "m.room.avatar",
	"m.room.canonical_alias", "m.room.encryption", "m.room.topic",
}

func (e *Engine) inviteState(ctx context.Context, roomID id.RoomID, user id.UserID) (*InvitedRoom, error) {
	r, err := e.room(ctx, roomID)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ir := &InvitedRoom{}
	ir.InviteState.Events = []StrippedEvent{}
	add := func(t stateTuple) {
		if ev, ok := r.state[t]; ok {
			ir.InviteState.Events = append(ir.InviteState.Events, StrippedEvent{
				Type: ev.Type(), StateKey: *ev.StateKey(), Content: ev.Content(), Sender: id.UserID(ev.SenderID()),
			})
		}
	}
	for _, t := range strippedStateTypes {
		add(stateTuple{EventType: t})
	}
	if inviteEv, ok := r.state[stateTuple{EventType: spec.MRoomMember, StateKey: string(user)}]; ok {
		add(stateTuple{EventType: spec.MRoomMember, StateKey: string(inviteEv.SenderID())})
		add(stateTuple{EventType: spec.MRoomMember, StateKey: string(user)})
	}
	return ir, nil
}

// stateGroupAt is the state group of r after every event up to pos.
func (e *Engine) stateGroupAt(ctx context.Context, r *room, pos int64) (int64, error) {
	r.mu.Lock()
	current := r.group
	r.mu.Unlock()
	return e.store.groupAfter(ctx, r.id, pos, current)
}
