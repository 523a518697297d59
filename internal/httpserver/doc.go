// Package httpserver is the shell around every HTTP listener Switchboard
// opens: listening with errors a user can act on, serving until the root
// context ends, graceful shutdown that lets in-flight requests finish, the
// /health endpoint and Prometheus /metrics with per-route request counters and
// latencies.
//
// It knows nothing of Matrix. It must not import any top-level Switchboard
// package.
package httpserver
