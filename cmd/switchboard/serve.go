package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"switchboard/bridge"
	"switchboard/homeserver"
	"switchboard/internal/config"
	"switchboard/internal/database"
	"switchboard/internal/datadir"
	"switchboard/internal/httpserver"
	"switchboard/internal/logging"
)

func newServeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the homeserver and every enabled bridge in one process",
		Long: `Run the built-in homeserver and every enabled bridge in one process.

With no config it stores everything under ./data (SQLite) and listens on
127.0.0.1:8008 for the client API, /health and /metrics. SIGINT or SIGTERM
shuts down gracefully: listeners close, in-flight requests finish, the database
is closed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			return serve(cmd.Context(), cfg, cmd)
		},
	}
}

func serve(ctx context.Context, cfg *config.Config, cmd *cobra.Command) error {
	start := time.Now()
	log, err := logging.New(cmd.ErrOrStderr(), cfg.Log.Level, cfg.Log.Format)
	if err != nil {
		return err
	}
	if cfg.Listen.Federation != "" {
		return fmt.Errorf("listen.federation %s: federation is not built yet; leave listen.federation empty", cfg.Listen.Federation)
	}
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()

	metrics := httpserver.NewMetrics()
	hs, err := homeserver.New(ctx, homeserver.Options{
		ServerName:           cfg.ServerName,
		DataDir:              cfg.DataDir,
		DB:                   db,
		Log:                  log.With(slog.String("component", "homeserver")),
		RegistrationEnabled:  cfg.Registration.Enabled,
		RateLimits:           cfg.RateLimits,
		MaxUploadBytes:       cfg.Media.MaxUploadBytes,
		Appservices:          cfg.Appservices,
		AppserviceBatchSize:  cfg.AppserviceDelivery.BatchSize,
		AppserviceMaxBackoff: time.Duration(cfg.AppserviceDelivery.MaxRetryInterval),
		Metrics:              metrics.Registry,
	})
	if err != nil {
		return err
	}
	defer hs.Close()
	if err := bridge.Migrate(ctx, db, cfg.ServerName); err != nil {
		return err
	}

	ln, err := httpserver.Listen(cfg.Listen.Client, "listen.client", "SWITCHBOARD_LISTEN_CLIENT")
	if err != nil {
		return err
	}
	metrics.Registry.MustRegister(collectors.NewDBStatsCollector(db.RawDB, "switchboard"))
	mux := http.NewServeMux()
	hs.Register(mux)
	mux.Handle("GET /health", httpserver.Health(databaseCheck(db)))
	mux.Handle("GET /metrics", metrics.Handler())

	log.Info("switchboard ready",
		slog.String("version", version),
		slog.String("server_name", cfg.ServerName),
		slog.String("listen_client", ln.Addr().String()),
		slog.String("database", database.Redact(cfg.Database.URI)),
		slog.Duration("startup", time.Since(start)))
	serveErr := httpserver.Serve(ctx, ln, metrics.Instrument(mux), log)
	hs.Close() // the room engine's last writes land before the database closes
	if err := db.Close(); err != nil && serveErr == nil {
		serveErr = fmt.Errorf("close database: %w", err)
	}
	if serveErr != nil {
		return serveErr
	}
	log.Info("switchboard stopped")
	return nil
}

// openLogged builds the logger from the config and opens the database with
// it: what every command that touches the database starts with.
func openLogged(ctx context.Context, cfg *config.Config, cmd *cobra.Command) (*slog.Logger, *database.DB, error) {
	log, err := logging.New(cmd.ErrOrStderr(), cfg.Log.Level, cfg.Log.Format)
	if err != nil {
		return nil, nil, err
	}
	db, err := openDatabase(ctx, cfg, log)
	return log, db, err
}

// openDatabase prepares data_dir (which also holds the secrets) and opens the
// database named by database.uri.
func openDatabase(ctx context.Context, cfg *config.Config, log *slog.Logger) (*database.DB, error) {
	if err := datadir.Prepare(cfg.DataDir); err != nil {
		return nil, err
	}
	return database.Open(ctx, cfg.Database.URI, log.With(slog.String("component", "database")))
}

func databaseCheck(db *database.DB) httpserver.Check {
	return httpserver.Check{
		Name:     "database",
		Critical: true,
		Probe: func(ctx context.Context) (map[string]any, error) {
			return map[string]any{"kind": db.Kind()}, db.Ping(ctx)
		},
	}
}
