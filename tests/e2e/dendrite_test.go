package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"switchboard/internal/database"
	"switchboard/internal/database/dbtest"
	"switchboard/registration"
)

// The same scenarios run against Dendrite 0.15.2, an external homeserver
// that loads the bridges' registration files, to show the bridges need
// nothing of the built-in homeserver beyond the Application Service API.
// `make interop` builds Dendrite into a temporary directory and runs them
// with SWITCHBOARD_INTEROP=1 and DENDRITE_BIN set to that directory; plain
// `make test` runs the built-in homeserver only.

const (
	hsBuiltin  = "builtin"
	hsDendrite = "dendrite"
)

// interop reports whether the Dendrite runs are wanted, and the directory
// holding its binaries. Wanted without binaries is a failure, not a skip.
func interop(t testing.TB) (string, bool) {
	if os.Getenv("SWITCHBOARD_INTEROP") == "" {
		return "", false
	}
	dir := os.Getenv("DENDRITE_BIN")
	if dir == "" {
		t.Fatal("SWITCHBOARD_INTEROP is set but DENDRITE_BIN is not: run `make interop`, which builds Dendrite")
	}
	if _, err := os.Stat(filepath.Join(dir, "dendrite")); err != nil {
		t.Fatalf("DENDRITE_BIN=%s has no dendrite binary: %v", dir, err)
	}
	return dir, true
}

// forEachSetup runs fn with the built-in homeserver on SQLite and
// PostgreSQL, and, under `make interop`, with Dendrite (the bridge's own
// tables on both databases).
func forEachSetup(t *testing.T, fn func(t *testing.T, db *database.DB, hs string)) {
	t.Run(hsBuiltin, func(t *testing.T) {
		dbtest.ForEach(t, func(t *testing.T, db *database.DB) { fn(t, db, hsBuiltin) })
	})
	t.Run(hsDendrite, func(t *testing.T) {
		if _, ok := interop(t); !ok {
			t.Skip("Dendrite runs with `make interop`")
		}
		dbtest.ForEach(t, func(t *testing.T, db *database.DB) { fn(t, db, hsDendrite) })
	})
}

// startDendrite runs Dendrite with the registrations on a free port and
// returns its client API URL once it answers.
func startDendrite(t testing.TB, regs []*registration.Registration) string {
	t.Helper()
	bin, _ := interop(t)
	dir := t.TempDir()
	var files []string
	for _, r := range regs {
		f := filepath.Join(dir, r.ID+".yaml")
		if err := r.Save(f); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	run := func(name string, args ...string) []byte {
		cmd := exec.Command(filepath.Join(bin, name), args...)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return out
	}
	run("generate-keys", "--private-key", "matrix_key.pem")
	cfg := run("generate-config", "-dir", dir, "-server", serverName)
	var doc map[string]any
	if err := yaml.Unmarshal(cfg, &doc); err != nil {
		t.Fatal(err)
	}
	section := func(name string) map[string]any { return doc[name].(map[string]any) }
	section("app_service_api")["config_files"] = files
	section("client_api")["registration_disabled"] = false
	section("client_api")["rate_limiting"].(map[string]any)["enabled"] = false
	doc["logging"] = []any{map[string]any{"type": "std", "level": "warn"}}
	section("global")["trusted_third_party_id_servers"] = []any{}
	data, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "dendrite.yaml"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	cmd := exec.Command(filepath.Join(bin, "dendrite"), "--config", "dendrite.yaml",
		"--really-enable-open-registration", "--http-bind-address", "127.0.0.1:"+strconv.Itoa(port))
	cmd.Dir = dir
	logFile, err := os.Create(filepath.Join(dir, "dendrite.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logFile.Close()
		if t.Failed() {
			if log, err := os.ReadFile(logFile.Name()); err == nil {
				t.Logf("dendrite log:\n%s", log)
			}
		}
	})
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/_matrix/client/versions", nil)
		resp, err := http.DefaultClient.Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("dendrite did not answer on %s within 60s: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
