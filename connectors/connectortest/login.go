package connectortest

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"switchboard/connectors"
)

// Login checks `login <username> <password>` against the network and
// returns the login to store; its Secret is the session's token.
func (c *Connector) Login(ctx context.Context, user *connectors.MatrixUser, args []string) (*connectors.Login, error) {
	if len(args) != 2 {
		return nil, errors.New("usage: login <username> <password>")
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	var res wireSession
	err := c.call(ctx, "", http.MethodPost, "/login", nil, wireLogin{Username: args[0], Password: args[1], Client: c.info.Name}, &res)
	switch {
	case errors.Is(err, errBadToken):
		return nil, fmt.Errorf("wrong username or password for %s; check both and try again", c.info.DisplayName)
	case errors.Is(err, connectors.ErrUnavailable):
		return nil, fmt.Errorf("%s is unreachable; try again in a minute: %w", c.info.DisplayName, err)
	case err != nil:
		return nil, fmt.Errorf("log in to %s: %w", c.info.DisplayName, err)
	}
	l := &connectors.Login{
		UserID:     user.ID,
		ID:         connectors.LoginID(res.User),
		RemoteUser: connectors.RemoteUserID(res.User),
		Name:       fmt.Sprintf("%s (%s) on %s", res.User, res.Name, c.info.DisplayName),
		Secret:     []byte(res.Token),
	}
	c.setState(ctx, connectors.State{Event: connectors.StateConnected, UserID: l.UserID, Login: l.ID})
	return l, nil
}

// Logout ends the login's session on the network; a session the network
// already ended counts as logged out.
func (c *Connector) Logout(ctx context.Context, login *connectors.Login) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	err := c.call(ctx, string(login.Secret), http.MethodPost, "/logout", nil, nil, nil)
	if err != nil && !errors.Is(err, errBadToken) {
		return fmt.Errorf("log out of %s: %w", c.info.DisplayName, err)
	}
	c.setState(ctx, connectors.State{Event: connectors.StateLoggedOut, UserID: login.UserID, Login: login.ID})
	return nil
}

// ParseChatRef takes exactly one argument, the chat's id.
func (c *Connector) ParseChatRef(args []string) (connectors.PortalID, error) {
	if len(args) != 1 {
		return "", fmt.Errorf("give one %s chat id, like `general`", c.info.DisplayName)
	}
	if !validID(args[0]) {
		return "", fmt.Errorf("%q is not a chat id: ids are lower case letters, digits and ._=+-, like `general`", args[0])
	}
	return connectors.PortalID(args[0]), nil
}

// Commands offers `whoami`: who the user is logged in as.
func (c *Connector) Commands() []connectors.Command {
	return []connectors.Command{{
		Name: "whoami",
		Help: "Show who you are logged in as on " + c.info.DisplayName,
		Run: func(ctx context.Context, call *connectors.CommandCall) (string, error) {
			cl, err := c.ClientFor(ctx, call.User)
			if errors.Is(err, connectors.ErrNoIdentity) {
				return fmt.Sprintf("You are not logged in to %s; log in with `login <username> <password>`.", c.info.DisplayName), nil
			}
			if err != nil {
				return "", err
			}
			who, err := cl.(*client).whoami(ctx)
			if err != nil {
				return "", fmt.Errorf("cannot ask %s who you are: %w", c.info.DisplayName, err)
			}
			return fmt.Sprintf("You are %s (%s) on %s.", who.User, who.Name, c.info.DisplayName), nil
		},
	}}
}
