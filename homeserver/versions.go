package homeserver

import (
	"encoding/json"
	"net/http"

	"maunium.net/go/mautrix"
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
	writeJSON(w, http.StatusOK, map[string]any{
		"versions":          specVersions,
		"unstable_features": map[string]bool{},
	})
}

func handleUnrecognized(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	mautrix.MUnrecognized.WithMessage("Unrecognized request").Write(w)
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// cors adds the headers the spec requires on every client API response, so
// browser clients on other origins can reach the server.
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "X-Requested-With, Content-Type, Authorization")
		next.ServeHTTP(w, r)
	})
}
