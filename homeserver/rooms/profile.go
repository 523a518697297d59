package rooms

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strings"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"switchboard/homeserver/mxhttp"
)

// UpdateProfile re-sends user's member event in every room they are joined
// to with the new display name and avatar, as the spec asks of a profile
// change. A room that refuses (power levels) is skipped, not fatal.
func (e *Engine) UpdateProfile(ctx context.Context, user id.UserID, displayName, avatarURL string) {
	rooms, err := e.JoinedRooms(ctx, user)
	if err != nil {
		e.log.Warn("profile update: list rooms", "user_id", user, "error", err)
		return
	}
	for _, roomID := range rooms {
		r, err := e.room(ctx, roomID)
		if err != nil {
			continue
		}
		r.mu.Lock()
		if r.membershipOf(user) == "join" {
			content := map[string]any{"membership": "join"}
			if displayName != "" {
				content["displayname"] = displayName
			}
			if avatarURL != "" {
				content["avatar_url"] = avatarURL
			}
			data, _ := json.Marshal(content)
			stateKey := string(user)
			if _, err := e.sendLocked(ctx, r, proto{Sender: user, Type: spec.MRoomMember, StateKey: &stateKey, Content: data}); err != nil {
				e.log.Warn("profile update refused", "user_id", user, "room_id", roomID, "error", err)
			}
		}
		r.mu.Unlock()
	}
}

// searchLimit bounds user directory results.
const searchLimit = 50

// SearchUsers finds users who share a room with requester or are in a
// public room, by user id or display name.
func (e *Engine) SearchUsers(ctx context.Context, requester id.UserID, term string, limit int) (results []map[string]any, limited bool, err error) {
	term = strings.ToLower(strings.TrimSpace(term))
	if limit <= 0 || limit > searchLimit {
		limit = searchLimit
	}
	myRooms, err := e.JoinedRooms(ctx, requester)
	if err != nil {
		return nil, false, err
	}
	public, err := e.publishedRoomIDs(ctx)
	if err != nil {
		return nil, false, err
	}
	type hit struct {
		user        id.UserID
		displayName string
		avatarURL   string
	}
	found := map[id.UserID]hit{}
	for _, roomID := range append(myRooms, public...) {
		r, err := e.room(ctx, roomID)
		if err != nil {
			continue
		}
		r.mu.Lock()
		for t, ev := range r.state {
			if t.EventType != spec.MRoomMember {
				continue
			}
			if m, _ := ev.Membership(); m != "join" {
				continue
			}
			var c struct {
				DisplayName string `json:"displayname"`
				AvatarURL   string `json:"avatar_url"`
			}
			_ = json.Unmarshal(ev.Content(), &c)
			user := id.UserID(t.StateKey)
			if strings.Contains(strings.ToLower(string(user)), term) || strings.Contains(strings.ToLower(c.DisplayName), term) {
				found[user] = hit{user, c.DisplayName, c.AvatarURL}
			}
		}
		r.mu.Unlock()
	}
	users := make([]hit, 0, len(found))
	for _, h := range found {
		users = append(users, h)
	}
	sort.Slice(users, func(i, j int) bool { return users[i].user < users[j].user })
	if len(users) > limit {
		users, limited = users[:limit], true
	}
	results = make([]map[string]any, 0, len(users))
	for _, h := range users {
		entry := map[string]any{"user_id": h.user}
		if h.displayName != "" {
			entry["display_name"] = h.displayName
		}
		if h.avatarURL != "" {
			entry["avatar_url"] = h.avatarURL
		}
		results = append(results, entry)
	}
	return results, limited, nil
}

func (e *Engine) publishedRoomIDs(ctx context.Context) ([]id.RoomID, error) {
	rows, err := e.opts.DB.Query(ctx, selectPublishedSQL)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []id.RoomID
	for rows.Next() {
		var roomID id.RoomID
		if err := rows.Scan(&roomID); err != nil {
			return nil, err
		}
		ids = append(ids, roomID)
	}
	return ids, rows.Err()
}

func (e *Engine) handleUserSearch(w http.ResponseWriter, r *http.Request) {
	var body struct {
		SearchTerm string `json:"search_term"`
		Limit      int    `json:"limit"`
	}
	if err := mxhttp.ReadJSON(r, &body, 0); err != nil {
		e.fail(w, r, err)
		return
	}
	if body.SearchTerm == "" {
		e.fail(w, r, mautrix.MBadJSON.WithMessage("search_term is required"))
		return
	}
	results, limited, err := e.SearchUsers(r.Context(), identity(r).UserID, body.SearchTerm, body.Limit)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	mxhttp.WriteJSON(w, http.StatusOK, map[string]any{"results": results, "limited": limited})
}
