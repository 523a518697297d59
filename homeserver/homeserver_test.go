package homeserver

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"switchboard/internal/database"
	"switchboard/internal/database/dbtest"
	"switchboard/internal/logging"
)

func TestNewMigratesAndBindsServerName(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		dir := t.TempDir()
		opts := Options{ServerName: "example.org", DataDir: dir, DB: db, Log: logging.Discard(), MaxUploadBytes: 1 << 20}
		first, err := New(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		again, err := New(ctx, opts)
		if err != nil {
			t.Fatalf("second start: %v", err)
		}
		if first.SigningKeyID() != again.SigningKeyID() || !strings.HasPrefix(first.SigningKeyID(), "ed25519:a_") {
			t.Errorf("signing key ids %q, %q", first.SigningKeyID(), again.SigningKeyID())
		}
		opts.ServerName = "other.org"
		if _, err := New(ctx, opts); err == nil || !strings.Contains(err.Error(), "cannot be renamed") {
			t.Errorf("renamed server: %v", err)
		}
		for _, table := range []string{"hs_version", "hs_server", "hs_accounts_version", "hs_rooms_version", "hs_events", "hs_media_version"} {
			if ok, err := db.TableExists(ctx, table); err != nil || !ok {
				t.Errorf("table %s: %v %v", table, ok, err)
			}
		}
	})
}

func TestSigningKeyFile(t *testing.T) {
	dir := t.TempDir()
	key, err := LoadOrCreateSigningKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, SigningKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := parseSigningKey(string(data))
	if err != nil {
		t.Fatal(err)
	}
	if parsed.ID != key.ID || !parsed.Key.Equal(key.Key) {
		t.Error("reparsed key differs")
	}
	msg := []byte("signed")
	if !ed25519.Verify(key.Key.Public().(ed25519.PublicKey), msg, ed25519.Sign(key.Key, msg)) {
		t.Error("key does not sign")
	}
	for _, bad := range []string{"", "ed25519 a_x", "rsa a_x AAAA", "ed25519 a_x notbase64!", "ed25519 a_x AAAA"} {
		if _, err := parseSigningKey(bad); err == nil {
			t.Errorf("parseSigningKey(%q) accepted", bad)
		}
	}
	// Synapse writes the same format; a padded seed is accepted too.
	if _, err := parseSigningKey("ed25519 a_abcd " + strings.Repeat("A", 43) + "=\n"); err != nil {
		t.Errorf("padded seed: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, SigningKeyFile), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateSigningKey(dir); err == nil || !strings.Contains(err.Error(), "remove it to generate a new key") {
		t.Errorf("corrupt key file: %v", err)
	}
}

func TestRoutes(t *testing.T) {
	mux := http.NewServeMux()
	(&Server{}).Register(mux)
	tests := []struct {
		method, path string
		code         int
		errcode      string
	}{
		{"GET", "/_matrix/client/versions", 200, ""},
		{"GET", "/_matrix/client/v3/login", 404, "M_UNRECOGNIZED"},
		{"POST", "/_matrix/client/v3/createRoom", 404, "M_UNRECOGNIZED"},
		{"OPTIONS", "/_matrix/client/v3/sync", 204, ""},
		{"POST", "/_matrix/client/versions", 405, "M_UNRECOGNIZED"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			if rec.Code != tc.code {
				t.Errorf("code %d, want %d", rec.Code, tc.code)
			}
			if rec.Header().Get("Access-Control-Allow-Origin") != "*" {
				t.Error("no CORS header")
			}
			if tc.code == 204 {
				return
			}
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("not JSON: %q", rec.Body)
			}
			if tc.errcode != "" && body["errcode"] != tc.errcode {
				t.Errorf("errcode %v, want %s", body["errcode"], tc.errcode)
			}
			if tc.errcode == "" {
				versions, _ := body["versions"].([]any)
				if len(versions) == 0 || versions[len(versions)-1] != "v1.12" {
					t.Errorf("versions %v", body["versions"])
				}
			}
		})
	}
}
