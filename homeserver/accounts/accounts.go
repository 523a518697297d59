package accounts

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"maunium.net/go/mautrix/id"

	"switchboard/homeserver/mxhttp"
	"switchboard/homeserver/ratelimit"
	"switchboard/internal/config"
	"switchboard/internal/database"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Schema is the accounts' database schema: hs_users, hs_devices,
// hs_access_tokens and the other per-user hs_* tables, versioned in
// hs_accounts_version.
func Schema() database.Schema {
	return database.EmbeddedSchema("accounts", "hs_accounts_version", migrations, "migrations")
}

// Options is what Accounts needs from the process.
type Options struct {
	// ServerName is the part after the colon of every local user id.
	ServerName string
	DB         *database.DB
	// Log receives errors and account events; nil discards them. Tokens and
	// passwords are never logged.
	Log *slog.Logger
	// RegistrationEnabled lets anyone register through POST /register. When
	// false only administrators (CreateUser) and appservices create accounts.
	RegistrationEnabled bool
	// RateLimits limits /login (and password stages of User-Interactive
	// Authentication) and /register per client address;
	// /register/available shares the login rate with a bucket of its own.
	RateLimits config.RateLimits
	// RoomVersions reports the room versions for the m.room_versions
	// capability: the default and a map of version to "stable" or
	// "unstable". nil leaves the capability out.
	RoomVersions func() (defaultVersion string, available map[string]string)
	// OnProfileChange is called after a user's display name or avatar
	// changes (and the change is committed), with the new values, so the room
	// engine can update their membership events. It runs on the request's
	// goroutine, which waits for it; nil means nobody listens.
	OnProfileChange func(ctx context.Context, userID id.UserID, displayName, avatarURL string)
}

// Appservices is what the Application Service API offers account
// management: appservices register and log in users of their namespace
// with their as_token (type m.login.application_service), and ordinary
// users may not register ids in an exclusive namespace. Without it that
// type is refused and no namespace is exclusive.
type Appservices interface {
	// AuthorizeUser reports whether the appservice whose as_token r carries
	// may act for userID, and returns that appservice's id. Its errors are
	// mautrix.RespError values sent to the client as they are: 401
	// M_MISSING_TOKEN or M_UNKNOWN_TOKEN for a missing or unknown as_token,
	// 400 M_EXCLUSIVE for a user id outside the appservice's namespace.
	AuthorizeUser(r *http.Request, userID id.UserID) (appserviceID string, err error)
	// Exclusive reports whether userID lies in an appservice's exclusive
	// user namespace. It must not block.
	Exclusive(userID id.UserID) bool
	// Identify resolves a request whose access token may be an as_token:
	// found is false when it is not one; otherwise the identity is the user
	// the appservice acts as (its bot, or the user_id query parameter inside
	// its namespace), or err says why it may not.
	Identify(r *http.Request, token string) (ident mxhttp.Identity, found bool, err error)
	// QueryUser asks the appservice whose namespace holds userID whether the
	// user exists; the appservice registers it before answering yes.
	QueryUser(ctx context.Context, userID id.UserID) (bool, error)
}

// Accounts holds the users of the built-in homeserver and serves the
// account-level client API. It is safe for concurrent use.
type Accounts struct {
	serverName          string
	db                  *database.DB
	log                 *slog.Logger
	registrationEnabled bool
	roomVersions        func() (string, map[string]string)
	onProfileChange     func(context.Context, id.UserID, string, string)

	loginLimit     *ratelimit.Limiter // POST /login, password stages of UIA
	registerLimit  *ratelimit.Limiter // POST /register
	availableLimit *ratelimit.Limiter // GET /register/available

	tokens *tokenCache
	uia    *uiaStore

	accountDataPos atomic.Int64
	notifier       atomic.Pointer[func(id.UserID, int64)]
	appservices    atomic.Pointer[appservicesBox]
	tagMu          sync.Mutex // serialises read-modify-write of m.tag
}

type appservicesBox struct{ Appservices }

// New migrates the accounts schema, checks that the database belongs to
// opts.ServerName, and returns the account store.
func New(ctx context.Context, opts Options) (*Accounts, error) {
	if opts.ServerName == "" {
		return nil, errors.New("accounts: missing server name")
	}
	if opts.DB == nil {
		return nil, errors.New("accounts: missing database")
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := opts.DB.Migrate(ctx, Schema()); err != nil {
		return nil, err
	}
	if err := opts.DB.BindServerName(ctx, "hs_accounts_server", opts.ServerName); err != nil {
		return nil, err
	}
	a := &Accounts{
		serverName:          opts.ServerName,
		db:                  opts.DB,
		log:                 log,
		registrationEnabled: opts.RegistrationEnabled,
		roomVersions:        opts.RoomVersions,
		onProfileChange:     opts.OnProfileChange,
		tokens:              newTokenCache(),
		uia:                 newUIAStore(),
	}
	if rl := opts.RateLimits; rl.Enabled {
		a.loginLimit = ratelimit.New(rl.Login.PerSecond, rl.Login.Burst)
		a.registerLimit = ratelimit.New(rl.Register.PerSecond, rl.Register.Burst)
		a.availableLimit = ratelimit.New(rl.Login.PerSecond, rl.Login.Burst)
	}
	var pos int64
	if err := opts.DB.QueryRow(ctx, getStreamPositionQuery).Scan(&pos); err != nil {
		return nil, fmt.Errorf("read account data position: %w", err)
	}
	a.accountDataPos.Store(pos)
	return a, nil
}

// SetNotifier sets the function called after each account data change
// commits (push rule changes included), with the user and the change's
// stream position, to wake that user's long-polling /sync. It is called on
// the writer's goroutine and must not block. nil removes it.
func (a *Accounts) SetNotifier(fn func(userID id.UserID, pos int64)) {
	if fn == nil {
		a.notifier.Store(nil)
		return
	}
	a.notifier.Store(&fn)
}

// SetAppservices plugs in the Application Service API; see Appservices.
// nil removes it.
func (a *Accounts) SetAppservices(as Appservices) {
	if as == nil {
		a.appservices.Store(nil)
		return
	}
	a.appservices.Store(&appservicesBox{as})
}

func (a *Accounts) appservicesOrNil() Appservices {
	if box := a.appservices.Load(); box != nil {
		return box.Appservices
	}
	return nil
}

// Register adds the account-level client API routes to mux, each wrapped in
// mxhttp.CORS.
func (a *Accounts) Register(mux *http.ServeMux) {
	const v3 = "/_matrix/client/v3"
	open := func(pattern string, h http.HandlerFunc) {
		mux.Handle(pattern, mxhttp.CORS(h))
	}
	authed := func(pattern string, h http.HandlerFunc) {
		mux.Handle(pattern, mxhttp.CORS(a.RequireAuth(h)))
	}

	open("GET "+v3+"/login", a.handleLoginFlows)
	open("POST "+v3+"/login", a.handleLogin)
	authed("POST "+v3+"/logout", a.handleLogout)
	authed("POST "+v3+"/logout/all", a.handleLogoutAll)
	open("POST "+v3+"/register", a.handleRegister)
	open("GET "+v3+"/register/available", a.handleRegisterAvailable)

	authed("GET "+v3+"/account/whoami", a.handleWhoami)
	authed("POST "+v3+"/account/password", a.handleChangePassword)
	authed("GET "+v3+"/capabilities", a.handleCapabilities)

	authed("GET "+v3+"/devices", a.handleListDevices)
	authed("GET "+v3+"/devices/{deviceId}", a.handleGetDevice)
	authed("PUT "+v3+"/devices/{deviceId}", a.handlePutDevice)
	authed("DELETE "+v3+"/devices/{deviceId}", a.handleDeleteDevice)
	authed("POST "+v3+"/delete_devices", a.handleDeleteDevices)

	open("GET "+v3+"/profile/{userId}", a.handleGetProfile)
	open("GET "+v3+"/profile/{userId}/displayname", a.handleGetProfileField(fieldDisplayName))
	open("GET "+v3+"/profile/{userId}/avatar_url", a.handleGetProfileField(fieldAvatarURL))
	authed("PUT "+v3+"/profile/{userId}/displayname", a.handleSetProfileField(fieldDisplayName))
	authed("PUT "+v3+"/profile/{userId}/avatar_url", a.handleSetProfileField(fieldAvatarURL))

	authed("GET "+v3+"/user/{userId}/account_data/{type}", a.handleGetAccountData)
	authed("PUT "+v3+"/user/{userId}/account_data/{type}", a.handlePutAccountData)
	authed("GET "+v3+"/user/{userId}/rooms/{roomId}/account_data/{type}", a.handleGetAccountData)
	authed("PUT "+v3+"/user/{userId}/rooms/{roomId}/account_data/{type}", a.handlePutAccountData)

	authed("GET "+v3+"/user/{userId}/rooms/{roomId}/tags", a.handleGetTags)
	authed("PUT "+v3+"/user/{userId}/rooms/{roomId}/tags/{tag}", a.handlePutTag)
	authed("DELETE "+v3+"/user/{userId}/rooms/{roomId}/tags/{tag}", a.handleDeleteTag)

	authed("POST "+v3+"/user/{userId}/filter", a.handleCreateFilter)
	authed("GET "+v3+"/user/{userId}/filter/{filterId}", a.handleGetFilter)

	authed("GET "+v3+"/pushrules/{$}", a.handleGetAllPushRules)
	authed("GET "+v3+"/pushrules/global/{$}", a.handleGetGlobalPushRules)
	authed("GET "+v3+"/pushrules/global/{kind}/{ruleId}", a.handleGetPushRule)
	authed("PUT "+v3+"/pushrules/global/{kind}/{ruleId}", a.handlePutPushRule)
	authed("DELETE "+v3+"/pushrules/global/{kind}/{ruleId}", a.handleDeletePushRule)
	authed("GET "+v3+"/pushrules/global/{kind}/{ruleId}/enabled", a.handleGetPushRuleEnabled)
	authed("PUT "+v3+"/pushrules/global/{kind}/{ruleId}/enabled", a.handlePutPushRuleEnabled)
	authed("GET "+v3+"/pushrules/global/{kind}/{ruleId}/actions", a.handleGetPushRuleActions)
	authed("PUT "+v3+"/pushrules/global/{kind}/{ruleId}/actions", a.handlePutPushRuleActions)
}

// fail answers with err: a mautrix.RespError as it is, anything else as a
// logged 500.
func (a *Accounts) fail(w http.ResponseWriter, r *http.Request, err error) {
	mxhttp.WriteError(w, r, a.log, err)
}

// identity is the identity RequireAuth stored in r's context.
func identity(r *http.Request) mxhttp.Identity {
	ident, _ := mxhttp.IdentityFrom(r.Context())
	return ident
}

// ok answers 200 {}.
func ok(w http.ResponseWriter) {
	mxhttp.WriteJSON(w, http.StatusOK, struct{}{})
}

func nowMS() int64 { return time.Now().UnixMilli() }
