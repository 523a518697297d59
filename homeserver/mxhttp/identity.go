package mxhttp

import (
	"context"
	"net/http"
	"strings"

	"maunium.net/go/mautrix/id"
)

// Identity is who an authenticated request acts as.
type Identity struct {
	UserID   id.UserID
	DeviceID id.DeviceID
	// AppserviceID is set when the request used an appservice's as_token;
	// UserID is then the (possibly masqueraded) user it acts as.
	AppserviceID string
}

type identityKey struct{}

// WithIdentity returns ctx carrying who the request acts as.
func WithIdentity(ctx context.Context, ident Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, ident)
}

// IdentityFrom returns the identity an authentication middleware stored, and
// whether there was one.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	ident, ok := ctx.Value(identityKey{}).(Identity)
	return ident, ok
}

// AccessToken returns the request's access token: from the
// "Authorization: Bearer" header, or the deprecated access_token query
// parameter that older clients still send. Empty when there is none.
func AccessToken(r *http.Request) string {
	if auth := r.Header.Get("Authorization"); auth != "" {
		if token, ok := strings.CutPrefix(auth, "Bearer "); ok {
			return strings.TrimSpace(token)
		}
		return ""
	}
	return r.URL.Query().Get("access_token")
}

// Authenticator resolves a request's access token to an identity. The
// homeserver's account store implements it; handlers depend only on this.
type Authenticator interface {
	// Authenticate returns who the request acts as, or a mautrix.RespError:
	// M_MISSING_TOKEN (401) when it has no token, M_UNKNOWN_TOKEN (401) when
	// the token is not valid.
	Authenticate(r *http.Request) (Identity, error)
}
