package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"switchboard/appservice"
	"switchboard/bridge"
	"switchboard/internal/config"
	"switchboard/internal/datadir"
	"switchboard/internal/httpserver"
)

// stopTimeout bounds how long a bridge's Stop waits for its connector.
const stopTimeout = 10 * time.Second

func newBridgeCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bridge --network NAME",
		Short: "Run one network's bridge as an appservice for an external homeserver",
		Long: `Run one network's bridge (its own appservice, bot and namespace) against an
external homeserver such as Synapse, Dendrite, conduwuit or another
"switchboard serve", which must load the file "switchboard registration
--network NAME" writes (run both with the same config: the tokens are kept
under data_dir and shared).

It needs homeserver.url and bridges.NAME.enabled: true. It receives the
homeserver's pushes on appservice.listen, which also serves /health, /metrics
and /_switchboard/status. SIGINT or SIGTERM stops the bridge, then the
listener, then closes the database; what was not delivered yet waits in the
database for the next start.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			network, _ := cmd.Flags().GetString("network")
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			conn, err := requireConnector(network)
			if err != nil {
				return err
			}
			return runBridge(cmd.Context(), cmd, cfg, network, conn)
		},
	}
	cmd.Flags().String("network", "", "network to bridge (see bridges.* in the config)")
	_ = cmd.MarkFlagRequired("network")
	return cmd
}

func newRegistrationCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "registration --network NAME [-o FILE]",
		Short: "Write the appservice registration file for one network",
		Long: `Write the appservice registration YAML for one network's bridge, for a
homeserver to load. Tokens are generated once and kept in
DATA_DIR/appservices/NAME.yaml, so running it again gives the same file, and
"switchboard bridge --network NAME" with the same config uses the same tokens.
The bridge claims @NAME_.* users, #NAME_.* aliases and its bot @NAMEbot,
exclusively; the homeserver pushes to appservice.url (or appservice.listen).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			network, _ := cmd.Flags().GetString("network")
			output, _ := cmd.Flags().GetString("output")
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			if _, err := requireConnector(network); err != nil {
				return err
			}
			if err := datadir.Prepare(cfg.DataDir); err != nil {
				return err
			}
			reg, err := loadRegistration(cfg, network, cfg.AppserviceURL())
			if err != nil {
				return err
			}
			if output != "" {
				if err := reg.Save(output); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: the registration of the %s bridge, for the homeserver to load\n", output, network)
				return nil
			}
			data, err := reg.YAML()
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(data)
			return err
		},
	}
	cmd.Flags().String("network", "", "network whose registration to write (see bridges.* in the config)")
	cmd.Flags().StringP("output", "o", "", "write to FILE (mode 0600) instead of standard output")
	_ = cmd.MarkFlagRequired("network")
	return cmd
}

// runBridge is `switchboard bridge`: one network's appservice against the
// homeserver at homeserver.url, until ctx ends.
func runBridge(ctx context.Context, cmd *cobra.Command, cfg *config.Config, network string, conn builtin) error {
	start := time.Now()
	if cfg.Homeserver.URL == "" {
		return errors.New("homeserver.url: missing; set it to the homeserver's client API, such as http://127.0.0.1:8008 (or SWITCHBOARD_HOMESERVER_URL)")
	}
	section, err := conn.section(cfg, network)
	if err != nil {
		return err
	}
	if !section.Common().Enabled {
		return fmt.Errorf("bridges.%s: not enabled; set bridges.%s.enabled: true to run this network's bridge", network, network)
	}
	log, db, err := openLogged(ctx, cfg, cmd)
	if err != nil {
		return err
	}
	defer db.Close()
	log = log.With(slog.String("component", "bridge"))

	reg, err := loadRegistration(cfg, network, cfg.AppserviceURL())
	if err != nil {
		return err
	}
	connector, err := conn.build(section)
	if err != nil {
		return fmt.Errorf("bridges.%s: %w", network, err)
	}
	mx, err := appservice.NewHTTP(appservice.HTTPOptions{
		Registration:  reg,
		HomeserverURL: cfg.Homeserver.URL,
		ServerName:    cfg.ServerName,
		Log:           log.With(slog.String("network", network)),
	})
	if err != nil {
		return err
	}
	nb, err := bridge.New(ctx, bridge.Options{
		Connector:    connector,
		Settings:     *section.Common(),
		Matrix:       mx,
		Registration: reg,
		DB:           db,
		Log:          log,
		Permissions:  cfg.Permissions(),
		MediaURL:     cmp.Or(cfg.PublicURL, cfg.Homeserver.URL),
	})
	if err != nil {
		return err
	}
	b := &liveBridge{Bridge: nb}

	ln, err := httpserver.Listen(cfg.Appservice.Listen, "appservice.listen", "SWITCHBOARD_APPSERVICE_LISTEN")
	if err != nil {
		return err
	}
	metrics := httpserver.NewMetrics()
	metrics.Registry.MustRegister(collectors.NewDBStatsCollector(db.RawDB, "switchboard"))
	mux := http.NewServeMux()
	mux.Handle("/", b.Receiver()) // /_matrix/app/v1/... and the legacy paths
	mux.Handle("GET /health", httpserver.Health(databaseCheck(db), bridgeCheck(b)))
	mux.Handle("GET /metrics", metrics.Handler())
	mux.Handle("GET /_switchboard/status", statusHandler(func(ctx context.Context) any { return b.status(ctx) }))

	// Serve before Start: the homeserver may push (and ping) while the
	// bridge starts; pushes that come too early are refused and retried.
	srv := startServer(ctx, ln, metrics.Instrument(mux), log)
	if err := b.start(ctx); err != nil {
		stopBridges(log, b)
		srv.shutdown()
		if ctx.Err() != nil {
			log.Info("switchboard stopped before the bridge started")
			return db.Close()
		}
		return fmt.Errorf("bridges.%s: start: %w", network, err)
	}
	if err := b.RegisterMetrics(metrics.Registry); err != nil {
		log.Warn("register bridge metrics", slog.Any("error", err))
	}
	log.Info("bridge ready",
		slog.String("version", version),
		slog.String("network", network),
		slog.String("listen", ln.Addr().String()),
		slog.String("homeserver_url", cfg.Homeserver.URL),
		slog.Duration("startup", time.Since(start)))

	select {
	case <-ctx.Done():
	case <-srv.done:
	}
	stopBridges(log, b)
	serveErr := srv.shutdown()
	if err := db.Close(); err != nil && serveErr == nil {
		serveErr = fmt.Errorf("close database: %w", err)
	}
	if serveErr != nil {
		return serveErr
	}
	log.Info("switchboard stopped")
	return nil
}
