package accounts

import "errors"

// ErrUserInUse is returned (wrapped) by CreateUser when the user id is
// already taken. The register endpoint answers M_USER_IN_USE; the admin
// command tells the operator to pick another name.
var ErrUserInUse = errors.New("user id already taken")

// ErrInvalidUsername is returned (wrapped, with the reason) by CreateUser
// when the localpart is outside the user id grammar (a-z, 0-9 and ._=-/+,
// at most 255 bytes with the server name). The register endpoint answers
// M_INVALID_USERNAME.
var ErrInvalidUsername = errors.New("invalid username")

// ErrWeakPassword is returned (wrapped, with the reason) by CreateUser when
// the password is shorter than MinPasswordLength characters or longer than
// MaxPasswordBytes bytes. The caller asks for another password.
var ErrWeakPassword = errors.New("password not accepted")

// ErrUnknownUser is returned (wrapped) by Profile when the user does not
// exist on this server. Callers building membership events leave the
// profile fields out.
var ErrUnknownUser = errors.New("unknown user")

// ErrUnknownFilter is returned (wrapped) by Filter when the user has no
// filter with that id. The sync API answers 400 M_INVALID_PARAM or falls
// back to the default filter.
var ErrUnknownFilter = errors.New("unknown filter")
