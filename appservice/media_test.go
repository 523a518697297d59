package appservice

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"maunium.net/go/mautrix/id"
)

func TestHTTPDownload(t *testing.T) {
	const mxc = id.ContentURIString("mxc://example.org/abc")
	const v1 = "/_matrix/client/v1/media/download/example.org/abc"
	const legacy = "/_matrix/media/v3/download/example.org/abc"
	serve := func(data string, chunked bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "image/png")
			if chunked {
				// Flushing before the body hides its length.
				w.WriteHeader(http.StatusOK)
				w.(http.Flusher).Flush()
			}
			_, _ = io.WriteString(w, data)
		}
	}
	tests := []struct {
		name      string
		v1        http.HandlerFunc // nil → not faked (404 M_UNRECOGNIZED)
		legacy    http.HandlerFunc
		max       int64
		want      string
		wantErr   error
		wantPaths []string
	}{
		{"authenticated", serve("png!", false), nil, 10, "png!", nil, []string{v1}},
		{"exactly the limit", serve("png!", false), nil, 4, "png!", nil, []string{v1}},
		{"fallback on M_UNRECOGNIZED", nil, serve("old", false), 10, "old", nil, []string{v1, legacy}},
		{"fallback on bare 404", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, serve("old", false), 10, "old", nil, []string{v1, legacy}},
		{"too large by length", serve("0123456789", false), nil, 5, "", ErrTooLarge, []string{v1}},
		{"too large chunked", serve("0123456789", true), nil, 5, "", ErrTooLarge, []string{v1}},
		{"too large on legacy", nil, serve("0123456789", true), 5, "", ErrTooLarge, []string{v1, legacy}},
		{"missing on legacy", nil, nil, 5, "", nil, []string{v1, legacy}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeHS(t)
			if tt.v1 != nil {
				f.handle("GET "+v1, tt.v1)
			}
			if tt.legacy != nil {
				f.handle("GET "+legacy, tt.legacy)
			}
			data, ct, err := f.matrix(t).Intent(testAlice).Download(context.Background(), mxc, tt.max)
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) || data != nil {
					t.Errorf("got %q, %v; want %v", data, err, tt.wantErr)
				}
			case tt.want == "":
				if err == nil {
					t.Errorf("got %q, want an error", data)
				}
			default:
				if err != nil || string(data) != tt.want || ct != "image/png" {
					t.Errorf("got %q %q %v, want %q", data, ct, err, tt.want)
				}
			}
			var paths []string
			for _, r := range f.requests(false) {
				paths = append(paths, r.Path)
				if r.User() != string(testAlice) {
					t.Errorf("%s as %q", r.Path, r.User())
				}
			}
			if strings.Join(paths, " ") != strings.Join(tt.wantPaths, " ") {
				t.Errorf("paths %v, want %v", paths, tt.wantPaths)
			}
		})
	}
	t.Run("invalid uri", func(t *testing.T) {
		f := newFakeHS(t)
		for _, uri := range []id.ContentURIString{"", "https://example.org/x", "mxc://example.org/../x", "mxc://example.org"} {
			if _, _, err := f.matrix(t).Bot().Download(context.Background(), uri, 10); err == nil {
				t.Errorf("%q: no error", uri)
			}
		}
		if reqs := f.requests(false); len(reqs) != 0 {
			t.Errorf("requests for invalid URIs:%s", describe(reqs))
		}
	})
}
