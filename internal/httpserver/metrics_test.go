package httpserver

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type recorder struct {
	header http.Header
	body   bytes.Buffer
	code   int
}

func newRecorder() *recorder { return &recorder{header: http.Header{}, code: 200} }

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(code int)        { r.code = code }

func mustRequest(t *testing.T, method, target string) *http.Request {
	t.Helper()
	return httptest.NewRequest(method, target, nil)
}

func TestInstrumentLabelsByPattern(t *testing.T) {
	m := NewMetrics()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /rooms/{roomID}", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /teapot", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(418) })
	h := m.Instrument(mux)
	for _, target := range []string{"/rooms/!a:x", "/rooms/!b:x", "/teapot", "/nowhere"} {
		h.ServeHTTP(newRecorder(), mustRequest(t, "GET", target))
	}
	h.ServeHTTP(newRecorder(), mustRequest(t, "BREW", "/teapot"))

	rec := newRecorder()
	m.Handler().ServeHTTP(rec, mustRequest(t, "GET", "/metrics"))
	out := rec.body.String()
	for _, want := range []string{
		`switchboard_http_requests_total{code="200",handler="GET /rooms/{roomID}",method="GET"} 2`,
		`switchboard_http_requests_total{code="418",handler="GET /teapot",method="GET"} 1`,
		`switchboard_http_requests_total{code="404",handler="unmatched",method="GET"} 1`,
		`method="other"`,
		`switchboard_http_request_duration_seconds_bucket{handler="GET /rooms/{roomID}",method="GET",le="0.0005"}`,
		"go_goroutines",
		"process_resident_memory_bytes",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(out, "!a:x") {
		t.Error("a path value leaked into a label")
	}
}
