package irc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lrstanley/girc"
	"golang.org/x/time/rate"
	"maunium.net/go/mautrix/id"

	"switchboard/connectors"
	"switchboard/connectors/irc/ircfmt"
)

// conn is one IRC connection kept up by the bridge: the network's bot, or a
// Matrix user's own. It reconnects with backoff, rejoins its channels,
// paces its lines below the server's flood limits and learns the msgid the
// server gives each line it sends (echo-message).
type conn struct {
	net  *network
	user id.UserID // "" for the bot
	log  *slog.Logger

	client  *girc.Client
	limiter *rate.Limiter // nil: pacing off

	// handle gets every event the server sends, in order, before girc's
	// own state tracking sees it.
	handle func(*conn, *girc.Event)

	mu         sync.Mutex
	channels   map[string]string // folded → as written: where it should be
	joined     map[string]bool   // folded channels the server confirmed
	joinWait   map[string][]chan error
	registered chan struct{} // closed once the server welcomed this connection
	up         bool
	echoes     map[string][]chan string // folded target → waiters for the msgid of an echoed line
	password   string                   // NickServ password (per-user connections)
	ownedNick  string                   // folded; guarded by net.mu
	stopped    bool

	tlsConfig  *tls.Config  // nil: plain TCP
	lastActive atomic.Int64 // unix seconds of the user's last message
	localPort  atomic.Int32 // for identd
	done       chan struct{}
}

// connOptions configure a new connection.
type connOptions struct {
	user     id.UserID
	nick     string
	ident    string
	realName string
	sasl     girc.SASLMech
	tlsCert  *tls.Certificate
	password string
	handle   func(*conn, *girc.Event)
}

func newConn(n *network, o connOptions) *conn {
	host, portStr, _ := net.SplitHostPort(n.cfg.Server)
	port, _ := strconv.Atoi(portStr)
	c := &conn{
		net:        n,
		user:       o.user,
		log:        n.log.With(slog.String("nick", o.nick)),
		handle:     o.handle,
		channels:   map[string]string{},
		joined:     map[string]bool{},
		joinWait:   map[string][]chan error{},
		echoes:     map[string][]chan string{},
		registered: make(chan struct{}),
		password:   o.password,
		done:       make(chan struct{}),
	}
	if o.user != "" {
		c.log = c.log.With(slog.String("user_id", string(o.user)))
	}
	if n.cfg.Flood.LinesPerSecond > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(n.cfg.Flood.LinesPerSecond), n.cfg.Flood.Burst)
	}
	cfg := girc.Config{
		Server: host,
		Port:   port,
		Nick:   o.nick,
		User:   o.ident,
		Name:   o.realName,
		// TLS is set up by identDialer, below girc, so the bridge sees
		// the plain lines girc writes; STS upgrades are off for the same
		// reason (tls in the config is the operator's choice).
		DisableSTS: true,
		SASL:       o.sasl,
		AllowFlood: true, // paced by limiter, which waits in the sender's goroutine, never girc's
		PingDelay:  time.Minute,
		// Ask for what girc does not request by default.
		SupportedCaps: map[string][]string{
			"echo-message":            nil,
			"labeled-response":        nil,
			"draft/message-redaction": nil,
			"draft/multiline":         nil,
		},
		RecoverFunc: func(_ *girc.Client, e *girc.HandlerError) {
			n.log.Error("IRC handler panic", slog.String("event", e.Event.Command), slog.Any("panic", e.Panic))
		},
		HandleNickCollide: nextNick,
		Version:           "Switchboard",
	}
	if n.cfg.TLS {
		c.tlsConfig = &tls.Config{ServerName: host, InsecureSkipVerify: n.cfg.TLSInsecureSkipVerify, MinVersion: tls.VersionTLS12}
		if o.tlsCert != nil {
			c.tlsConfig.Certificates = []tls.Certificate{*o.tlsCert}
		}
	}
	c.client = girc.New(cfg)
	c.client.Handlers.Add(girc.ALL_EVENTS, c.onEvent)
	c.client.Handlers.Add(girc.CONNECTED, c.onConnected)
	return c
}

// nextNick answers a nick collision: the nick with a suffix, kept within
// the usual 30-character limit.
func nextNick(old string) string {
	if len(old) < 28 {
		return old + "_"
	}
	return old[:26] + strconv.Itoa(10+rand.IntN(90))
}

// run keeps the connection up until ctx ends or stop is called.
func (c *conn) run(ctx context.Context) {
	defer close(c.done)
	backoff := time.Second
	for {
		if err := c.net.connectPacer.Wait(ctx); err != nil {
			return
		}
		if c.isStopped() {
			return
		}
		c.setState(connectors.StateConnecting, "connecting to "+c.net.cfg.Server)
		began := time.Now()
		err := c.client.DialerConnect(&identDialer{c: c})
		c.disconnected()
		if ctx.Err() != nil || c.isStopped() {
			return
		}
		msg := "disconnected from " + c.net.cfg.Server
		if err != nil {
			msg = fmt.Sprintf("%s: %v", msg, err)
		}
		c.log.Info("IRC connection lost", slog.Any("error", err))
		c.setState(connectors.StateTransientDisconnect, msg)
		if time.Since(began) > 2*time.Minute {
			backoff = time.Second
		}
		wait := backoff/2 + time.Duration(rand.Int64N(int64(backoff)))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		backoff = min(backoff*2, 5*time.Minute)
	}
}

// stop quits with reason; run then returns.
func (c *conn) stop(reason string) {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return
	}
	c.stopped = true
	up := c.up
	c.mu.Unlock()
	if up {
		// girc closes the connection itself once the QUIT is written;
		// closing it at once could drop the QUIT unsent.
		c.client.Quit(reason)
		select {
		case <-c.done:
		case <-time.After(quitGrace):
		}
	}
	c.client.Close()
}

// quitGrace is how long stop lets a QUIT reach the server.
const quitGrace = 2 * time.Second

// reconnect drops the connection; run connects again.
func (c *conn) reconnect() { c.client.Close() }

func (c *conn) isStopped() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopped
}

func (c *conn) setState(event connectors.StateEvent, msg string) {
	st := connectors.State{Event: event, Message: msg}
	if c.user != "" {
		st.UserID, st.Login = c.user, connectors.LoginID(c.net.cfg.ID)
	}
	c.net.c.host.SetState(c.net.c.ctx, st)
}

// onConnected runs when the server welcomed the connection: identify,
// rejoin, report.
func (c *conn) onConnected(cl *girc.Client, _ girc.Event) {
	c.mu.Lock()
	c.up = true
	select {
	case <-c.registered:
	default:
		close(c.registered)
	}
	password := c.password
	channels := make([]string, 0, len(c.channels))
	for _, ch := range c.channels {
		channels = append(channels, ch)
	}
	c.mu.Unlock()
	c.net.ownNick(c, cl.GetNick())
	if password != "" {
		// NickServ is the fallback every network with services has; the
		// password is never logged (girc marks nothing here, so no debug
		// writer is set).
		cl.Send(&girc.Event{Command: girc.PRIVMSG, Params: []string{"NickServ", "IDENTIFY " + password}, Sensitive: true})
	}
	for _, ch := range channels {
		_ = c.sendLine(c.net.c.ctx, &girc.Event{Command: girc.JOIN, Params: []string{ch}})
	}
	c.setState(connectors.StateConnected, "connected to "+c.net.cfg.Server+" as "+cl.GetNick())
}

// disconnected resets what the server confirmed and fails waiters.
func (c *conn) disconnected() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.up = false
	select {
	case <-c.registered:
		c.registered = make(chan struct{})
	default:
	}
	c.joined = map[string]bool{}
	for ch, ws := range c.joinWait {
		for _, w := range ws {
			w <- connectors.Unavailable(errors.New("disconnected"))
		}
		delete(c.joinWait, ch)
	}
	for t, ws := range c.echoes {
		for _, w := range ws {
			close(w)
		}
		delete(c.echoes, t)
	}
}

// waitRegistered waits until the server welcomed the connection.
func (c *conn) waitRegistered(ctx context.Context, timeout time.Duration) error {
	c.mu.Lock()
	reg := c.registered
	c.mu.Unlock()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-reg:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return connectors.Unavailable(fmt.Errorf("not connected to %s", c.net.cfg.Server))
	}
}

// nick is the connection's current nick.
func (c *conn) nick() string { return c.client.GetNick() }

// hasCap reports whether the server enabled an IRCv3 capability.
func (c *conn) hasCap(name string) bool { return c.client.HasCapability(name) }

// sendLine sends one line, paced; an error means it surely did not go out.
func (c *conn) sendLine(ctx context.Context, e *girc.Event) error {
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			return err
		}
	}
	c.mu.Lock()
	up := c.up
	c.mu.Unlock()
	if !up {
		return connectors.Unavailable(fmt.Errorf("not connected to %s", c.net.cfg.Server))
	}
	c.client.Send(e)
	return nil
}

// echoTimeout bounds the wait for the server's echo of a sent line.
const echoTimeout = 10 * time.Second

// sendText sends lines of text to target as PRIVMSG, NOTICE or CTCP ACTION,
// the first with tags, and returns the msgid the server gave the first line
// (or an id of the bridge's own when the server gives none). With
// echo-message it returns once the server echoed the last line, so a
// line lost to a disconnect is sent again, not dropped.
func (c *conn) sendText(ctx context.Context, target, command string, lines []string, action bool, tags girc.Tags) (string, error) {
	echo := c.hasCap("echo-message")
	key := fold(target)
	waits := make([]chan string, 0, len(lines))
	for i, line := range lines {
		e := &girc.Event{Command: command, Params: []string{target, line}}
		if action {
			e.Params[1] = "\x01ACTION " + line + "\x01"
		}
		if i == 0 && len(tags) > 0 && c.hasCap("message-tags") {
			e.Tags = tags
		}
		var w chan string
		if echo {
			w = make(chan string, 1)
			c.mu.Lock()
			c.echoes[key] = append(c.echoes[key], w)
			c.mu.Unlock()
			waits = append(waits, w)
		}
		if err := c.sendLine(ctx, e); err != nil {
			if w != nil {
				c.dropEchoWaiter(key, w)
			}
			return "", err
		}
	}
	c.lastActive.Store(time.Now().Unix())
	if !echo {
		return c.net.localID(), nil
	}
	first := ""
	t := time.NewTimer(echoTimeout)
	defer t.Stop()
	for i, w := range waits {
		select {
		case msgid, ok := <-w:
			if !ok {
				return "", connectors.Unavailable(errors.New("disconnected before the server confirmed the message"))
			}
			if i == 0 {
				first = msgid
			}
		case <-t.C:
			return "", connectors.Unavailable(errors.New("the server did not confirm the message in time"))
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	if first == "" {
		first = c.net.localID()
	}
	return first, nil
}

func (c *conn) dropEchoWaiter(key string, w chan string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ws := c.echoes[key]
	for i := range ws {
		if ws[i] == w {
			c.echoes[key] = append(ws[:i:i], ws[i+1:]...)
			return
		}
	}
}

// onEvent sees every line first: it keeps the connection's own channel
// and echo bookkeeping, then hands the event on.
func (c *conn) onEvent(cl *girc.Client, e girc.Event) {
	switch {
	case e.Echo && (e.Command == girc.PRIVMSG || e.Command == girc.NOTICE) && len(e.Params) > 0:
		c.echoed(fold(e.Params[0]), e.Tags)
		return
	case e.Command == girc.JOIN && e.Source != nil && len(e.Params) > 0 && strings.EqualFold(e.Source.Name, cl.GetNick()):
		// Joined: confirmed at the end of NAMES, when members are known.
	case e.Command == girc.RPL_ENDOFNAMES && len(e.Params) > 1:
		c.joinDone(e.Params[1], nil)
	case (e.Command == girc.PART || e.Command == girc.KICK) && len(e.Params) > 0 && c.isSelf(cl, &e):
		c.mu.Lock()
		delete(c.joined, fold(e.Params[0]))
		if e.Command == girc.KICK {
			// Kicked: do not rejoin on our own at every reconnect.
			delete(c.channels, fold(e.Params[0]))
		}
		c.mu.Unlock()
	case isJoinError(e.Command) && len(e.Params) > 1:
		c.joinDone(e.Params[1], fmt.Errorf("cannot join %s: %s", e.Params[1], e.Last()))
	case e.Command == girc.NICK && e.Source != nil && len(e.Params) > 0 && strings.EqualFold(e.Source.Name, cl.GetNick()):
		c.net.ownNick(c, e.Params[0])
	case e.Command == girc.RPL_WELCOME && len(e.Params) > 0:
		c.net.ownNick(c, e.Params[0])
	}
	if c.handle != nil {
		c.handle(c, &e)
	}
}

func (c *conn) isSelf(cl *girc.Client, e *girc.Event) bool {
	if e.Command == girc.KICK {
		return len(e.Params) > 1 && strings.EqualFold(e.Params[1], cl.GetNick())
	}
	return e.Source != nil && strings.EqualFold(e.Source.Name, cl.GetNick())
}

// isJoinError reports the numerics a server refuses a JOIN with.
func isJoinError(cmd string) bool {
	switch cmd {
	case girc.ERR_CHANNELISFULL, girc.ERR_INVITEONLYCHAN, girc.ERR_BANNEDFROMCHAN, girc.ERR_BADCHANNELKEY,
		girc.ERR_NOSUCHCHANNEL, girc.ERR_TOOMANYCHANNELS, "477" /* ERR_NEEDREGGEDNICK */ :
		return true
	}
	return false
}

func (c *conn) echoed(key string, tags girc.Tags) {
	c.mu.Lock()
	ws := c.echoes[key]
	if len(ws) == 0 {
		c.mu.Unlock()
		return
	}
	w := ws[0]
	c.echoes[key] = ws[1:]
	c.mu.Unlock()
	msgid, _ := tags.Get("msgid")
	w <- msgid
}

func (c *conn) joinDone(channel string, err error) {
	key := fold(channel)
	c.mu.Lock()
	if err == nil {
		c.joined[key] = true
	}
	ws := c.joinWait[key]
	delete(c.joinWait, key)
	c.mu.Unlock()
	for _, w := range ws {
		w <- err
	}
}

// join makes the connection a member of channel, now and after every
// reconnect; with wait it returns once the server confirmed (or refused).
func (c *conn) join(ctx context.Context, channel string, wait bool) error {
	key := fold(channel)
	c.mu.Lock()
	c.channels[key] = channel
	if c.joined[key] {
		c.mu.Unlock()
		return nil
	}
	var w chan error
	if wait {
		w = make(chan error, 1)
		c.joinWait[key] = append(c.joinWait[key], w)
	}
	up := c.up
	c.mu.Unlock()
	if up {
		if err := c.sendLine(ctx, &girc.Event{Command: girc.JOIN, Params: []string{channel}}); err != nil && !wait {
			return err
		}
	}
	if !wait {
		return nil
	}
	if err := c.waitRegistered(ctx, 30*time.Second); err != nil {
		return err
	}
	t := time.NewTimer(30 * time.Second)
	defer t.Stop()
	select {
	case err := <-w:
		return err
	case <-t.C:
		return connectors.Unavailable(fmt.Errorf("no answer from %s to joining %s", c.net.cfg.Server, channel))
	case <-ctx.Done():
		return ctx.Err()
	}
}

// part leaves channel for good.
func (c *conn) part(ctx context.Context, channel, reason string) error {
	key := fold(channel)
	c.mu.Lock()
	_, wanted := c.channels[key]
	delete(c.channels, key)
	joined := c.joined[key]
	c.mu.Unlock()
	if !wanted && !joined {
		return nil
	}
	params := []string{channel}
	if reason = ircfmt.Clean(reason); reason != "" {
		params = append(params, reason)
	}
	return c.sendLine(ctx, &girc.Event{Command: girc.PART, Params: params})
}

// channelList is where the connection should be, as written.
func (c *conn) channelList() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.channels))
	for _, ch := range c.channels {
		out = append(out, ch)
	}
	return out
}

func (c *conn) isJoined(channel string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.joined[fold(channel)]
}

// identDialer dials the server and tells identd which local port is whose.
type identDialer struct{ c *conn }

func (d *identDialer) Dial(network, address string) (net.Conn, error) {
	nc, err := (&net.Dialer{Timeout: 30 * time.Second}).Dial(network, address)
	if err != nil {
		return nil, err
	}
	if tcp, ok := nc.LocalAddr().(*net.TCPAddr); ok {
		d.c.localPort.Store(int32(tcp.Port))
		if id := d.c.net.c.identd; id != nil {
			id.register(tcp.Port, d.c.client.Config.User)
		}
	}
	if d.c.tlsConfig != nil {
		tc := tls.Client(nc, d.c.tlsConfig)
		_ = tc.SetDeadline(time.Now().Add(30 * time.Second))
		if err := tc.Handshake(); err != nil {
			_ = nc.Close()
			return nil, err
		}
		_ = tc.SetDeadline(time.Time{})
		nc = tc
	}
	if d.c.user != "" {
		nc = &whoFilter{Conn: nc}
	}
	return nc, nil
}
