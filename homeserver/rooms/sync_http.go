package rooms

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"

	"switchboard/homeserver/mxhttp"
)

// maxSyncTimeout bounds a long poll, whatever the client asks.
const maxSyncTimeout = 5 * time.Minute

// RegisterSync adds GET /sync to mux.
func (e *Engine) RegisterSync(mux *http.ServeMux) {
	mux.Handle("GET /_matrix/client/v3/sync", mxhttp.CORS(e.opts.Auth.RequireAuth(e.handleSync)))
}

func (e *Engine) handleSync(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req := SyncRequest{User: identity(r), Since: q.Get("since"), FullState: q.Get("full_state") == "true"}
	if t := q.Get("timeout"); t != "" {
		ms, err := strconv.ParseInt(t, 10, 64)
		if err != nil || ms < 0 {
			e.fail(w, r, mautrix.MInvalidParam.WithMessage("timeout must be a non-negative integer"))
			return
		}
		req.Timeout = min(time.Duration(ms)*time.Millisecond, maxSyncTimeout)
	}
	if f := q.Get("filter"); f != "" {
		raw := []byte(f)
		if !strings.HasPrefix(strings.TrimSpace(f), "{") {
			if e.accounts == nil {
				e.fail(w, r, mautrix.MNotFound.WithMessage("Unknown filter"))
				return
			}
			stored, err := e.accounts.Filter(r.Context(), req.User.UserID, f)
			if err != nil {
				e.fail(w, r, err)
				return
			}
			raw = stored
		}
		if err := mxhttp.DecodeJSON(raw, &req.Filter); err != nil {
			e.fail(w, r, err)
			return
		}
	}
	switch p := q.Get("set_presence"); p {
	case "", "online", "offline", "unavailable":
		if p == "" {
			p = "online"
		}
		e.presence.Set(req.User.UserID, event.Presence(p), nil)
	default:
		e.fail(w, r, mautrix.MInvalidParam.WithMessage("set_presence must be online, offline or unavailable"))
		return
	}
	resp, err := e.Sync(r.Context(), req)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	mxhttp.WriteJSON(w, http.StatusOK, resp)
}
