package rooms

import (
	"strings"

	"maunium.net/go/mautrix/id"
)

// EventFilter is the spec's RoomEventFilter, as far as the server applies it.
type EventFilter struct {
	Limit           int       `json:"limit,omitempty"`
	Types           *[]string `json:"types,omitempty"`
	NotTypes        []string  `json:"not_types,omitempty"`
	Senders         *[]string `json:"senders,omitempty"`
	NotSenders      []string  `json:"not_senders,omitempty"`
	Rooms           *[]string `json:"rooms,omitempty"`
	NotRooms        []string  `json:"not_rooms,omitempty"`
	ContainsURL     *bool     `json:"contains_url,omitempty"`
	LazyLoadMembers bool      `json:"lazy_load_members,omitempty"`
}

// matchType matches an event type against a filter pattern, where '*'
// stands for any run of characters.
func matchType(pattern, t string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == t
	}
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(t, parts[0]) {
		return false
	}
	t = t[len(parts[0]):]
	for i, part := range parts[1:] {
		if i == len(parts)-2 {
			return strings.HasSuffix(t, part)
		}
		idx := strings.Index(t, part)
		if idx < 0 {
			return false
		}
		t = t[idx+len(part):]
	}
	return true
}

// Allows reports whether an event passes the filter.
func (f *EventFilter) Allows(evType string, sender id.UserID, roomID id.RoomID, hasURL bool) bool {
	if f == nil {
		return true
	}
	for _, nt := range f.NotTypes {
		if matchType(nt, evType) {
			return false
		}
	}
	if f.Types != nil {
		ok := false
		for _, t := range *f.Types {
			if matchType(t, evType) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	for _, ns := range f.NotSenders {
		if ns == string(sender) {
			return false
		}
	}
	if f.Senders != nil {
		ok := false
		for _, s := range *f.Senders {
			if s == string(sender) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	for _, nr := range f.NotRooms {
		if nr == string(roomID) {
			return false
		}
	}
	if f.Rooms != nil {
		ok := false
		for _, r := range *f.Rooms {
			if r == string(roomID) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if f.ContainsURL != nil && *f.ContainsURL != hasURL {
		return false
	}
	return true
}
