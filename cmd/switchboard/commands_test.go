package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigExampleChecksClean(t *testing.T) {
	dir := t.TempDir()
	example, stderr, code := run(t, dir, nil, "config", "example")
	if code != 0 || !strings.Contains(example, "server_name:") || !strings.Contains(example, "#") {
		t.Fatalf("config example: code %d, stderr %q, out %q", code, stderr, example)
	}
	path := filepath.Join(dir, "edited.yaml")
	if err := os.WriteFile(path, []byte(example), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := run(t, dir, nil, "config", "check", "--config", path)
	if code != 0 || !strings.Contains(out, "config ok: "+path) || !strings.Contains(out, "server_name:       localhost") {
		t.Errorf("config check of the example: code %d\n%s%s", code, out, stderr)
	}
}

func TestConfigFileDiscovery(t *testing.T) {
	dir := t.TempDir()
	out, _, code := run(t, dir, nil, "config", "check")
	if code != 0 || !strings.Contains(out, "config ok: built-in defaults") {
		t.Errorf("without a file: code %d, %q", code, out)
	}
	if err := os.WriteFile(filepath.Join(dir, "switchboard.yaml"), []byte("server_name: example.org\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, code = run(t, dir, nil, "config", "check")
	if code != 0 || !strings.Contains(out, "server_name:       example.org") {
		t.Errorf("./switchboard.yaml not used: code %d, %q", code, out)
	}
	out, _, code = run(t, dir, []string{"SWITCHBOARD_SERVER_NAME=env.example"}, "config", "check")
	if code != 0 || !strings.Contains(out, "server_name:       env.example") {
		t.Errorf("environment did not override the file: code %d, %q", code, out)
	}
	out, _, code = run(t, dir, []string{"SWITCHBOARD_DATABASE_URI=postgres://sb:hunter2@db:5432/sb"}, "config", "check")
	if code != 0 || strings.Contains(out, "hunter2") || !strings.Contains(out, "postgres://sb:") {
		t.Errorf("config check must show the database without its password: code %d, %q", code, out)
	}
}

func TestMigrateCreatesBothSchemas(t *testing.T) {
	dir := t.TempDir()
	out, stderr, code := run(t, dir, nil, "migrate")
	if code != 0 || !strings.Contains(out, "migrated sqlite://") {
		t.Fatalf("migrate: code %d\n%s%s", code, out, stderr)
	}
	tables := sqliteTables(t, filepath.Join(dir, "data", "switchboard.db"))
	for _, want := range []string{"hs_version", "hs_server", "hs_accounts_version", "hs_rooms_version", "hs_events", "hs_media_version", "bridge_version", "bridge_server"} {
		if !tables[want] {
			t.Errorf("table %s missing after migrate; have %v", want, tables)
		}
	}
	// Running it again is a no-op.
	if _, stderr, code := run(t, dir, nil, "migrate"); code != 0 {
		t.Errorf("second migrate: code %d\n%s", code, stderr)
	}
}

func TestHelpAndVersion(t *testing.T) {
	dir := t.TempDir()
	out, _, code := run(t, dir, nil, "version")
	if code != 0 || !strings.HasPrefix(out, "switchboard ") {
		t.Errorf("version: %d %q", code, out)
	}
	for _, args := range [][]string{
		{"--help"}, {"serve", "--help"}, {"bridge", "--help"}, {"registration", "--help"},
		{"config", "--help"}, {"config", "example", "--help"}, {"config", "check", "--help"},
		{"migrate", "--help"}, {"version", "--help"},
	} {
		out, _, code := run(t, dir, nil, args...)
		if code != 0 || !strings.Contains(out, "Usage:") || !strings.Contains(out, "--config") {
			t.Errorf("%v: code %d, %q", args, code, out)
		}
	}
}
