package accounts

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"strings"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"switchboard/homeserver/mxhttp"
	"switchboard/homeserver/ratelimit"
)

type registerRequest struct {
	Auth                     rawAuth `json:"auth"`
	Username                 string  `json:"username"`
	Password                 string  `json:"password"`
	DeviceID                 string  `json:"device_id"`
	InitialDeviceDisplayName string  `json:"initial_device_display_name"`
	InhibitLogin             bool    `json:"inhibit_login"`
	RefreshToken             bool    `json:"refresh_token"` // refresh tokens are not issued
	// Type is m.login.application_service when an appservice registers a
	// user of its namespace.
	Type string `json:"type"`
}

// handleRegister creates an account. Ordinary registration (when enabled)
// takes one m.login.dummy stage of User-Interactive Authentication;
// appservices register their users with their token instead, whether or
// not registration is enabled. Every ordinary request, the UIA rounds
// included, costs a token of the register rate limit.
func (a *Accounts) handleRegister(w http.ResponseWriter, r *http.Request) {
	switch kind := r.URL.Query().Get("kind"); kind {
	case "", "user":
	case "guest":
		a.fail(w, r, errGuestForbidden.WithMessage("Guest accounts are not available on this server"))
		return
	default:
		a.fail(w, r, mautrix.MInvalidParam.WithMessage("kind: %q is neither user nor guest", kind))
		return
	}
	var req registerRequest
	if err := mxhttp.ReadJSON(r, &req, 0); err != nil {
		a.fail(w, r, err)
		return
	}
	if err := checkNewDevice(req.DeviceID, req.InitialDeviceDisplayName); err != nil {
		a.fail(w, r, err)
		return
	}
	if req.Type == authTypeAppservice {
		a.registerForAppservice(w, r, req)
		return
	}
	if allowed, wait := a.registerLimit.AllowRequest(r); !allowed {
		a.fail(w, r, ratelimit.Exceeded(wait))
		return
	}
	if !a.registrationEnabled {
		a.fail(w, r, mautrix.MForbidden.WithMessage("Registration is disabled on this server"))
		return
	}
	if req.Type != "" {
		a.fail(w, r, mautrix.MInvalidParam.WithMessage("type: %q is not a registration type; leave it out", req.Type))
		return
	}

	// The spec asks for these checks before User-Interactive Authentication,
	// so the client learns of a taken name before the user does any work.
	localpart := strings.ToLower(req.Username)
	if localpart != "" {
		if err := a.checkAvailable(r.Context(), localpart); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	if req.Password == "" {
		a.fail(w, r, errMissingParam.WithMessage("password: missing; choose one of at least %d characters", MinPasswordLength))
		return
	}
	if err := validatePassword(req.Password); err != nil {
		a.fail(w, r, errWeakPassword.WithMessage("%s", err))
		return
	}
	if !a.interactiveAuth(w, r, req.Auth, uiaRegister, "", dummyFlows) {
		return
	}

	u := newUser{localpart: localpart, password: req.Password}
	var userID id.UserID
	var err error
	if localpart != "" {
		userID, err = a.createUser(r.Context(), u)
	} else {
		userID, err = a.createGeneratedUser(r.Context(), u)
	}
	if errors.Is(err, ErrUserInUse) {
		a.fail(w, r, mautrix.MUserInUse.WithMessage("That user id is already taken"))
		return
	} else if err != nil {
		a.fail(w, r, err)
		return
	}
	a.finishRegistration(w, r, userID, req)
}

// registerForAppservice creates a user in an appservice's namespace. The
// appservice authorises it with its token; no password is set.
func (a *Accounts) registerForAppservice(w http.ResponseWriter, r *http.Request, req registerRequest) {
	if mxhttp.AccessToken(r) == "" {
		a.fail(w, r, errNoAppserviceAuth)
		return
	}
	as := a.appservicesOrNil()
	if as == nil {
		a.fail(w, r, errNoAppservices)
		return
	}
	if req.Username == "" {
		a.fail(w, r, errMissingParam.WithMessage("username: missing; an appservice names the users it registers"))
		return
	}
	if err := a.validateLocalpart(req.Username); err != nil {
		a.fail(w, r, mautrix.MInvalidUsername.WithMessage("%s", err))
		return
	}
	userID := id.NewUserID(req.Username, a.serverName)
	appserviceID, err := as.AuthorizeUser(r, userID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	_, err = a.createUser(r.Context(), newUser{localpart: req.Username, appserviceID: appserviceID})
	if errors.Is(err, ErrUserInUse) {
		a.fail(w, r, mautrix.MUserInUse.WithMessage("That user id is already taken"))
		return
	} else if err != nil {
		a.fail(w, r, err)
		return
	}
	a.finishRegistration(w, r, userID, req)
}

func (a *Accounts) finishRegistration(w http.ResponseWriter, r *http.Request, userID id.UserID, req registerRequest) {
	if req.InhibitLogin {
		mxhttp.WriteJSON(w, http.StatusOK, map[string]any{"user_id": userID})
		return
	}
	sess, err := a.startSession(r.Context(), userID, id.DeviceID(req.DeviceID), req.InitialDeviceDisplayName, clientIP(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	mxhttp.WriteJSON(w, http.StatusOK, sess)
}

// checkAvailable answers whether localpart could be registered now, as the
// error the client should see: M_INVALID_USERNAME, M_EXCLUSIVE or
// M_USER_IN_USE.
func (a *Accounts) checkAvailable(ctx context.Context, localpart string) error {
	if err := a.validateLocalpart(localpart); err != nil {
		return mautrix.MInvalidUsername.WithMessage("%s", err)
	}
	userID := id.NewUserID(localpart, a.serverName)
	if as := a.appservicesOrNil(); as != nil && as.Exclusive(userID) {
		return mautrix.MExclusive.WithMessage("That user id is reserved for an application service")
	}
	exists, err := a.UserExists(ctx, userID)
	if err != nil {
		return err
	}
	if exists {
		return mautrix.MUserInUse.WithMessage("That user id is already taken")
	}
	return nil
}

// createGeneratedUser creates a user whose localpart the server picks.
func (a *Accounts) createGeneratedUser(ctx context.Context, u newUser) (id.UserID, error) {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	var err error
	for range 5 {
		b := make([]byte, 10)
		_, _ = rand.Read(b)
		for i := range b {
			b[i] = alphabet[int(b[i])%len(alphabet)]
		}
		u.localpart = "u" + string(b)
		if as := a.appservicesOrNil(); as != nil && as.Exclusive(id.NewUserID(u.localpart, a.serverName)) {
			continue
		}
		var userID id.UserID
		userID, err = a.createUser(ctx, u)
		if !errors.Is(err, ErrUserInUse) {
			return userID, err
		}
	}
	if err == nil {
		err = ErrUserInUse
	}
	return "", err
}

func (a *Accounts) handleRegisterAvailable(w http.ResponseWriter, r *http.Request) {
	if allowed, wait := a.availableLimit.AllowRequest(r); !allowed {
		a.fail(w, r, ratelimit.Exceeded(wait))
		return
	}
	if !a.registrationEnabled {
		// Nobody can register, and the answer must not list who exists.
		a.fail(w, r, mautrix.MForbidden.WithMessage("Registration is disabled on this server"))
		return
	}
	username := r.URL.Query().Get("username")
	if username == "" {
		a.fail(w, r, errMissingParam.WithMessage("username: missing"))
		return
	}
	if err := a.checkAvailable(r.Context(), strings.ToLower(username)); err != nil {
		a.fail(w, r, err)
		return
	}
	mxhttp.WriteJSON(w, http.StatusOK, map[string]bool{"available": true})
}
