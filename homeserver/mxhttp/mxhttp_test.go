package mxhttp

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"maunium.net/go/mautrix"
)

func TestReadJSONErrors(t *testing.T) {
	type body struct {
		Name  string `json:"name"`
		Count int    `json:"count"`
	}
	tests := []struct {
		name, in string
		limit    int64
		errcode  string
		status   int
	}{
		{"ok", `{"name":"a","count":2}`, 0, "", 0},
		{"empty is {}", ``, 0, "", 0},
		{"not json", `{"name":`, 0, "M_NOT_JSON", 400},
		{"array", `[1,2]`, 0, "M_NOT_JSON", 400},
		{"invalid utf-8", "{\"name\":\"\xff\"}", 0, "M_NOT_JSON", 400},
		{"wrong type", `{"count":"two"}`, 0, "M_BAD_JSON", 400},
		{"too large", `{"name":"` + strings.Repeat("a", 100) + `"}`, 50, "M_TOO_LARGE", 413},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", strings.NewReader(tc.in))
			var b body
			err := ReadJSON(r, &b, tc.limit)
			if tc.errcode == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			var resp mautrix.RespError
			if !errors.As(err, &resp) || resp.ErrCode != tc.errcode || resp.StatusCode != tc.status {
				t.Fatalf("err = %#v, want %s/%d", err, tc.errcode, tc.status)
			}
		})
	}
}

func TestWriteErrorHidesInternalErrors(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteError(rec, httptest.NewRequest("GET", "/", nil), nil, errors.New("pq: password=hunter2 failed"))
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "hunter2") {
		t.Errorf("internal error leaked: %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	WriteError(rec, httptest.NewRequest("GET", "/", nil), nil, mautrix.MForbidden.WithMessage("no").WithInternalError(errors.New("secret")))
	var m map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &m)
	if rec.Code != 403 || m["errcode"] != "M_FORBIDDEN" || strings.Contains(rec.Body.String(), "secret") {
		t.Errorf("RespError: %d %s", rec.Code, rec.Body)
	}
}

func TestAccessToken(t *testing.T) {
	r := httptest.NewRequest("GET", "/?access_token=q", nil)
	if got := AccessToken(r); got != "q" {
		t.Errorf("query token = %q", got)
	}
	r.Header.Set("Authorization", "Bearer h")
	if got := AccessToken(r); got != "h" {
		t.Errorf("header token = %q (header wins)", got)
	}
	r.Header.Set("Authorization", "Basic xyz")
	if got := AccessToken(r); got != "" {
		t.Errorf("non-bearer header = %q", got)
	}
}

func TestCORSPreflight(t *testing.T) {
	called := false
	h := CORS(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("OPTIONS", "/_matrix/client/v3/sync", nil))
	if rec.Code != 204 || called || rec.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("preflight: %d called=%v %v", rec.Code, called, rec.Header())
	}
}
