package homeserver

import (
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"time"

	gmsl "github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"
	"maunium.net/go/mautrix"

	"switchboard/homeserver/mxhttp"
)

// keyValidity is how long other servers may cache the published key.
const keyValidity = 7 * 24 * time.Hour

// handleServerKey serves GET /_matrix/key/v2/server: the server's current
// signing key, self-signed, so that other servers can check its events.
func (s *Server) handleServerKey(w http.ResponseWriter, r *http.Request) {
	body, err := s.serverKeyJSON(time.Now())
	if err != nil {
		mxhttp.WriteError(w, r, s.log, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

func (s *Server) serverKeyJSON(now time.Time) ([]byte, error) {
	fields := gmsl.ServerKeyFields{
		ServerName: spec.ServerName(s.serverName),
		VerifyKeys: map[gmsl.KeyID]gmsl.VerifyKey{
			gmsl.KeyID(s.signingKey.ID): {Key: spec.Base64Bytes(s.signingKey.Key.Public().(ed25519.PublicKey))},
		},
		OldVerifyKeys: map[gmsl.KeyID]gmsl.OldVerifyKey{},
		ValidUntilTS:  spec.AsTimestamp(now.Add(keyValidity)),
	}
	unsigned, err := json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	signed, err := gmsl.SignJSON(s.serverName, gmsl.KeyID(s.signingKey.ID), s.signingKey.Key, unsigned)
	if err != nil {
		return nil, mautrix.MUnknown.WithMessage("Could not sign the key")
	}
	return signed, nil
}
