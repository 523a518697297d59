package accounts

import (
	"fmt"
	"log/slog"
	"net/http"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"switchboard/homeserver/mxhttp"
)

// handleChangePassword changes the user's password after an
// m.login.password stage of User-Interactive Authentication. Unless the
// request says logout_devices: false, every other device is logged out;
// the one making the request stays logged in, as the spec recommends.
func (a *Accounts) handleChangePassword(w http.ResponseWriter, r *http.Request) {
	ident := identity(r)
	var req struct {
		NewPassword   string  `json:"new_password"`
		LogoutDevices *bool   `json:"logout_devices"`
		Auth          rawAuth `json:"auth"`
	}
	if err := mxhttp.ReadJSON(r, &req, 0); err != nil {
		a.fail(w, r, err)
		return
	}
	if req.NewPassword == "" {
		a.fail(w, r, errMissingParam.WithMessage("new_password: missing"))
		return
	}
	if err := validatePassword(req.NewPassword); err != nil {
		a.fail(w, r, errWeakPassword.WithMessage("%s", err))
		return
	}
	if !a.interactiveAuth(w, r, req.Auth, uiaPassword, ident.UserID, passwordFlows) {
		return
	}
	if err := a.setPassword(r, ident.UserID, req.NewPassword); err != nil {
		a.fail(w, r, err)
		return
	}
	if req.LogoutDevices == nil || *req.LogoutDevices {
		// An appservice acting for the user has no device (DeviceID ""):
		// then every device is logged out.
		if err := a.deleteAllDevices(r.Context(), ident.UserID, ident.DeviceID); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	a.log.InfoContext(r.Context(), "password changed", slog.String("user_id", ident.UserID.String()))
	ok(w)
}

func (a *Accounts) setPassword(r *http.Request, userID id.UserID, password string) error {
	hash, err := hashPassword(password)
	if err != nil {
		return err
	}
	res, err := a.db.Exec(r.Context(), setPasswordQuery, userID, hash)
	if err != nil {
		return fmt.Errorf("set password of %s: %w", userID, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return mautrix.MNotFound.WithMessage("No such account")
	}
	return nil
}
