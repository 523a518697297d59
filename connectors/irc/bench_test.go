package irc

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"switchboard/connectors"
	"switchboard/connectors/connectortest"
	"switchboard/connectors/irc/irctest"
)

const (
	// benchConnections is how many Matrix users' connections
	// BenchmarkUserConnections opens.
	benchConnections = 1000
	// stopTimeout bounds the connector's Stop at the end.
	stopTimeout = 5 * time.Minute
)

// quietHost is the fake host with its log silenced: the fake host logs at
// debug level to b.Log, which a benchmark always prints, and a thousand
// connections log a lot.
type quietHost struct{ *connectortest.FakeHost }

func (quietHost) Log() *slog.Logger { return slog.New(slog.DiscardHandler) }

// BenchmarkUserConnections opens benchConnections Matrix users' own IRC
// connections in one process through the connector's public API (ClientFor,
// then JoinChat as the bridge does when a user joins a portal), against
// InspIRCd, and reports:
//
//   - connect-s: from the first JoinChat until every connection is in its
//     channel, as a raw IRC client sees it;
//   - settle-s: from then until the process is idle (below 5% of a CPU for
//     two seconds): what the connections still do after joining;
//   - KB/conn: growth of the process's resident memory (VmRSS) per idle
//     connection, read after a GC and debug.FreeOSMemory on both sides;
//   - heap-KB/conn, stack-KB/conn and goroutines/conn: where that memory
//     is, as the Go runtime sees it (girc runs several goroutines per
//     connection, each with its stack);
//   - stop-s: how long the connector's Stop then takes (at most 5 minutes).
//
// channel=shared is the case: all users join one channel (#bench).
// channel=own gives each user a channel of their own, which leaves out what
// a connection spends on tracking the other members of its channels.
//
// connects_per_second is raised to 1000 for the benchmark (the default of
// 10 a second would make the connect time 100 s by design), and flood
// pacing is off. It is heavy (1000 sockets, an InspIRCd with 1100 client
// slots, and, shared, some GB of memory for minutes), so -short skips it.
func BenchmarkUserConnections(b *testing.B) {
	if testing.Short() {
		b.Skip("opens 1000 IRC connections; run without -short")
	}
	b.Run("channel=shared", func(b *testing.B) { benchUserConnections(b, true) })
	b.Run("channel=own", func(b *testing.B) { benchUserConnections(b, false) })
}

func benchUserConnections(b *testing.B, shared bool) {
	srv := irctest.Start(b, irctest.Options{Kind: irctest.InspIRCd, MaxClients: benchConnections + 100})
	watcher := irctest.Dial(b, srv.Addr, "watcher")
	if shared {
		watcher.Join("#bench")
	}
	channel := func(i int) string {
		if shared {
			return "#bench"
		}
		return fmt.Sprintf("#own%04d", i)
	}

	section := NewSection()
	section.Enabled = true
	section.Networks = []NetworkConfig{{ID: "test", Server: srv.Addr, BotNick: "switchboard",
		Flood: Flood{LinesPerSecond: 0, Burst: 1}, ConnectsPerSecond: 1000, MaxConnections: benchConnections + 10}}
	c, err := New(section)
	if err != nil {
		b.Fatal(err)
	}
	fake := connectortest.NewFakeHost(b)
	fake.Network = "irc"
	if err := c.Start(context.Background(), quietHost{fake}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		// Stopped already unless the benchmark failed before measuring.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = c.Stop(ctx)
	})
	if err := c.networks["test"].bot.waitRegistered(context.Background(), 30*time.Second); err != nil {
		b.Fatalf("the bot did not connect: %v", err)
	}

	before := settledMemory(b)
	goroutinesBefore := runtime.NumGoroutine()

	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for i := range benchConnections {
		name := fmt.Sprintf("u%04d", i)
		cl, err := c.ClientFor(ctx, &connectors.MatrixUser{ID: id.NewUserID(name, "example.org"), DisplayName: name})
		if err != nil {
			b.Fatal(err)
		}
		if err := cl.(connectors.MemberSyncer).JoinChat(ctx, channelChat("test", channel(i))); err != nil {
			b.Fatalf("%s joins %s: %v", name, channel(i), err)
		}
	}
	deadline := time.Now().Add(3 * time.Minute)
	if shared {
		waitJoins(b, watcher, "#bench", deadline)
	} else {
		waitOwnChannels(b, watcher, "#own", deadline)
	}
	connected := time.Since(start)
	b.StopTimer()

	settle := waitIdle(b, 5*time.Minute)
	after := settledMemory(b)
	goroutinesAfter := runtime.NumGoroutine()
	b.ReportMetric(connected.Seconds(), "connect-s")
	b.ReportMetric(settle.Seconds(), "settle-s")
	perConn := func(after, before uint64) float64 {
		return float64(int64(after)-int64(before)) / 1024 / benchConnections
	}
	b.ReportMetric(perConn(after.rss, before.rss), "KB/conn")
	b.ReportMetric(perConn(after.heap, before.heap), "heap-KB/conn")
	b.ReportMetric(perConn(after.stack, before.stack), "stack-KB/conn")
	b.ReportMetric(float64(goroutinesAfter-goroutinesBefore)/benchConnections, "goroutines/conn")

	// Shutting down is measured too: every connection sends QUIT and
	// closes, and Stop waits for all their goroutines.
	stopStart := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	if err := c.Stop(ctx); err != nil {
		b.Logf("the connector did not stop within %v: %v", stopTimeout, err)
	}
	b.ReportMetric(time.Since(stopStart).Seconds(), "stop-s")
	b.ReportMetric(0, "ns/op")
}

// waitJoins waits until the watcher, in channel, has seen benchConnections
// different nicks join it.
func waitJoins(b *testing.B, watcher *irctest.Client, channel string, deadline time.Time) {
	b.Helper()
	joined := map[string]bool{}
	for len(joined) < benchConnections {
		m, err := watcher.Wait(time.Until(deadline), irctest.Joined("", channel))
		if err != nil {
			b.Fatalf("%d of %d connections joined %s in time: %v", len(joined), benchConnections, channel, err)
		}
		joined[strings.ToLower(m.Nick())] = true
	}
}

// waitOwnChannels polls LIST until benchConnections channels named
// prefix... each have a member.
func waitOwnChannels(b *testing.B, watcher *irctest.Client, prefix string, deadline time.Time) {
	b.Helper()
	for {
		watcher.Send("LIST")
		count := 0
		for {
			m, err := watcher.Wait(time.Until(deadline), func(m *irctest.Message) bool {
				return m.Command == "322" || m.Command == "323"
			})
			if err != nil {
				b.Fatalf("%d of %d connections in their channels in time: %v", count, benchConnections, err)
			}
			if m.Command == "323" {
				break
			}
			if users, _ := strconv.Atoi(m.Param(2)); strings.HasPrefix(m.Param(1), prefix) && users > 0 {
				count++
			}
		}
		if count >= benchConnections {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitIdle waits until the process has used less than 5% of a CPU for two
// seconds running, at most max, and returns how long that took.
func waitIdle(b *testing.B, max time.Duration) time.Duration {
	b.Helper()
	start := time.Now()
	quiet := 0
	last := cpuTime(b)
	for quiet < 4 && time.Since(start) < max {
		time.Sleep(500 * time.Millisecond)
		now := cpuTime(b)
		if now-last < 25*time.Millisecond {
			quiet++
		} else {
			quiet = 0
		}
		last = now
	}
	if quiet < 4 {
		b.Logf("the process was still busy after %v; measuring anyway", max)
	}
	return time.Since(start)
}

// cpuTime is the CPU time the process has used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// memory is what the process holds, in bytes: its resident set (VmRSS),
// and the Go runtime's heap spans in use and goroutine stacks.
type memory struct{ rss, heap, stack uint64 }

// settledMemory collects garbage, returns freed memory to the OS, and
// reads what the process holds.
func settledMemory(b *testing.B) memory {
	b.Helper()
	time.Sleep(time.Second)
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memory{rss: vmRSS(b), heap: ms.HeapInuse, stack: ms.StackInuse}
}

// vmRSS reads the process's resident set size from /proc/self/status.
func vmRSS(b *testing.B) uint64 {
	b.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Skipf("no /proc/self/status to read the resident set from: %v", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				b.Fatalf("VmRSS %q: %v", rest, err)
			}
			return kb * 1024
		}
	}
	b.Fatal("no VmRSS in /proc/self/status")
	return 0
}
