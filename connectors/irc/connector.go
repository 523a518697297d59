package irc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"maunium.net/go/mautrix/id"

	"switchboard/connectors"
)

// Connector is the IRC connector: every network in bridges.irc.networks.
type Connector struct {
	section  *Section
	networks map[string]*network
	order    []string // network ids as configured

	host connectors.Host
	log  *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	identd *identd
}

var (
	_ connectors.Connector       = (*Connector)(nil)
	_ connectors.Watcher         = (*Connector)(nil)
	_ connectors.IDMapper        = (*Connector)(nil)
	_ connectors.ChatRefParser   = (*Connector)(nil)
	_ connectors.Commander       = (*Connector)(nil)
	_ connectors.LinkApprover    = (*Connector)(nil)
	_ connectors.DirectMessenger = (*Connector)(nil)
)

// New makes the connector a validated section describes.
func New(section *Section) (*Connector, error) {
	if err := section.Validate(); err != nil {
		return nil, err
	}
	c := &Connector{section: section, networks: map[string]*network{}}
	for i := range section.Networks {
		cfg := section.Networks[i]
		c.networks[cfg.ID] = newNetwork(c, cfg)
		c.order = append(c.order, cfg.ID)
	}
	return c, nil
}

// Info names the network.
func (c *Connector) Info() connectors.Info {
	return connectors.Info{Name: "irc", DisplayName: "IRC"}
}

// Start connects every network's bot, bridges the configured channels and
// reconnects the Matrix users' connections stored at the last run.
func (c *Connector) Start(ctx context.Context, host connectors.Host) error {
	c.host = host
	c.log = host.Log()
	c.ctx, c.cancel = context.WithCancel(ctx)
	if c.section.Identd.Enabled {
		id, err := startIdentd(c.section.Identd.Listen, c.log)
		if err != nil {
			return fmt.Errorf("identd.listen: %w", err)
		}
		c.identd = id
	}
	logins, err := host.Logins(ctx)
	if err != nil {
		return fmt.Errorf("load IRC connections: %w", err)
	}
	for _, id := range c.order {
		c.networks[id].start(logins)
	}
	return nil
}

// Stop quits every connection and waits for their goroutines.
func (c *Connector) Stop(ctx context.Context) error {
	if c.cancel == nil {
		return nil
	}
	for _, id := range c.order {
		c.networks[id].stop("Bridge shutting down")
	}
	c.cancel()
	done := make(chan struct{})
	go func() { c.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if c.identd != nil {
		c.identd.close()
	}
	return nil
}

// go runs fn as one of the connector's goroutines, which Stop waits for.
func (c *Connector) goRun(fn func()) {
	c.wg.Go(fn)
}

// networkOf finds a chat's network.
func (c *Connector) networkOf(chat connectors.PortalID) (*network, chatRef, error) {
	ref, ok := parseChat(chat)
	if !ok {
		return nil, chatRef{}, fmt.Errorf("%q is not an IRC chat: %w", chat, connectors.ErrNotFound)
	}
	n := c.networks[ref.network]
	if n == nil {
		return nil, chatRef{}, fmt.Errorf("no IRC network %q is configured: %w", ref.network, connectors.ErrNotFound)
	}
	return n, ref, nil
}

// ClientFor returns the user's own IRC connection on the chat's network. As
// the bridge asks without naming a chat, a user is connected to every
// network that allows per-user connections; the returned client picks the
// right connection per chat.
func (c *Connector) ClientFor(_ context.Context, user *connectors.MatrixUser) (connectors.Client, error) {
	return &userClient{c: c, user: user}, nil
}

// Relay returns the bots.
func (c *Connector) Relay(context.Context) (connectors.Client, error) {
	return &relayClient{c: c}, nil
}

// ChatInfo describes a channel (the bot joins it to read its topic and
// members) or a private chat.
func (c *Connector) ChatInfo(ctx context.Context, chat connectors.PortalID) (*connectors.ChatInfo, error) {
	n, ref, err := c.networkOf(chat)
	if err != nil {
		return nil, err
	}
	if ref.channel == "" {
		return &connectors.ChatInfo{Name: ref.nick, Direct: true, Members: []connectors.RemoteUserID{remoteUser(n.cfg.ID, ref.nick)},
			Invite: []id.UserID{ref.user}}, nil
	}
	return n.channelInfo(ctx, ref.channel)
}

// UserInfo gives a nick's puppet its name: the nick as the network writes it.
func (c *Connector) UserInfo(_ context.Context, user connectors.RemoteUserID) (*connectors.UserInfo, error) {
	network, nick, ok := parseRemoteUser(user)
	if !ok || c.networks[network] == nil {
		return nil, connectors.ErrNotFound
	}
	return &connectors.UserInfo{DisplayName: c.networks[network].displayNick(nick)}, nil
}

// WatchChat has the bot join a bridged channel.
func (c *Connector) WatchChat(ctx context.Context, chat connectors.PortalID) error {
	n, ref, err := c.networkOf(chat)
	if err != nil || ref.channel == "" {
		return nil
	}
	n.watch(ref.channel)
	return nil
}

// UnwatchChat has the bot leave a channel no longer bridged.
func (c *Connector) UnwatchChat(ctx context.Context, chat connectors.PortalID) error {
	n, ref, err := c.networkOf(chat)
	if err != nil || ref.channel == "" {
		return nil
	}
	n.unwatch(ref.channel)
	return nil
}

// ParseChatRef reads "<network> <#channel>", or "<#channel>" when one
// network is configured.
func (c *Connector) ParseChatRef(args []string) (connectors.PortalID, error) {
	usage := "write it as `<network> <#channel>`, with network one of " + strings.Join(c.order, ", ")
	switch {
	case len(args) == 1 && len(c.order) == 1:
		args = []string{c.order[0], args[0]}
	case len(args) != 2:
		return "", errors.New("which channel? " + usage)
	}
	network, channel := strings.ToLower(args[0]), args[1]
	if c.networks[network] == nil {
		return "", fmt.Errorf("no IRC network %q; %s", args[0], usage)
	}
	if !validChannel(channel) {
		return "", fmt.Errorf("%q is not a channel name; %s", channel, usage)
	}
	return channelChat(network, channel), nil
}

// DirectChat opens a private chat between a Matrix user's own connection
// and a nick.
func (c *Connector) DirectChat(_ context.Context, user *connectors.MatrixUser, remote connectors.RemoteUserID) (connectors.PortalID, *connectors.ChatInfo, error) {
	network, nick, ok := parseRemoteUser(remote)
	n := c.networks[network]
	if !ok || n == nil {
		return "", nil, connectors.ErrNotFound
	}
	if !*n.cfg.PerUserConnections {
		return "", nil, connectors.ErrNoIdentity
	}
	chat := directChat(network, nick, user.ID)
	return chat, &connectors.ChatInfo{Name: n.displayNick(nick), Direct: true, Members: []connectors.RemoteUserID{remote}}, nil
}
