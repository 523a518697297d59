package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"switchboard/appservice"
	"switchboard/bridge"
	"switchboard/connectors"
	"switchboard/homeserver"
	"switchboard/internal/config"
	"switchboard/internal/database"
	"switchboard/internal/datadir"
	"switchboard/internal/httpserver"
	"switchboard/internal/logging"
	"switchboard/registration"
)

func newServeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the homeserver and every enabled bridge in one process",
		Long: `Run the built-in homeserver and every enabled bridge (bridges.NAME.enabled:
true) in one process. The homeserver hosts the bridges' registrations itself
(kept, with their tokens, in DATA_DIR/appservices/), so there is no file to
copy; the bridges reach it over loopback through the Application Service API,
as they would reach any homeserver.

With no config it stores everything under ./data (SQLite) and listens on
127.0.0.1:8008 for the client API, /health, /metrics and /_switchboard/status.
SIGINT or SIGTERM shuts down gracefully: the bridges stop (what was not
delivered waits in the database), listeners close, in-flight requests finish,
the database is closed.`,
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

// plannedBridge is an enabled network of `serve`, from its config section to
// its running bridge.
type plannedBridge struct {
	network string
	conn    builtin
	section connectors.Sectioned
	reg     *registration.Registration
	b       *liveBridge
}

// enabledBridges returns the built-in networks whose section says enabled:
// true, sorted by name.
func enabledBridges(cfg *config.Config) ([]*plannedBridge, error) {
	var out []*plannedBridge
	for _, name := range knownNetworks() {
		conn := builtinConnectors[name]
		section, err := conn.section(cfg, name)
		if err != nil {
			return nil, err
		}
		if section.Common().Enabled {
			out = append(out, &plannedBridge{network: name, conn: conn, section: section})
		}
	}
	return out, nil
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
	planned, err := enabledBridges(cfg)
	if err != nil {
		return err
	}
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()

	// The bridges' receivers listen on a loopback port of their own, one
	// path per network, which their registrations point the homeserver at.
	var internal net.Listener
	var regs []*registration.Registration
	if len(planned) > 0 {
		internal, err = net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("bridges: open the loopback listener the homeserver pushes to: %w", err)
		}
		defer internal.Close()
		for _, p := range planned {
			p.reg, err = loadRegistration(cfg, p.network, "http://"+internal.Addr().String()+"/"+p.network)
			if err != nil {
				return err
			}
			regs = append(regs, p.reg)
		}
	}

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
		Registrations:        regs,
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
	hsURL := loopbackURL(ln.Addr())

	bridgeLog := log.With(slog.String("component", "bridge"))
	internalMux := http.NewServeMux()
	checks := []httpserver.Check{databaseCheck(db)}
	bridges := make([]*liveBridge, 0, len(planned))
	for _, p := range planned {
		if p.b, err = buildBridge(ctx, cfg, p, hsURL, db, bridgeLog); err != nil {
			ln.Close()
			return err
		}
		bridges = append(bridges, p.b)
		internalMux.Handle("/"+p.network+"/", http.StripPrefix("/"+p.network, p.b.Receiver()))
		checks = append(checks, bridgeCheck(p.b))
	}

	metrics.Registry.MustRegister(collectors.NewDBStatsCollector(db.RawDB, "switchboard"))
	mux := http.NewServeMux()
	hs.Register(mux)
	mux.Handle("GET /health", httpserver.Health(checks...))
	mux.Handle("GET /metrics", metrics.Handler())
	mux.Handle("GET /_switchboard/status", statusHandler(func(ctx context.Context) any {
		out := map[string]bridge.Status{}
		for _, b := range bridges {
			out[b.Network()] = b.status(ctx)
		}
		return map[string]any{"bridges": out}
	}))

	servers := []*server{startServer(ctx, ln, metrics.Instrument(mux), log)}
	if internal != nil {
		servers = append(servers, startServer(ctx, internal, internalMux, bridgeLog))
	}
	shutdown := func() error {
		var first error
		for _, s := range servers {
			if err := s.shutdown(); err != nil && first == nil {
				first = err
			}
		}
		return first
	}

	// Start the bridges once the homeserver answers on its listener: they
	// register their bots and join their rooms through it.
	for i, b := range bridges {
		if err := b.start(ctx); err != nil {
			stopBridges(bridgeLog, bridges[:i+1]...)
			shutdown()
			hs.Close()
			if ctx.Err() != nil {
				db.Close()
				log.Info("switchboard stopped")
				return nil
			}
			return fmt.Errorf("bridges.%s: start: %w", b.Network(), err)
		}
		if err := b.RegisterMetrics(metrics.Registry); err != nil {
			bridgeLog.Warn("register bridge metrics", slog.String("network", b.Network()), slog.Any("error", err))
		}
	}

	names := make([]string, 0, len(planned))
	for _, p := range planned {
		names = append(names, p.network)
	}
	log.Info("switchboard ready",
		slog.String("version", version),
		slog.String("server_name", cfg.ServerName),
		slog.String("listen_client", ln.Addr().String()),
		slog.String("database", database.Redact(cfg.Database.URI)),
		slog.Any("bridges", names),
		slog.Duration("startup", time.Since(start)))

	select {
	case <-ctx.Done():
	case <-servers[0].done:
	case <-servers[len(servers)-1].done:
	}
	stopBridges(bridgeLog, bridges...)
	serveErr := shutdown()
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

// buildBridge makes an enabled network's bridge for serve, talking to the
// built-in homeserver at hsURL over the Application Service API.
func buildBridge(ctx context.Context, cfg *config.Config, p *plannedBridge, hsURL string, db *database.DB, log *slog.Logger) (*liveBridge, error) {
	connector, err := p.conn.build(p.section)
	if err != nil {
		return nil, fmt.Errorf("bridges.%s: %w", p.network, err)
	}
	mx, err := appservice.NewHTTP(appservice.HTTPOptions{
		Registration:  p.reg,
		HomeserverURL: hsURL,
		ServerName:    cfg.ServerName,
		Log:           log.With(slog.String("network", p.network)),
	})
	if err != nil {
		return nil, fmt.Errorf("bridges.%s: %w", p.network, err)
	}
	b, err := bridge.New(ctx, bridge.Options{
		Connector:    connector,
		Settings:     *p.section.Common(),
		Matrix:       mx,
		Registration: p.reg,
		DB:           db,
		Log:          log,
		Permissions:  cfg.Permissions(),
		MediaURL:     cmp.Or(cfg.PublicURL, hsURL),
	})
	if err != nil {
		return nil, fmt.Errorf("bridges.%s: %w", p.network, err)
	}
	return &liveBridge{Bridge: b}, nil
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
