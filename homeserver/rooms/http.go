package rooms

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"switchboard/homeserver/mxhttp"
)

// Register adds the room endpoints to mux.
func (e *Engine) Register(mux *http.ServeMux) {
	const v3 = "/_matrix/client/v3"
	const v1 = "/_matrix/client/v1"
	routes := map[string]http.HandlerFunc{
		"POST " + v3 + "/createRoom":                                              e.handleCreateRoom,
		"PUT " + v3 + "/rooms/{roomId}/send/{eventType}/{txnId}":                  e.handleSend,
		"PUT " + v3 + "/rooms/{roomId}/state/{eventType}":                         e.handlePutState,
		"PUT " + v3 + "/rooms/{roomId}/state/{eventType}/{stateKey...}":           e.handlePutState,
		"GET " + v3 + "/rooms/{roomId}/state":                                     e.handleGetAllState,
		"GET " + v3 + "/rooms/{roomId}/state/{eventType}":                         e.handleGetState,
		"GET " + v3 + "/rooms/{roomId}/state/{eventType}/{stateKey...}":           e.handleGetState,
		"POST " + v3 + "/join/{roomIdOrAlias}":                                    e.handleJoin,
		"POST " + v3 + "/rooms/{roomId}/join":                                     e.handleJoin,
		"POST " + v3 + "/rooms/{roomId}/leave":                                    e.membershipHandler("leave", false),
		"POST " + v3 + "/rooms/{roomId}/invite":                                   e.membershipHandler("invite", true),
		"POST " + v3 + "/rooms/{roomId}/kick":                                     e.membershipHandler("leave", true),
		"POST " + v3 + "/rooms/{roomId}/ban":                                      e.membershipHandler("ban", true),
		"POST " + v3 + "/rooms/{roomId}/unban":                                    e.membershipHandler("unban", true),
		"POST " + v3 + "/rooms/{roomId}/forget":                                   e.handleForget,
		"GET " + v3 + "/joined_rooms":                                             e.handleJoinedRooms,
		"GET " + v3 + "/rooms/{roomId}/members":                                   e.handleMembers,
		"GET " + v3 + "/rooms/{roomId}/joined_members":                            e.handleJoinedMembers,
		"PUT " + v3 + "/rooms/{roomId}/redact/{eventId}/{txnId}":                  e.handleRedact,
		"GET " + v3 + "/rooms/{roomId}/event/{eventId}":                           e.handleEvent,
		"GET " + v3 + "/rooms/{roomId}/messages":                                  e.handleMessages,
		"PUT " + v3 + "/rooms/{roomId}/typing/{userId}":                           e.handleTyping,
		"POST " + v3 + "/rooms/{roomId}/receipt/{receiptType}/{eventId}":          e.handleReceipt,
		"POST " + v3 + "/rooms/{roomId}/read_markers":                             e.handleReadMarkers,
		"POST " + v3 + "/user_directory/search":                                   e.handleUserSearch,
		"PUT " + v3 + "/presence/{userId}/status":                                 e.handleSetPresence,
		"GET " + v3 + "/presence/{userId}/status":                                 e.handleGetPresence,
		"GET " + v1 + "/rooms/{roomId}/relations/{eventId}":                       e.handleRelations,
		"GET " + v1 + "/rooms/{roomId}/relations/{eventId}/{relType}":             e.handleRelations,
		"GET " + v1 + "/rooms/{roomId}/relations/{eventId}/{relType}/{eventType}": e.handleRelations,
		"GET " + v3 + "/rooms/{roomId}/context/{eventId}":                         e.handleContext,
	}
	for pattern, h := range routes {
		mux.Handle(pattern, mxhttp.CORS(e.opts.Auth.RequireAuth(h)))
	}
}

func (e *Engine) fail(w http.ResponseWriter, r *http.Request, err error) {
	mxhttp.WriteError(w, r, e.log, err)
}

func identity(r *http.Request) mxhttp.Identity {
	ident, _ := mxhttp.IdentityFrom(r.Context())
	return ident
}

func (e *Engine) handleCreateRoom(w http.ResponseWriter, r *http.Request) {
	var req CreateRoomRequest
	if err := mxhttp.ReadJSON(r, &req, 0); err != nil {
		e.fail(w, r, err)
		return
	}
	roomID, err := e.CreateRoom(r.Context(), identity(r).UserID, identity(r).AppserviceID, req)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	mxhttp.WriteJSON(w, http.StatusOK, map[string]any{"room_id": roomID})
}

// readContent reads an event's content: a JSON object within the event
// size limit.
func readContent(r *http.Request) (json.RawMessage, error) {
	data, err := mxhttp.ReadBody(r, MaxEventBytes)
	if err != nil {
		return nil, err
	}
	var obj map[string]json.RawMessage
	if err := mxhttp.DecodeJSON(data, &obj); err != nil {
		return nil, err
	}
	if len(data) == 0 {
		data = []byte("{}")
	}
	return data, nil
}

func (e *Engine) handleSend(w http.ResponseWriter, r *http.Request) {
	content, err := readContent(r)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	ident := identity(r)
	ts, err := massagedTimestamp(r, ident)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	eventID, err := e.Send(r.Context(), id.RoomID(r.PathValue("roomId")), proto{
		Sender:    ident.UserID,
		Type:      r.PathValue("eventType"),
		Content:   content,
		TxnDevice: ident.DeviceID,
		TxnID:     r.PathValue("txnId"),
		Timestamp: ts,
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	mxhttp.WriteJSON(w, http.StatusOK, map[string]any{"event_id": eventID})
}

func (e *Engine) handlePutState(w http.ResponseWriter, r *http.Request) {
	content, err := readContent(r)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	stateKey := r.PathValue("stateKey")
	ident := identity(r)
	ts, err := massagedTimestamp(r, ident)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	eventID, err := e.Send(r.Context(), id.RoomID(r.PathValue("roomId")), proto{
		Sender:    ident.UserID,
		Type:      r.PathValue("eventType"),
		StateKey:  &stateKey,
		Content:   content,
		Timestamp: ts,
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	mxhttp.WriteJSON(w, http.StatusOK, map[string]any{"event_id": eventID})
}

func (e *Engine) handleGetAllState(w http.ResponseWriter, r *http.Request) {
	state, err := e.State(r.Context(), identity(r), id.RoomID(r.PathValue("roomId")))
	if err != nil {
		e.fail(w, r, err)
		return
	}
	mxhttp.WriteJSON(w, http.StatusOK, state)
}

func (e *Engine) handleGetState(w http.ResponseWriter, r *http.Request) {
	ev, err := e.StateEvent(r.Context(), identity(r), id.RoomID(r.PathValue("roomId")), r.PathValue("eventType"), r.PathValue("stateKey"))
	if err != nil {
		e.fail(w, r, err)
		return
	}
	if r.URL.Query().Get("format") == "event" {
		mxhttp.WriteJSON(w, http.StatusOK, ev)
		return
	}
	mxhttp.WriteJSON(w, http.StatusOK, ev.Content)
}

type membershipBody struct {
	UserID id.UserID `json:"user_id"`
	Reason string    `json:"reason"`
}

func (e *Engine) handleJoin(w http.ResponseWriter, r *http.Request) {
	var body membershipBody
	if err := mxhttp.ReadJSON(r, &body, 0); err != nil {
		e.fail(w, r, err)
		return
	}
	target := r.PathValue("roomIdOrAlias")
	if target == "" {
		target = r.PathValue("roomId")
	}
	roomID, err := e.Join(r.Context(), identity(r).UserID, target, body.Reason)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	mxhttp.WriteJSON(w, http.StatusOK, map[string]any{"room_id": roomID})
}

// membershipHandler serves leave (withTarget false: the requester leaves),
// invite, kick, ban and unban (withTarget: body.user_id).
func (e *Engine) membershipHandler(membership string, withTarget bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body membershipBody
		if err := mxhttp.ReadJSON(r, &body, 0); err != nil {
			e.fail(w, r, err)
			return
		}
		ident := identity(r)
		target := ident.UserID
		if withTarget {
			if body.UserID == "" {
				e.fail(w, r, mautrix.MBadJSON.WithMessage("user_id is required"))
				return
			}
			target = body.UserID
		}
		if err := e.SetMembership(r.Context(), id.RoomID(r.PathValue("roomId")), ident.UserID, target, membership, body.Reason); err != nil {
			e.fail(w, r, err)
			return
		}
		mxhttp.WriteJSON(w, http.StatusOK, struct{}{})
	}
}

func (e *Engine) handleForget(w http.ResponseWriter, r *http.Request) {
	if err := e.Forget(r.Context(), identity(r).UserID, id.RoomID(r.PathValue("roomId"))); err != nil {
		e.fail(w, r, err)
		return
	}
	mxhttp.WriteJSON(w, http.StatusOK, struct{}{})
}

func (e *Engine) handleJoinedRooms(w http.ResponseWriter, r *http.Request) {
	rooms, err := e.JoinedRooms(r.Context(), identity(r).UserID)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	mxhttp.WriteJSON(w, http.StatusOK, map[string]any{"joined_rooms": rooms})
}

func (e *Engine) handleMembers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	members, err := e.Members(r.Context(), identity(r), id.RoomID(r.PathValue("roomId")), q.Get("membership"), q.Get("not_membership"))
	if err != nil {
		e.fail(w, r, err)
		return
	}
	mxhttp.WriteJSON(w, http.StatusOK, map[string]any{"chunk": members})
}

func (e *Engine) handleJoinedMembers(w http.ResponseWriter, r *http.Request) {
	members, err := e.JoinedMembers(r.Context(), identity(r), id.RoomID(r.PathValue("roomId")))
	if err != nil {
		e.fail(w, r, err)
		return
	}
	mxhttp.WriteJSON(w, http.StatusOK, map[string]any{"joined": members})
}

func (e *Engine) handleRedact(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Reason string `json:"reason,omitempty"`
	}
	if err := mxhttp.ReadJSON(r, &body, 0); err != nil {
		e.fail(w, r, err)
		return
	}
	roomID := id.RoomID(r.PathValue("roomId"))
	target := r.PathValue("eventId")
	ident := identity(r)
	rm, err := e.room(r.Context(), roomID)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	content := map[string]any{}
	if body.Reason != "" {
		content["reason"] = body.Reason
	}
	p := proto{Sender: ident.UserID, Type: "m.room.redaction", TxnDevice: ident.DeviceID, TxnID: r.PathValue("txnId")}
	if id.RoomVersion(rm.version.Version()).RedactsInContent() {
		content["redacts"] = target
	} else {
		p.Redacts = target
	}
	if p.Content, err = json.Marshal(content); err != nil {
		e.fail(w, r, err)
		return
	}
	eventID, err := e.Send(r.Context(), roomID, p)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	mxhttp.WriteJSON(w, http.StatusOK, map[string]any{"event_id": eventID})
}

func (e *Engine) handleEvent(w http.ResponseWriter, r *http.Request) {
	ev, err := e.Event(r.Context(), identity(r), id.RoomID(r.PathValue("roomId")), r.PathValue("eventId"))
	if err != nil {
		e.fail(w, r, err)
		return
	}
	mxhttp.WriteJSON(w, http.StatusOK, ev)
}

func (e *Engine) handleMessages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req := MessagesRequest{From: q.Get("from"), To: q.Get("to"), Dir: q.Get("dir")}
	if req.Dir != "b" && req.Dir != "f" {
		e.fail(w, r, mautrix.MInvalidParam.WithMessage("dir must be b or f"))
		return
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 {
			e.fail(w, r, mautrix.MInvalidParam.WithMessage("limit must be a non-negative integer"))
			return
		}
		req.Limit = n
	}
	if f := q.Get("filter"); f != "" {
		req.Filter = &EventFilter{}
		if err := mxhttp.DecodeJSON([]byte(f), req.Filter); err != nil {
			e.fail(w, r, err)
			return
		}
		if req.Limit == 0 && req.Filter.Limit > 0 {
			req.Limit = req.Filter.Limit
		}
	}
	resp, err := e.Messages(r.Context(), identity(r), id.RoomID(r.PathValue("roomId")), req)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	mxhttp.WriteJSON(w, http.StatusOK, resp)
}

func (e *Engine) handleTyping(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Typing  bool  `json:"typing"`
		Timeout int64 `json:"timeout"`
	}
	if err := mxhttp.ReadJSON(r, &body, 0); err != nil {
		e.fail(w, r, err)
		return
	}
	ident := identity(r)
	if id.UserID(r.PathValue("userId")) != ident.UserID {
		e.fail(w, r, mautrix.MForbidden.WithMessage("You may only set your own typing state"))
		return
	}
	roomID := id.RoomID(r.PathValue("roomId"))
	m, err := e.Membership(r.Context(), roomID, ident.UserID)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	if m != "join" {
		e.fail(w, r, mautrix.MForbidden.WithMessage("You are not joined to this room"))
		return
	}
	timeout := time.Duration(body.Timeout) * time.Millisecond
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	e.typing.Set(roomID, ident.UserID, body.Typing, timeout)
	mxhttp.WriteJSON(w, http.StatusOK, struct{}{})
}

// massagedTimestamp reads the ts query parameter that lets an appservice
// give an event the time it was sent on the remote network. Ordinary users
// may not set it.
func massagedTimestamp(r *http.Request, ident mxhttp.Identity) (time.Time, error) {
	raw := r.URL.Query().Get("ts")
	if raw == "" || ident.AppserviceID == "" {
		return time.Time{}, nil
	}
	ms, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || ms <= 0 {
		return time.Time{}, mautrix.MInvalidParam.WithMessage("ts must be a positive integer of milliseconds")
	}
	return time.UnixMilli(ms), nil
}
