package irctest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	// dialTimeout bounds Dial: connecting, capability negotiation and
	// registration. InspIRCd alone needs about a second to register a client.
	dialTimeout = 15 * time.Second
	// joinTimeout bounds Join's wait for the end of NAMES.
	joinTimeout = 10 * time.Second
	// writeTimeout bounds one write to the server.
	writeTimeout = 10 * time.Second
	// quitGrace is how long Close waits for the server to end the
	// connection after QUIT before cutting it.
	quitGrace = 2 * time.Second
	// failureTail is how many received lines a failure message quotes.
	failureTail = 20
)

// errTimeout is returned by Wait when nothing matched in time; Expect turns
// it into a test failure.
var errTimeout = errors.New("timed out")

// Client is a raw IRC client for tests: it answers PING on its own and keeps
// every line it receives, so tests read them with Expect. It never drops a
// line, so its memory grows with the traffic it sees: mind that in long
// benchmarks.
//
// Expect, ExpectNone, Send, Join and Privmsg fail the test and so must be
// called from the test's goroutine; Wait and WriteLine return errors instead
// and may be called from any goroutine. Only one goroutine at a time may
// wait for lines on a client.
type Client struct {
	t    testing.TB
	conn net.Conn
	nick string

	// caps is what the server offered in CAP LS; enabled what it acked.
	caps    map[string]string
	enabled map[string]bool

	writeMu sync.Mutex

	mu       sync.Mutex
	lines    []string   // every line received, raw
	messages []*Message // every line that parsed, in arrival order
	cursor   int        // messages[cursor:] arrived after the last match
	readErr  error      // why the reader stopped; nil while it runs
	// changed is closed, and replaced, whenever a line arrives or the
	// reader stops, to wake the goroutine waiting in Wait.
	changed chan struct{}

	disconnected chan struct{} // closed when the reader stops
	closeOnce    sync.Once
}

// Dial connects to addr, negotiates the IRCv3 capabilities among caps that
// the server offers (CAP LS 302, one CAP REQ each, CAP END), registers as
// nick, and waits for the welcome (001) and the end of the MOTD. The client
// answers PING by itself and is closed at test cleanup. Any failure fails
// the test.
func Dial(t testing.TB, addr, nick string, caps ...string) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	c, err := Connect(ctx, t, addr, nick, caps...)
	if err != nil {
		t.Fatalf("irctest: %v", err)
	}
	return c
}

// Connect is Dial returning an error instead of failing the test, for
// goroutines that open many connections; ctx bounds connecting and
// registering. The client is still closed at test cleanup.
func Connect(ctx context.Context, t testing.TB, addr, nick string, caps ...string) (*Client, error) {
	c, err := connect(ctx, t, addr, nick, caps)
	if err != nil {
		return nil, err
	}
	t.Cleanup(c.Close)
	return c, nil
}

// connect connects and registers a client that the caller must close.
func connect(ctx context.Context, t testing.TB, addr, nick string, caps []string) (*Client, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s as %s: %w", addr, nick, err)
	}
	c := &Client{
		t:            t,
		conn:         conn,
		nick:         nick,
		caps:         map[string]string{},
		enabled:      map[string]bool{},
		changed:      make(chan struct{}),
		disconnected: make(chan struct{}),
	}
	go c.readLoop()
	if err := c.register(ctx, caps); err != nil {
		c.Close()
		return nil, fmt.Errorf("register %s at %s: %w; last lines:\n%s", nick, addr, err, c.tail())
	}
	return c, nil
}

// Nick returns the nick the server confirmed in its welcome.
func (c *Client) Nick() string { return c.nick }

// Caps returns what the server offered in CAP LS: capability name to value
// ("" for none). Empty when no capabilities were asked for.
func (c *Client) Caps() map[string]string {
	return maps.Clone(c.caps)
}

// Enabled reports whether the server acknowledged the capability.
func (c *Client) Enabled(capability string) bool { return c.enabled[capability] }

// Send writes one raw line; the client appends CRLF. A write error fails
// the test.
func (c *Client) Send(line string) {
	c.t.Helper()
	if err := c.WriteLine(line); err != nil {
		c.t.Fatalf("irctest: %s: send %q: %v", c.nick, line, err)
	}
}

// Sendf is Send with fmt.Sprintf formatting.
func (c *Client) Sendf(format string, args ...any) {
	c.t.Helper()
	c.Send(fmt.Sprintf(format, args...))
}

// WriteLine writes one raw line (CRLF appended) and returns any error; it
// refuses lines that contain CR or LF themselves.
func (c *Client) WriteLine(line string) error {
	if strings.ContainsAny(line, "\r\n") {
		return fmt.Errorf("line %q contains CR or LF", line)
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if err := c.conn.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return err
	}
	_, err := c.conn.Write([]byte(line + "\r\n"))
	return err
}

// Join joins channel and waits for the end of its NAMES list (366). A join
// error numeric for the channel fails the test.
func (c *Client) Join(channel string) {
	c.t.Helper()
	c.Send("JOIN " + channel)
	m := c.Expect(joinTimeout, "end of NAMES for "+channel, joinOutcome(channel))
	if m.Command != "366" {
		c.t.Fatalf("irctest: %s: join %s refused: %s", c.nick, channel, m.Raw)
	}
}

// joinRefusals are the numerics a server answers a refused JOIN with.
var joinRefusals = map[string]bool{
	"403": true, "405": true, "471": true, "473": true, "474": true,
	"475": true, "476": true, "477": true, "489": true,
}

// joinOutcome matches the end of NAMES or a refusal for channel.
func joinOutcome(channel string) func(*Message) bool {
	return func(m *Message) bool {
		return (m.Command == "366" || joinRefusals[m.Command]) &&
			strings.EqualFold(m.Param(1), channel)
	}
}

// Privmsg sends text to target.
func (c *Client) Privmsg(target, text string) {
	c.t.Helper()
	c.Sendf("PRIVMSG %s :%s", target, text)
}

// Expect returns the first line that match accepts among those received
// since the previous match (earlier lines included, so a line that arrived
// before the call is found), waiting up to timeout for more. Lines before
// the match are passed over for later calls. When nothing matches in time,
// or the connection ends first, the test fails with the last lines received.
func (c *Client) Expect(timeout time.Duration, what string, match func(*Message) bool) *Message {
	c.t.Helper()
	m, err := c.Wait(timeout, match)
	if err != nil {
		c.t.Fatalf("irctest: %s: expected %s: %v; last %d lines:\n%s", c.nick, what, err, failureTail, c.tail())
	}
	return m
}

// Wait is Expect returning an error instead of failing the test.
func (c *Client) Wait(timeout time.Duration, match func(*Message) bool) (*Message, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	m, err := c.waitContext(ctx, match)
	if errors.Is(err, context.DeadlineExceeded) {
		return nil, fmt.Errorf("%w after %v", errTimeout, timeout)
	}
	return m, err
}

// waitContext is Wait bounded by ctx.
func (c *Client) waitContext(ctx context.Context, match func(*Message) bool) (*Message, error) {
	c.mu.Lock()
	next := c.cursor
	c.mu.Unlock()
	for {
		c.mu.Lock()
		for ; next < len(c.messages); next++ {
			if m := c.messages[next]; match(m) {
				c.cursor = next + 1
				c.mu.Unlock()
				return m, nil
			}
		}
		changed, readErr := c.changed, c.readErr
		c.mu.Unlock()
		if readErr != nil {
			return nil, fmt.Errorf("connection ended: %w", readErr)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// ExpectNone fails the test if a line that match accepts arrives within d,
// or is already waiting among the lines received since the previous match.
// It consumes nothing.
func (c *Client) ExpectNone(d time.Duration, what string, match func(*Message) bool) {
	c.t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	c.mu.Lock()
	next := c.cursor
	c.mu.Unlock()
	for {
		c.mu.Lock()
		for ; next < len(c.messages); next++ {
			if m := c.messages[next]; match(m) {
				c.mu.Unlock()
				c.t.Fatalf("irctest: %s: unexpected %s: %s", c.nick, what, m.Raw)
				return
			}
		}
		changed, readErr := c.changed, c.readErr
		c.mu.Unlock()
		if readErr != nil {
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			return
		}
	}
}

// Lines returns every line received so far, raw and in order.
func (c *Client) Lines() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.lines...)
}

// Disconnected is closed once the connection has ended (the server closed
// it, or Close did).
func (c *Client) Disconnected() <-chan struct{} { return c.disconnected }

// Close sends QUIT, gives the server a moment to end the connection, then
// closes it and waits for the reader. It is registered with t.Cleanup and
// safe to call more than once.
func (c *Client) Close() {
	c.closeOnce.Do(func() {
		_ = c.WriteLine("QUIT :irctest client closing")
		if tcp, ok := c.conn.(*net.TCPConn); ok {
			_ = tcp.CloseWrite()
		}
		select {
		case <-c.disconnected:
		case <-time.After(quitGrace):
		}
		_ = c.conn.Close()
		<-c.disconnected
	})
}

// readLoop stores every line until the connection ends, answering PING.
func (c *Client) readLoop() {
	defer close(c.disconnected)
	r := bufio.NewReaderSize(c.conn, 16<<10)
	for {
		line, err := r.ReadString('\n')
		if line = strings.TrimRight(line, "\r\n"); line != "" {
			c.receive(line)
		}
		if err != nil {
			c.stop(err)
			return
		}
	}
}

// receive answers a PING and records the line for Expect.
func (c *Client) receive(line string) {
	m, err := ParseLine(line)
	if err == nil && m.Command == "PING" {
		_ = c.WriteLine("PONG :" + m.Last())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lines = append(c.lines, line)
	if err == nil {
		c.messages = append(c.messages, m)
	}
	c.wakeWaitersLocked()
}

// stop records why the reader ended and wakes the waiters.
func (c *Client) stop(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.readErr = err
	c.wakeWaitersLocked()
}

// wakeWaitersLocked tells every waiter that something changed; c.mu is held.
func (c *Client) wakeWaitersLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// tail returns the last received lines, one a line, for failure messages.
func (c *Client) tail() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	lines := c.lines
	if len(lines) > failureTail {
		lines = lines[len(lines)-failureTail:]
	}
	if len(lines) == 0 {
		return "  (none)"
	}
	return "  " + strings.Join(lines, "\n  ")
}
