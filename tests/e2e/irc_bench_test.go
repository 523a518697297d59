package e2e

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/connectors"
	"switchboard/connectors/irc"
	"switchboard/connectors/irc/irctest"
	"switchboard/internal/database/dbtest"
)

// The IRC benchmarks run messages end to end: a raw IRC client on InspIRCd
// on one side; on the other a Matrix client on the built-in homeserver (in
// process, SQLite, over loopback HTTP), reading with /sync long-polls. A
// message's latency is from just before one side writes it (the IRC line,
// or the Matrix client's send request) until the other side has read it
// (the IRC line, or the /sync response holding it), so it includes
// InspIRCd, the bridge, the homeserver and the client reading. Flood
// control is off on the test server and in the bridge.
//
// Messages are told apart by a unique token, the last word of their text.

// benchBurst and benchLatencyMessages are the sizes of a throughput burst
// and of a latency run (each at least; more when b.N is larger).
const (
	benchBurst           = 2000
	benchLatencyMessages = 200
	// benchWait bounds the wait for one message, or for a whole burst.
	benchWait = 2 * time.Minute
)

// newIRCBenchWorld is newIRCWorld for a testing.TB: the built-in homeserver
// with the IRC bridge to a fresh InspIRCd, pacing off, channels bridged at
// start.
func newIRCBenchWorld(tb testing.TB, channels ...string) *ircWorld {
	tb.Helper()
	srv := irctest.Start(tb, irctest.Options{Kind: irctest.InspIRCd})
	cfg := irc.NetworkConfig{ID: ircNet, Name: "Test IRC", Server: srv.Addr, BotNick: "switchboard",
		Channels: channels, Flood: irc.Flood{LinesPerSecond: 0, Burst: 1}, LinkConsent: "ops"}
	section := irc.NewSection()
	section.Enabled = true
	section.Networks = []irc.NetworkConfig{cfg}
	opts := worldOptions{connectors: map[string]func() connectors.Connector{"irc": func() connectors.Connector {
		c, err := irc.New(section)
		if err != nil {
			tb.Fatal(err)
		}
		return c
	}}}
	w := newWorld(tb, dbtest.SQLite(tb), opts, "irc")
	return &ircWorld{world: w, srv: srv}
}

// arrivals records when each token was first read on one side, and how
// often.
type arrivals struct {
	mu    sync.Mutex
	at    map[string]time.Time
	count map[string]int
	wake  chan struct{}
}

func newArrivals() *arrivals {
	return &arrivals{at: map[string]time.Time{}, count: map[string]int{}, wake: make(chan struct{})}
}

func (a *arrivals) add(token string, at time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.at[token]; !ok {
		a.at[token] = at
	}
	a.count[token]++
	close(a.wake)
	a.wake = make(chan struct{})
}

// waitAll waits until every token arrived, or until deadline, and returns
// the latest arrival and the tokens that did not arrive.
func (a *arrivals) waitAll(tokens []string, deadline time.Time) (last time.Time, missing []string) {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	next := 0
	for {
		a.mu.Lock()
		for ; next < len(tokens); next++ {
			at, ok := a.at[tokens[next]]
			if !ok {
				break
			}
			if at.After(last) {
				last = at
			}
		}
		wake := a.wake
		a.mu.Unlock()
		if next == len(tokens) {
			return last, nil
		}
		select {
		case <-wake:
		case <-timer.C:
			return last, tokens[next:]
		}
	}
}

// wait waits for one token and returns when it arrived.
func (a *arrivals) wait(token string, deadline time.Time) (time.Time, bool) {
	last, missing := a.waitAll([]string{token}, deadline)
	return last, len(missing) == 0
}

// duplicates counts the extra arrivals of tokens.
func (a *arrivals) duplicates(tokens []string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, t := range tokens {
		n += max(0, a.count[t]-1)
	}
	return n
}

// lastWord is a message's token.
func lastWord(text string) string {
	fields := strings.Fields(text)
	if len(fields) == 0 {
		return ""
	}
	return fields[len(fields)-1]
}

// syncArrivals runs a /sync long-poll loop as u (a client of its own, from
// now on) and records every m.room.message in rooms as it is read. Like a
// client with the room open, it marks what it read as read (in the
// background, the latest event per room): the homeserver counts a room's
// unread messages at every sync, and without receipts that count, and the
// sync, grows with every message a benchmark sends. The receipts are
// private (m.read.private), as with a client that does not share them, so
// that the bridge has none to carry over. The timeline limit is
// raised to 1000 so that a burst is not cut short between two syncs; a
// limited timeline is counted in the returned counter, since events it
// skipped are never read.
func syncArrivals(tb testing.TB, w *world, u *user, rooms map[id.RoomID]*arrivals) *atomic.Int64 {
	tb.Helper()
	c, err := mautrix.NewClient(w.hsURL, u.id, u.c.AccessToken)
	if err != nil {
		tb.Fatal(err)
	}
	const filter = `{"room":{"timeline":{"limit":1000}}}`
	first, err := c.FullSyncRequest(context.Background(), mautrix.ReqSync{FilterID: filter})
	if err != nil {
		tb.Fatalf("first sync: %v", err)
	}
	limited := &atomic.Int64{}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	tb.Cleanup(func() { cancel(); wg.Wait() })

	var readMu sync.Mutex
	read := map[id.RoomID]id.EventID{} // latest read, not yet marked
	readWake := make(chan struct{}, 1)
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-readWake:
			}
			readMu.Lock()
			marks := read
			read = map[id.RoomID]id.EventID{}
			readMu.Unlock()
			for room, evt := range marks {
				_ = c.SendReceipt(ctx, room, evt, event.ReceiptTypeReadPrivate, nil)
			}
		}
	})

	wg.Go(func() {
		since := first.NextBatch
		for ctx.Err() == nil {
			resp, err := c.FullSyncRequest(ctx, mautrix.ReqSync{Timeout: 30000, Since: since, FilterID: filter})
			now := time.Now()
			if err != nil {
				if ctx.Err() == nil {
					time.Sleep(10 * time.Millisecond)
				}
				continue
			}
			since = resp.NextBatch
			for roomID, room := range resp.Rooms.Join {
				a := rooms[roomID]
				if a == nil {
					continue
				}
				if room.Timeline.Limited {
					limited.Add(1)
				}
				var latest id.EventID
				for _, evt := range room.Timeline.Events {
					if evt.Type != event.EventMessage {
						continue
					}
					if body, ok := evt.Content.Raw["body"].(string); ok {
						a.add(lastWord(body), now)
					}
					latest = evt.ID
				}
				if latest != "" {
					readMu.Lock()
					read[roomID] = latest
					readMu.Unlock()
					select {
					case readWake <- struct{}{}:
					default:
					}
				}
			}
		}
	})
	return limited
}

// ircArrivals reads c's lines in the background and records the PRIVMSGs
// from nick to channels whose name starts with prefix as they arrive. From
// now on nothing else may wait for lines on c.
func ircArrivals(tb testing.TB, c *irctest.Client, nick, prefix string) *arrivals {
	a := newArrivals()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	tb.Cleanup(func() { cancel(); wg.Wait() })
	match := func(m *irctest.Message) bool {
		return m.Command == "PRIVMSG" && len(m.Params) == 2 && strings.EqualFold(m.Nick(), nick) &&
			strings.HasPrefix(strings.ToLower(m.Params[0]), prefix)
	}
	wg.Go(func() {
		for ctx.Err() == nil {
			m, err := c.Wait(200*time.Millisecond, match)
			if err != nil {
				select {
				case <-c.Disconnected():
					return
				default:
					continue
				}
			}
			a.add(lastWord(m.Last()), time.Now())
		}
	})
	return a
}

// benchChannel names the i-th channel.
func benchChannel(i int) string {
	if i == 0 {
		return "#bench"
	}
	return fmt.Sprintf("#bench%d", i)
}

// ircBench is bridged channels with a raw IRC client (bob) and a Matrix
// user with their own IRC connection (alice, as alice[m]) in each.
type ircBench struct {
	bob      *irctest.Client
	alice    *user
	rooms    []id.RoomID
	toMatrix *arrivals // read by alice's /sync loop
	toIRC    *arrivals // alice[m]'s lines, read by bob
	limited  *atomic.Int64
	seq      atomic.Int64
}

// newIRCBench sets up a world with chats bridged channels.
func newIRCBench(b *testing.B, chats int) *ircBench {
	b.Helper()
	channels := make([]string, chats)
	for i := range channels {
		channels[i] = benchChannel(i)
	}
	w := newIRCBenchWorld(b, channels...)
	bob := w.ircUser("bob", "")
	alice := w.newUser("alice")
	ib := &ircBench{bob: bob, alice: alice, toMatrix: newArrivals()}
	watch := map[id.RoomID]*arrivals{}
	for _, ch := range channels {
		bob.Join(ch)
		room := w.joinPortal(alice, ch, "alice[m]", bob)
		ib.rooms = append(ib.rooms, room)
		watch[room] = ib.toMatrix
	}
	ib.limited = syncArrivals(b, w.world, alice, watch)
	ib.toIRC = ircArrivals(b, bob, "alice[m]", "#bench")
	// Warm up both ways in every channel: the puppet joins the room,
	// alice's connection is in the channel.
	for chat := range chats {
		ib.latencies(b, "warmup", 2, ib.sendIRC(chat), ib.toMatrix)
		ib.latencies(b, "warmup", 2, ib.sendMatrix(chat), ib.toIRC)
	}
	return ib
}

// tokens makes n new tokens.
func (ib *ircBench) tokens(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d", prefix, ib.seq.Add(1))
	}
	return out
}

// sendIRC sends as bob to the chat-th channel.
func (ib *ircBench) sendIRC(chat int) func(token string) error {
	line := "PRIVMSG " + benchChannel(chat) + " :message "
	return func(token string) error { return ib.bob.WriteLine(line + token) }
}

// sendMatrix sends as alice to the chat-th portal.
func (ib *ircBench) sendMatrix(chat int) func(token string) error {
	return func(token string) error {
		_, err := ib.alice.c.SendText(context.Background(), ib.rooms[chat], "message "+token)
		return err
	}
}

// latencies sends n messages one at a time, each once the one before
// arrived, and returns their latencies, sorted.
func (ib *ircBench) latencies(b *testing.B, prefix string, n int, send func(string) error, to *arrivals) []time.Duration {
	b.Helper()
	out := make([]time.Duration, 0, n)
	for _, token := range ib.tokens(prefix, n) {
		start := time.Now()
		if err := send(token); err != nil {
			b.Fatalf("send %s: %v", token, err)
		}
		at, ok := to.wait(token, time.Now().Add(benchWait))
		if !ok {
			b.Fatalf("%s did not arrive in %v", token, benchWait)
		}
		out = append(out, at.Sub(start))
	}
	slices.Sort(out)
	return out
}

// burst sends n messages from len(senders) goroutines, each sending its
// share one after the other as fast as it can, waits until all arrived
// exactly once, and returns the time from the first send to the last
// arrival and how long sending took.
func (ib *ircBench) burst(b *testing.B, prefix string, n int, senders []func(string) error, to *arrivals) (elapsed, sending time.Duration) {
	b.Helper()
	tokens := ib.tokens(prefix, n)
	start := time.Now()
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	for s, send := range senders {
		wg.Go(func() {
			for i := s; i < n; i += len(senders) {
				if err := send(tokens[i]); err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
			}
		})
	}
	wg.Wait()
	sending = time.Since(start)
	if err := failed.Load(); err != nil {
		b.Fatalf("send: %v", *err)
	}
	last, missing := to.waitAll(tokens, time.Now().Add(benchWait))
	if len(missing) > 0 {
		b.Fatalf("%d of %d messages did not arrive in %v (first missing: %s; limited syncs: %d)",
			len(missing), n, benchWait, missing[0], ib.limited.Load())
	}
	if d := to.duplicates(tokens); d > 0 {
		b.Errorf("%d duplicate arrivals in a burst of %d", d, n)
	}
	return last.Sub(start), sending
}

func reportLatency(b *testing.B, lat []time.Duration) {
	b.ReportMetric(ms(percentile(lat, 0.5)), "p50-ms")
	b.ReportMetric(ms(percentile(lat, 0.99)), "p99-ms")
	b.ReportMetric(0, "ns/op")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkIRC measures messages through the IRC bridge and the built-in
// homeserver, both ways, each run in a world of its own (fresh InspIRCd,
// homeserver and bridge databases):
//
//   - latency: one message at a time in one channel (p50-ms, p99-ms);
//   - throughput: a burst of 2000 (or b.N) messages spread over 1 or 8
//     channels; msgs/s is how many arrived per second from the first send
//     to the last arrival, each checked to arrive exactly once. IRC →
//     Matrix is one IRC client writing all its lines at once, round robin
//     over the channels. Matrix → IRC is one Matrix user sending from 8
//     goroutines (send-msgs/s is how fast the homeserver took them),
//     relayed through the user's own IRC connection; the bridge keeps each
//     room's order, so one room's messages go one at a time, each once the
//     server echoed the one before.
func BenchmarkIRC(b *testing.B) {
	b.Run("irc_to_matrix/latency", func(b *testing.B) {
		ib := newIRCBench(b, 1)
		reportLatency(b, ib.latencies(b, "lat", max(b.N, benchLatencyMessages), ib.sendIRC(0), ib.toMatrix))
	})
	b.Run("matrix_to_irc/latency", func(b *testing.B) {
		ib := newIRCBench(b, 1)
		reportLatency(b, ib.latencies(b, "lat", max(b.N, benchLatencyMessages), ib.sendMatrix(0), ib.toIRC))
	})
	for _, chats := range []int{1, 8} {
		b.Run(fmt.Sprintf("irc_to_matrix/throughput/chats=%d", chats), func(b *testing.B) {
			ib := newIRCBench(b, chats)
			n := max(b.N, benchBurst)
			// One writer: its lines go out in token order, round robin
			// over the channels.
			elapsed, _ := ib.burst(b, "burst", n, []func(string) error{func(token string) error {
				i, _ := strconv.Atoi(token[strings.LastIndexByte(token, '-')+1:])
				return ib.sendIRC(i % chats)(token)
			}}, ib.toMatrix)
			b.ReportMetric(float64(n)/elapsed.Seconds(), "msgs/s")
			b.ReportMetric(0, "ns/op")
		})
		b.Run(fmt.Sprintf("matrix_to_irc/throughput/chats=%d", chats), func(b *testing.B) {
			ib := newIRCBench(b, chats)
			n := max(b.N, benchBurst)
			senders := make([]func(string) error, 8)
			for i := range senders {
				senders[i] = ib.sendMatrix(i % chats)
			}
			elapsed, sending := ib.burst(b, "burst", n, senders, ib.toIRC)
			b.ReportMetric(float64(n)/elapsed.Seconds(), "msgs/s")
			b.ReportMetric(float64(n)/sending.Seconds(), "send-msgs/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}
