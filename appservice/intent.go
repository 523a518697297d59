package appservice

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"maunium.net/go/mautrix"
	mauas "maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/registration"
)

// HTTPOptions configure [NewHTTP].
type HTTPOptions struct {
	// Registration is this appservice's registration. If it has not been
	// validated yet, NewHTTP validates it against ServerName.
	Registration *registration.Registration
	// HomeserverURL is the client API base, e.g. http://127.0.0.1:8008
	// (unix:/path/to/socket also works).
	HomeserverURL string
	// ServerName is the homeserver's server name, e.g. example.org.
	ServerName string
	// Log receives warnings (rate limits) and a debug line per request.
	// nil → discard.
	Log *slog.Logger
	// HTTPClient carries every request. nil → a client with sane timeouts.
	// Its Timeout, if set, bounds each attempt, not the waits between
	// rate-limited attempts.
	HTTPClient *http.Client
}

// httpMatrix is Matrix over the Client-Server API.
//
// It builds on mautrix's appservice package for URL building, masquerading
// (?user_id=), request plumbing, registration and its membership state store,
// and leaves three things out on purpose:
//   - mautrix's retries: DefaultHTTPRetries is 0 and IgnoreRateLimit is set,
//     because mautrix retries network errors (which the engine must see) and
//     gives up on 429 after a few tries (which would drop a message).
//     [httpMatrix.call] waits out rate limits instead, forever if need be.
//   - IntentAPI.EnsureRegistered and EnsureJoined: EnsureRegistered reads
//     its Registered flag outside its lock, a data race when two goroutines
//     act as one puppet, and both log through zerolog. httpIntent has
//     race-free versions over the same state store.
//   - mautrix's logging: its zerolog logger stays Nop (it would log request
//     bodies); requests are logged here, through slog, without query strings.
type httpMatrix struct {
	reg        *registration.Registration
	as         *mauas.AppService
	store      mauas.StateStore
	serverName string
	log        *slog.Logger
	bot        *httpIntent

	mu      sync.Mutex
	intents map[id.UserID]*httpIntent
}

var (
	_ Matrix = (*httpMatrix)(nil)
	_ Intent = (*httpIntent)(nil)
)

// NewHTTP returns a Matrix that speaks the Client-Server API to the
// homeserver at opts.HomeserverURL as the appservice opts.Registration.
//
// Network errors (connection refused, timeouts) and error answers other than
// rate limits are returned to the caller, wrapping the mautrix.HTTPError: the
// engine retries at its level. Rate limits are waited out until ctx ends.
func NewHTTP(opts HTTPOptions) (Matrix, error) {
	reg := opts.Registration
	switch {
	case reg == nil:
		return nil, errors.New("appservice: no registration")
	case opts.ServerName == "":
		return nil, errors.New("appservice: no server name; set the homeserver's server_name")
	case opts.HomeserverURL == "":
		return nil, errors.New("appservice: no homeserver URL; set the client API address, e.g. http://127.0.0.1:8008")
	}
	hsURL, err := url.Parse(opts.HomeserverURL)
	if err != nil {
		return nil, fmt.Errorf("appservice: homeserver URL %q: %w", opts.HomeserverURL, err)
	}
	if reg.BotUserID() == "" {
		if err := reg.Validate(opts.ServerName); err != nil {
			return nil, fmt.Errorf("appservice: %w", err)
		}
	}
	botID := id.NewUserID(reg.SenderLocalpart, opts.ServerName)
	if reg.BotUserID() != string(botID) {
		return nil, fmt.Errorf("appservice: registration %s was validated for bot %s, not server %s", reg.Source(), reg.BotUserID(), opts.ServerName)
	}

	as, err := mauas.CreateFull(mauas.CreateOpts{
		Registration:     &reg.Registration,
		HomeserverDomain: opts.ServerName,
		HomeserverURL:    opts.HomeserverURL,
	})
	if err != nil {
		return nil, fmt.Errorf("appservice: %w", err)
	}
	// Set before the first client exists: clients copy these when made.
	as.DefaultHTTPRetries = 0
	switch {
	case opts.HTTPClient != nil:
		as.HTTPClient = opts.HTTPClient
	case hsURL.Scheme == "unix":
		// Keep the client mautrix made: its transport dials the socket.
	default:
		as.HTTPClient = defaultHTTPClient()
	}

	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &httpMatrix{
		reg:        reg,
		as:         as,
		store:      as.StateStore,
		serverName: opts.ServerName,
		log:        log.With(slog.String("appservice", reg.ID)),
		intents:    make(map[id.UserID]*httpIntent),
	}
	// BotIntent fills mautrix's lazily-set bot fields; doing it here, before
	// anyone else can call in, keeps later reads of them race-free.
	m.bot = m.newIntent(botID, as.BotIntent())
	return m, nil
}

// defaultHTTPClient allows many idle connections to the one homeserver (every
// puppet talks to it) and bounds each attempt; rate-limit waits happen
// between attempts, outside these timeouts.
func defaultHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 32
	tr.ResponseHeaderTimeout = 2 * time.Minute
	return &http.Client{Transport: tr, Timeout: 5 * time.Minute}
}

func (m *httpMatrix) ServerName() string { return m.serverName }

func (m *httpMatrix) Bot() Intent { return m.bot }

func (m *httpMatrix) Intent(userID id.UserID) Intent {
	if userID == m.bot.userID {
		return m.bot
	}
	if !m.reg.OwnsUser(string(userID)) {
		// Not cached: garbage ids must not grow the map.
		return &httpIntent{m: m, userID: userID, err: fmt.Errorf("act as %s: %w", userID, ErrNotInNamespace)}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if in, ok := m.intents[userID]; ok {
		return in
	}
	api := m.as.Intent(userID)
	if api == nil {
		// OwnsUser checked the server name, so mautrix should agree; if
		// it does not, fail the calls rather than panic.
		return &httpIntent{m: m, userID: userID, err: fmt.Errorf("act as %s: %w", userID, ErrNotInNamespace)}
	}
	in := m.newIntent(userID, api)
	m.intents[userID] = in
	return in
}

// newIntent wraps a mautrix intent. Its client is configured here, before
// the intent is shared.
func (m *httpMatrix) newIntent(userID id.UserID, api *mauas.IntentAPI) *httpIntent {
	cli := api.Client
	cli.DefaultHTTPRetries = 0
	cli.IgnoreRateLimit = true
	cli.ResponseHook = m.logResponse
	return &httpIntent{m: m, userID: userID, api: api, cli: cli, regLock: make(chan struct{}, 1)}
}

// logResponse logs one finished attempt. The path is logged, not the URL:
// the query holds user_id and, for some callers, more.
func (m *httpMatrix) logResponse(req *http.Request, resp *http.Response, err error, d time.Duration) {
	if !m.log.Enabled(req.Context(), slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", req.Method),
		slog.String("path", req.URL.Path),
		slog.Int64("duration_ms", d.Milliseconds()),
	}
	if resp != nil {
		attrs = append(attrs, slog.Int("status", resp.StatusCode))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	m.log.LogAttrs(req.Context(), slog.LevelDebug, "homeserver request", attrs...)
}

func (m *httpMatrix) Ping(ctx context.Context) error {
	txnID := newTxnID()
	var resp *mautrix.RespAppservicePing
	err := m.call(ctx, m.bot.userID, func() error {
		var err error
		resp, err = m.bot.cli.AppservicePing(ctx, m.reg.ID, txnID)
		return err
	})
	if err != nil {
		return fmt.Errorf("ping appservice %s through the homeserver: %w", m.reg.ID, err)
	}
	m.log.LogAttrs(ctx, slog.LevelDebug, "homeserver reached the appservice",
		slog.String("txn_id", txnID), slog.Int64("duration_ms", resp.DurationMS))
	return nil
}

// newTxnID makes a client transaction id that no other call, puppet or
// process uses: mautrix's counter restarts with each client.
func newTxnID() string { return "sb_" + rand.Text() }

// httpIntent is one user of an httpMatrix. An intent made for a user outside
// the namespace has err set and no client; every method returns err.
type httpIntent struct {
	m      *httpMatrix
	userID id.UserID
	err    error

	api *mauas.IntentAPI
	cli *mautrix.Client

	// regLock serialises registration without ignoring ctx (a channel
	// rather than a sync.Mutex, so a waiter can give up).
	regLock    chan struct{}
	registered atomic.Bool
}

func (i *httpIntent) UserID() id.UserID { return i.userID }

func (i *httpIntent) isBot() bool { return i.userID == i.m.bot.userID }

func (i *httpIntent) EnsureRegistered(ctx context.Context) error {
	if i.err != nil {
		return i.err
	}
	if i.registered.Load() {
		return nil
	}
	select {
	case i.regLock <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("register %s: %w", i.userID, context.Cause(ctx))
	}
	defer func() { <-i.regLock }()
	if i.registered.Load() {
		return nil
	}
	err := i.m.call(ctx, i.userID, func() error { return i.api.Register(ctx) })
	if err != nil && !errors.Is(err, mautrix.MUserInUse) {
		return fmt.Errorf("register %s: %w", i.userID, err)
	}
	i.registered.Store(true)
	return nil
}

func (i *httpIntent) EnsureJoined(ctx context.Context, roomID id.RoomID) error {
	if i.err != nil {
		return i.err
	}
	if i.m.store.IsInRoom(ctx, roomID, i.userID) {
		return nil
	}
	if err := i.EnsureRegistered(ctx); err != nil {
		return err
	}
	// JoinRoomByID records the membership in the state store on success.
	join := func() error {
		_, err := i.cli.JoinRoomByID(ctx, roomID)
		return err
	}
	err := i.m.call(ctx, i.userID, join)
	if err == nil {
		return nil
	}
	if !IsForbidden(err) || i.isBot() {
		return fmt.Errorf("join %s as %s: %w", roomID, i.userID, err)
	}
	// An invite-only portal: the bot, which made it, lets the puppet in.
	bot := i.m.bot
	inviteErr := i.m.call(ctx, bot.userID, func() error {
		_, err := bot.cli.InviteUser(ctx, roomID, &mautrix.ReqInviteUser{UserID: i.userID})
		return err
	})
	if inviteErr != nil && !isAlreadyInRoom(inviteErr) {
		return fmt.Errorf("join %s as %s: %w; bot invite: %w", roomID, i.userID, err, inviteErr)
	}
	if err := i.m.call(ctx, i.userID, join); err != nil {
		return fmt.Errorf("join %s as %s after bot invite: %w", roomID, i.userID, err)
	}
	return nil
}

// inRoom runs op after EnsureJoined. When op is refused although the cache
// said the user was joined, the cache was stale (the user was kicked or left
// behind our back): it is corrected, the user rejoins, and op runs once more.
func (i *httpIntent) inRoom(ctx context.Context, roomID id.RoomID, op func() error) error {
	cached := i.m.store.IsInRoom(ctx, roomID, i.userID)
	if err := i.EnsureJoined(ctx, roomID); err != nil {
		return err
	}
	err := i.m.call(ctx, i.userID, op)
	if err == nil || !cached || !IsForbidden(err) {
		return err
	}
	_ = i.m.store.SetMembership(ctx, roomID, i.userID, event.MembershipLeave)
	if jerr := i.EnsureJoined(ctx, roomID); jerr != nil {
		return fmt.Errorf("%w; rejoin: %w", err, jerr)
	}
	return i.m.call(ctx, i.userID, op)
}

// ready is the start of every call that acts as the user: the homeserver
// refuses to masquerade as a user that is not registered (Synapse answers
// 403 "Application service has not registered this user").
func (i *httpIntent) ready(ctx context.Context) error {
	return i.EnsureRegistered(ctx)
}

func (i *httpIntent) CreateRoom(ctx context.Context, req *mautrix.ReqCreateRoom) (id.RoomID, error) {
	if err := i.ready(ctx); err != nil {
		return "", err
	}
	if req == nil {
		req = &mautrix.ReqCreateRoom{}
	}
	var resp *mautrix.RespCreateRoom
	err := i.m.call(ctx, i.userID, func() error {
		var err error
		resp, err = i.cli.CreateRoom(ctx, req)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("create room as %s: %w", i.userID, err)
	}
	return resp.RoomID, nil
}

func (i *httpIntent) SendMessage(ctx context.Context, roomID id.RoomID, evtType event.Type, content any, opts SendOptions) (id.EventID, error) {
	if i.err != nil {
		return "", i.err
	}
	req := mautrix.ReqSendEvent{TransactionID: opts.TxnID}
	if req.TransactionID == "" {
		req.TransactionID = newTxnID()
	}
	if !opts.Timestamp.IsZero() {
		req.Timestamp = opts.Timestamp.UnixMilli()
	}
	var resp *mautrix.RespSendEvent
	err := i.inRoom(ctx, roomID, func() error {
		var err error
		resp, err = i.cli.SendMessageEvent(ctx, roomID, evtType, content, req)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("send %s to %s as %s: %w", evtType.Type, roomID, i.userID, err)
	}
	return resp.EventID, nil
}

func (i *httpIntent) SendState(ctx context.Context, roomID id.RoomID, evtType event.Type, stateKey string, content any) (id.EventID, error) {
	if i.err != nil {
		return "", i.err
	}
	var resp *mautrix.RespSendEvent
	op := func() error {
		var err error
		resp, err = i.cli.SendStateEvent(ctx, roomID, evtType, stateKey, content)
		return err
	}
	var err error
	if evtType == event.StateMember && stateKey == string(i.userID) {
		// The user's own membership (a join, a leave, a profile in one
		// room) must not first join it.
		if err = i.ready(ctx); err == nil {
			err = i.m.call(ctx, i.userID, op)
		}
	} else {
		err = i.inRoom(ctx, roomID, op)
	}
	if err != nil {
		return "", fmt.Errorf("set %s state %q in %s as %s: %w", evtType.Type, stateKey, roomID, i.userID, err)
	}
	return resp.EventID, nil
}

// Redact builds its own request: mautrix's RedactEvent has no ts parameter.
func (i *httpIntent) Redact(ctx context.Context, roomID id.RoomID, target id.EventID, reason string, opts SendOptions) (id.EventID, error) {
	if i.err != nil {
		return "", i.err
	}
	txnID := opts.TxnID
	if txnID == "" {
		txnID = newTxnID()
	}
	query := map[string]string{}
	if !opts.Timestamp.IsZero() {
		query["ts"] = strconv.FormatInt(opts.Timestamp.UnixMilli(), 10)
	}
	body := map[string]any{}
	if reason != "" {
		body["reason"] = reason
	}
	u := i.cli.BuildURLWithQuery(mautrix.ClientURLPath{"v3", "rooms", roomID, "redact", target, txnID}, query)
	var resp mautrix.RespSendEvent
	err := i.inRoom(ctx, roomID, func() error {
		_, err := i.cli.MakeRequest(ctx, http.MethodPut, u, body, &resp)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("redact %s in %s as %s: %w", target, roomID, i.userID, err)
	}
	return resp.EventID, nil
}

func (i *httpIntent) Join(ctx context.Context, roomIDOrAlias string) (id.RoomID, error) {
	if err := i.ready(ctx); err != nil {
		return "", err
	}
	req := &mautrix.ReqJoinRoom{}
	// A room id names the server that made the room (before room v12); a
	// remote room is only joinable through a server already in it.
	if strings.HasPrefix(roomIDOrAlias, "!") {
		if _, server, ok := strings.Cut(roomIDOrAlias, ":"); ok && server != i.m.serverName {
			req.Via = []string{server}
		}
	}
	var resp *mautrix.RespJoinRoom
	err := i.m.call(ctx, i.userID, func() error {
		var err error
		resp, err = i.cli.JoinRoom(ctx, roomIDOrAlias, req)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("join %s as %s: %w", roomIDOrAlias, i.userID, err)
	}
	return resp.RoomID, nil
}

func (i *httpIntent) Invite(ctx context.Context, roomID id.RoomID, userID id.UserID) error {
	if i.err != nil {
		return i.err
	}
	err := i.inRoom(ctx, roomID, func() error {
		_, err := i.cli.InviteUser(ctx, roomID, &mautrix.ReqInviteUser{UserID: userID})
		return err
	})
	if err != nil && !isAlreadyInRoom(err) {
		return fmt.Errorf("invite %s to %s as %s: %w", userID, roomID, i.userID, err)
	}
	return nil
}

// isAlreadyInRoom recognises the refusal to invite a member, which for an
// invite means the goal is met. Homeservers give it no errcode of its own,
// only M_FORBIDDEN and a message: Synapse's "... is already in the room.",
// Dendrite's (gomatrixserverlib) `target cannot be invited when their
// membership is "join"`, and the "is already joined to room" mautrix also
// recognises.
func isAlreadyInRoom(err error) bool {
	var httpErr mautrix.HTTPError
	if !errors.As(err, &httpErr) || httpErr.RespError == nil || !IsForbidden(err) {
		return false
	}
	msg := httpErr.RespError.Err
	return strings.Contains(msg, "is already in the room") ||
		strings.Contains(msg, "is already joined to room") ||
		strings.Contains(msg, `when their membership is "join"`)
}

func (i *httpIntent) Leave(ctx context.Context, roomID id.RoomID, reason string) error {
	if err := i.ready(ctx); err != nil {
		return err
	}
	err := i.m.call(ctx, i.userID, func() error {
		_, err := i.cli.LeaveRoom(ctx, roomID, &mautrix.ReqLeave{Reason: reason})
		return err
	})
	if err != nil {
		return fmt.Errorf("leave %s as %s: %w", roomID, i.userID, err)
	}
	return nil
}

func (i *httpIntent) Kick(ctx context.Context, roomID id.RoomID, userID id.UserID, reason string) error {
	if i.err != nil {
		return i.err
	}
	err := i.inRoom(ctx, roomID, func() error {
		_, err := i.cli.KickUser(ctx, roomID, &mautrix.ReqKickUser{UserID: userID, Reason: reason})
		return err
	})
	if err != nil {
		return fmt.Errorf("kick %s from %s as %s: %w", userID, roomID, i.userID, err)
	}
	return nil
}

func (i *httpIntent) SetDisplayName(ctx context.Context, name string) error {
	return i.setProfileField(ctx, "displayname", name)
}

func (i *httpIntent) SetAvatarURL(ctx context.Context, uri id.ContentURIString) error {
	return i.setProfileField(ctx, "avatar_url", string(uri))
}

// setProfileField reads the field first and writes only a change: every
// profile write makes a member event in each of the user's rooms.
func (i *httpIntent) setProfileField(ctx context.Context, key, value string) error {
	if err := i.ready(ctx); err != nil {
		return err
	}
	var current map[string]any
	err := i.m.call(ctx, i.userID, func() error {
		current = nil
		return i.cli.GetProfileField(ctx, i.userID, key, &current)
	})
	if err != nil && !errors.Is(err, mautrix.MNotFound) {
		return fmt.Errorf("get %s of %s: %w", key, i.userID, err)
	}
	have := "" // absent (M_NOT_FOUND) is the same as empty
	if err == nil {
		have, _ = current[key].(string)
	}
	if have == value {
		return nil
	}
	err = i.m.call(ctx, i.userID, func() error {
		return i.cli.SetProfileField(ctx, key, value)
	})
	if err != nil {
		return fmt.Errorf("set %s of %s: %w", key, i.userID, err)
	}
	return nil
}

func (i *httpIntent) Typing(ctx context.Context, roomID id.RoomID, typing bool, timeout time.Duration) error {
	if err := i.ready(ctx); err != nil {
		return err
	}
	op := func() error {
		_, err := i.cli.UserTyping(ctx, roomID, typing, timeout)
		return err
	}
	var err error
	if typing {
		// Someone typing on the remote side is about to speak here.
		err = i.inRoom(ctx, roomID, op)
	} else {
		// Clearing a notice is no reason to join.
		err = i.m.call(ctx, i.userID, op)
	}
	if err != nil {
		return fmt.Errorf("set typing in %s as %s: %w", roomID, i.userID, err)
	}
	return nil
}

func (i *httpIntent) MarkRead(ctx context.Context, roomID id.RoomID, eventID id.EventID) error {
	if i.err != nil {
		return i.err
	}
	err := i.inRoom(ctx, roomID, func() error {
		return i.cli.SendReceipt(ctx, roomID, eventID, event.ReceiptTypeRead, nil)
	})
	if err != nil {
		return fmt.Errorf("mark %s read in %s as %s: %w", eventID, roomID, i.userID, err)
	}
	return nil
}

func (i *httpIntent) State(ctx context.Context, roomID id.RoomID, evtType event.Type, stateKey string, into any) error {
	if err := i.ready(ctx); err != nil {
		return err
	}
	err := i.m.call(ctx, i.userID, func() error {
		return i.cli.StateEvent(ctx, roomID, evtType, stateKey, into)
	})
	if err != nil {
		if errors.Is(err, mautrix.MNotFound) {
			return fmt.Errorf("get %s state %q in %s: %w: %w", evtType.Type, stateKey, roomID, ErrNotFound, err)
		}
		return fmt.Errorf("get %s state %q in %s as %s: %w", evtType.Type, stateKey, roomID, i.userID, err)
	}
	return nil
}

func (i *httpIntent) PowerLevels(ctx context.Context, roomID id.RoomID) (*event.PowerLevelsEventContent, error) {
	if err := i.ready(ctx); err != nil {
		return nil, err
	}
	var state mautrix.RoomStateMap
	err := i.m.call(ctx, i.userID, func() error {
		var err error
		state, err = i.cli.State(ctx, roomID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get state of %s as %s: %w", roomID, i.userID, err)
	}
	create := state[event.StateCreate][""]
	if create == nil {
		return nil, fmt.Errorf("room %s has no create event: %w", roomID, ErrNotFound)
	}
	pl := &event.PowerLevelsEventContent{}
	if ev := state[event.StatePowerLevels][""]; ev != nil {
		if parsed := ev.Content.AsPowerLevels(); parsed != nil {
			pl = parsed
		}
	} else {
		// No power levels event: the creator has 100, everyone else 0.
		pl.Users = map[id.UserID]int{create.Sender: 100}
	}
	pl.CreateEvent = create
	return pl, nil
}

func (i *httpIntent) JoinedMembers(ctx context.Context, roomID id.RoomID) (map[id.UserID]Member, error) {
	if err := i.ready(ctx); err != nil {
		return nil, err
	}
	var resp *mautrix.RespJoinedMembers
	err := i.m.call(ctx, i.userID, func() error {
		var err error
		resp, err = i.cli.JoinedMembers(ctx, roomID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get members of %s as %s: %w", roomID, i.userID, err)
	}
	members := make(map[id.UserID]Member, len(resp.Joined))
	for userID, jm := range resp.Joined {
		members[userID] = Member{DisplayName: jm.DisplayName, AvatarURL: id.ContentURIString(jm.AvatarURL)}
	}
	return members, nil
}

// Profile decodes the answer itself: mautrix's RespUserProfile parses
// avatar_url as a ContentURI and fails the whole call on a malformed one.
func (i *httpIntent) Profile(ctx context.Context, userID id.UserID) (*Member, error) {
	if err := i.ready(ctx); err != nil {
		return nil, err
	}
	var resp struct {
		DisplayName *string `json:"displayname"`
		AvatarURL   *string `json:"avatar_url"`
	}
	u := i.cli.BuildClientURL("v3", "profile", userID)
	err := i.m.call(ctx, i.userID, func() error {
		resp.DisplayName, resp.AvatarURL = nil, nil
		_, err := i.cli.MakeRequest(ctx, http.MethodGet, u, nil, &resp)
		return err
	})
	if err != nil {
		if errors.Is(err, mautrix.MNotFound) {
			return nil, fmt.Errorf("get profile of %s: %w: %w", userID, ErrNotFound, err)
		}
		return nil, fmt.Errorf("get profile of %s: %w", userID, err)
	}
	m := &Member{}
	if resp.DisplayName != nil {
		m.DisplayName = *resp.DisplayName
	}
	if resp.AvatarURL != nil {
		m.AvatarURL = id.ContentURIString(*resp.AvatarURL)
	}
	return m, nil
}

func (i *httpIntent) SetAlias(ctx context.Context, alias id.RoomAlias, roomID id.RoomID) error {
	if err := i.ready(ctx); err != nil {
		return err
	}
	err := i.m.call(ctx, i.userID, func() error {
		_, err := i.cli.CreateAlias(ctx, alias, roomID)
		return err
	})
	if err == nil {
		return nil
	}
	var httpErr mautrix.HTTPError
	if !errors.As(err, &httpErr) || !httpErr.IsStatus(http.StatusConflict) {
		return fmt.Errorf("set alias %s to %s: %w", alias, roomID, err)
	}
	// Taken, maybe by us: a retry after a lost answer must not fail.
	if current, rerr := i.ResolveAlias(ctx, alias); rerr == nil && current == roomID {
		return nil
	}
	return fmt.Errorf("set alias %s to %s: %w: %w", alias, roomID, ErrAliasTaken, err)
}

func (i *httpIntent) ResolveAlias(ctx context.Context, alias id.RoomAlias) (id.RoomID, error) {
	if err := i.ready(ctx); err != nil {
		return "", err
	}
	var resp *mautrix.RespAliasResolve
	err := i.m.call(ctx, i.userID, func() error {
		var err error
		resp, err = i.cli.ResolveAlias(ctx, alias)
		return err
	})
	if err != nil {
		if errors.Is(err, mautrix.MNotFound) {
			return "", fmt.Errorf("resolve alias %s: %w: %w", alias, ErrNotFound, err)
		}
		return "", fmt.Errorf("resolve alias %s: %w", alias, err)
	}
	return resp.RoomID, nil
}
