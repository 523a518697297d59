package httpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"time"
)

// ShutdownTimeout bounds how long a graceful shutdown waits for in-flight
// requests (long-polling /sync included) before closing their connections.
const ShutdownTimeout = 10 * time.Second

// Listen opens a TCP listener on addr. key and env name the config setting
// the address came from, so the error tells the user what to change:
//
//	listen.client 127.0.0.1:8008: address already in use; stop the other process or choose another address with listen.client (SWITCHBOARD_LISTEN_CLIENT)
func Listen(addr, key, env string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		return ln, nil
	}
	fix := "choose another address with " + key
	if env != "" {
		fix += " (" + env + ")"
	}
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return nil, fmt.Errorf("%s %s: address already in use; stop the other process or %s", key, addr, fix)
	case errors.Is(err, syscall.EACCES):
		return nil, fmt.Errorf("%s %s: permission denied (ports below 1024 need privileges); %s", key, addr, fix)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return nil, fmt.Errorf("%s %s: no such address on this machine; %s", key, addr, fix)
	default:
		return nil, fmt.Errorf("%s %s: %v; %s", key, addr, err, fix)
	}
}

// Serve answers requests on ln with handler until ctx is cancelled, then shuts
// down gracefully: the listener closes at once, idle connections are closed,
// and in-flight requests get up to ShutdownTimeout to finish. It returns nil
// after a clean shutdown and an error when serving failed or the deadline
// forced connections closed.
func Serve(ctx context.Context, ln net.Listener, handler http.Handler, log *slog.Logger) error {
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	log.Info("http server shutting down", slog.String("addr", ln.Addr().String()))
	shutdownCtx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	<-served // Serve returns ErrServerClosed as soon as Shutdown starts.
	if err != nil {
		srv.Close()
		return fmt.Errorf("shutdown %s: %w", ln.Addr(), err)
	}
	return nil
}
