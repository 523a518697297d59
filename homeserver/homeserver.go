package homeserver

import (
	"context"
	"embed"
	"log/slog"
	"net/http"

	"switchboard/homeserver/mxhttp"
	"switchboard/internal/database"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Schema is the homeserver's database schema: hs_* tables, versioned in
// hs_version, independent of the bridge's.
func Schema() database.Schema {
	return database.EmbeddedSchema("homeserver", "hs_version", migrations, "migrations")
}

// Options is what a Server needs from the process.
type Options struct {
	ServerName string
	DataDir    string // where the signing key lives
	DB         *database.DB
	Log        *slog.Logger
}

// Server is the built-in homeserver.
type Server struct {
	serverName string
	db         *database.DB
	log        *slog.Logger
	signingKey SigningKey
}

// New migrates the homeserver's schema, checks that the database belongs to
// opts.ServerName, and loads (or on first start generates) the signing key.
func New(ctx context.Context, opts Options) (*Server, error) {
	if err := Migrate(ctx, opts.DB, opts.ServerName); err != nil {
		return nil, err
	}
	key, err := LoadOrCreateSigningKey(opts.DataDir)
	if err != nil {
		return nil, err
	}
	opts.Log.Debug("signing key ready", slog.String("key_id", key.ID))
	return &Server{serverName: opts.ServerName, db: opts.DB, log: opts.Log, signingKey: key}, nil
}

// SigningKeyID is the id of the key this server signs events with.
func (s *Server) SigningKeyID() string { return s.signingKey.ID }

// Register adds the homeserver's routes to mux.
func (s *Server) Register(mux *http.ServeMux) {
	mux.Handle("GET /_matrix/client/versions", mxhttp.CORS(http.HandlerFunc(handleVersions)))
	mux.Handle("GET /_matrix/key/v2/server", http.HandlerFunc(s.handleServerKey))
	// Anything else under /_matrix is a Matrix endpoint this server does not
	// offer (yet); the spec asks for M_UNRECOGNIZED rather than a bare 404.
	mux.Handle("/_matrix/", mxhttp.CORS(http.HandlerFunc(mxhttp.Unrecognized)))
}

// Migrate brings the homeserver's tables up to date and checks that the
// database belongs to serverName.
func Migrate(ctx context.Context, db *database.DB, serverName string) error {
	if err := db.Migrate(ctx, Schema()); err != nil {
		return err
	}
	return db.BindServerName(ctx, "hs_server", serverName)
}
