package datadir

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestPrepareCreatesPrivateDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "data")
	if err := Prepare(dir); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o700 {
		t.Errorf("mode = %o, want 700", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("Prepare left %d files behind", len(entries))
	}
}

func TestPrepareRefusesUnusableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plain-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := map[string]string{
		"empty":           "",
		"a file":          file,
		"under a file":    filepath.Join(file, "data"),
		"read-only mount": "/proc/switchboard-data",
	}
	for name, dir := range tests {
		t.Run(name, func(t *testing.T) {
			err := Prepare(dir)
			if err == nil {
				t.Fatalf("Prepare(%q) succeeded", dir)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "data_dir") || !strings.Contains(msg, "SWITCHBOARD_DATA_DIR") || strings.Contains(msg, "\n") {
				t.Errorf("error %q should be one line naming data_dir and the fix", msg)
			}
		})
	}
}

func TestSecretGeneratedOnceWithMode0600(t *testing.T) {
	dir := t.TempDir()
	calls := 0
	gen := func() ([]byte, error) { calls++; return []byte("s3cret"), nil }
	first, err := Secret(dir, "signing.key", gen)
	if err != nil {
		t.Fatal(err)
	}
	second, err := Secret(dir, "signing.key", func() ([]byte, error) { return []byte("other"), nil })
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) || calls != 1 {
		t.Errorf("secret regenerated: first %q second %q calls %d", first, second, calls)
	}
	info, err := os.Stat(filepath.Join(dir, "signing.key"))
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o600 {
		t.Errorf("mode = %o, want 600", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestSecretTightensLoosePermissions(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "token")
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Secret(dir, "token", nil); err != nil {
		t.Fatal(err)
	}
	info, _ := os.Stat(path)
	if got := info.Mode().Perm(); got != 0o600 {
		t.Errorf("mode = %o, want 600", got)
	}
}

func TestSecretConcurrentStartsAgree(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	results := make([][]byte, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := Secret(dir, "k", func() ([]byte, error) { return []byte{byte('a' + i)}, nil })
			if err != nil {
				t.Error(err)
			}
			results[i] = v
		}()
	}
	wg.Wait()
	for i, r := range results {
		if !bytes.Equal(r, results[0]) {
			t.Errorf("start %d got %q, start 0 got %q", i, r, results[0])
		}
	}
}

func TestSecretGenerateErrorWritesNothing(t *testing.T) {
	dir := t.TempDir()
	boom := errors.New("no entropy")
	if _, err := Secret(dir, "k", func() ([]byte, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files left after a failed generate: %v", entries)
	}
}
