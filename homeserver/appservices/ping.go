package appservices

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"maunium.net/go/mautrix"

	"switchboard/homeserver/mxhttp"
)

// Register adds POST /_matrix/client/v1/appservice/{appserviceId}/ping.
// auth wraps it with the homeserver's authentication (which understands
// as_tokens).
func (s *Service) Register(mux *http.ServeMux, auth func(http.HandlerFunc) http.Handler) {
	mux.Handle("POST /_matrix/client/v1/appservice/{appserviceId}/ping", mxhttp.CORS(auth(s.handlePing)))
}

func (s *Service) handlePing(w http.ResponseWriter, r *http.Request) {
	ident, _ := mxhttp.IdentityFrom(r.Context())
	asID := r.PathValue("appserviceId")
	if ident.AppserviceID == "" || ident.AppserviceID != asID {
		mxhttp.WriteError(w, r, s.log, mautrix.MForbidden.WithMessage("Only appservice %s may ping itself", asID))
		return
	}
	var body struct {
		TransactionID string `json:"transaction_id,omitempty"`
	}
	if err := mxhttp.ReadJSON(r, &body, 0); err != nil {
		mxhttp.WriteError(w, r, s.log, err)
		return
	}
	reg := s.set.ByID(asID)
	if reg == nil || reg.NoPush() {
		mxhttp.WriteError(w, r, s.log, mautrix.MURLNotSet.WithStatus(http.StatusBadRequest).WithMessage("Appservice %s has no URL", asID))
		return
	}
	payload, _ := json.Marshal(body)
	ctx, cancel := context.WithTimeout(r.Context(), queryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, joinURL(reg.URL, "/_matrix/app/v1/ping"), bytes.NewReader(payload))
	if err != nil {
		mxhttp.WriteError(w, r, s.log, err)
		return
	}
	req.Header.Set("Authorization", "Bearer "+reg.ServerToken)
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			mxhttp.WriteError(w, r, s.log, mautrix.MConnectionTimeout.WithStatus(http.StatusGatewayTimeout).WithMessage("The appservice did not answer in time"))
			return
		}
		mxhttp.WriteError(w, r, s.log, mautrix.MConnectionFailed.WithStatus(http.StatusBadGateway).WithMessage("Could not reach the appservice"))
		return
	}
	defer resp.Body.Close()
	duration := time.Since(start)
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		text, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		mxhttp.WriteError(w, r, s.log, mautrix.MBadStatus.WithStatus(http.StatusBadGateway).
			WithMessage("The appservice answered %d", resp.StatusCode).
			WithExtraData(map[string]any{"status": resp.StatusCode, "body": string(text)}))
		return
	}
	mxhttp.WriteJSON(w, http.StatusOK, map[string]any{"duration_ms": duration.Milliseconds()})
}
