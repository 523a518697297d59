package accounts

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"switchboard/homeserver/mxhttp"
)

const (
	// maxDisplayNameLength bounds display names, in characters; room
	// membership events carry them.
	maxDisplayNameLength = 256
	// maxAvatarURLBytes bounds avatar URLs.
	maxAvatarURLBytes = 1000
)

const (
	getProfileQuery     = `SELECT displayname, avatar_url FROM hs_profiles WHERE user_id = $1`
	setDisplayNameQuery = `UPDATE hs_profiles SET displayname = $2 WHERE user_id = $1`
	setAvatarURLQuery   = `UPDATE hs_profiles SET avatar_url = $2 WHERE user_id = $1`
)

// profileField is a profile key the API can read and write one at a time.
type profileField string

const (
	fieldDisplayName profileField = "displayname"
	fieldAvatarURL   profileField = "avatar_url"
)

var errNoSuchUser = mautrix.MNotFound.WithMessage("No such user on this server")

// Profile returns a local user's display name and avatar URL ("" when not
// set), or ErrUnknownUser (wrapped).
func (a *Accounts) Profile(ctx context.Context, userID id.UserID) (displayName, avatarURL string, err error) {
	displayName, avatarURL, err = a.storedProfile(ctx, userID)
	if errors.Is(err, ErrUnknownUser) {
		// A user an appservice has not created yet: ask it, as the
		// Application Service API says, and look again if it says yes.
		if as := a.appservicesOrNil(); as != nil {
			if exists, qerr := as.QueryUser(ctx, userID); qerr == nil && exists {
				return a.storedProfile(ctx, userID)
			}
		}
	}
	return displayName, avatarURL, err
}

// storedProfile reads a local user's profile.
func (a *Accounts) storedProfile(ctx context.Context, userID id.UserID) (displayName, avatarURL string, err error) {
	if !a.isLocal(userID) {
		return "", "", fmt.Errorf("profile of %s: %w", userID, ErrUnknownUser)
	}
	err = a.db.QueryRow(ctx, getProfileQuery, userID).Scan(&displayName, &avatarURL)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", fmt.Errorf("profile of %s: %w", userID, ErrUnknownUser)
	} else if err != nil {
		return "", "", fmt.Errorf("profile of %s: %w", userID, err)
	}
	return displayName, avatarURL, nil
}

func (a *Accounts) handleGetProfile(w http.ResponseWriter, r *http.Request) {
	displayName, avatarURL, err := a.Profile(r.Context(), id.UserID(r.PathValue("userId")))
	if errors.Is(err, ErrUnknownUser) {
		a.fail(w, r, errNoSuchUser)
		return
	} else if err != nil {
		a.fail(w, r, err)
		return
	}
	resp := map[string]string{}
	if displayName != "" {
		resp[string(fieldDisplayName)] = displayName
	}
	if avatarURL != "" {
		resp[string(fieldAvatarURL)] = avatarURL
	}
	mxhttp.WriteJSON(w, http.StatusOK, resp)
}

func (a *Accounts) handleGetProfileField(field profileField) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		displayName, avatarURL, err := a.Profile(r.Context(), id.UserID(r.PathValue("userId")))
		if errors.Is(err, ErrUnknownUser) {
			a.fail(w, r, errNoSuchUser)
			return
		} else if err != nil {
			a.fail(w, r, err)
			return
		}
		value := displayName
		if field == fieldAvatarURL {
			value = avatarURL
		}
		if value == "" {
			// The spec answers 404 for a field that is not set, too.
			a.fail(w, r, mautrix.MNotFound.WithMessage("This user has no %s", field))
			return
		}
		mxhttp.WriteJSON(w, http.StatusOK, map[string]string{string(field): value})
	}
}

// handleSetProfileField sets (or, with null or "", clears) the caller's
// display name or avatar URL, then tells the room engine.
func (a *Accounts) handleSetProfileField(field profileField) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ident := identity(r)
		if id.UserID(r.PathValue("userId")) != ident.UserID {
			a.fail(w, r, mautrix.MForbidden.WithMessage("You can only change your own profile"))
			return
		}
		var body map[string]json.RawMessage
		if err := mxhttp.ReadJSON(r, &body, 0); err != nil {
			a.fail(w, r, err)
			return
		}
		var value *string
		if raw, ok := body[string(field)]; ok {
			if err := json.Unmarshal(raw, &value); err != nil {
				a.fail(w, r, mautrix.MBadJSON.WithMessage("%s: must be a string", field))
				return
			}
		}
		newValue := ""
		if value != nil {
			newValue = *value
		}
		if err := validateProfileField(field, newValue); err != nil {
			a.fail(w, r, err)
			return
		}
		displayName, avatarURL, changed, err := a.setProfileField(r.Context(), ident.UserID, field, newValue)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		if changed && a.onProfileChange != nil {
			// The membership updates must not stop half-way because the
			// client hung up.
			a.onProfileChange(context.WithoutCancel(r.Context()), ident.UserID, displayName, avatarURL)
		}
		ok(w)
	}
}

func validateProfileField(field profileField, value string) error {
	switch field {
	case fieldDisplayName:
		if utf8.RuneCountInString(value) > maxDisplayNameLength || !validText(value, 4*maxDisplayNameLength) {
			return mautrix.MInvalidParam.WithMessage("displayname: at most %d characters, no control characters", maxDisplayNameLength)
		}
	case fieldAvatarURL:
		if value == "" {
			return nil
		}
		if len(value) > maxAvatarURLBytes || !validText(value, maxAvatarURLBytes) {
			return mautrix.MInvalidParam.WithMessage("avatar_url: at most %d bytes", maxAvatarURLBytes)
		}
		if _, err := id.ParseContentURI(value); err != nil {
			return mautrix.MInvalidParam.WithMessage("avatar_url: must be an mxc:// URI")
		}
	}
	return nil
}

// setProfileField stores one field and returns the whole profile after the
// change, and whether anything changed.
func (a *Accounts) setProfileField(ctx context.Context, userID id.UserID, field profileField, value string) (displayName, avatarURL string, changed bool, err error) {
	query := setDisplayNameQuery
	if field == fieldAvatarURL {
		query = setAvatarURLQuery
	}
	err = a.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		var oldName, oldAvatar string
		err := a.db.QueryRow(ctx, getProfileQuery, userID).Scan(&oldName, &oldAvatar)
		if errors.Is(err, sql.ErrNoRows) {
			return errNoSuchUser
		} else if err != nil {
			return err
		}
		displayName, avatarURL = oldName, oldAvatar
		old := &displayName
		if field == fieldAvatarURL {
			old = &avatarURL
		}
		if *old == value {
			return nil
		}
		*old = value
		changed = true
		_, err = a.db.Exec(ctx, query, userID, value)
		return err
	})
	var respErr mautrix.RespError
	if err != nil && !errors.As(err, &respErr) {
		err = fmt.Errorf("set %s of %s: %w", field, userID, err)
	}
	return displayName, avatarURL, changed, err
}
