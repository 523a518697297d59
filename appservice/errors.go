package appservice

import (
	"errors"
	"io"
	"net"
	"syscall"

	"maunium.net/go/mautrix"
)

// Every error an [Intent] returns for a homeserver answer wraps the
// mautrix.HTTPError (errors.As reaches it, with the status and errcode), and
// the sentinels below are added where the caller has a decision to make.
var (
	// ErrNotFound is returned by Intent.State, Intent.Profile,
	// Intent.ResolveAlias and Intent.Download when the homeserver answers
	// M_NOT_FOUND: the state event, profile, alias or media does not exist.
	// The caller treats it as absent (creates the state or the room, uses a
	// default profile, reports missing media) rather than as a failure.
	ErrNotFound = errors.New("not found")

	// ErrNotInNamespace is returned by every method of an Intent made for a
	// user the registration does not cover: not the bot, not on this server,
	// or matching no users namespace. No request is sent. It is a bug or a
	// configuration mismatch (puppet prefix versus registration regex):
	// the caller logs it and drops the action, as retrying cannot help.
	ErrNotInNamespace = errors.New("user is not in the appservice's namespace")

	// ErrAliasTaken is returned by Intent.SetAlias when the alias already
	// points to another room. The caller resolves the alias and either
	// adopts that room or picks another alias.
	ErrAliasTaken = errors.New("alias is taken")

	// ErrTooLarge is returned by Intent.Download when the media is larger
	// than the caller's limit. The caller tells the other side the file was
	// too large (or sends a link instead); retrying cannot help.
	ErrTooLarge = errors.New("media too large")
)

// IsForbidden reports whether err is the homeserver refusing the action
// (M_FORBIDDEN): no permission, not in the room, banned. Retrying unchanged
// will not help; the caller reports it or tries another way.
func IsForbidden(err error) bool {
	return errors.Is(err, mautrix.MForbidden)
}

// Retryable reports whether an error from an Intent may pass if the call is
// made again: the homeserver could not be reached, or it answered with a
// server error (5xx). Rate limits never get here (the intents wait them
// out); a 4xx answer is final.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	var httpErr mautrix.HTTPError
	if errors.As(err, &httpErr) {
		if httpErr.Response == nil {
			return true // no answer at all: connection refused, reset, timeout
		}
		return httpErr.Response.StatusCode >= 500
	}
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED)
}
