package rooms

import (
	"net/http"
	"sync"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/homeserver/mxhttp"
)

// presenceTracker keeps each user's presence in memory: it is ephemeral,
// and after a restart users are offline until their clients say otherwise.
type presenceTracker struct {
	mu     sync.Mutex
	users  map[id.UserID]*presenceState
	serial int64
	notify func()
}

type presenceState struct {
	presence   event.Presence
	statusMsg  string
	lastActive time.Time
	serial     int64
}

func newPresenceTracker(notify func()) *presenceTracker {
	return &presenceTracker{users: map[id.UserID]*presenceState{}, notify: notify}
}

// Set records user's presence; a change (not a repeat) wakes /sync.
func (p *presenceTracker) Set(user id.UserID, presence event.Presence, statusMsg *string) {
	p.mu.Lock()
	st, ok := p.users[user]
	if !ok {
		st = &presenceState{presence: event.PresenceOffline}
		p.users[user] = st
	}
	changed := st.presence != presence || (statusMsg != nil && *statusMsg != st.statusMsg)
	st.presence = presence
	if statusMsg != nil {
		st.statusMsg = *statusMsg
	}
	if presence == event.PresenceOnline {
		st.lastActive = time.Now()
	}
	if changed {
		p.serial++
		st.serial = p.serial
	}
	p.mu.Unlock()
	if changed {
		p.notify()
	}
}

// Serial is the position of the newest change.
func (p *presenceTracker) Serial() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.serial
}

// Get returns user's presence.
func (p *presenceTracker) Get(user id.UserID) (event.PresenceEventContent, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st, ok := p.users[user]
	if !ok {
		return event.PresenceEventContent{Presence: event.PresenceOffline}, false
	}
	return st.content(), true
}

func (st *presenceState) content() event.PresenceEventContent {
	c := event.PresenceEventContent{Presence: st.presence, StatusMessage: st.statusMsg}
	if !st.lastActive.IsZero() {
		c.LastActiveAgo = time.Since(st.lastActive).Milliseconds()
		c.CurrentlyActive = st.presence == event.PresenceOnline && c.LastActiveAgo < int64(5*time.Minute/time.Millisecond)
	}
	return c
}

// Since returns the presence events of users (of those given) that changed
// after serial; a serial ahead of the tracker (after a restart) sends all.
func (p *presenceTracker) Since(users map[id.UserID]bool, serial int64) []event.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	reset := serial > p.serial
	var out []event.Event
	for user := range users {
		st, ok := p.users[user]
		if !ok || (!reset && st.serial <= serial) {
			continue
		}
		c := st.content()
		out = append(out, event.Event{Type: event.EphemeralEventPresence, Sender: user, Content: event.Content{Parsed: &c}})
	}
	return out
}

func (e *Engine) handleSetPresence(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Presence  event.Presence `json:"presence"`
		StatusMsg *string        `json:"status_msg"`
	}
	if err := mxhttp.ReadJSON(r, &body, 0); err != nil {
		e.fail(w, r, err)
		return
	}
	if id.UserID(r.PathValue("userId")) != identity(r).UserID {
		e.fail(w, r, mautrix.MForbidden.WithMessage("You may only set your own presence"))
		return
	}
	switch body.Presence {
	case event.PresenceOnline, event.PresenceOffline, event.PresenceUnavailable:
	default:
		e.fail(w, r, mautrix.MInvalidParam.WithMessage("presence must be online, offline or unavailable"))
		return
	}
	e.presence.Set(identity(r).UserID, body.Presence, body.StatusMsg)
	mxhttp.WriteJSON(w, http.StatusOK, struct{}{})
}

func (e *Engine) handleGetPresence(w http.ResponseWriter, r *http.Request) {
	c, _ := e.presence.Get(id.UserID(r.PathValue("userId")))
	mxhttp.WriteJSON(w, http.StatusOK, c)
}

// ChangedSince returns the presence of every user that changed after serial.
func (p *presenceTracker) ChangedSince(serial int64) []event.Event {
	p.mu.Lock()
	users := map[id.UserID]bool{}
	for user, st := range p.users {
		if st.serial > serial {
			users[user] = true
		}
	}
	p.mu.Unlock()
	return p.Since(users, serial)
}
