package httpserver

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// HealthTimeout bounds each health check, so a hung database makes /health
// answer 503 promptly instead of hanging the prober.
const HealthTimeout = 2 * time.Second

// Check is one part of the process whose state /health reports.
type Check struct {
	// Name is the key of this check in the /health JSON, e.g. "database".
	Name string
	// Critical checks turn the whole answer into 503 when they fail.
	Critical bool
	// Probe reports the part's state. It returns details to include (may be
	// nil) and an error when the part is not usable. It must honour ctx.
	Probe func(ctx context.Context) (details map[string]any, err error)
}

// Health answers GET /health with a JSON object: "status" ("ok" or
// "unavailable") and one member per check holding its own "status" ("ok" or
// "error"), its details and, on failure, "error". A failing critical check
// makes the answer 503 so load balancers and orchestrators stop routing here.
func Health(checks ...Check) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := map[string]any{}
		healthy := true
		for _, c := range checks {
			ctx, cancel := context.WithTimeout(r.Context(), HealthTimeout)
			start := time.Now()
			details, err := c.Probe(ctx)
			cancel()
			part := map[string]any{}
			for k, v := range details {
				part[k] = v
			}
			part["latency_ms"] = float64(time.Since(start).Microseconds()) / 1000
			if err != nil {
				part["status"] = "error"
				part["error"] = err.Error()
				if c.Critical {
					healthy = false
				}
			} else {
				part["status"] = "ok"
			}
			body[c.Name] = part
		}
		status := http.StatusOK
		body["status"] = "ok"
		if !healthy {
			status = http.StatusServiceUnavailable
			body["status"] = "unavailable"
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	})
}
