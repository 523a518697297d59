package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync/atomic"

	"switchboard/bridge"
	"switchboard/internal/config"
	"switchboard/internal/httpserver"
	"switchboard/registration"
)

// registrationPath is where a network's registration is kept: generated
// once, with its tokens, and reused by `registration`, `bridge` and `serve`.
func registrationPath(cfg *config.Config, network string) string {
	return filepath.Join(cfg.DataDir, "appservices", network+".yaml")
}

// loadRegistration returns network's registration, pushing to url, from
// registrationPath: the tokens the file holds, or new ones on the first
// run. data_dir must have been prepared.
func loadRegistration(cfg *config.Config, network, url string) (*registration.Registration, error) {
	path := registrationPath(cfg, network)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("data_dir %s: cannot create %s (%v); choose a writable directory with data_dir or SWITCHBOARD_DATA_DIR", cfg.DataDir, filepath.Dir(path), unwrapPathError(err))
	}
	reg, _, err := registration.LoadOrGenerate(path, registration.GenerateOptions{
		ID:              network,
		URL:             url,
		ServerName:      cfg.ServerName,
		SenderLocalpart: network + "bot",
		Prefix:          network + "_",
		Protocols:       []string{network},
	})
	return reg, err
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// liveBridge is a bridge with what /health and the status endpoint may ask
// of it: its Status only once Start has returned (Status reads what Start
// sets up, unsynchronised), a placeholder before.
type liveBridge struct {
	*bridge.Bridge
	started atomic.Bool
}

// start starts the bridge and lets its Status be read.
func (b *liveBridge) start(ctx context.Context) error {
	if err := b.Start(ctx); err != nil {
		return err
	}
	b.started.Store(true)
	return nil
}

// status is the bridge's Status, or while it starts an empty one that is
// not healthy.
func (b *liveBridge) status(ctx context.Context) bridge.Status {
	if !b.started.Load() {
		return bridge.Status{Network: b.Network(), Connections: []bridge.ConnectionStatus{}}
	}
	return b.Status(ctx)
}

// bridgeCheck reports a bridge in /health: its Status as details, and an
// error (not critical: the homeserver and the other bridges still serve)
// while it starts or its network connection is down.
func bridgeCheck(b *liveBridge) httpserver.Check {
	return httpserver.Check{
		Name: "bridge_" + b.Network(),
		Probe: func(ctx context.Context) (map[string]any, error) {
			st := b.status(ctx)
			details, err := statusMap(st)
			if err != nil {
				return nil, err
			}
			switch {
			case !b.started.Load():
				return details, fmt.Errorf("%s bridge is starting", b.Network())
			case !st.Healthy:
				return details, fmt.Errorf("%s bridge is not connected to its network", b.Network())
			}
			return details, nil
		},
	}
}

// statusMap turns a Status into the JSON object /health shows.
func statusMap(st bridge.Status) (map[string]any, error) {
	data, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	err = json.Unmarshal(data, &m)
	return m, err
}

// statusHandler answers GET /_switchboard/status with the bridges' Status.
func statusHandler(status func(ctx context.Context) any) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(status(r.Context()))
	})
}

// loopbackURL is http://<addr> with an address that listens on every
// interface (0.0.0.0, ::) replaced by loopback, where this process reaches
// itself.
func loopbackURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip, err := netip.ParseAddr(host); err != nil || ip.IsUnspecified() {
		host = "127.0.0.1"
		if err == nil && ip.Is6() && !ip.Is4In6() {
			host = "::1"
		}
	}
	return "http://" + net.JoinHostPort(host, port)
}

// server is an HTTP server running in the background.
type server struct {
	cancel context.CancelFunc
	done   chan struct{} // closed when Serve has returned
	err    error         // Serve's result, once done
}

// startServer serves handler on ln until shutdown (or until serving fails,
// which closes done). It does not stop with ctx: the caller decides when,
// so that the bridges stop before the listeners close.
func startServer(ctx context.Context, ln net.Listener, handler http.Handler, log *slog.Logger) *server {
	serveCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &server{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		s.err = httpserver.Serve(serveCtx, ln, handler, log)
	}()
	return s
}

// shutdown stops the server gracefully and returns Serve's error.
func (s *server) shutdown() error {
	s.cancel()
	<-s.done
	return s.err
}

// stopBridges stops each bridge in turn (its connector, its lanes); what was
// not delivered stays queued in the database.
func stopBridges(log *slog.Logger, bridges ...*liveBridge) {
	for _, b := range bridges {
		ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
		b.Stop(ctx)
		cancel()
	}
	if len(bridges) > 0 {
		log.Debug("bridges stopped", slog.Int("count", len(bridges)))
	}
}
