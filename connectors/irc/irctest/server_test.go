package irctest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// kinds are the servers every server test runs against.
var kinds = []Kind{InspIRCd, Ngircd}

// wait is the patience of every Expect in these tests: generous, since a
// match normally arrives within milliseconds.
const wait = 10 * time.Second

func TestChatAndChannelOps(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			s := Start(t, Options{Kind: kind, OperName: "admin", OperPassword: "secret"})
			alice := Dial(t, s.Addr, "alice")
			bob := Dial(t, s.Addr, "bob")

			alice.Join("#test")
			bob.Join("#test")
			alice.Expect(wait, "bob's JOIN", Joined("bob", "#test"))

			bob.Privmsg("#test", "hello from bob")
			alice.Expect(wait, "bob's channel message", Privmsg("bob", "#test", "hello from bob"))
			alice.Privmsg("bob", "hello bob")
			bob.Expect(wait, "alice's private message", Privmsg("alice", "bob", "hello bob"))

			bob.Send("NAMES #test")
			names := bob.Expect(wait, "NAMES of #test", All(Command("353"), func(m *Message) bool {
				return strings.EqualFold(m.Param(2), "#test")
			}))
			members := strings.Fields(names.Last())
			if !slices.Contains(members, "@alice") || !slices.Contains(members, "bob") {
				t.Errorf("NAMES #test = %q, want the first joiner alice opped (@alice) and bob without a prefix", members)
			}

			alice.Send("OPER admin secret")
			alice.Expect(wait, "RPL_YOUREOPER (381)", Command("381"))
			bob.ExpectNone(300*time.Millisecond, "a PRIVMSG nobody sent", Command("PRIVMSG"))
		})
	}
}

func TestNickLength30(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			s := Start(t, Options{Kind: kind})
			nick := strings.Repeat("nickname", 4)[:30]
			c := Dial(t, s.Addr, nick)
			if c.Nick() != nick {
				t.Errorf("welcomed as %q, want the 30-character %q", c.Nick(), nick)
			}
			if !slices.ContainsFunc(c.Lines(), func(l string) bool {
				return strings.Contains(l, " 005 ") && strings.Contains(l, " NICKLEN=30 ")
			}) {
				t.Errorf("no ISUPPORT (005) line announces NICKLEN=30; lines:\n%s", strings.Join(c.Lines(), "\n"))
			}
		})
	}
}

func TestRestartKeepsPort(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			s := Start(t, Options{Kind: kind})
			port, addr := s.Port(), s.Addr
			before := Dial(t, s.Addr, "alice")

			s.Restart(t)

			select {
			case <-before.Disconnected():
			case <-time.After(wait):
				t.Fatal("a client connected before the restart is still connected")
			}
			if s.Port() != port || s.Addr != addr {
				t.Errorf("after Restart the server is at %s (port %d), want %s (port %d)", s.Addr, s.Port(), addr, port)
			}
			after := Dial(t, s.Addr, "alice")
			after.Join("#back")
		})
	}
}

func TestManyConnectionsFromOneIP(t *testing.T) {
	t.Parallel()
	const clients = 300
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			s := Start(t, Options{Kind: kind})
			started := time.Now()
			conns, err := connectMany(t, s.Addr, clients, s.ListenBacklog()-2)
			t.Logf("%d of %d clients registered with %s in %v", len(conns), clients, kind, time.Since(started).Round(time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			closeAll(conns)
		})
	}
}

// connectMany registers n clients, at most inFlight at a time. InspIRCd
// completes registrations only on its once-a-second tick, so it wants them
// all at once; ngIRCd registers at once but resets connections beyond its
// listen backlog of 10.
func connectMany(t *testing.T, addr string, n, inFlight int) ([]*Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var (
		mu    sync.Mutex
		conns []*Client
		errs  []error
		wg    sync.WaitGroup
		slots = make(chan struct{}, inFlight)
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			c, err := Connect(ctx, t, addr, fmt.Sprintf("load%d", i))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			conns = append(conns, c)
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return conns, fmt.Errorf("%d of %d connections failed; first: %w", len(errs), n, errs[0])
	}
	return conns, nil
}

// closeAll closes clients in parallel rather than one by one at cleanup.
func closeAll(conns []*Client) {
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(c.Close)
	}
	wg.Wait()
}

func TestBurstWithoutFakelag(t *testing.T) {
	t.Parallel()
	const lines = 500
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			s := Start(t, Options{Kind: kind})
			alice := Dial(t, s.Addr, "alice")
			bob := Dial(t, s.Addr, "bob")
			alice.Join("#burst")
			bob.Join("#burst")

			started := time.Now()
			for i := range lines {
				alice.Privmsg("#burst", fmt.Sprintf("line %d", i))
			}
			for i := range lines {
				bob.Expect(wait, fmt.Sprintf("line %d in order", i), Privmsg("alice", "#burst", fmt.Sprintf("line %d", i)))
			}
			elapsed := time.Since(started)
			t.Logf("%s relayed a burst of %d lines in %v", kind, lines, elapsed.Round(time.Millisecond))
			if elapsed > 2*time.Second {
				t.Errorf("a burst of %d lines took %v; flood penalties look active", lines, elapsed)
			}
		})
	}
}

func TestFakelagThrottles(t *testing.T) {
	t.Parallel()
	// 12 commands at once: more than InspIRCd's threshold of 10 and than
	// ngIRCd's 3 per second, so each server delays the last by seconds.
	const pings = 12
	for _, kind := range kinds {
		for _, fakelag := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/fakelag=%v", kind, fakelag), func(t *testing.T) {
				t.Parallel()
				s := Start(t, Options{Kind: kind, Fakelag: fakelag})
				c := Dial(t, s.Addr, "pinger")
				started := time.Now()
				for i := 1; i <= pings; i++ {
					c.Sendf("PING :%d", i)
				}
				c.Expect(wait, "the last PONG", func(m *Message) bool {
					return m.Command == "PONG" && m.Last() == fmt.Sprint(pings)
				})
				elapsed := time.Since(started)
				t.Logf("%s answered %d PINGs sent at once in %v", kind, pings, elapsed.Round(time.Millisecond))
				switch {
				case fakelag && elapsed < 1500*time.Millisecond:
					t.Errorf("with Fakelag the server answered %d PINGs in %v; want it to throttle them", pings, elapsed)
				case !fakelag && elapsed > 500*time.Millisecond:
					t.Errorf("without Fakelag the server took %v for %d PINGs; want no throttling", elapsed, pings)
				}
			})
		}
	}
}

func TestStartRejectsBadOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts Options
	}{
		{"server name without a dot", Options{ServerName: "localhost"}},
		{"oper name without password", Options{OperName: "admin"}},
		{"quote in password", Options{OperName: "admin", OperPassword: `se"cret`}},
		{"negative MaxClients", Options{MaxClients: -1}},
		{"port out of range", Options{Port: 70000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.opts.withDefaults(); err == nil {
				t.Errorf("withDefaults(%+v) = nil error, want a refusal", tt.opts)
			}
		})
	}
	got, err := Options{}.withDefaults()
	if err != nil || got.MaxClients != 5000 || got.ServerName != "irc.test" {
		t.Errorf("withDefaults(zero) = %+v, %v; want MaxClients 5000 and ServerName irc.test", got, err)
	}
}
