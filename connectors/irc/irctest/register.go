package irctest

import (
	"context"
	"fmt"
	"strings"
)

// username is the USER name of every test client: short enough for any
// server's USERLEN (InspIRCd's default is 10).
const username = "test"

// registrationErrors are the numerics that end a registration attempt.
var registrationErrors = map[string]bool{
	"431": true, // no nickname given
	"432": true, // erroneous nickname
	"433": true, // nickname in use
	"436": true, // nickname collision
	"437": true, // nick temporarily unavailable
	"465": true, // banned
}

// register negotiates capabilities when asked for, sends NICK and USER, and
// waits for the welcome and the end of the MOTD.
func (c *Client) register(ctx context.Context, caps []string) error {
	if len(caps) > 0 {
		if err := c.WriteLine("CAP LS 302"); err != nil {
			return err
		}
	}
	if err := c.WriteLine("NICK " + c.nick); err != nil {
		return err
	}
	if err := c.WriteLine("USER " + username + " 0 * :" + c.nick); err != nil {
		return err
	}
	var welcome *Message
	if len(caps) > 0 {
		var err error
		if welcome, err = c.negotiateCaps(ctx, caps); err != nil {
			return err
		}
	}
	if welcome == nil {
		var err error
		if welcome, err = c.waitContext(ctx, welcomeOrRefusal); err != nil {
			return err
		}
	}
	if welcome.Command != "001" {
		return fmt.Errorf("server refused: %s", welcome.Raw)
	}
	c.nick = welcome.Param(0)
	_, err := c.waitContext(ctx, endOfMOTD)
	return err
}

// welcomeOrRefusal matches the welcome, a registration error or ERROR.
func welcomeOrRefusal(m *Message) bool {
	return m.Command == "001" || m.Command == "ERROR" || registrationErrors[m.Command]
}

// endOfMOTD matches the end of the MOTD or the notice that there is none.
func endOfMOTD(m *Message) bool {
	return m.Command == "376" || m.Command == "422"
}

// negotiateCaps reads CAP LS, requests each wanted capability the server
// offers and ends negotiation. It returns the welcome when the server
// registered the client without negotiating (it does not know CAP).
func (c *Client) negotiateCaps(ctx context.Context, wanted []string) (*Message, error) {
	welcome, err := c.readCapLS(ctx)
	if err != nil || welcome != nil {
		return welcome, err
	}
	var requested int
	for _, name := range wanted {
		if _, offered := c.caps[name]; !offered {
			continue
		}
		if err := c.WriteLine("CAP REQ :" + name); err != nil {
			return nil, err
		}
		requested++
	}
	for ; requested > 0; requested-- {
		reply, err := c.waitContext(ctx, func(m *Message) bool {
			return capReply("ACK", "NAK")(m) || welcomeOrRefusal(m)
		})
		if err != nil {
			return nil, fmt.Errorf("wait for CAP ACK/NAK: %w", err)
		}
		if reply.Command != "CAP" {
			return reply, nil
		}
		if strings.EqualFold(reply.Param(1), "ACK") {
			c.recordAcked(reply.Last())
		}
	}
	return nil, c.WriteLine("CAP END")
}

// readCapLS collects the (possibly multi-line) CAP LS reply into c.caps. A
// server that does not know CAP answers 421 or registers at once; then
// there are no caps, and the welcome, if it came, is returned.
func (c *Client) readCapLS(ctx context.Context) (*Message, error) {
	for {
		m, err := c.waitContext(ctx, func(m *Message) bool {
			return capReply("LS")(m) || welcomeOrRefusal(m) ||
				(m.Command == "421" && strings.EqualFold(m.Param(1), "CAP"))
		})
		if err != nil {
			return nil, fmt.Errorf("wait for CAP LS: %w", err)
		}
		switch {
		case m.Command == "421":
			return nil, nil
		case m.Command != "CAP":
			return m, nil
		}
		c.recordOffered(m.Last())
		// "CAP * LS * :caps" announces that more lines follow.
		if len(m.Params) < 4 || m.Param(2) != "*" {
			return nil, nil
		}
	}
}

// capReply matches a CAP reply whose subcommand is one of subcommands.
func capReply(subcommands ...string) func(*Message) bool {
	return func(m *Message) bool {
		if m.Command != "CAP" {
			return false
		}
		for _, sub := range subcommands {
			if strings.EqualFold(m.Param(1), sub) {
				return true
			}
		}
		return false
	}
}

// recordOffered adds "name[=value] ..." from CAP LS to c.caps.
func (c *Client) recordOffered(list string) {
	for _, entry := range strings.Fields(list) {
		name, value, _ := strings.Cut(entry, "=")
		c.caps[name] = value
	}
}

// recordAcked marks the capabilities of a CAP ACK as enabled (a "-name"
// entry disables one).
func (c *Client) recordAcked(list string) {
	for _, name := range strings.Fields(list) {
		if disabled, ok := strings.CutPrefix(name, "-"); ok {
			delete(c.enabled, disabled)
			continue
		}
		c.enabled[name] = true
	}
}
