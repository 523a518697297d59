package accounts

import (
	"net/http"

	"switchboard/homeserver/mxhttp"
)

type boolCapability struct {
	Enabled bool `json:"enabled"`
}

type roomVersionsCapability struct {
	Default   string            `json:"default"`
	Available map[string]string `json:"available"`
}

// handleCapabilities tells clients what this server lets them change:
// passwords, display names and avatars yes; third-party ids no (there is no
// identity server support).
func (a *Accounts) handleCapabilities(w http.ResponseWriter, r *http.Request) {
	caps := map[string]any{
		"m.change_password": boolCapability{true},
		"m.set_displayname": boolCapability{true},
		"m.set_avatar_url":  boolCapability{true},
		"m.3pid_changes":    boolCapability{false},
		"m.get_login_token": boolCapability{false},
	}
	if a.roomVersions != nil {
		def, available := a.roomVersions()
		if available == nil {
			available = map[string]string{}
		}
		caps["m.room_versions"] = roomVersionsCapability{Default: def, Available: available}
	}
	mxhttp.WriteJSON(w, http.StatusOK, map[string]any{"capabilities": caps})
}
