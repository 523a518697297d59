package accounts

import (
	"log/slog"
	"net/http"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"switchboard/homeserver/mxhttp"
	"switchboard/homeserver/ratelimit"
)

var (
	errMissingParam     = mautrix.RespError{ErrCode: "M_MISSING_PARAM", StatusCode: http.StatusBadRequest}
	errWeakPassword     = mautrix.RespError{ErrCode: "M_WEAK_PASSWORD", StatusCode: http.StatusBadRequest}
	errGuestForbidden   = mautrix.RespError{ErrCode: "M_GUEST_ACCESS_FORBIDDEN", StatusCode: http.StatusForbidden}
	errBadLogin         = mautrix.MForbidden.WithMessage("Invalid username or password")
	errUserDeactivated  = mautrix.MUserDeactivated.WithStatus(http.StatusForbidden).WithMessage("This account has been deactivated")
	errNoAppservices    = mautrix.MUnknownToken.WithMessage("Not an application service token")
	errNoAppserviceAuth = mautrix.MMissingToken.WithMessage("m.login.application_service needs the application service's token")
)

type loginRequest struct {
	Type                     string          `json:"type"`
	Identifier               *userIdentifier `json:"identifier"`
	User                     string          `json:"user"` // deprecated form of identifier
	Password                 string          `json:"password"`
	DeviceID                 string          `json:"device_id"`
	InitialDeviceDisplayName string          `json:"initial_device_display_name"`
	RefreshToken             bool            `json:"refresh_token"` // refresh tokens are not issued
}

func (a *Accounts) handleLoginFlows(w http.ResponseWriter, r *http.Request) {
	flows := []map[string]string{{"type": authTypePassword}}
	if a.appservicesOrNil() != nil {
		flows = append(flows, map[string]string{"type": authTypeAppservice})
	}
	mxhttp.WriteJSON(w, http.StatusOK, map[string]any{"flows": flows})
}

func (a *Accounts) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := mxhttp.ReadJSON(r, &req, 0); err != nil {
		a.fail(w, r, err)
		return
	}
	if err := checkNewDevice(req.DeviceID, req.InitialDeviceDisplayName); err != nil {
		a.fail(w, r, err)
		return
	}
	switch req.Type {
	case authTypePassword:
		a.loginWithPassword(w, r, req)
	case authTypeAppservice:
		a.loginAsAppservice(w, r, req)
	case "":
		a.fail(w, r, errMissingParam.WithMessage("type: missing; use %s", authTypePassword))
	default:
		a.fail(w, r, mautrix.MUnknown.WithStatus(http.StatusBadRequest).WithMessage("Bad login type %q; use %s", req.Type, authTypePassword))
	}
}

// loginWithPassword answers every failure, unknown users included, with
// the same 403 after the same bcrypt work, so /login cannot tell who has an
// account.
func (a *Accounts) loginWithPassword(w http.ResponseWriter, r *http.Request, req loginRequest) {
	if allowed, wait := a.loginLimit.AllowRequest(r); !allowed {
		a.fail(w, r, ratelimit.Exceeded(wait))
		return
	}
	name, ok := who(req.Identifier, req.User)
	var userID id.UserID
	if ok {
		userID, ok = a.loginUserID(name)
	}
	if !ok {
		checkPassword("", req.Password)
		a.fail(w, r, errBadLogin)
		return
	}
	match, deactivated, err := a.verifyPassword(r.Context(), userID, req.Password)
	switch {
	case err != nil:
		a.fail(w, r, err)
		return
	case !match:
		a.fail(w, r, errBadLogin)
		return
	case deactivated:
		a.fail(w, r, errUserDeactivated)
		return
	}
	a.finishLogin(w, r, userID, req)
}

// loginAsAppservice logs in a user of an appservice's namespace with the
// appservice's token instead of a password.
func (a *Accounts) loginAsAppservice(w http.ResponseWriter, r *http.Request, req loginRequest) {
	as := a.appservicesOrNil()
	if mxhttp.AccessToken(r) == "" {
		a.fail(w, r, errNoAppserviceAuth)
		return
	}
	if as == nil {
		a.fail(w, r, errNoAppservices)
		return
	}
	name, ok := who(req.Identifier, req.User)
	var userID id.UserID
	if ok {
		userID, ok = a.loginUserID(name)
	}
	if !ok {
		a.fail(w, r, errBadLogin)
		return
	}
	if _, err := as.AuthorizeUser(r, userID); err != nil {
		a.fail(w, r, err)
		return
	}
	exists, deactivated, err := a.userStatus(r.Context(), userID)
	switch {
	case err != nil:
		a.fail(w, r, err)
	case !exists:
		a.fail(w, r, errBadLogin)
	case deactivated:
		a.fail(w, r, errUserDeactivated)
	default:
		a.finishLogin(w, r, userID, req)
	}
}

func (a *Accounts) finishLogin(w http.ResponseWriter, r *http.Request, userID id.UserID, req loginRequest) {
	sess, err := a.startSession(r.Context(), userID, id.DeviceID(req.DeviceID), req.InitialDeviceDisplayName, clientIP(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.log.InfoContext(r.Context(), "logged in",
		slog.String("user_id", userID.String()), slog.String("device_id", sess.DeviceID.String()))
	mxhttp.WriteJSON(w, http.StatusOK, sess)
}

// handleLogout ends the request's session: its device and every token of
// that device.
func (a *Accounts) handleLogout(w http.ResponseWriter, r *http.Request) {
	ident := identity(r)
	if ident.DeviceID != "" {
		if err := a.deleteDevices(r.Context(), ident.UserID, []id.DeviceID{ident.DeviceID}); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	ok(w)
}

// handleLogoutAll ends every session of the user, this one included.
func (a *Accounts) handleLogoutAll(w http.ResponseWriter, r *http.Request) {
	ident := identity(r)
	if err := a.deleteAllDevices(r.Context(), ident.UserID, ""); err != nil {
		a.fail(w, r, err)
		return
	}
	a.log.InfoContext(r.Context(), "logged out everywhere", slog.String("user_id", ident.UserID.String()))
	ok(w)
}

func (a *Accounts) handleWhoami(w http.ResponseWriter, r *http.Request) {
	ident := identity(r)
	resp := struct {
		UserID   id.UserID   `json:"user_id"`
		DeviceID id.DeviceID `json:"device_id,omitempty"`
		IsGuest  bool        `json:"is_guest"`
	}{ident.UserID, ident.DeviceID, false}
	mxhttp.WriteJSON(w, http.StatusOK, resp)
}
