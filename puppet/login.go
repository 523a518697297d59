package puppet

import (
	"fmt"
	"log/slog"
)

// The methods below have value receivers so that a Login and a *Login both
// hide Secret, wherever they are printed or logged.

// String describes the login without its secret, e.g.
// "irc login libera of @alice:example.org (remote alice, CONNECTED)".
func (l Login) String() string {
	state := l.State
	if state == "" {
		state = "no state"
	}
	return fmt.Sprintf("%s login %s of %s (remote %s, %s)", l.Network, l.LoginID, l.UserID, l.RemoteID, state)
}

// GoString is what %#v prints: String, so Secret stays out of it too.
func (l Login) GoString() string { return "puppet.Login{" + l.String() + "}" }

// LogValue gives log/slog the login's fields, Secret left out.
func (l Login) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("network", l.Network),
		slog.String("user_id", string(l.UserID)),
		slog.String("login_id", l.LoginID),
		slog.String("remote_id", l.RemoteID),
		slog.String("name", l.Name),
		slog.String("state", l.State),
		slog.String("state_message", l.StateMessage),
		slog.Time("created_at", l.CreatedAt),
	)
}

var (
	_ fmt.Stringer   = Login{}
	_ fmt.GoStringer = Login{}
	_ slog.LogValuer = Login{}
)
