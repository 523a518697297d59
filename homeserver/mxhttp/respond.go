package mxhttp

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"maunium.net/go/mautrix"
)

// WriteJSON writes body as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, body any) {
	data, err := json.Marshal(body)
	if err != nil {
		// Only a programming error gets here (a body that cannot be marshalled).
		status = http.StatusInternalServerError
		data = []byte(`{"errcode":"M_UNKNOWN","error":"Internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// WriteError answers with a Matrix error. A plain error that is not a
// mautrix.RespError becomes a 500 M_UNKNOWN whose text stays in the log: an
// internal message never reaches the client.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var resp mautrix.RespError
	if errors.As(err, &resp) {
		resp.InternalError = ""
		resp.Write(w)
		return
	}
	var respPtr *mautrix.RespError
	if errors.As(err, &respPtr) && respPtr != nil {
		e := *respPtr
		e.InternalError = ""
		e.Write(w)
		return
	}
	if log != nil {
		log.ErrorContext(r.Context(), "request failed",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("error", err))
	}
	mautrix.MUnknown.WithMessage("Internal server error").Write(w)
}

// Unrecognized answers endpoints the server does not offer, as the spec
// asks: 404 M_UNRECOGNIZED (and 204 to CORS pre-flight requests).
func Unrecognized(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	mautrix.MUnrecognized.WithMessage("Unrecognized request").Write(w)
}

// CORS adds the headers the spec requires on every client API response, so
// browser clients on other origins can reach the server, and answers
// pre-flight requests itself.
func CORS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "X-Requested-With, Content-Type, Authorization")
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
