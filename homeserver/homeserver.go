package homeserver

import (
	"context"
	"embed"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"switchboard/homeserver/accounts"
	"switchboard/homeserver/appservices"
	"switchboard/homeserver/media"
	"switchboard/homeserver/mxhttp"
	"switchboard/homeserver/rooms"
	"switchboard/internal/config"
	"switchboard/internal/database"
	"switchboard/registration"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Schema is the homeserver's core database schema: the hs_server table,
// versioned in hs_version. Accounts, rooms and media keep their own schemas
// (hs_accounts_version, hs_rooms_version, hs_media_version).
func Schema() database.Schema {
	return database.EmbeddedSchema("homeserver", "hs_version", migrations, "migrations")
}

// Options is what a Server needs from the process.
type Options struct {
	ServerName          string
	DataDir             string // where the signing key and media live
	DB                  *database.DB
	Log                 *slog.Logger
	RegistrationEnabled bool
	RateLimits          config.RateLimits
	MaxUploadBytes      int64
	// Appservices are the registration files of the appservices to host.
	Appservices []string
	// Registrations are appservices to host handed over in memory (the
	// bridges of `switchboard serve`), loaded with the files in Appservices
	// under the same validation and duplicate checks; the homeserver keeps
	// its own copy of each.
	Registrations []*registration.Registration
	// AppserviceBatchSize and AppserviceMaxBackoff tune pushes to them
	// (zero: 100 events, 5 minutes).
	AppserviceBatchSize  int
	AppserviceMaxBackoff time.Duration
	// Metrics receives the homeserver's own metrics; nil registers none.
	Metrics prometheus.Registerer
}

// Server is the built-in homeserver.
type Server struct {
	serverName string
	db         *database.DB
	log        *slog.Logger
	signingKey SigningKey

	Accounts    *accounts.Accounts
	Rooms       *rooms.Engine
	Media       *media.Repo
	Appservices *appservices.Service
}

// New migrates the homeserver's schemas, checks that the database belongs
// to opts.ServerName, loads (or on first start generates) the signing key,
// and starts the room engine.
func New(ctx context.Context, opts Options) (*Server, error) {
	if err := Migrate(ctx, opts.DB, opts.ServerName); err != nil {
		return nil, err
	}
	key, err := LoadOrCreateSigningKey(opts.DataDir)
	if err != nil {
		return nil, err
	}
	s := &Server{serverName: opts.ServerName, db: opts.DB, log: opts.Log, signingKey: key}
	s.Accounts, err = accounts.New(ctx, accounts.Options{
		ServerName:          opts.ServerName,
		DB:                  opts.DB,
		Log:                 opts.Log.With(slog.String("component", "accounts")),
		RegistrationEnabled: opts.RegistrationEnabled,
		RateLimits:          opts.RateLimits,
		RoomVersions:        roomVersions,
		OnProfileChange: func(ctx context.Context, userID id.UserID, displayName, avatarURL string) {
			s.Rooms.UpdateProfile(ctx, userID, displayName, avatarURL)
		},
	})
	if err != nil {
		return nil, err
	}
	s.Appservices, err = appservices.New(ctx, appservices.Options{
		ServerName:    opts.ServerName,
		Files:         opts.Appservices,
		Registrations: opts.Registrations,
		DB:            opts.DB,
		Log:           opts.Log.With(slog.String("component", "appservices")),
		Users:         s.Accounts,
		Metrics:       opts.Metrics,
		BatchSize:     opts.AppserviceBatchSize,
		MaxBackoff:    opts.AppserviceMaxBackoff,
	})
	if err != nil {
		return nil, err
	}
	s.Accounts.SetAppservices(s.Appservices)
	s.Rooms, err = rooms.New(ctx, rooms.Options{
		ServerName:  opts.ServerName,
		KeyID:       key.ID,
		SigningKey:  key.Key,
		DB:          opts.DB,
		Log:         opts.Log.With(slog.String("component", "rooms")),
		Auth:        s.Accounts,
		Profiles:    s.Accounts,
		AccountData: s.Accounts,
		Appservices: s.Appservices,
	})
	if err != nil {
		return nil, err
	}
	if err := s.Appservices.Start(ctx, s.Rooms); err != nil {
		s.Rooms.Close()
		return nil, err
	}
	s.Accounts.SetNotifier(func(id.UserID, int64) { s.Rooms.Wake() })
	s.Media, err = media.New(ctx, media.Options{
		ServerName:     opts.ServerName,
		DataDir:        opts.DataDir,
		DB:             opts.DB,
		Log:            opts.Log.With(slog.String("component", "media")),
		MaxUploadBytes: opts.MaxUploadBytes,
		Auth:           s.Accounts,
	})
	if err != nil {
		s.Close()
		return nil, err
	}
	opts.Log.Debug("signing key ready", slog.String("key_id", key.ID))
	return s, nil
}

// Close stops the room engine's writer; the caller closes the database.
func (s *Server) Close() {
	if s.Appservices != nil {
		s.Appservices.Close()
	}
	if s.Rooms != nil {
		s.Rooms.Close()
	}
}

func roomVersions() (string, map[string]string) {
	available := map[string]string{}
	for _, v := range rooms.SupportedRoomVersions {
		available[v] = "stable"
	}
	return rooms.DefaultRoomVersion, available
}

// SigningKeyID is the id of the key this server signs events with.
func (s *Server) SigningKeyID() string { return s.signingKey.ID }

// Register adds the homeserver's routes to mux.
func (s *Server) Register(mux *http.ServeMux) {
	mux.Handle("GET /_matrix/client/versions", mxhttp.CORS(http.HandlerFunc(handleVersions)))
	mux.Handle("GET /.well-known/matrix/client", mxhttp.CORS(http.HandlerFunc(s.handleWellKnown)))
	mux.Handle("GET /_matrix/key/v2/server", http.HandlerFunc(s.handleServerKey))
	if s.Accounts != nil {
		s.Accounts.Register(mux)
	}
	if s.Rooms != nil {
		s.Rooms.Register(mux)
		s.Rooms.RegisterSync(mux)
		s.Rooms.RegisterDirectory(mux)
	}
	if s.Media != nil {
		s.Media.Register(mux)
	}
	if s.Appservices != nil {
		s.Appservices.Register(mux, s.Accounts.RequireAuth)
	}
	// Anything else under /_matrix is a Matrix endpoint this server does not
	// offer (404 M_UNRECOGNIZED), or one it offers for other methods (405
	// M_UNRECOGNIZED), as the spec asks.
	mux.Handle("/_matrix/", mxhttp.CORS(unrecognized(mux)))
}

func unrecognized(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete} {
			if method == r.Method {
				continue
			}
			probe := r.Clone(r.Context())
			probe.Method = method
			if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/_matrix/" {
				mautrix.MUnrecognized.WithStatus(http.StatusMethodNotAllowed).WithMessage("Method %s not allowed here", r.Method).Write(w)
				return
			}
		}
		mxhttp.Unrecognized(w, r)
	})
}

// Migrate brings every homeserver schema up to date (core, accounts, rooms,
// media) and checks that the database belongs to serverName.
func Migrate(ctx context.Context, db *database.DB, serverName string) error {
	if err := db.Migrate(ctx, Schema()); err != nil {
		return err
	}
	if err := db.BindServerName(ctx, "hs_server", serverName); err != nil {
		return err
	}
	for _, schema := range []database.Schema{accounts.Schema(), rooms.Schema(), media.Schema(), appservices.Schema()} {
		if err := db.Migrate(ctx, schema); err != nil {
			return err
		}
	}
	return nil
}
