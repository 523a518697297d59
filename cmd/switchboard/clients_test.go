package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"switchboard/internal/database/dbtest"
)

// TestMatrixJSSDK runs the matrix-js-sdk suite in tests/clients against a
// real `switchboard serve`, on SQLite and on PostgreSQL.
func TestMatrixJSSDK(t *testing.T) {
	suite, err := filepath.Abs("../../tests/clients")
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(suite, "node_modules", "matrix-js-sdk"))
	}
	if err != nil {
		msg := "matrix-js-sdk suite needs Node.js 20+ and `npm ci` in tests/clients: " + err.Error()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			dir := t.TempDir()
			addr := freeAddr(t)
			env := []string{"SWITCHBOARD_LISTEN_CLIENT=" + addr, "SWITCHBOARD_REGISTRATION_ENABLED=true"}
			if dialect == "postgres" {
				env = append(env, "SWITCHBOARD_DATABASE_URI="+dbtest.PostgresURI(t))
			}
			if err := os.WriteFile(filepath.Join(dir, "switchboard.yaml"), []byte("rate_limits:\n  enabled: false\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			p := start(t, dir, env, "serve")
			waitReady(t, p, addr, 15*time.Second)

			cmd := exec.Command(node, "--test", "--test-force-exit", "--test-reporter=spec", suite+"/chat.test.js")
			cmd.Dir = suite
			cmd.Env = append(os.Environ(), "HS_URL=http://"+addr)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("matrix-js-sdk suite failed: %v\n%s\nserver log:\n%s", err, out, p.stderr)
			}
			t.Logf("matrix-js-sdk suite:\n%s", out)
		})
	}
}
