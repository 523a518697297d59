package homeserver

import (
	"crypto/ed25519"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	gmsl "github.com/matrix-org/gomatrixserverlib"

	"switchboard/internal/logging"
)

func TestServerKeyIsSelfSigned(t *testing.T) {
	key, err := LoadOrCreateSigningKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{serverName: "example.org", signingKey: key, log: logging.Discard()}
	rec := httptest.NewRecorder()
	s.handleServerKey(rec, httptest.NewRequest("GET", "/_matrix/key/v2/server", nil))
	if rec.Code != 200 {
		t.Fatalf("code %d: %s", rec.Code, rec.Body)
	}
	var keys gmsl.ServerKeys
	if err := json.Unmarshal(rec.Body.Bytes(), &keys); err != nil {
		t.Fatal(err)
	}
	verify, ok := keys.VerifyKeys[gmsl.KeyID(key.ID)]
	if !ok || keys.ServerName != "example.org" {
		t.Fatalf("keys = %+v", keys.ServerKeyFields)
	}
	if keys.ValidUntilTS.Time().Before(time.Now().Add(24 * time.Hour)) {
		t.Errorf("valid_until_ts %v too soon", keys.ValidUntilTS.Time())
	}
	if err := gmsl.VerifyJSON("example.org", gmsl.KeyID(key.ID), ed25519.PublicKey(verify.Key), rec.Body.Bytes()); err != nil {
		t.Errorf("signature does not verify: %v", err)
	}
	if err := gmsl.VerifyJSON("other.org", gmsl.KeyID(key.ID), ed25519.PublicKey(verify.Key), rec.Body.Bytes()); err == nil {
		t.Error("signature verified for the wrong server name")
	}
}
