package rooms

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"maunium.net/go/mautrix/id"

	"switchboard/homeserver/mxhttp"
)

// ClientEvent is an event in the client-server API's format.
type ClientEvent struct {
	Content        json.RawMessage `json:"content"`
	EventID        string          `json:"event_id"`
	OriginServerTS int64           `json:"origin_server_ts"`
	RoomID         id.RoomID       `json:"room_id,omitempty"`
	Sender         id.UserID       `json:"sender"`
	StateKey       *string         `json:"state_key,omitempty"`
	Type           string          `json:"type"`
	Redacts        string          `json:"redacts,omitempty"`
	Unsigned       map[string]any  `json:"unsigned,omitempty"`
}

// pduFields are the parts of a stored PDU the client format needs.
type pduFields struct {
	Content        json.RawMessage `json:"content"`
	OriginServerTS int64           `json:"origin_server_ts"`
	Sender         id.UserID       `json:"sender"`
	StateKey       *string         `json:"state_key"`
	Type           string          `json:"type"`
	Redacts        string          `json:"redacts"`
}

// clientEvent formats a stored event for requester (whose device decides
// whether unsigned.transaction_id is shown). Redacted events carry the
// redaction in unsigned.redacted_because.
func (e *Engine) clientEvent(ctx context.Context, ev *storedEvent, requester mxhttp.Identity) (ClientEvent, error) {
	var f pduFields
	if err := json.Unmarshal(ev.json, &f); err != nil {
		return ClientEvent{}, fmt.Errorf("stored event %s: %w", ev.eventID, err)
	}
	ce := ClientEvent{
		Content:        f.Content,
		EventID:        ev.eventID,
		OriginServerTS: f.OriginServerTS,
		RoomID:         ev.roomID,
		Sender:         f.Sender,
		StateKey:       f.StateKey,
		Type:           f.Type,
		Redacts:        f.Redacts,
	}
	if len(ce.Content) == 0 {
		ce.Content = json.RawMessage("{}")
	}
	if ce.Type == spec.MRoomRedaction && ce.Redacts == "" {
		var c struct {
			Redacts string `json:"redacts"`
		}
		_ = json.Unmarshal(ce.Content, &c)
		ce.Redacts = c.Redacts
	}
	unsigned := map[string]any{}
	if age := nowFunc().UnixMilli() - f.OriginServerTS; age >= 0 {
		unsigned["age"] = age
	}
	if ev.txnID != "" && requester.UserID == f.Sender && string(requester.DeviceID) == ev.txnDevice {
		unsigned["transaction_id"] = ev.txnID
	}
	if ev.redactedBy != "" {
		if red, err := e.store.event(ctx, ev.redactedBy); err == nil && red != nil {
			because, err := e.clientEvent(ctx, red, mxhttp.Identity{})
			if err == nil {
				delete(because.Unsigned, "age")
				unsigned["redacted_because"] = because
			}
		}
	}
	ce.Unsigned = unsigned
	return ce, nil
}

// visibility decides whether users may see events, following the history
// visibility rules: world_readable events are visible to anyone, others to
// those who were members when they were sent, shared ones also to current
// members, invited ones also to those invited at the time.
type visibility struct {
	e     *Engine
	mu    sync.Mutex
	cache map[lookupKey]string
}

type lookupKey struct {
	group     int64
	typ, skey string
}

const visibilityCacheSize = 10000

func newVisibility(e *Engine) *visibility {
	return &visibility{e: e, cache: map[lookupKey]string{}}
}

// lookup returns a field of the state event (typ, skey) in group: the
// history_visibility or the membership.
func (v *visibility) lookup(ctx context.Context, group int64, typ, skey, field string) (string, error) {
	key := lookupKey{group, typ, skey}
	v.mu.Lock()
	val, ok := v.cache[key]
	v.mu.Unlock()
	if ok {
		return val, nil
	}
	eventID, err := v.e.store.groupLookup(ctx, group, typ, skey)
	if err != nil {
		return "", err
	}
	if eventID != "" {
		ev, err := v.e.store.event(ctx, eventID)
		if err != nil {
			return "", err
		}
		if ev != nil {
			var f pduFields
			if json.Unmarshal(ev.json, &f) == nil {
				var content map[string]any
				_ = json.Unmarshal(f.Content, &content)
				val, _ = content[field].(string)
			}
		}
	}
	v.mu.Lock()
	if len(v.cache) >= visibilityCacheSize {
		clear(v.cache)
	}
	v.cache[key] = val
	v.mu.Unlock()
	return val, nil
}

// canSee reports whether user may see ev. currentMembership is the user's
// membership of the room now.
func (v *visibility) canSee(ctx context.Context, ev *storedEvent, user id.UserID, currentMembership string) (bool, error) {
	hv, err := v.lookup(ctx, ev.stateBefore, spec.MRoomHistoryVisibility, "", "history_visibility")
	if err != nil {
		return false, err
	}
	if hv == "" {
		hv = "shared"
	}
	if hv == "world_readable" {
		return true, nil
	}
	membership, err := v.lookup(ctx, ev.stateBefore, spec.MRoomMember, string(user), "membership")
	if err != nil {
		return false, err
	}
	if membership == "join" {
		return true, nil
	}
	// A user always sees their own membership changes.
	var f struct {
		Type     string  `json:"type"`
		StateKey *string `json:"state_key"`
	}
	if json.Unmarshal(ev.json, &f) == nil && f.Type == spec.MRoomMember && f.StateKey != nil && *f.StateKey == string(user) {
		return true, nil
	}
	switch hv {
	case "shared":
		return currentMembership == "join", nil
	case "invited":
		return membership == "invite", nil
	}
	return false, nil
}
