package connectortest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"switchboard/connectors"
)

var (
	_ connectors.Connector     = (*Connector)(nil)
	_ connectors.LoginHandler  = (*Connector)(nil)
	_ connectors.ChatRefParser = (*Connector)(nil)
	_ connectors.Commander     = (*Connector)(nil)
)

// Connector speaks to a [Network] over HTTP: the bot reads the event stream
// and relays; each Matrix user's login (a token of the network, from the
// login command) sends as that user. It implements every optional
// capability but IDMapper, so the bridge's default ids are exercised.
type Connector struct {
	info     connectors.Info
	url      string
	botToken string
	// transport is the connector's own, so Stop closes its connections.
	transport *http.Transport
	http      *http.Client
	// BackoffMax caps the wait between reconnection attempts (default 1s).
	// Set it before Start.
	BackoffMax time.Duration

	mu     sync.Mutex
	host   connectors.Host
	cancel context.CancelFunc
	done   chan struct{}
	// state is the last state reported for the bot's connection.
	state connectors.StateEvent
}

var namePattern = regexp.MustCompile(`^[a-z0-9]+$`)

// New returns a connector for the network called name (lower case
// [a-z0-9]+: "testnet", "testa") at base URL url, using DefaultBotToken. It
// panics on a bad name, a programmer's error.
func New(name, url string) *Connector {
	if !namePattern.MatchString(name) {
		panic(fmt.Sprintf("connectortest: network name %q: want [a-z0-9]+", name))
	}
	transport := &http.Transport{
		Proxy:               nil, // loopback; never an environment's proxy
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     30 * time.Second,
	}
	return &Connector{
		info:       connectors.Info{Name: name, DisplayName: "Test network " + name},
		url:        strings.TrimRight(url, "/"),
		botToken:   DefaultBotToken,
		transport:  transport,
		http:       &http.Client{Transport: transport},
		BackoffMax: time.Second,
	}
}

// Section is the config section of a test network (bridges.<name>):
//
//	bridges:
//	  testnet:
//	    enabled: true
//	    relay: true
//	    url: http://127.0.0.1:8090
type Section struct {
	connectors.Settings `yaml:",inline"`
	// URL is the network's base URL (what Network.Start returned).
	URL string `yaml:"url"`
	// BotToken is the bot's token; "" means DefaultBotToken.
	BotToken string `yaml:"bot_token,omitempty"`
}

// Validate checks the section.
func (s *Section) Validate() error {
	if s.URL == "" {
		return errors.New("url: missing; set the test network's base URL, like http://127.0.0.1:8090")
	}
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("url: %q is not an absolute http(s) URL; write it like http://127.0.0.1:8090", s.URL)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("url: %q: give scheme, host, port and path only", s.URL)
	}
	return nil
}

// FromSection returns the connector a validated section describes.
func FromSection(name string, s *Section) *Connector {
	c := New(name, s.URL)
	if s.BotToken != "" {
		c.botToken = s.BotToken
	}
	return c
}

// Info names the network.
func (c *Connector) Info() connectors.Info { return c.info }

// Start begins the bot's event loop and returns; see the package's
// network_api.go for the stream it reads.
func (c *Connector) Start(ctx context.Context, host connectors.Host) error {
	c.mu.Lock()
	if c.done != nil {
		c.mu.Unlock()
		return errors.New("connectortest: Start called twice")
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	c.host, c.cancel, c.done = host, cancel, done
	c.mu.Unlock()

	c.setState(ctx, connectors.State{Event: connectors.StateConnecting})
	go func() {
		defer close(done)
		c.run(runCtx)
	}()
	return nil
}

// Stop ends the event loop and closes the connector's idle connections. It
// may be called more than once, and before Start.
func (c *Connector) Stop(ctx context.Context) error {
	c.mu.Lock()
	cancel, done := c.cancel, c.done
	c.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	if done != nil {
		select {
		case <-done:
		case <-ctx.Done():
			return fmt.Errorf("stop %s: %w", c.info.Name, ctx.Err())
		}
	}
	c.transport.CloseIdleConnections()
	return nil
}

func (c *Connector) hostOrNil() connectors.Host {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.host
}

func (c *Connector) log() *slog.Logger {
	if h := c.hostOrNil(); h != nil {
		return h.Log()
	}
	return slog.New(slog.DiscardHandler)
}

// setState reports s to the host, leaving out repeats of the bot
// connection's state.
func (c *Connector) setState(ctx context.Context, s connectors.State) {
	c.mu.Lock()
	host := c.host
	if s.UserID == "" {
		if c.state == s.Event {
			c.mu.Unlock()
			return
		}
		c.state = s.Event
	}
	c.mu.Unlock()
	if host != nil {
		host.SetState(ctx, s)
	}
}

// run is the bot's event loop: connect (learning where the stream resumes),
// long-poll, queue, ack; on any failure report it, back off and reconnect.
func (c *Connector) run(ctx context.Context) {
	log := c.log()
	var backoff time.Duration
	after := int64(-1) // < 0: not connected
	for ctx.Err() == nil {
		var err error
		if after < 0 {
			after, err = c.connect(ctx)
			if err == nil {
				log.InfoContext(ctx, "connected", slog.Int64("resume_after", after))
				c.setState(ctx, connectors.State{Event: connectors.StateConnected})
				backoff = 0
				c.checkLogins(ctx, "")
				continue
			}
			after = -1
		} else {
			var events []wireEvent
			events, err = c.poll(ctx, after)
			if err == nil {
				after, err = c.handle(ctx, events, after)
				if err == nil {
					backoff = 0
					continue
				}
			}
		}
		if ctx.Err() != nil {
			return
		}
		if !errors.Is(err, errQueue) {
			after = -1
			c.disconnected(ctx, err)
		}
		backoff = min(max(2*backoff, 50*time.Millisecond), c.BackoffMax)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// errQueue wraps a failure of Host.Queue: the event is retried without
// reconnecting.
var errQueue = errors.New("queue")

func (c *Connector) disconnected(ctx context.Context, err error) {
	c.log().WarnContext(ctx, "connection to the test network lost", slog.String("error", err.Error()))
	if errors.Is(err, errBadToken) {
		c.setState(ctx, connectors.State{Event: connectors.StateBadCredentials,
			Message: "the test network refused the bot token; check bot_token"})
		return
	}
	c.setState(ctx, connectors.State{Event: connectors.StateTransientDisconnect, Message: err.Error()})
}

// connect returns the seq the stream resumes after: the bot's last ack.
func (c *Connector) connect(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	var res wireConnect
	if err := c.call(ctx, c.botToken, http.MethodPost, "/connect", nil, nil, &res); err != nil {
		return 0, err
	}
	return res.Acked, nil
}

// pollWait is how long one long-poll asks the network to wait.
const pollWait = DefaultPollTimeout

func (c *Connector) poll(ctx context.Context, after int64) ([]wireEvent, error) {
	ctx, cancel := context.WithTimeout(ctx, pollWait+10*time.Second)
	defer cancel()
	var res wireEvents
	path := "/events?after=" + strconv.FormatInt(after, 10) + "&timeout_ms=" + strconv.FormatInt(pollWait.Milliseconds(), 10)
	if err := c.call(ctx, c.botToken, http.MethodGet, path, nil, nil, &res); err != nil {
		return nil, err
	}
	return res.Events, nil
}

// handle queues events (leaving out the connector's own echoes) in order,
// all of a poll in one batch, then acks the last one handled. It returns
// the seq to poll after. Queueing failing stops there: the events from the
// batch's first on are retried, never skipped (the bridge drops those it
// already has).
func (c *Connector) handle(ctx context.Context, events []wireEvent, after int64) (int64, error) {
	host, log := c.hostOrNil(), c.log()
	last := after
	var batch []*connectors.RemoteEvent
	batchFrom := after // the seq before the batch's first event
	var qerr error
	flush := func() {
		if len(batch) == 0 || qerr != nil {
			return
		}
		if err := host.QueueBatch(ctx, batch); err != nil {
			qerr = fmt.Errorf("%w: events after %d: %w", errQueue, batchFrom, err)
			last = batchFrom
		}
		batch = nil
	}
	for i := range events {
		ev := &events[i]
		if ev.Seq <= last {
			continue
		}
		switch {
		case ev.Type == evSessionRevoked:
			flush()
			if ev.Via != nil && ev.Via.Client == c.info.Name {
				c.checkLogins(ctx, connectors.RemoteUserID(ev.User))
			}
		case isEcho(ev, c.info.Name):
		default:
			re, err := toRemoteEvent(ev)
			if err != nil {
				log.WarnContext(ctx, "skipping an event", slog.String("error", err.Error()))
				break
			}
			if len(batch) == 0 {
				batchFrom = last
			}
			batch = append(batch, re)
		}
		if qerr != nil {
			break
		}
		last = ev.Seq
	}
	flush()
	if last > after {
		actx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		if err := c.call(actx, c.botToken, http.MethodPost, "/ack", nil, wireAck{Seq: last}, nil); err != nil {
			// The network resends what it has not seen acked after the
			// reconnect; the bridge drops what it has.
			return after, err
		}
	}
	return last, qerr
}

// checkLogins asks the network about each stored login (of user, or all
// when user is ""), reporting CONNECTED or BAD_CREDENTIALS for each.
func (c *Connector) checkLogins(ctx context.Context, user connectors.RemoteUserID) {
	host := c.hostOrNil()
	logins, err := host.Logins(ctx)
	if err != nil {
		c.log().WarnContext(ctx, "cannot list logins", slog.String("error", err.Error()))
		return
	}
	for _, l := range logins {
		if len(l.Secret) == 0 || (user != "" && l.RemoteUser != user) {
			continue
		}
		// A refused token is reported by the client itself.
		if _, err := c.loginClient(l).whoami(ctx); err == nil {
			c.setState(ctx, connectors.State{Event: connectors.StateConnected, UserID: l.UserID, Login: l.ID})
		}
	}
}

func (c *Connector) loginClient(l *connectors.Login) *client {
	return &client{conn: c, token: string(l.Secret), login: l}
}

// ClientFor returns a client for user's first login on the network, or
// ErrNoIdentity.
func (c *Connector) ClientFor(_ context.Context, user *connectors.MatrixUser) (connectors.Client, error) {
	if user == nil {
		return nil, connectors.ErrNoIdentity
	}
	for _, l := range user.Logins {
		if len(l.Secret) > 0 {
			return c.loginClient(l), nil
		}
	}
	return nil, connectors.ErrNoIdentity
}

// Relay returns the bot's client; it shows a relayed message's sender in
// the message's relayed_for.
func (c *Connector) Relay(context.Context) (connectors.Client, error) {
	return &client{conn: c, token: c.botToken}, nil
}

// ChatInfo asks the network about chat, as the bot.
func (c *Connector) ChatInfo(ctx context.Context, chat connectors.PortalID) (*connectors.ChatInfo, error) {
	p, err := chatPath(chat)
	if err != nil {
		return nil, err
	}
	var res wireChat
	bot := &client{conn: c, token: c.botToken}
	if err := bot.do(ctx, http.MethodGet, p, nil, nil, &res); err != nil {
		return nil, fmt.Errorf("chat info of %s: %w", chat, err)
	}
	info := &connectors.ChatInfo{Name: res.Name, Topic: res.Topic, Public: res.Public}
	for _, m := range res.Members {
		info.Members = append(info.Members, connectors.RemoteUserID(m))
	}
	return info, nil
}

// UserInfo asks the network about user, as the bot.
func (c *Connector) UserInfo(ctx context.Context, user connectors.RemoteUserID) (*connectors.UserInfo, error) {
	if !validID(string(user)) {
		return nil, fmt.Errorf("%w: user %q", connectors.ErrNotFound, user)
	}
	var res wireUser
	bot := &client{conn: c, token: c.botToken}
	if err := bot.do(ctx, http.MethodGet, "/users/"+string(user), nil, nil, &res); err != nil {
		return nil, fmt.Errorf("user info of %s: %w", user, err)
	}
	return &connectors.UserInfo{DisplayName: res.Name}, nil
}
