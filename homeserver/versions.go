package homeserver

import (
	"net/http"

	"switchboard/homeserver/mxhttp"
)

// specVersions are the Client-Server API versions advertised by
// GET /_matrix/client/versions. Clients and bridges refuse servers that claim
// only old versions, so the list runs to the version the client API is being
// built against.
var specVersions = []string{
	"v1.1", "v1.2", "v1.3", "v1.4", "v1.5", "v1.6",
	"v1.7", "v1.8", "v1.9", "v1.10", "v1.11", "v1.12",
}

func handleVersions(w http.ResponseWriter, r *http.Request) {
	mxhttp.WriteJSON(w, http.StatusOK, map[string]any{
		"versions":          specVersions,
		"unstable_features": map[string]bool{},
	})
}

// handleWellKnown serves /.well-known/matrix/client: clients given only the
// server name find the client API here. Without a configured public URL it
// points at the host the client used.
func (s *Server) handleWellKnown(w http.ResponseWriter, r *http.Request) {
	scheme := "https"
	if r.TLS == nil {
		scheme = "http"
	}
	mxhttp.WriteJSON(w, http.StatusOK, map[string]any{
		"m.homeserver": map[string]string{"base_url": scheme + "://" + r.Host},
	})
}
