package irc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/lrstanley/girc"

	"switchboard/connectors"
	"switchboard/connectors/irc/ircfmt"
)

// Commands are the IRC bridge's own commands, next to the bridge's.
func (c *Connector) Commands() []connectors.Command {
	net := ""
	if len(c.order) > 1 {
		net = "[network] "
	}
	return []connectors.Command{
		{Name: "nick", Args: net + "<new nick>", Help: "change your nick on IRC", Run: c.cmdNick},
		{Name: "join", Args: net + "<#channel>", Help: "join an IRC channel and bridge it", Run: c.cmdJoin},
		{Name: "whois", Args: net + "<nick>", Help: "show who an IRC nick is", Run: c.cmdWhois},
		{Name: "storepass", Args: net + "<password>", Help: "store your NickServ password, used at every connect", Sensitive: true, Run: c.cmdStorePass},
		{Name: "reconnect", Args: net, Help: "reconnect your IRC connection", Run: c.cmdReconnect},
		{Name: "raw", Args: net + "<IRC line>", Help: "send a raw line on your connection (admins only)", Run: c.cmdRaw},
	}
}

// commandNetwork finds the network a command is about: the room's, the
// one named first in args, or the only one; it returns the other args.
func (c *Connector) commandNetwork(call *connectors.CommandCall) (*network, []string, error) {
	args := call.Args
	if call.Chat != "" {
		if n, _, err := c.networkOf(call.Chat); err == nil {
			return n, args, nil
		}
	}
	if len(args) > 0 && c.networks[strings.ToLower(args[0])] != nil && len(c.order) > 1 {
		return c.networks[strings.ToLower(args[0])], args[1:], nil
	}
	if len(c.order) == 1 {
		return c.networks[c.order[0]], args, nil
	}
	return nil, nil, fmt.Errorf("which network? Give one of %s first", strings.Join(c.order, ", "))
}

// ownConn is the caller's connection on a command's network.
func (c *Connector) ownConn(ctx context.Context, call *connectors.CommandCall) (*network, *conn, []string, error) {
	n, args, err := c.commandNetwork(call)
	if err != nil {
		return nil, nil, nil, err
	}
	uc, err := n.userConn(ctx, call.User)
	if errors.Is(err, connectors.ErrNoIdentity) {
		return nil, nil, nil, fmt.Errorf("you have no IRC connection of your own on %s: the bridge relays your messages through its bot", n.cfg.Name)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	return n, uc, args, nil
}

func (c *Connector) cmdNick(ctx context.Context, call *connectors.CommandCall) (string, error) {
	n, uc, args, err := c.ownConn(ctx, call)
	if err != nil {
		return "", err
	}
	if len(args) != 1 || !nickPattern.MatchString(args[0]) || len(args[0]) > 30 {
		return "", errors.New("give one valid nick: letters, digits and []\\`_^{|}-, not starting with a digit, at most 30 characters")
	}
	want := args[0]
	if err := uc.waitRegistered(ctx, 30*time.Second); err != nil {
		return "", fmt.Errorf("not connected to %s yet; try again in a moment", n.cfg.Name)
	}
	reply := uc.collect(ctx, 10*time.Second, func(e *girc.Event) bool {
		return e.Command == girc.NICK && strings.EqualFold(e.Last(), want) ||
			e.Command == girc.ERR_NICKNAMEINUSE || e.Command == girc.ERR_ERRONEUSNICKNAME || e.Command == "435" || e.Command == "438"
	}, func() error { return uc.sendLine(ctx, &girc.Event{Command: girc.NICK, Params: []string{want}}) })
	if len(reply) == 0 {
		return "", fmt.Errorf("%s did not answer; your nick is still %s", n.cfg.Name, uc.nick())
	}
	if last := reply[len(reply)-1]; last.Command != girc.NICK {
		return "", fmt.Errorf("%s refused the nick %s: %s", n.cfg.Name, want, last.Last())
	}
	n.saveLogin(ctx, uc)
	return fmt.Sprintf("You are now %s on %s.", want, n.cfg.Name), nil
}

func (c *Connector) cmdJoin(ctx context.Context, call *connectors.CommandCall) (string, error) {
	n, args, err := c.commandNetwork(call)
	if err != nil {
		return "", err
	}
	if len(args) != 1 || !validChannel(args[0]) {
		return "", errors.New("give one channel, with its #: `join #channel`")
	}
	channel := args[0]
	chat := channelChat(n.cfg.ID, channel)
	if err := c.host.BridgeChat(ctx, chat); err != nil {
		return "", fmt.Errorf("could not bridge %s: %v", channel, err)
	}
	if uc, err := n.userConn(ctx, call.User); err == nil {
		if err := uc.join(ctx, channel, true); err != nil {
			return "", fmt.Errorf("could not join %s: %v", channel, err)
		}
		n.saveLogin(ctx, uc)
	}
	alias := "#" + c.AliasLocalpart(chat) + ":" + c.host.ServerName()
	return fmt.Sprintf("%s on %s is bridged to %s: join that room in your Matrix client.", channel, n.cfg.Name, alias), nil
}

// whoisReplies are the numerics that answer WHOIS.
var whoisReplies = map[string]string{
	girc.RPL_WHOISUSER: "user", girc.RPL_WHOISSERVER: "server", girc.RPL_WHOISOPERATOR: "operator",
	girc.RPL_WHOISIDLE: "idle", girc.RPL_WHOISCHANNELS: "channels", "330": "account", girc.RPL_AWAY: "away",
	"671": "secure", "378": "host",
}

func (c *Connector) cmdWhois(ctx context.Context, call *connectors.CommandCall) (string, error) {
	n, args, err := c.commandNetwork(call)
	if err != nil {
		return "", err
	}
	if len(args) != 1 || !nickPattern.MatchString(args[0]) {
		return "", errors.New("give one nick: `whois <nick>`")
	}
	nick := args[0]
	asker := n.bot
	if uc, err := n.userConn(ctx, call.User); err == nil {
		asker = uc
	}
	if err := asker.waitRegistered(ctx, 10*time.Second); err != nil {
		return "", fmt.Errorf("not connected to %s right now; try again later", n.cfg.Name)
	}
	replies := asker.collect(ctx, 10*time.Second, func(e *girc.Event) bool {
		return e.Command == girc.RPL_ENDOFWHOIS || e.Command == girc.ERR_NOSUCHNICK
	}, func() error { return asker.sendLine(ctx, &girc.Event{Command: girc.WHOIS, Params: []string{nick}}) })
	var lines []string
	for _, e := range replies {
		if e.Command == girc.ERR_NOSUCHNICK {
			return fmt.Sprintf("There is no %s on %s.", nick, n.cfg.Name), nil
		}
		what, ok := whoisReplies[e.Command]
		if !ok || len(e.Params) < 2 || !strings.EqualFold(e.Params[1], nick) {
			continue
		}
		lines = append(lines, fmt.Sprintf("- %s: %s", what, toPlain(strings.Join(e.Params[2:], " "))))
	}
	if len(lines) == 0 {
		return "", fmt.Errorf("%s did not answer about %s", n.cfg.Name, nick)
	}
	return fmt.Sprintf("%s on %s:\n%s", nick, n.cfg.Name, strings.Join(lines, "\n")), nil
}

func (c *Connector) cmdStorePass(ctx context.Context, call *connectors.CommandCall) (string, error) {
	n, uc, args, err := c.ownConn(ctx, call)
	if err != nil {
		return "", err
	}
	if len(args) != 1 {
		return "", errors.New("give your password as one word: `storepass <password>`")
	}
	uc.mu.Lock()
	uc.password = args[0]
	up := uc.up
	uc.mu.Unlock()
	n.saveLogin(ctx, uc)
	if up {
		_ = uc.sendLine(ctx, &girc.Event{Command: girc.PRIVMSG, Params: []string{"NickServ", "IDENTIFY " + args[0]}, Sensitive: true})
	}
	return fmt.Sprintf("Password stored; it identifies you to NickServ on %s at every connect.", n.cfg.Name), nil
}

func (c *Connector) cmdReconnect(ctx context.Context, call *connectors.CommandCall) (string, error) {
	n, uc, _, err := c.ownConn(ctx, call)
	if err != nil {
		return "", err
	}
	uc.reconnect()
	return fmt.Sprintf("Reconnecting to %s.", n.cfg.Name), nil
}

func (c *Connector) cmdRaw(ctx context.Context, call *connectors.CommandCall) (string, error) {
	if !call.Admin {
		return "", errors.New("raw is for the bridge's admins only")
	}
	n, uc, args, err := c.ownConn(ctx, call)
	if err != nil {
		return "", err
	}
	line := ircfmt.Clean(strings.Join(args, " "))
	if line == "" {
		return "", errors.New("give the IRC line to send: `raw PRIVMSG #channel :hello`")
	}
	e := girc.ParseEvent(line)
	if e == nil {
		return "", fmt.Errorf("%q is not an IRC line", line)
	}
	if err := uc.sendLine(ctx, e); err != nil {
		return "", err
	}
	return fmt.Sprintf("Sent to %s.", n.cfg.Name), nil
}

// collect sends a request and gathers the connection's events until one
// matches done or timeout passes; it returns them in order, the matching
// one last.
func (c *conn) collect(ctx context.Context, timeout time.Duration, done func(*girc.Event) bool, send func() error) []*girc.Event {
	var mu sync.Mutex
	var got []*girc.Event
	finished := make(chan struct{})
	cuid := c.client.Handlers.Add(girc.ALL_EVENTS, func(_ *girc.Client, e girc.Event) {
		mu.Lock()
		defer mu.Unlock()
		select {
		case <-finished:
			return
		default:
		}
		got = append(got, &e)
		if done(&e) {
			close(finished)
		}
	})
	defer c.client.Handlers.Remove(cuid)
	if err := send(); err != nil {
		return nil
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-finished:
	case <-t.C:
		mu.Lock()
		defer mu.Unlock()
		return nil
	case <-ctx.Done():
		return nil
	}
	mu.Lock()
	defer mu.Unlock()
	return got
}
