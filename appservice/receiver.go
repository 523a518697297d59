package appservice

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"maunium.net/go/mautrix/id"

	"switchboard/registration"
)

// MaxTransactionSize is the largest transaction body accepted, in bytes.
// Synapse sends at most 100 events and 100 EDUs per transaction, each at most
// 64 KiB, so a legitimate one stays well below it; a larger one is refused
// with 413 M_TOO_LARGE.
const MaxTransactionSize = 32 << 20

// maxSmallBody bounds the bodies of the other endpoints (ping).
const maxSmallBody = 64 << 10

// Transaction is one push from the homeserver.
type Transaction struct {
	// ID is the homeserver's transaction id, unique per appservice. A
	// retry carries the same id and the same events.
	ID string
	// Events are the PDUs ("events"), as received, each a JSON object, in
	// the homeserver's order.
	Events []json.RawMessage
	// Ephemeral are the EDUs (typing, receipts, presence), from
	// "ephemeral", or from "de.sorunome.msc2409.ephemeral" when a
	// homeserver sends only the unstable key.
	Ephemeral []json.RawMessage
}

// Handler is what the receiver hands the homeserver's requests to: the
// bridge engine. Its methods are called concurrently, from the receiver's
// HTTP goroutines; each call's ctx ends when the homeserver hangs up.
type Handler interface {
	// HandleTransaction must return only after the transaction's events
	// are durably stored; it deduplicates by txn.ID itself (in the same
	// database transaction as the events) and returns nil for a repeat.
	// An error makes the receiver answer 500, and the homeserver sends
	// the same transaction again later. It is never called twice at once
	// for one txn.ID.
	HandleTransaction(ctx context.Context, txn *Transaction) error
	// QueryUser is asked whether userID, a user in the namespace that the
	// homeserver does not know, should exist. If it should, the handler
	// registers it (and may set its profile) before returning true.
	QueryUser(ctx context.Context, userID id.UserID) (bool, error)
	// QueryAlias is asked whether alias, in the namespace and unknown to
	// the homeserver, should exist. If it should, the handler creates the
	// room and points the alias at it before returning true.
	QueryAlias(ctx context.Context, alias id.RoomAlias) (bool, error)
}

// receiver is written by hand instead of using mautrix's AppService router,
// which has three faults a bridge that must not lose or repeat messages
// cannot live with:
//   - its TransactionIDCache remembers only the last transaction id, so a
//     homeserver retrying an older transaction gets it processed twice;
//   - it marks an id as processed after dispatching its events, so two
//     concurrent PUTs of one id both run, and it acknowledges before anything
//     is stored, so a crash loses what the homeserver thinks was delivered;
//   - it pushes events into a 64-slot channel, blocking the homeserver's
//     request whenever the consumer falls behind, and its default consumer
//     handles events out of order.
//
// Here the Handler stores the transaction and its id together before the
// homeserver gets its 200, and the receiver serialises PUTs per id.
type receiver struct {
	reg  *registration.Registration
	h    Handler
	log  *slog.Logger
	mux  *http.ServeMux
	txns keyedLocks
}

// NewReceiver returns the HTTP handler for the endpoints a homeserver calls
// on this appservice (mount it at the root of the registration's url):
//
//	PUT  /_matrix/app/v1/transactions/{txnId}   and legacy /transactions/{txnId}
//	GET  /_matrix/app/v1/users/{userId}          and legacy /users/{userId}
//	GET  /_matrix/app/v1/rooms/{roomAlias}       and legacy /rooms/{roomAlias}
//	POST /_matrix/app/v1/ping
//
// Every request must carry the registration's hs_token, as
// "Authorization: Bearer" (Matrix 1.4+) or as ?access_token= (older
// homeservers; Dendrite adds it with legacy_auth). A missing token is
// answered 401 M_MISSING_TOKEN, a wrong one 403 M_FORBIDDEN; when both forms
// are present, both must match. Unknown paths get 404 M_UNRECOGNIZED and
// known paths with the wrong method 405 M_UNRECOGNIZED, as the spec asks.
//
// reg should have passed Registration.Validate, so that user queries can be
// checked against the server name as well as the namespace regexes. reg and
// h are required; log may be nil.
func NewReceiver(reg *registration.Registration, h Handler, log *slog.Logger) http.Handler {
	if reg == nil || h == nil {
		panic("appservice: NewReceiver needs a registration and a handler")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rc := &receiver{reg: reg, h: h, log: log.With(slog.String("appservice", reg.ID))}
	mux := http.NewServeMux()
	for _, prefix := range []string{"/_matrix/app/v1", ""} {
		mux.HandleFunc("PUT "+prefix+"/transactions/{txnId}", rc.putTransaction)
		mux.HandleFunc("GET "+prefix+"/users/{userId}", rc.getUser)
		mux.HandleFunc("GET "+prefix+"/rooms/{roomAlias}", rc.getRoom)
		// The same paths without a method catch the other methods, which
		// ServeMux would answer with a plain-text 405.
		mux.HandleFunc(prefix+"/transactions/{txnId}", methodNotAllowed)
		mux.HandleFunc(prefix+"/users/{userId}", methodNotAllowed)
		mux.HandleFunc(prefix+"/rooms/{roomAlias}", methodNotAllowed)
	}
	mux.HandleFunc("POST /_matrix/app/v1/ping", rc.postPing)
	mux.HandleFunc("/_matrix/app/v1/ping", methodNotAllowed)
	mux.HandleFunc("/", unrecognized)
	rc.mux = mux
	return rc
}

// ServeHTTP collapses repeated slashes before routing. A registration url
// ending in "/" makes homeservers such as Dendrite request
// "//_matrix/app/v1/...", which ServeMux would answer with a redirect that
// an HTTP client turns from PUT into GET.
func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.Contains(r.URL.Path, "//") {
		r2 := new(http.Request)
		*r2 = *r
		u := *r.URL
		u.Path = collapseSlashes(u.Path)
		u.RawPath = collapseSlashes(u.RawPath)
		r2.URL = &u
		r = r2
	}
	rc.mux.ServeHTTP(w, r)
}

func collapseSlashes(p string) string {
	for strings.Contains(p, "//") {
		p = strings.ReplaceAll(p, "//", "/")
	}
	return p
}

// authorize checks the hs_token and answers the request itself when it is
// missing or wrong.
func (rc *receiver) authorize(w http.ResponseWriter, r *http.Request) bool {
	var tokens []string
	if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		tokens = append(tokens, strings.TrimSpace(tok))
	}
	if q, ok := r.URL.Query()["access_token"]; ok {
		tokens = append(tokens, q...)
	}
	if len(tokens) == 0 {
		writeError(w, http.StatusUnauthorized, "M_MISSING_TOKEN", "missing hs_token")
		return false
	}
	ok := true
	for _, tok := range tokens {
		// No early exit: every candidate is compared.
		ok = registration.TokenEqual(tok, rc.reg.ServerToken) && ok
	}
	if !ok {
		rc.log.LogAttrs(r.Context(), slog.LevelWarn, "request with a wrong hs_token refused",
			slog.String("path", r.URL.Path), slog.String("remote_addr", r.RemoteAddr))
		writeError(w, http.StatusForbidden, "M_FORBIDDEN", "wrong hs_token")
		return false
	}
	return true
}

func (rc *receiver) putTransaction(w http.ResponseWriter, r *http.Request) {
	if !rc.authorize(w, r) {
		return
	}
	txnID := r.PathValue("txnId")
	if txnID == "" {
		writeError(w, http.StatusBadRequest, "M_INVALID_PARAM", "missing transaction id")
		return
	}
	log := rc.log.With(slog.String("txn_id", txnID))
	if r.ContentLength > MaxTransactionSize {
		writeError(w, http.StatusRequestEntityTooLarge, "M_TOO_LARGE", fmt.Sprintf("transaction over %d bytes", MaxTransactionSize))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxTransactionSize))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeError(w, http.StatusRequestEntityTooLarge, "M_TOO_LARGE", fmt.Sprintf("transaction over %d bytes", MaxTransactionSize))
			return
		}
		log.LogAttrs(r.Context(), slog.LevelWarn, "transaction body unreadable", slog.String("error", err.Error()))
		writeError(w, http.StatusBadRequest, "M_NOT_JSON", "body unreadable")
		return
	}
	txn, code, msg := parseTransaction(txnID, body)
	if code != "" {
		log.LogAttrs(r.Context(), slog.LevelWarn, "malformed transaction refused",
			slog.String("errcode", code), slog.String("problem", msg))
		writeError(w, http.StatusBadRequest, code, msg)
		return
	}

	ctx := r.Context()
	unlock, err := rc.txns.lock(ctx, txnID)
	if err != nil {
		// The homeserver gave up while another request for this id ran;
		// it will retry.
		writeError(w, http.StatusServiceUnavailable, "M_UNKNOWN", "request ended while waiting")
		return
	}
	defer unlock()

	start := time.Now()
	if err := rc.handle(ctx, txn); err != nil {
		log.LogAttrs(ctx, slog.LevelError, "transaction not stored, homeserver will retry",
			slog.Int("events", len(txn.Events)), slog.Int("ephemeral", len(txn.Ephemeral)),
			slog.String("error", err.Error()))
		writeError(w, http.StatusInternalServerError, "M_UNKNOWN", "transaction not stored; retry later")
		return
	}
	log.LogAttrs(ctx, slog.LevelDebug, "transaction stored",
		slog.Int("events", len(txn.Events)), slog.Int("ephemeral", len(txn.Ephemeral)),
		slog.Int64("duration_ms", time.Since(start).Milliseconds()))
	writeEmpty(w)
}

// handle calls the handler and turns a panic into an error, so one bad event
// answers 500 (and is retried) instead of dropping the connection.
func (rc *receiver) handle(ctx context.Context, txn *Transaction) (err error) {
	defer func() {
		if p := recover(); p != nil {
			rc.log.LogAttrs(ctx, slog.LevelError, "transaction handler panicked",
				slog.String("txn_id", txn.ID), slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return rc.h.HandleTransaction(ctx, txn)
}

// parseTransaction checks the body's shape. It returns an errcode and a
// message when the body is refused: M_NOT_JSON for anything that is not JSON,
// M_BAD_JSON for JSON of the wrong shape. A missing or null "events" counts
// as empty: the spec requires the key, but an EDU-only push without it loses
// nothing.
func parseTransaction(txnID string, body []byte) (*Transaction, string, string) {
	if !json.Valid(body) {
		return nil, "M_NOT_JSON", "body is not JSON"
	}
	var raw struct {
		Events           json.RawMessage `json:"events"`
		Ephemeral        json.RawMessage `json:"ephemeral"`
		MSC2409Ephemeral json.RawMessage `json:"de.sorunome.msc2409.ephemeral"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, "M_BAD_JSON", "body is not a JSON object"
	}
	txn := &Transaction{ID: txnID}
	var msg string
	if txn.Events, msg = objectList("events", raw.Events); msg != "" {
		return nil, "M_BAD_JSON", msg
	}
	// A homeserver sending both keys sends the same EDUs twice; the
	// stable key wins, as in mautrix.
	key, list := "ephemeral", raw.Ephemeral
	if isAbsent(list) {
		key, list = "de.sorunome.msc2409.ephemeral", raw.MSC2409Ephemeral
	}
	if txn.Ephemeral, msg = objectList(key, list); msg != "" {
		return nil, "M_BAD_JSON", msg
	}
	return txn, "", ""
}

func isAbsent(v json.RawMessage) bool {
	return len(v) == 0 || bytes.Equal(v, []byte("null"))
}

// objectList splits a JSON array of objects. The elements are copies, so the
// handler may keep them.
func objectList(key string, v json.RawMessage) ([]json.RawMessage, string) {
	if isAbsent(v) {
		return nil, ""
	}
	var list []json.RawMessage
	if err := json.Unmarshal(v, &list); err != nil {
		return nil, key + " is not an array"
	}
	for i, item := range list {
		if len(item) == 0 || item[0] != '{' {
			return nil, fmt.Sprintf("%s[%d] is not an object", key, i)
		}
	}
	return list, ""
}

func (rc *receiver) getUser(w http.ResponseWriter, r *http.Request) {
	if !rc.authorize(w, r) {
		return
	}
	userID := r.PathValue("userId")
	if !rc.ownsUser(userID) {
		// A homeserver asks only about its appservices' namespaces; an
		// id outside ours is not ours to create.
		writeError(w, http.StatusNotFound, "M_NOT_FOUND", "user is not in this appservice's namespace")
		return
	}
	rc.answerQuery(w, r, "user_id", userID, func(ctx context.Context) (bool, error) {
		return rc.h.QueryUser(ctx, id.UserID(userID))
	})
}

// ownsUser checks the namespace, and the server name once Validate has made
// it known.
func (rc *receiver) ownsUser(userID string) bool {
	if rc.reg.BotUserID() != "" {
		return rc.reg.OwnsUser(userID)
	}
	return rc.reg.IsInterestedInUser(userID)
}

func (rc *receiver) getRoom(w http.ResponseWriter, r *http.Request) {
	if !rc.authorize(w, r) {
		return
	}
	alias := r.PathValue("roomAlias")
	if !rc.reg.IsInterestedInAlias(alias) {
		writeError(w, http.StatusNotFound, "M_NOT_FOUND", "alias is not in this appservice's namespace")
		return
	}
	rc.answerQuery(w, r, "alias", alias, func(ctx context.Context) (bool, error) {
		return rc.h.QueryAlias(ctx, id.RoomAlias(alias))
	})
}

func (rc *receiver) answerQuery(w http.ResponseWriter, r *http.Request, attr, value string, query func(context.Context) (bool, error)) {
	ctx := r.Context()
	exists, err := func() (exists bool, err error) {
		defer func() {
			if p := recover(); p != nil {
				rc.log.LogAttrs(ctx, slog.LevelError, "query handler panicked",
					slog.String(attr, value), slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
				err = fmt.Errorf("handler panicked: %v", p)
			}
		}()
		return query(ctx)
	}()
	switch {
	case err != nil:
		rc.log.LogAttrs(ctx, slog.LevelError, "query failed",
			slog.String(attr, value), slog.String("error", err.Error()))
		writeError(w, http.StatusInternalServerError, "M_UNKNOWN", "query failed")
	case !exists:
		writeError(w, http.StatusNotFound, "M_NOT_FOUND", "does not exist")
	default:
		writeEmpty(w)
	}
}

func (rc *receiver) postPing(w http.ResponseWriter, r *http.Request) {
	if !rc.authorize(w, r) {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSmallBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "M_TOO_LARGE", "ping body too large")
		return
	}
	var ping struct {
		TxnID string `json:"transaction_id"`
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if !json.Valid(body) {
			writeError(w, http.StatusBadRequest, "M_NOT_JSON", "body is not JSON")
			return
		}
		if err := json.Unmarshal(body, &ping); err != nil {
			writeError(w, http.StatusBadRequest, "M_BAD_JSON", "body is not a ping object")
			return
		}
	}
	rc.log.LogAttrs(r.Context(), slog.LevelDebug, "ping from homeserver", slog.String("txn_id", ping.TxnID))
	writeEmpty(w)
}

func methodNotAllowed(w http.ResponseWriter, _ *http.Request) {
	writeError(w, http.StatusMethodNotAllowed, "M_UNRECOGNIZED", "method not allowed")
}

func unrecognized(w http.ResponseWriter, _ *http.Request) {
	writeError(w, http.StatusNotFound, "M_UNRECOGNIZED", "unrecognized request")
}

func writeError(w http.ResponseWriter, status int, errcode, msg string) {
	body, _ := json.Marshal(map[string]string{"errcode": errcode, "error": msg})
	writeJSON(w, status, body)
}

func writeEmpty(w http.ResponseWriter) { writeJSON(w, http.StatusOK, []byte("{}")) }

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// keyedLocks is one mutex per key, made on first use and dropped when nobody
// holds or waits for it, so the map holds only transactions in flight.
type keyedLocks struct {
	mu sync.Mutex
	m  map[string]*keyedLock
}

type keyedLock struct {
	ch   chan struct{} // holds a token while locked; a channel so waiting can end with ctx
	refs int           // holders and waiters; guarded by keyedLocks.mu
}

// lock takes key's lock, or gives up when ctx ends.
func (k *keyedLocks) lock(ctx context.Context, key string) (unlock func(), err error) {
	k.mu.Lock()
	if k.m == nil {
		k.m = make(map[string]*keyedLock)
	}
	l := k.m[key]
	if l == nil {
		l = &keyedLock{ch: make(chan struct{}, 1)}
		k.m[key] = l
	}
	l.refs++
	k.mu.Unlock()

	select {
	case l.ch <- struct{}{}:
		return func() {
			<-l.ch
			k.release(key, l)
		}, nil
	case <-ctx.Done():
		k.release(key, l)
		return nil, ctx.Err()
	}
}

func (k *keyedLocks) release(key string, l *keyedLock) {
	k.mu.Lock()
	defer k.mu.Unlock()
	l.refs--
	if l.refs == 0 {
		delete(k.m, key)
	}
}
