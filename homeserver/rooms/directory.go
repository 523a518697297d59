package rooms

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"

	gmsl "github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"switchboard/homeserver/mxhttp"
)

// RegisterDirectory adds the alias and room directory endpoints to mux.
func (e *Engine) RegisterDirectory(mux *http.ServeMux) {
	const v3 = "/_matrix/client/v3"
	authed := map[string]http.HandlerFunc{
		"PUT " + v3 + "/directory/room/{roomAlias}":    e.handlePutAlias,
		"DELETE " + v3 + "/directory/room/{roomAlias}": e.handleDeleteAlias,
		"GET " + v3 + "/rooms/{roomId}/aliases":        e.handleRoomAliases,
		"PUT " + v3 + "/directory/list/room/{roomId}":  e.handlePutVisibility,
		"POST " + v3 + "/publicRooms":                  e.handlePublicRooms,
	}
	for pattern, h := range authed {
		mux.Handle(pattern, mxhttp.CORS(e.opts.Auth.RequireAuth(h)))
	}
	// The spec lets anyone resolve aliases, read a room's visibility and
	// list public rooms without logging in.
	mux.Handle("GET "+v3+"/directory/room/{roomAlias}", mxhttp.CORS(http.HandlerFunc(e.handleGetAlias)))
	mux.Handle("GET "+v3+"/directory/list/room/{roomId}", mxhttp.CORS(http.HandlerFunc(e.handleGetVisibility)))
	mux.Handle("GET "+v3+"/publicRooms", mxhttp.CORS(http.HandlerFunc(e.handlePublicRooms)))
}

func (e *Engine) parseLocalAlias(raw string) (id.RoomAlias, error) {
	alias := id.RoomAlias(raw)
	local, server, found := strings.Cut(strings.TrimPrefix(raw, "#"), ":")
	if !strings.HasPrefix(raw, "#") || !found || local == "" || strings.ContainsAny(local, " \t\n") {
		return "", mautrix.MInvalidParam.WithMessage("%q is not a room alias", raw)
	}
	if server != e.opts.ServerName {
		return "", mautrix.MNotFound.WithMessage("Room alias %s is on another server; federation is not available", alias)
	}
	return alias, nil
}

func (e *Engine) handleGetAlias(w http.ResponseWriter, r *http.Request) {
	alias, err := e.parseLocalAlias(r.PathValue("roomAlias"))
	if err != nil {
		e.fail(w, r, err)
		return
	}
	roomID, err := e.resolveLocalAlias(r.Context(), alias)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	mxhttp.WriteJSON(w, http.StatusOK, map[string]any{"room_id": roomID, "servers": []string{e.opts.ServerName}})
}

func (e *Engine) handlePutAlias(w http.ResponseWriter, r *http.Request) {
	alias, err := e.parseLocalAlias(r.PathValue("roomAlias"))
	if err != nil {
		e.fail(w, r, err)
		return
	}
	var body struct {
		RoomID id.RoomID `json:"room_id"`
	}
	if err := mxhttp.ReadJSON(r, &body, 0); err != nil {
		e.fail(w, r, err)
		return
	}
	if body.RoomID == "" {
		e.fail(w, r, mautrix.MBadJSON.WithMessage("room_id is required"))
		return
	}
	ident := identity(r)
	if err := e.checkAlias(alias, ident.AppserviceID); err != nil {
		e.fail(w, r, err)
		return
	}
	if m, err := e.Membership(r.Context(), body.RoomID, ident.UserID); err != nil {
		e.fail(w, r, err)
		return
	} else if m != "join" {
		e.fail(w, r, mautrix.MForbidden.WithMessage("You are not joined to this room"))
		return
	}
	existing, _, err := e.ResolveAlias(r.Context(), alias)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	if existing != "" {
		e.fail(w, r, mautrix.RespError{ErrCode: "M_UNKNOWN", StatusCode: http.StatusConflict, Err: "Room alias " + string(alias) + " already exists"})
		return
	}
	if _, err := e.opts.DB.Exec(r.Context(), insertAliasSQL, alias, body.RoomID, ident.UserID); err != nil {
		e.fail(w, r, err)
		return
	}
	mxhttp.WriteJSON(w, http.StatusOK, struct{}{})
}

func (e *Engine) handleDeleteAlias(w http.ResponseWriter, r *http.Request) {
	alias, err := e.parseLocalAlias(r.PathValue("roomAlias"))
	if err != nil {
		e.fail(w, r, err)
		return
	}
	roomID, creator, err := e.ResolveAlias(r.Context(), alias)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	if roomID == "" {
		e.fail(w, r, mautrix.MNotFound.WithMessage("Room alias %s not found", alias))
		return
	}
	ident := identity(r)
	if creator != ident.UserID {
		rm, err := e.room(r.Context(), roomID)
		if err != nil {
			e.fail(w, r, err)
			return
		}
		rm.mu.Lock()
		allowed := rm.hasPower(spec.SenderID(ident.UserID), func(pl *gmsl.PowerLevelContent) int64 { return pl.EventLevel("m.room.canonical_alias", true) })
		rm.mu.Unlock()
		if !allowed {
			e.fail(w, r, mautrix.MForbidden.WithMessage("Only the alias' creator or a room moderator may delete it"))
			return
		}
	}
	if _, err := e.opts.DB.Exec(r.Context(), deleteAliasSQL, alias); err != nil {
		e.fail(w, r, err)
		return
	}
	mxhttp.WriteJSON(w, http.StatusOK, struct{}{})
}

func (e *Engine) handleRoomAliases(w http.ResponseWriter, r *http.Request) {
	roomID := id.RoomID(r.PathValue("roomId"))
	if m, err := e.Membership(r.Context(), roomID, identity(r).UserID); err != nil {
		e.fail(w, r, err)
		return
	} else if m != "join" {
		e.fail(w, r, mautrix.MForbidden.WithMessage("You are not joined to this room"))
		return
	}
	rows, err := e.opts.DB.Query(r.Context(), aliasesOfRoomSQL, roomID)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	defer rows.Close()
	aliases := []string{}
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			e.fail(w, r, err)
			return
		}
		aliases = append(aliases, a)
	}
	mxhttp.WriteJSON(w, http.StatusOK, map[string]any{"aliases": aliases})
}

func (e *Engine) handleGetVisibility(w http.ResponseWriter, r *http.Request) {
	var published bool
	var version, creator string
	var created, group int64
	err := e.opts.DB.QueryRow(r.Context(), selectRoomSQL, r.PathValue("roomId")).Scan(&version, &creator, &created, &published, &group)
	if err != nil {
		e.fail(w, r, errUnknownRoom)
		return
	}
	visibility := "private"
	if published {
		visibility = "public"
	}
	mxhttp.WriteJSON(w, http.StatusOK, map[string]any{"visibility": visibility})
}

func (e *Engine) handlePutVisibility(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Visibility string `json:"visibility"`
	}
	if err := mxhttp.ReadJSON(r, &body, 0); err != nil {
		e.fail(w, r, err)
		return
	}
	if body.Visibility != "public" && body.Visibility != "private" {
		e.fail(w, r, mautrix.MInvalidParam.WithMessage("visibility must be public or private"))
		return
	}
	roomID := id.RoomID(r.PathValue("roomId"))
	rm, err := e.room(r.Context(), roomID)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	ident := identity(r)
	rm.mu.Lock()
	allowed := rm.membershipOf(ident.UserID) == "join" &&
		rm.hasPower(spec.SenderID(ident.UserID), func(pl *gmsl.PowerLevelContent) int64 { return pl.EventLevel("m.room.canonical_alias", true) })
	rm.mu.Unlock()
	if !allowed {
		e.fail(w, r, mautrix.MForbidden.WithMessage("Only room moderators may publish the room"))
		return
	}
	if _, err := e.opts.DB.Exec(r.Context(), setPublishedSQL, roomID, body.Visibility == "public"); err != nil {
		e.fail(w, r, err)
		return
	}
	mxhttp.WriteJSON(w, http.StatusOK, struct{}{})
}

// PublicRoom is an entry of /publicRooms.
type PublicRoom struct {
	RoomID           id.RoomID `json:"room_id"`
	Name             string    `json:"name,omitempty"`
	Topic            string    `json:"topic,omitempty"`
	CanonicalAlias   string    `json:"canonical_alias,omitempty"`
	AvatarURL        string    `json:"avatar_url,omitempty"`
	NumJoinedMembers int       `json:"num_joined_members"`
	WorldReadable    bool      `json:"world_readable"`
	GuestCanJoin     bool      `json:"guest_can_join"`
	JoinRule         string    `json:"join_rule,omitempty"`
	RoomType         string    `json:"room_type,omitempty"`
}

func (e *Engine) handlePublicRooms(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Limit  int    `json:"limit"`
		Since  string `json:"since"`
		Server string `json:"server"`
		Filter struct {
			GenericSearchTerm string `json:"generic_search_term"`
		} `json:"filter"`
	}
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		if err := mxhttp.ReadJSON(r, &body, 0); err != nil {
			e.fail(w, r, err)
			return
		}
	} else {
		body.Limit, _ = strconv.Atoi(q.Get("limit"))
		body.Since = q.Get("since")
		body.Server = q.Get("server")
	}
	if server := body.Server; server != "" && server != e.opts.ServerName {
		e.fail(w, r, mautrix.MNotFound.WithMessage("Server %s is not reachable; federation is not available", server))
		return
	}
	rooms, err := e.publicRooms(r.Context(), strings.ToLower(body.Filter.GenericSearchTerm))
	if err != nil {
		e.fail(w, r, err)
		return
	}
	offset, _ := strconv.Atoi(strings.TrimPrefix(body.Since, "o"))
	offset = max(0, min(offset, len(rooms)))
	limit := body.Limit
	if limit <= 0 {
		limit = 100
	}
	end := min(offset+limit, len(rooms))
	resp := map[string]any{"chunk": rooms[offset:end], "total_room_count_estimate": len(rooms)}
	if end < len(rooms) {
		resp["next_batch"] = "o" + strconv.Itoa(end)
	}
	if offset > 0 {
		resp["prev_batch"] = "o" + strconv.Itoa(max(0, offset-limit))
	}
	mxhttp.WriteJSON(w, http.StatusOK, resp)
}

func (e *Engine) publicRooms(ctx context.Context, search string) ([]PublicRoom, error) {
	ids, err := e.publishedRoomIDs(ctx)
	if err != nil {
		return nil, err
	}
	out := []PublicRoom{}
	for _, roomID := range ids {
		rm, err := e.room(ctx, roomID)
		if err != nil {
			return nil, err
		}
		pr := rm.publicInfo()
		if search != "" && !strings.Contains(strings.ToLower(pr.Name+" "+pr.Topic+" "+pr.CanonicalAlias), search) {
			continue
		}
		out = append(out, pr)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].NumJoinedMembers > out[j].NumJoinedMembers })
	return out, nil
}

func (rm *room) publicInfo() PublicRoom {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	pr := PublicRoom{RoomID: rm.id}
	field := func(evType, key string) string {
		if ev, ok := rm.state[stateTuple{EventType: evType}]; ok {
			var c map[string]any
			if json.Unmarshal(ev.Content(), &c) == nil {
				s, _ := c[key].(string)
				return s
			}
		}
		return ""
	}
	pr.Name = field(spec.MRoomName, "name")
	pr.Topic = field(spec.MRoomTopic, "topic")
	pr.CanonicalAlias = field(spec.MRoomCanonicalAlias, "alias")
	pr.AvatarURL = field("m.room.avatar", "url")
	pr.JoinRule = field(spec.MRoomJoinRules, "join_rule")
	pr.WorldReadable = field(spec.MRoomHistoryVisibility, "history_visibility") == "world_readable"
	pr.GuestCanJoin = field("m.room.guest_access", "guest_access") == "can_join"
	pr.RoomType = field(spec.MRoomCreate, "type")
	for t, ev := range rm.state {
		if t.EventType == spec.MRoomMember {
			if m, _ := ev.Membership(); m == "join" {
				pr.NumJoinedMembers++
			}
		}
	}
	return pr
}

// checkAlias refuses aliases in another appservice's exclusive namespace.
func (e *Engine) checkAlias(alias id.RoomAlias, appserviceID string) error {
	if e.opts.Appservices == nil {
		return nil
	}
	return e.opts.Appservices.CheckAlias(alias, appserviceID)
}
