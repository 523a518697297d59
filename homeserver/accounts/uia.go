package accounts

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"switchboard/homeserver/mxhttp"
	"switchboard/homeserver/ratelimit"
)

// User-Interactive Authentication. Sessions live in memory: a restart, or
// half an hour without use, ends them and the client starts over, which
// costs it one round trip. Nothing but completed stages is kept in them.

const (
	authTypePassword   = "m.login.password"
	authTypeDummy      = "m.login.dummy"
	authTypeAppservice = "m.login.application_service"

	uiaSessionTTL  = 30 * time.Minute
	maxUIASessions = 10_000
)

// uiaPurpose is what a session authorises; a session started for one
// endpoint (or one user) cannot complete another.
type uiaPurpose string

const (
	uiaRegister      uiaPurpose = "register"
	uiaPassword      uiaPurpose = "password"
	uiaDeleteDevices uiaPurpose = "delete_devices"
)

var (
	dummyFlows    = [][]string{{authTypeDummy}}
	passwordFlows = [][]string{{authTypePassword}}
)

// rawAuth is a request's "auth" field as sent: empty when absent, "null"
// when null.
type rawAuth = json.RawMessage

// authDict is the auth field of a UIA request.
type authDict struct {
	Type       string          `json:"type"`
	Session    string          `json:"session"`
	Password   string          `json:"password"`
	Identifier *userIdentifier `json:"identifier"`
	User       string          `json:"user"` // deprecated form of identifier
}

// userIdentifier is the spec's identifier object. Only m.id.user names a
// user here; third-party ids are not supported.
type userIdentifier struct {
	Type string `json:"type"`
	User string `json:"user"`
}

// who returns the user an auth or login body names: identifier.user for
// type m.id.user, else the deprecated top-level user. ok is false for
// identifiers of other types.
func who(identifier *userIdentifier, user string) (name string, ok bool) {
	if identifier != nil && identifier.Type != "" {
		if identifier.Type != string(mautrix.IdentifierTypeUser) {
			return "", false
		}
		return identifier.User, true
	}
	return user, true
}

type uiaFlow struct {
	Stages []string `json:"stages"`
}

// uiaResponse is the 401 body that asks for (more) authentication.
type uiaResponse struct {
	Flows     []uiaFlow      `json:"flows"`
	Params    map[string]any `json:"params"`
	Session   string         `json:"session"`
	Completed []string       `json:"completed,omitempty"`
	ErrCode   string         `json:"errcode,omitempty"`
	Error     string         `json:"error,omitempty"`
}

func writeUIA(w http.ResponseWriter, flows [][]string, session string, completed []string, stageErr *mautrix.RespError) {
	resp := uiaResponse{Params: map[string]any{}, Session: session, Completed: completed}
	for _, stages := range flows {
		resp.Flows = append(resp.Flows, uiaFlow{Stages: stages})
	}
	if stageErr != nil {
		resp.ErrCode, resp.Error = stageErr.ErrCode, stageErr.Err
	}
	mxhttp.WriteJSON(w, http.StatusUnauthorized, resp)
}

// interactiveAuth runs one round of User-Interactive Authentication for
// purpose (on behalf of user, "" for registration) with the given flows.
// It returns true when a flow is complete and the request may proceed;
// otherwise it has answered the request (401 with the flows, or an error).
func (a *Accounts) interactiveAuth(w http.ResponseWriter, r *http.Request, raw rawAuth, purpose uiaPurpose, user id.UserID, flows [][]string) bool {
	if len(raw) == 0 || string(raw) == "null" {
		writeUIA(w, flows, a.uia.create(purpose, user), nil, nil)
		return false
	}
	var auth authDict
	if err := mxhttp.DecodeJSON(raw, &auth); err != nil {
		a.fail(w, r, mautrix.MBadJSON.WithMessage("auth: must be an object with type and session"))
		return false
	}
	sessionID := auth.Session
	var completed []string
	if sessionID == "" {
		sessionID = a.uia.create(purpose, user)
	} else {
		var known bool
		if completed, known = a.uia.lookup(sessionID, purpose, user); !known {
			e := mautrix.MUnknown.WithMessage("Unknown or expired session; continue with the new one")
			writeUIA(w, flows, a.uia.create(purpose, user), nil, &e)
			return false
		}
	}

	switch {
	case auth.Type == "":
		// The client says it completed a stage out of band; none of ours
		// can be, so this only re-reports progress.
	case !offered(flows, auth.Type):
		e := mautrix.MUnrecognized.WithMessage("Authentication type %q is not offered here", auth.Type)
		writeUIA(w, flows, sessionID, completed, &e)
		return false
	case auth.Type == authTypeDummy:
		completed = a.uia.complete(sessionID, authTypeDummy)
	case auth.Type == authTypePassword:
		if allowed, wait := a.loginLimit.AllowRequest(r); !allowed {
			a.fail(w, r, ratelimit.Exceeded(wait))
			return false
		}
		match := false
		if name, ok := who(auth.Identifier, auth.User); ok {
			if named, ok := a.loginUserID(name); ok && named == user {
				var err error
				if match, _, err = a.verifyPassword(r.Context(), user, auth.Password); err != nil {
					a.fail(w, r, err)
					return false
				}
			} else {
				checkPassword("", auth.Password) // same time as a wrong password
			}
		}
		if !match {
			e := mautrix.MForbidden.WithMessage("Invalid username or password")
			writeUIA(w, flows, sessionID, completed, &e)
			return false
		}
		completed = a.uia.complete(sessionID, authTypePassword)
	}

	if flowComplete(flows, completed) {
		a.uia.remove(sessionID)
		return true
	}
	writeUIA(w, flows, sessionID, completed, nil)
	return false
}

func offered(flows [][]string, stage string) bool {
	for _, stages := range flows {
		if slices.Contains(stages, stage) {
			return true
		}
	}
	return false
}

func flowComplete(flows [][]string, completed []string) bool {
	for _, stages := range flows {
		done := true
		for _, s := range stages {
			if !slices.Contains(completed, s) {
				done = false
				break
			}
		}
		if done {
			return true
		}
	}
	return false
}

// uiaStore holds the UIA sessions in progress.
type uiaStore struct {
	mu         sync.Mutex
	sessions   map[string]*uiaSession
	lastExpire time.Time
	now        func() time.Time
}

type uiaSession struct {
	purpose   uiaPurpose
	user      id.UserID
	completed []string
	expires   time.Time
}

func newUIAStore() *uiaStore {
	return &uiaStore{sessions: make(map[string]*uiaSession), now: time.Now}
}

// create starts a session and returns its id.
func (s *uiaStore) create(purpose uiaPurpose, user id.UserID) string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	sessionID := base64.RawURLEncoding.EncodeToString(b)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sessions) >= maxUIASessions || now.Sub(s.lastExpire) > uiaSessionTTL {
		s.expire(now)
	}
	if len(s.sessions) >= maxUIASessions {
		// Still full of live sessions: drop the one closest to expiry.
		var oldest string
		for sid, sess := range s.sessions {
			if oldest == "" || sess.expires.Before(s.sessions[oldest].expires) {
				oldest = sid
			}
		}
		delete(s.sessions, oldest)
	}
	s.sessions[sessionID] = &uiaSession{purpose: purpose, user: user, expires: now.Add(uiaSessionTTL)}
	return sessionID
}

// lookup returns the stages a live session of purpose and user has
// completed, and extends its life.
func (s *uiaStore) lookup(sessionID string, purpose uiaPurpose, user id.UserID) (completed []string, ok bool) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.sessions[sessionID]
	if sess == nil || now.After(sess.expires) || sess.purpose != purpose || sess.user != user {
		return nil, false
	}
	sess.expires = now.Add(uiaSessionTTL)
	return slices.Clone(sess.completed), true
}

// complete marks stage done in a session and returns the completed stages.
func (s *uiaStore) complete(sessionID, stage string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.sessions[sessionID]
	if sess == nil {
		return []string{stage}
	}
	if !slices.Contains(sess.completed, stage) {
		sess.completed = append(sess.completed, stage)
	}
	return slices.Clone(sess.completed)
}

func (s *uiaStore) remove(sessionID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, sessionID)
}

// expire drops sessions past their time. Called with s.mu held.
func (s *uiaStore) expire(now time.Time) {
	s.lastExpire = now
	for sid, sess := range s.sessions {
		if now.After(sess.expires) {
			delete(s.sessions, sid)
		}
	}
}
