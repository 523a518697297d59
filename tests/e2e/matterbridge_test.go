//go:build linux

package e2e

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/connectors/irc/irctest"
)

// BenchmarkIRCMatterbridge puts Switchboard side by side with matterbridge
// 1.26.0, a Go relay bot, on the same InspIRCd and the same built-in
// homeserver: IRC → Matrix throughput (a burst of 2000 lines from one IRC
// client) and latency (one line at a time), read by the same /sync client.
// Switchboard bridges #bench to its portal, as the IRC user's puppet;
// matterbridge relays #mbbench to a room of its own, as its one Matrix
// account ("<bob> text"). Each runs while the other is idle, and the ratio
// is printed at the end.
//
// matterbridge paces its IRC sends (MessageDelay, 1300 ms a line by
// default, and a queue of 30 that drops what overflows); both are set out
// of the way (MessageDelay=1, its minimum, as 0 means the default;
// MessageQueue=100000), although only its IRC → Matrix direction is
// measured here. It speaks the r0 client API, which the built-in
// homeserver does not serve (it serves v3, as the spec has since v1.1), so
// its requests go through a small proxy that rewrites /r0/ to /v3/.
//
// MATTERBRIDGE_BIN names the binary; without it the benchmark skips.
// scripts/compare-matterbridge.sh builds it and runs this.
func BenchmarkIRCMatterbridge(b *testing.B) {
	bin := os.Getenv("MATTERBRIDGE_BIN")
	if bin == "" {
		const how = "set MATTERBRIDGE_BIN to a matterbridge 1.26.0 binary; scripts/compare-matterbridge.sh builds one and runs this benchmark"
		if os.Getenv("CI") == "true" {
			b.Fatal(how)
		}
		b.Skip(how)
	}
	if info, err := os.Stat(bin); err == nil && info.IsDir() {
		bin = filepath.Join(bin, "matterbridge")
	}
	if _, err := os.Stat(bin); err != nil {
		b.Fatalf("MATTERBRIDGE_BIN: %v", err)
	}

	w := newIRCBenchWorld(b, "#bench")
	bob := w.ircUser("bob", "#bench")
	bob.Join("#mbbench")
	alice := w.newUser("alice")
	sbRoom := w.joinPortal(alice, "#bench", "alice[m]", bob)
	mbRoom := createRoom(b, alice, "mbbench")
	bot := w.newUser("matterbot")
	startMatterbridge(b, bin, w, "matterbot", "correct horse matterbot", "#mbbench", "#mbbench:"+serverName)
	bob.Expect(time.Minute, "matterbridge joins #mbbench", irctest.Joined("matterbot", "#mbbench"))
	alice.waitMember(mbRoom, bot.id, event.MembershipJoin)

	sb, mb := newArrivals(), newArrivals()
	limited := syncArrivals(b, w.world, alice, map[id.RoomID]*arrivals{sbRoom: sb, mbRoom: mb})
	ib := &ircBench{bob: bob, alice: alice, rooms: []id.RoomID{sbRoom}, toMatrix: sb, limited: limited}
	relays := []struct {
		name    string
		channel string
		to      *arrivals
	}{{"switchboard", "#bench", sb}, {"matterbridge", "#mbbench", mb}}
	type result struct{ rate, p50 float64 }
	results := map[string]result{}
	for _, r := range relays {
		send := func(token string) error { return bob.WriteLine("PRIVMSG " + r.channel + " :message " + token) }
		ib.latencies(b, "warmup", 5, send, r.to)
		b.Run(r.name, func(b *testing.B) {
			lat := ib.latencies(b, "lat", max(b.N, benchLatencyMessages), send, r.to)
			n := max(b.N, benchBurst)
			elapsed, _ := ib.burst(b, "burst", n, []func(string) error{send}, r.to)
			res := result{rate: float64(n) / elapsed.Seconds(), p50: ms(percentile(lat, 0.5))}
			results[r.name] = res
			b.ReportMetric(res.rate, "msgs/s")
			reportLatency(b, lat)
		})
	}
	sbr, ok1 := results["switchboard"]
	mbr, ok2 := results["matterbridge"]
	if ok1 && ok2 && mbr.rate > 0 && sbr.p50 > 0 {
		fmt.Printf("IRC → Matrix: Switchboard %.0f msgs/s, matterbridge %.0f msgs/s: ratio %.2f; p50 latency Switchboard %.2f ms, matterbridge %.2f ms: ratio %.2f\n",
			sbr.rate, mbr.rate, sbr.rate/mbr.rate, sbr.p50, mbr.p50, mbr.p50/sbr.p50)
	}
}

// createRoom has u create a public room with the alias #alias.
func createRoom(tb testing.TB, u *user, alias string) id.RoomID {
	tb.Helper()
	resp, err := u.c.CreateRoom(context.Background(), &mautrix.ReqCreateRoom{Preset: "public_chat", RoomAliasName: alias, Name: alias})
	if err != nil {
		tb.Fatalf("create #%s: %v", alias, err)
	}
	return resp.RoomID
}

// r0Proxy serves the homeserver at hsURL under the r0 client API prefix
// too, for clients that predate v3.
func r0Proxy(tb testing.TB, hsURL string) string {
	tb.Helper()
	target, err := url.Parse(hsURL)
	if err != nil {
		tb.Fatal(err)
	}
	const r0, v3 = "/_matrix/client/r0/", "/_matrix/client/v3/"
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.URL.Path = strings.Replace(r.Out.URL.Path, r0, v3, 1)
		r.Out.URL.RawPath = strings.Replace(r.Out.URL.RawPath, r0, v3, 1)
	}}
	srv := httptest.NewServer(proxy)
	tb.Cleanup(srv.Close)
	return srv.URL
}

// startMatterbridge runs matterbridge relaying ircChannel on the world's
// IRC server to matrixRoom, logged in to the homeserver as login.
func startMatterbridge(tb testing.TB, bin string, w *ircWorld, login, password, ircChannel, matrixRoom string) {
	tb.Helper()
	dir := tb.TempDir()
	conf := fmt.Sprintf(`[irc.bench]
Server=%q
Nick=%q
# No pacing: the test server has no flood limits. 0 means the default
# (1300 ms), so 1 ms is the least there is.
MessageDelay=1
MessageQueue=100000
RemoteNickFormat="<{NICK}> "
NoSendJoinPart=true

[matrix.bench]
Server=%q
Login=%q
Password=%q
RemoteNickFormat="<{NICK}> "
NoHomeServerSuffix=true

[[gateway]]
name="bench"
enable=true
    [[gateway.inout]]
    account="irc.bench"
    channel=%q

    [[gateway.inout]]
    account="matrix.bench"
    channel=%q
`, w.srv.Addr, login, r0Proxy(tb, w.hsURL), login, password, ircChannel, matrixRoom)
	confPath := filepath.Join(dir, "matterbridge.toml")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		tb.Fatal(err)
	}
	logPath := filepath.Join(dir, "matterbridge.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin, "-conf", confPath)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start matterbridge: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	tb.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		logFile.Close()
		if tb.Failed() {
			out, _ := os.ReadFile(logPath)
			lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
			tb.Logf("matterbridge log (last %d lines of %s):\n%s", min(40, len(lines)), logPath, strings.Join(lines[max(0, len(lines)-40):], "\n"))
		}
	})
}
