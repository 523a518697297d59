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
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"switchboard/connectors"
	"switchboard/connectors/connectortest"
	"switchboard/connectors/irc/irctest"
)

// benchConnections is how many Matrix users' connections
// BenchmarkUserConnections opens.
const benchConnections = 1000

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
//   - connect-s: from the first JoinChat until a watcher in the channel
//     has seen every connection join it;
//   - KB/conn: growth of the process's resident memory (VmRSS) per idle
//     connection, measured after a GC and FreeOSMemory on both sides;
//   - heap-KB/conn and goroutines/conn: where that memory is, as the Go
//     runtime sees it.
//
// connects_per_second is raised to 1000 (the default of 10 a second would
// make the connect time 100 s by design). It is heavy (1000 sockets, an
// InspIRCd with 1100 client slots), so -short skips it.
func BenchmarkUserConnections(b *testing.B) {
	if testing.Short() {
		b.Skip("opens 1000 IRC connections; run without -short")
	}
	srv := irctest.Start(b, irctest.Options{Kind: irctest.InspIRCd, MaxClients: benchConnections + 100})
	watcher := irctest.Dial(b, srv.Addr, "watcher")
	watcher.Join("#bench")

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
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := c.Stop(ctx); err != nil {
			b.Errorf("stop the connector: %v", err)
		}
	})
	n := c.networks["test"]
	if err := n.bot.waitRegistered(context.Background(), 30*time.Second); err != nil {
		b.Fatalf("the bot did not connect: %v", err)
	}

	rssBefore, heapBefore := settledMemory(b)
	goroutinesBefore := runtime.NumGoroutine()

	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for i := range benchConnections {
		user := &connectors.MatrixUser{ID: id.NewUserID(fmt.Sprintf("u%04d", i), "example.org"), DisplayName: fmt.Sprintf("u%04d", i)}
		cl, err := c.ClientFor(ctx, user)
		if err != nil {
			b.Fatal(err)
		}
		if err := cl.(connectors.MemberSyncer).JoinChat(ctx, "test/#bench"); err != nil {
			b.Fatalf("%s joins #bench: %v", user.ID, err)
		}
	}
	joined := map[string]bool{}
	deadline := time.Now().Add(3 * time.Minute)
	for len(joined) < benchConnections {
		m, err := watcher.Wait(time.Until(deadline), irctest.Joined("", "#bench"))
		if err != nil {
			b.Fatalf("%d of %d connections joined #bench in 3 minutes: %v", len(joined), benchConnections, err)
		}
		joined[strings.ToLower(m.Nick())] = true
	}
	elapsed := time.Since(start)
	b.StopTimer()

	rssAfter, heapAfter := settledMemory(b)
	goroutinesAfter := runtime.NumGoroutine()
	b.ReportMetric(elapsed.Seconds(), "connect-s")
	b.ReportMetric(float64(rssAfter-rssBefore)/1024/benchConnections, "KB/conn")
	b.ReportMetric(float64(heapAfter-heapBefore)/1024/benchConnections, "heap-KB/conn")
	b.ReportMetric(float64(goroutinesAfter-goroutinesBefore)/benchConnections, "goroutines/conn")
	b.ReportMetric(0, "ns/op")
}

// settledMemory lets the process settle, collects garbage, returns freed
// memory to the OS, and reads the resident set (VmRSS) and the memory the
// Go runtime holds for live objects and stacks, in bytes.
func settledMemory(b *testing.B) (rss, heap uint64) {
	b.Helper()
	time.Sleep(2 * time.Second)
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return vmRSS(b), ms.HeapInuse + ms.StackInuse
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
