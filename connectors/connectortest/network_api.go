package connectortest

import (
	"encoding/json"
	"errors"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The network's HTTP API. Bodies are JSON; every request but POST /login
// carries "Authorization: Bearer <token>" (the bot token or a login's).
// Errors answer {"error": "..."} with a status: 400 bad request, 401 unknown
// token or wrong password, 403 not allowed, 404 unknown chat, message or
// user, 413 too large (a body over MaxRequestBytes, a text over
// MaxBodyBytes), 429 rate limited (Retry-After in seconds), 503 down.
//
//	POST   /login                         {"username","password","client"} → {"token","user","name","session"}
//	POST   /logout                        ends the token's session → 204
//	GET    /whoami                        → {"user","name","session","bot"}
//	POST   /connect                       → {"acked": N, "user"}: the stream resumes after N
//	GET    /events?after=N&timeout_ms=T   long-poll (at most the poll timeout) → {"events":[...]}, every
//	                                      event with seq > N (N defaults to the session's last ack), at most 100
//	POST   /ack                           {"seq": N}: every event up to N is handled → 204
//	GET    /chats                         → {"chats":[{"id","name","topic","public","members"}]}
//	GET    /chats/{chat}                  → {"id","name","topic","public","members"}
//	POST   /chats/{chat}/messages         message JSON (see wireMessage); header Idempotency-Key → {"id"}
//	PUT    /chats/{chat}/messages/{id}    new content → {"id": edit id}
//	DELETE /chats/{chat}/messages/{id}    → 204
//	POST   /chats/{chat}/messages/{id}/reactions         {"key"} → {"id": reaction id}
//	DELETE /chats/{chat}/messages/{id}/reactions?key=K   → 204
//	POST   /chats/{chat}/typing           {"typing", "timeout_ms"} → 204
//	POST   /chats/{chat}/read             {"up_to"} → 204
//	PUT    /chats/{chat}/topic            {"topic"} → 204
//	POST   /chats/{chat}/join             → 204 (403 for a private chat)
//	POST   /chats/{chat}/leave            {"reason"} → 204
//	GET    /users/{user}                  → {"id","name"}
//
// A message sent with an Idempotency-Key that its sender used before is not
// stored again: the answer is the first message's id. Sending to a public
// chat one is not in joins it first. The bot is in no chat's member list
// but may send to and read every chat; its join and leave change nothing.
// Events carry "via" naming the token's identity that caused them ({"bot":
// true}, or the login's "session" and "client"), absent for the network's
// own users.

// handlerFunc answers a request as session s (nil for /login); a nil result
// answers 204.
type handlerFunc func(r *http.Request, s *session) (any, error)

// route options.
const (
	anonymous = 1 << iota // no token needed
	unlimited             // not subject to LimitNext
)

func (n *Network) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, opts int, h handlerFunc) {
		mux.Handle(pattern, n.wrap(opts, h))
	}
	handle("POST /login", anonymous, n.handleLogin)
	handle("POST /logout", unlimited, n.handleLogout)
	handle("GET /whoami", 0, n.handleWhoami)
	handle("POST /connect", unlimited, n.handleConnect)
	mux.Handle("GET /events", n.wrapEvents())
	handle("POST /ack", unlimited, n.handleAck)
	handle("GET /chats", 0, n.handleChats)
	handle("GET /chats/{chat}", 0, n.handleChat)
	handle("POST /chats/{chat}/messages", 0, n.handleSend)
	handle("PUT /chats/{chat}/messages/{id}", 0, n.handleEdit)
	handle("DELETE /chats/{chat}/messages/{id}", 0, n.handleDelete)
	handle("POST /chats/{chat}/messages/{id}/reactions", 0, n.handleReact)
	handle("DELETE /chats/{chat}/messages/{id}/reactions", 0, n.handleUnreact)
	handle("POST /chats/{chat}/typing", 0, n.handleTyping)
	handle("POST /chats/{chat}/read", 0, n.handleRead)
	handle("PUT /chats/{chat}/topic", 0, n.handleTopic)
	handle("POST /chats/{chat}/join", 0, n.handleJoin)
	handle("POST /chats/{chat}/leave", 0, n.handleLeave)
	handle("GET /users/{user}", 0, n.handleUser)
	return mux
}

// gate checks what every request goes through: size limit, outage, token
// and rate limit. It returns the session (nil for anonymous routes).
func (n *Network) gate(w http.ResponseWriter, r *http.Request, opts int) (*session, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxRequestBytes)
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.down || n.closed {
		writeError(w, errf(http.StatusServiceUnavailable, "network down"))
		return nil, false
	}
	if opts&anonymous != 0 {
		return nil, true
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s := n.tokens[tok]
	if !ok || s == nil {
		writeError(w, errf(http.StatusUnauthorized, "unknown token"))
		return nil, false
	}
	if opts&unlimited == 0 && n.limitN > 0 {
		n.limitN--
		secs := int(math.Ceil(n.limitAfter.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeError(w, errf(http.StatusTooManyRequests, "rate limited"))
		return nil, false
	}
	return s, true
}

func (n *Network) wrap(opts int, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := n.gate(w, r, opts)
		if !ok {
			return
		}
		res, err := h(r, s)
		switch {
		case err != nil:
			writeError(w, err)
		case res == nil:
			w.WriteHeader(http.StatusNoContent)
		default:
			writeJSON(w, http.StatusOK, res)
		}
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	var ae *apiError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		status = ae.status
	case errors.As(err, &mbe):
		status = http.StatusRequestEntityTooLarge
	}
	writeJSON(w, status, wireError{Error: err.Error()})
}

// decode reads the request's JSON body into v.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return errf(http.StatusBadRequest, "bad JSON body: %v", err)
	}
	return nil
}

func (n *Network) handleLogin(r *http.Request, _ *session) (any, error) {
	var req wireLogin
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	u := n.users[req.Username]
	if u == nil || u.password == "" || u.password != req.Password {
		return nil, errf(http.StatusUnauthorized, "wrong username or password")
	}
	s := &session{id: n.nextIDLocked('s'), token: newToken(), user: u.id, client: req.Client}
	n.tokens[s.token] = s
	return wireSession{Token: s.token, User: u.id, Name: u.name, Session: s.id}, nil
}

func (n *Network) handleLogout(_ *http.Request, s *session) (any, error) {
	if s.bot {
		return nil, errf(http.StatusForbidden, "the bot token cannot log out")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.tokens, s.token)
	return nil, nil
}

func (n *Network) handleWhoami(_ *http.Request, s *session) (any, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return wireSession{User: s.user, Name: n.users[s.user].name, Session: s.id, Bot: s.bot}, nil
}

func (n *Network) handleConnect(_ *http.Request, s *session) (any, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return wireConnect{Acked: s.acked, User: s.user}, nil
}

func (n *Network) handleAck(r *http.Request, s *session) (any, error) {
	var req wireAck
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if req.Seq < 0 || req.Seq > int64(len(n.events)) {
		return nil, errf(http.StatusBadRequest, "seq %d: no such event", req.Seq)
	}
	if req.Seq > s.acked {
		s.acked = req.Seq
		n.notifyLocked()
	}
	return nil, nil
}

// wrapEvents serves GET /events: it answers at once when events exist, else
// when one happens, the poll times out, the network goes down or the
// client goes away.
func (n *Network) wrapEvents() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := n.gate(w, r, unlimited)
		if !ok {
			return
		}
		q := r.URL.Query()
		n.mu.Lock()
		after, timeout := s.acked, n.pollTimeout
		n.mu.Unlock()
		if v := q.Get("after"); v != "" {
			a, err := strconv.ParseInt(v, 10, 64)
			if err != nil || a < 0 {
				writeError(w, errf(http.StatusBadRequest, "after: want a seq, got %q", v))
				return
			}
			after = a
		}
		if v := q.Get("timeout_ms"); v != "" {
			ms, err := strconv.ParseInt(v, 10, 64)
			if err != nil || ms < 0 {
				writeError(w, errf(http.StatusBadRequest, "timeout_ms: want milliseconds, got %q", v))
				return
			}
			timeout = min(timeout, time.Duration(ms)*time.Millisecond)
		}
		deadline := time.NewTimer(timeout)
		defer deadline.Stop()
		for {
			n.mu.Lock()
			if n.down || n.closed {
				n.mu.Unlock()
				writeError(w, errf(http.StatusServiceUnavailable, "network down"))
				return
			}
			var batch []wireEvent
			if after < int64(len(n.events)) {
				batch = slices.Clone(n.events[after:min(int64(len(n.events)), after+maxBatch)])
			}
			wake := n.wake
			n.mu.Unlock()
			if len(batch) > 0 {
				writeJSON(w, http.StatusOK, wireEvents{Events: batch})
				return
			}
			select {
			case <-wake:
			case <-deadline.C:
				writeJSON(w, http.StatusOK, wireEvents{Events: []wireEvent{}})
				return
			case <-r.Context().Done():
				return
			}
		}
	})
}

func (n *Network) chatInfoLocked(c *chat) wireChat {
	members := make([]string, 0, len(c.members))
	for u := range c.members {
		members = append(members, u)
	}
	slices.Sort(members)
	return wireChat{ID: c.id, Name: c.name, Topic: c.topic, Public: c.public, Members: members}
}

func (n *Network) handleChats(_ *http.Request, _ *session) (any, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := struct {
		Chats []wireChat `json:"chats"`
	}{Chats: []wireChat{}}
	for _, id := range slices.Sorted(maps.Keys(n.chats)) {
		out.Chats = append(out.Chats, n.chatInfoLocked(n.chats[id]))
	}
	return out, nil
}

func (n *Network) handleChat(r *http.Request, _ *session) (any, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	c, err := n.chatLocked(r.PathValue("chat"))
	if err != nil {
		return nil, err
	}
	return n.chatInfoLocked(c), nil
}

func (n *Network) handleUser(r *http.Request, _ *session) (any, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	u := n.users[r.PathValue("user")]
	if u == nil {
		return nil, errf(http.StatusNotFound, "no user %q", r.PathValue("user"))
	}
	return wireUser{ID: u.id, Name: u.name}, nil
}

// inChat runs f under the lock with the request's chat.
func (n *Network) inChat(r *http.Request, f func(c *chat) (any, error)) (any, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	c, err := n.chatLocked(r.PathValue("chat"))
	if err != nil {
		return nil, err
	}
	return f(c)
}

func (n *Network) handleSend(r *http.Request, s *session) (any, error) {
	var m wireMessage
	if err := decode(r, &m); err != nil {
		return nil, err
	}
	if m.RelayedFor != "" && !s.bot {
		return nil, errf(http.StatusForbidden, "relayed_for: only the bot relays")
	}
	key := r.Header.Get("Idempotency-Key")
	if len(key) > 256 {
		return nil, errf(http.StatusBadRequest, "Idempotency-Key: over 256 bytes")
	}
	return n.inChat(r, func(c *chat) (any, error) {
		id, err := n.postLocked(c, s.user, s.via(), m, key)
		if err != nil {
			return nil, err
		}
		return wireSent{ID: id}, nil
	})
}

func (n *Network) handleEdit(r *http.Request, s *session) (any, error) {
	var m wireMessage
	if err := decode(r, &m); err != nil {
		return nil, err
	}
	return n.inChat(r, func(c *chat) (any, error) {
		id, err := n.editLocked(c, r.PathValue("id"), s.user, s.via(), m)
		if err != nil {
			return nil, err
		}
		return wireSent{ID: id}, nil
	})
}

func (n *Network) handleDelete(r *http.Request, s *session) (any, error) {
	return n.inChat(r, func(c *chat) (any, error) {
		return nil, n.deleteLocked(c, r.PathValue("id"), s.user, s.via())
	})
}

func (n *Network) handleReact(r *http.Request, s *session) (any, error) {
	var req wireReaction
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	return n.inChat(r, func(c *chat) (any, error) {
		id, err := n.reactLocked(c, r.PathValue("id"), s.user, s.via(), req.Key)
		if err != nil {
			return nil, err
		}
		return wireSent{ID: id}, nil
	})
}

func (n *Network) handleUnreact(r *http.Request, s *session) (any, error) {
	return n.inChat(r, func(c *chat) (any, error) {
		return nil, n.unreactLocked(c, r.PathValue("id"), s.user, s.via(), r.URL.Query().Get("key"))
	})
}

func (n *Network) handleTyping(r *http.Request, s *session) (any, error) {
	var req wireTyping
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	return n.inChat(r, func(c *chat) (any, error) {
		n.typingLocked(c, s.user, s.via(), req.Typing, time.Duration(req.TimeoutMS)*time.Millisecond)
		return nil, nil
	})
}

func (n *Network) handleRead(r *http.Request, s *session) (any, error) {
	var req wireRead
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	return n.inChat(r, func(c *chat) (any, error) {
		return nil, n.readLocked(c, s.user, s.via(), req.UpTo)
	})
}

func (n *Network) handleTopic(r *http.Request, s *session) (any, error) {
	var req wireTopic
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	return n.inChat(r, func(c *chat) (any, error) {
		return nil, n.topicLocked(c, s.user, s.via(), req.Topic)
	})
}

func (n *Network) handleJoin(r *http.Request, s *session) (any, error) {
	return n.inChat(r, func(c *chat) (any, error) {
		if s.bot {
			return nil, nil
		}
		if !c.public && !c.members[s.user] {
			return nil, errf(http.StatusForbidden, "chat %q is private", c.id)
		}
		n.joinLocked(c, s.user, s.via())
		return nil, nil
	})
}

func (n *Network) handleLeave(r *http.Request, s *session) (any, error) {
	var req wireLeave
	if r.ContentLength != 0 {
		if err := decode(r, &req); err != nil {
			return nil, err
		}
	}
	return n.inChat(r, func(c *chat) (any, error) {
		if !s.bot {
			n.leaveLocked(c, s.user, s.via(), "", req.Reason)
		}
		return nil, nil
	})
}
