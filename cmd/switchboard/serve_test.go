package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeWithDefaults is `make run` on a fresh clone: no config file, the
// embedded defaults, SQLite under ./data. Only the port is moved off 8008 so
// the test can run beside a developer's server.
func TestServeWithDefaults(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			addr := freeAddr(t)
			p := start(t, dir, []string{"SWITCHBOARD_LISTEN_CLIENT=" + addr}, "serve")
			ready := waitReady(t, p, addr, 10*time.Second)
			t.Logf("ready in %v", ready)

			code, versions := getJSON(t, "http://"+addr+"/_matrix/client/versions")
			list, _ := versions["versions"].([]any)
			if code != 200 || len(list) == 0 {
				t.Errorf("versions: %d %v", code, versions)
			}
			code, health := getJSON(t, "http://"+addr+"/health")
			db, _ := health["database"].(map[string]any)
			if code != 200 || health["status"] != "ok" || db["status"] != "ok" || db["kind"] != "sqlite" {
				t.Errorf("health: %d %v", code, health)
			}
			code, unknown := getJSON(t, "http://"+addr+"/_matrix/client/v3/nothing-here")
			if code != 404 || unknown["errcode"] != "M_UNRECOGNIZED" {
				t.Errorf("unknown endpoint: %d %v", code, unknown)
			}
			resp, err := http.Get("http://" + addr + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			metrics, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			for _, want := range []string{
				`switchboard_http_requests_total{code="200",handler="GET /_matrix/client/versions",method="GET"} 1`,
				`switchboard_http_requests_total{code="404",handler="/_matrix/",method="GET"} 1`,
				"go_goroutines",
				"go_sql_open_connections",
			} {
				if !strings.Contains(string(metrics), want) {
					t.Errorf("metrics lack %s", want)
				}
			}

			for _, name := range []string{"data/switchboard.db", "data/signing.key"} {
				info, err := os.Stat(filepath.Join(dir, name))
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				if name == "data/signing.key" && info.Mode().Perm() != 0o600 {
					t.Errorf("%s mode %o, want 600", name, info.Mode().Perm())
				}
			}

			p.stop(t, sig)
			logs := p.stderr.String()
			if !strings.Contains(logs, "switchboard stopped") {
				t.Errorf("no clean stop logged:\n%s", logs)
			}
			if _, err := http.Get("http://" + addr + "/health"); err == nil {
				t.Error("still answering after shutdown")
			}
		})
	}
}

// TestServeRestartKeepsSecrets: the second start reuses the data dir, its
// database and its signing key.
func TestServeRestartKeepsSecrets(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	env := []string{"SWITCHBOARD_LISTEN_CLIENT=" + addr}
	keyPath := filepath.Join(dir, "data", "signing.key")

	p := start(t, dir, env, "serve")
	waitReady(t, p, addr, 10*time.Second)
	first, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	p.stop(t, syscall.SIGTERM)

	p = start(t, dir, env, "serve")
	waitReady(t, p, addr, 10*time.Second)
	second, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	p.stop(t, syscall.SIGTERM)
	if string(first) != string(second) || !strings.HasPrefix(string(first), "ed25519 a_") {
		t.Errorf("signing key changed or malformed across restart:\n%q\n%q", first, second)
	}
}

// TestServeRefusesRenamedServer: a database remembers its server_name.
func TestServeRefusesRenamedServer(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	p := start(t, dir, []string{"SWITCHBOARD_LISTEN_CLIENT=" + addr}, "serve")
	waitReady(t, p, addr, 10*time.Second)
	p.stop(t, syscall.SIGTERM)

	_, stderr, code := run(t, dir, []string{"SWITCHBOARD_LISTEN_CLIENT=" + addr, "SWITCHBOARD_SERVER_NAME=example.org"}, "serve")
	assertUserError(t, code, stderr, `"localhost", not "example.org"`)
}
