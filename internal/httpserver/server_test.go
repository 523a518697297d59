package httpserver

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestListenPortInUseNamesKeyAndFix(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	_, err = Listen(taken.Addr().String(), "listen.client", "SWITCHBOARD_LISTEN_CLIENT")
	if err == nil {
		t.Fatal("Listen on a taken port succeeded")
	}
	msg := err.Error()
	for _, want := range []string{"listen.client", taken.Addr().String(), "already in use", "SWITCHBOARD_LISTEN_CLIENT"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
}

func TestServeShutsDownGracefully(t *testing.T) {
	ln, err := Listen("127.0.0.1:0", "listen.client", "")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	entered := make(chan struct{})
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "finished")
	})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, mux, quiet()) }()

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	got := make(chan string, 1)
	go func() {
		resp, err := client.Get("http://" + addr + "/slow")
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- string(b)
	}()
	<-entered
	cancel() // shutdown starts while /slow is in flight

	// New connections are refused once shutdown has begun.
	deadline := time.Now().Add(2 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("listener still accepting after shutdown began")
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case err := <-served:
		t.Fatalf("Serve returned (%v) before the in-flight request finished", err)
	default:
	}
	close(release)
	if body := <-got; body != "finished" {
		t.Errorf("in-flight request got %q, want it to finish", body)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve after clean shutdown: %v", err)
	}
}

func TestServeReturnsListenerFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	err = Serve(context.Background(), ln, http.NewServeMux(), quiet())
	if err == nil || errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve on a closed listener: %v", err)
	}
}

func TestHealthReportsChecks(t *testing.T) {
	ok := Check{Name: "database", Critical: true, Probe: func(context.Context) (map[string]any, error) {
		return map[string]any{"kind": "sqlite"}, nil
	}}
	down := Check{Name: "database", Critical: true, Probe: func(context.Context) (map[string]any, error) {
		return map[string]any{"kind": "postgres"}, errors.New("connection refused")
	}}
	optional := Check{Name: "cache", Probe: func(context.Context) (map[string]any, error) {
		return nil, errors.New("cold")
	}}
	tests := []struct {
		name       string
		checks     []Check
		wantCode   int
		wantStatus string
		wantDB     string
	}{
		{"healthy", []Check{ok}, 200, "ok", "ok"},
		{"database down", []Check{down}, 503, "unavailable", "error"},
		{"non-critical failure", []Check{ok, optional}, 200, "ok", "ok"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder()
			Health(tc.checks...).ServeHTTP(rec, mustRequest(t, "GET", "/health"))
			if rec.code != tc.wantCode {
				t.Errorf("code = %d, want %d", rec.code, tc.wantCode)
			}
			var body map[string]any
			if err := json.Unmarshal(rec.body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", rec.body.String(), err)
			}
			if body["status"] != tc.wantStatus {
				t.Errorf("status = %v, want %s", body["status"], tc.wantStatus)
			}
			db, _ := body["database"].(map[string]any)
			if db["status"] != tc.wantDB {
				t.Errorf("database.status = %v, want %s (%v)", db["status"], tc.wantDB, body)
			}
			if _, ok := db["kind"]; !ok {
				t.Errorf("database details missing: %v", db)
			}
		})
	}
}

func TestHealthTimesOutHungCheck(t *testing.T) {
	hung := Check{Name: "database", Critical: true, Probe: func(ctx context.Context) (map[string]any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	rec := newRecorder()
	start := time.Now()
	Health(hung).ServeHTTP(rec, mustRequest(t, "GET", "/health"))
	if rec.code != 503 {
		t.Errorf("code = %d, want 503", rec.code)
	}
	if d := time.Since(start); d > HealthTimeout+time.Second {
		t.Errorf("hung check held /health for %v", d)
	}
}
