package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/connectors"
	"switchboard/connectors/connectortest"
	"switchboard/internal/database/dbtest"
	"switchboard/registration"
)

// The tests of `serve`, `bridge` and `registration` with the test chat
// network (connectors/connectortest) built in: the network runs in the test
// process, switchboard in child processes, and a Matrix user (mautrix-go)
// talks through the bridge.

// forEachDatabase runs fn on SQLite (uri "": the default file under
// data_dir) and on a fresh PostgreSQL database (skipped when PostgreSQL is
// unreachable, a failure with CI=true).
func forEachDatabase(t *testing.T, fn func(t *testing.T, uri string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, "") })
	t.Run("postgres", func(t *testing.T) { fn(t, dbtest.PostgresURI(t)) })
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// newTestNetwork starts a test chat network with one public chat, general.
func newTestNetwork(t *testing.T) (*connectortest.Network, string) {
	t.Helper()
	n := connectortest.NewNetwork()
	n.SetPollTimeout(2 * time.Second)
	url := n.Start()
	t.Cleanup(n.Close)
	n.CreateChat("general", "General", true)
	return n, url
}

// testnetSection is bridges.testnet: enabled, relaying, at url.
func testnetSection(url string) string {
	return fmt.Sprintf("bridges:\n  testnet:\n    enabled: true\n    relay: true\n    url: %s\n", url)
}

// homeserverConfig is the config of a `serve` that Matrix users of the
// tests may register on.
const homeserverConfig = `server_name: localhost
registration:
  enabled: true
rate_limits:
  enabled: false
appservice_delivery:
  max_retry_interval: 1s
`

const puppetBob = id.UserID("@testnet_bob:localhost")

// waitCheck polls addr's /health until its check named name says "ok",
// and returns that check.
func waitCheck(t *testing.T, p *process, addr, name string, within time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(within)
	var last map[string]any
	for time.Now().Before(deadline) {
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("switchboard exited (%v):\n%s", err, p.stderr)
		default:
		}
		if resp, err := http.Get("http://" + addr + "/health"); err == nil {
			_, last = decodeHealth(resp)
			if c, _ := last[name].(map[string]any); c["status"] == "ok" {
				return c
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("/health on %s: %s not ok within %v: %v\n%s", addr, name, within, last, p.stderr)
	return nil
}

func decodeHealth(resp *http.Response) (int, map[string]any) {
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// exchange proves that messages cross the portal of general both ways:
// the Matrix user joins by alias, the network's bob speaks, the user
// answers (relayed).
func exchange(t *testing.T, network *connectortest.Network, hsURL string) (*mxUser, id.RoomID) {
	t.Helper()
	alice := newMatrixUser(t, hsURL, "alice")
	room := alice.join("#testnet_general:localhost")
	network.Post("general", "bob", "hello from the network")
	alice.waitText(room, puppetBob, "hello from the network")
	alice.send(room, "hello from Matrix")
	got := network.WaitMessage(t, "general", func(m connectortest.StoredMessage) bool { return m.Body == "hello from Matrix" })
	if got.RelayedFor != "alice" || !got.Via.Bot {
		t.Errorf("message from Matrix relayed for %q via %+v, want alice through the bot", got.RelayedFor, got.Via)
	}
	return alice, room
}

func TestRegistrationCommand(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "switchboard.yaml"), "server_name: example.org\nappservice:\n  listen: 127.0.0.1:29333\n")

	out, stderr, code := run(t, dir, nil, "registration", "--network", "testnet", "-o", "reg.yaml")
	if code != 0 || !strings.Contains(out, "reg.yaml") {
		t.Fatalf("registration -o: code %d\n%s%s", code, out, stderr)
	}
	kept := filepath.Join(dir, "data", "appservices", "testnet.yaml")
	for _, path := range []string{filepath.Join(dir, "reg.yaml"), kept} {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %o, want 600", path, info.Mode().Perm())
		}
	}
	if info, err := os.Stat(filepath.Dir(kept)); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("appservices dir: %v %v, want mode 700", info, err)
	}
	first, err := registration.Load(filepath.Join(dir, "reg.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Validate("example.org"); err != nil {
		t.Fatal(err)
	}
	if first.ID != "testnet" || first.URL != "http://127.0.0.1:29333" || first.SenderLocalpart != "testnetbot" ||
		!first.EphemeralEvents || len(first.AppToken) < 32 || len(first.ServerToken) < 32 || first.AppToken == first.ServerToken {
		t.Errorf("registration: %+v", first.Registration)
	}
	for _, c := range []struct {
		name  string
		owned bool
	}{
		{"@testnetbot:example.org", true}, {"@testnet_alice:example.org", true},
		{"@alice:example.org", false}, {"@testnet_alice:other.org", false}, {"@testnetbot2:example.org", false},
	} {
		if got := first.IsExclusiveUser(c.name); got != c.owned {
			t.Errorf("exclusive user %s: %v, want %v", c.name, got, c.owned)
		}
	}
	if !first.IsExclusiveAlias("#testnet_general:example.org") || first.IsInterestedInAlias("#general:example.org") {
		t.Error("alias namespace is not exclusively #testnet_.*:example.org")
	}

	// Again, to standard output and to another file: the same tokens.
	stdout, stderr, code := run(t, dir, nil, "registration", "--network", "testnet")
	if code != 0 {
		t.Fatalf("registration to stdout: code %d\n%s", code, stderr)
	}
	second, err := registration.Parse([]byte(stdout), "stdout")
	if err != nil {
		t.Fatalf("stdout is not a registration: %v\n%s", err, stdout)
	}
	if _, stderr, code := run(t, dir, nil, "registration", "--network", "testnet", "-o", "again.yaml"); code != 0 {
		t.Fatalf("second -o: code %d\n%s", code, stderr)
	}
	third, err := registration.Load(filepath.Join(dir, "again.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*registration.Registration{second, third} {
		if r.AppToken != first.AppToken || r.ServerToken != first.ServerToken {
			t.Errorf("%s: tokens changed between runs", r.Source())
		}
	}
	for _, want := range []string{"sender_localpart: testnetbot", "receive_ephemeral: true", `regex: ^@testnet_.*:example\.org$`, `regex: ^#testnet_.*:example\.org$`, "exclusive: true"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("registration YAML lacks %q:\n%s", want, stdout)
		}
	}

	// Another network has its own file and tokens.
	other, _, code := run(t, dir, nil, "registration", "--network", "testa")
	if code != 0 || strings.Contains(other, first.AppToken) || !strings.Contains(other, "sender_localpart: testabot") {
		t.Errorf("testa registration: code %d\n%s", code, other)
	}

	_, stderr, code = run(t, dir, nil, "registration", "--network", "nosuch")
	assertUserError(t, code, stderr, "--network nosuch", "unknown network", "testa, testb, testnet")
}

func TestBridgeUserErrors(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		env   []string
		wants []string
	}{
		{
			name:  "no homeserver.url",
			file:  testnetSection("http://127.0.0.1:1"),
			wants: []string{"homeserver.url: missing", "http://127.0.0.1:8008", "SWITCHBOARD_HOMESERVER_URL"},
		},
		{
			name:  "section missing",
			file:  "homeserver:\n  url: http://127.0.0.1:1\n",
			wants: []string{"bridges.testnet", "bridges.testnet.enabled: true"},
		},
		{
			name:  "not enabled",
			file:  "homeserver:\n  url: http://127.0.0.1:1\nbridges:\n  testnet:\n    url: http://127.0.0.1:1\n",
			wants: []string{"bridges.testnet", "bridges.testnet.enabled: true"},
		},
		{
			name:  "section without its url",
			file:  "homeserver:\n  url: http://127.0.0.1:1\nbridges:\n  testnet:\n    enabled: true\n",
			wants: []string{"config: bridges.testnet", "url: missing"},
		},
		{
			name:  "appservice.listen in use",
			file:  "homeserver:\n  url: http://127.0.0.1:1\n" + testnetSection("http://127.0.0.1:1"),
			env:   []string{"SWITCHBOARD_APPSERVICE_LISTEN=TAKEN"},
			wants: []string{"appservice.listen", "already in use", "SWITCHBOARD_APPSERVICE_LISTEN"},
		},
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "switchboard.yaml"), tc.file)
			env := []string{"SWITCHBOARD_APPSERVICE_LISTEN=" + freeAddr(t)}
			for _, e := range tc.env {
				env = append(env, strings.ReplaceAll(e, "TAKEN", taken.Addr().String()))
			}
			_, stderr, code := run(t, dir, env, "bridge", "--network", "testnet")
			assertUserError(t, code, stderr, tc.wants...)
		})
	}
}

// TestServeRunsBridges: `serve` with bridges.testnet enabled hosts the
// bridge's registration itself and runs it; a Matrix user joins the portal
// by alias and messages cross both ways; /health and /metrics show the
// bridge; SIGTERM stops it all cleanly.
func TestServeRunsBridges(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, uri string) {
		network, netURL := newTestNetwork(t)
		dir := t.TempDir()
		addr := freeAddr(t)
		writeFile(t, filepath.Join(dir, "switchboard.yaml"), homeserverConfig+fmt.Sprintf("database:\n  uri: %q\n", uri)+testnetSection(netURL))
		p := start(t, dir, []string{"SWITCHBOARD_LISTEN_CLIENT=" + addr}, "serve")
		waitReady(t, p, addr, 15*time.Second)
		check := waitCheck(t, p, addr, "bridge_testnet", 15*time.Second)
		if check["network"] != "testnet" || check["healthy"] != true {
			t.Errorf("/health bridge_testnet: %v", check)
		}

		exchange(t, network, "http://"+addr)

		code, health := getJSON(t, "http://"+addr+"/health")
		bridgeHealth, _ := health["bridge_testnet"].(map[string]any)
		if code != 200 || health["status"] != "ok" || bridgeHealth["portals"] != float64(1) {
			t.Errorf("/health after the exchange: %d %v", code, health)
		}
		code, status := getJSON(t, "http://"+addr+"/_switchboard/status")
		if bs, _ := status["bridges"].(map[string]any); code != 200 || bs["testnet"] == nil {
			t.Errorf("/_switchboard/status: %d %v", code, status)
		}
		waitMetric(t, addr, `switchboard_bridge_events_delivered_total{direction="to_network",network="testnet"}`, 1)
		waitMetric(t, addr, `switchboard_bridge_events_delivered_total{direction="to_matrix",network="testnet"}`, 1)
		if m := getText(t, "http://"+addr+"/metrics"); !strings.Contains(m, `switchboard_bridge_connections{network="testnet",state="CONNECTED"} 1`) {
			t.Errorf("/metrics lacks the bridge's connection state")
		}
		// The registration was kept with its tokens, pointing at the
		// loopback listener of this process.
		reg, err := registration.Load(filepath.Join(dir, "data", "appservices", "testnet.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/testnet$`).MatchString(reg.URL) {
			t.Errorf("registration url %q", reg.URL)
		}

		p.stop(t, syscall.SIGTERM)
		logs := p.stderr.String()
		if !strings.Contains(logs, "bridge stopped") || !strings.Contains(logs, "switchboard stopped") {
			t.Errorf("no clean stop logged:\n%s", logs)
		}
		for _, secret := range []string{reg.AppToken, reg.ServerToken} {
			if strings.Contains(logs, secret) {
				t.Error("a registration token is in the log")
			}
		}
	})
}

// TestServeBridgeTrouble: a bridge whose network is down is reported in
// /health without making the server unhealthy; a registration that cannot
// be read stops serve with a line naming it.
func TestServeBridgeTrouble(t *testing.T) {
	t.Run("network down", func(t *testing.T) {
		dir := t.TempDir()
		addr := freeAddr(t)
		writeFile(t, filepath.Join(dir, "switchboard.yaml"), homeserverConfig+testnetSection("http://"+freeAddr(t)))
		p := start(t, dir, []string{"SWITCHBOARD_LISTEN_CLIENT=" + addr}, "serve")
		waitReady(t, p, addr, 15*time.Second)
		// Wait for the connector to report its first failure to connect.
		deadline := time.Now().Add(10 * time.Second)
		for {
			code, health := getJSON(t, "http://"+addr+"/health")
			check, _ := health["bridge_testnet"].(map[string]any)
			if strings.Contains(fmt.Sprint(check["connections"]), "TRANSIENT_DISCONNECT") {
				if code != 200 || health["status"] != "ok" || check["status"] != "error" || check["healthy"] != false {
					t.Errorf("/health with the network down: %d %v", code, health)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("/health never showed the network down: %v", health)
			}
			time.Sleep(10 * time.Millisecond)
		}
		p.stop(t, syscall.SIGTERM)
	})
	t.Run("unreadable registration", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "data", "appservices"), 0o700); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, "data", "appservices", "testnet.yaml"), "id: [not, a, string\n")
		writeFile(t, filepath.Join(dir, "switchboard.yaml"), homeserverConfig+testnetSection("http://127.0.0.1:1"))
		_, stderr, code := run(t, dir, []string{"SWITCHBOARD_LISTEN_CLIENT=" + freeAddr(t)}, "serve")
		assertUserError(t, code, stderr, "appservices/testnet.yaml")
	})
}

// bridgeSetup is `switchboard serve` as a homeserver and `switchboard
// bridge --network testnet` as a process of its own, each with its own
// directory and database, joined by the file `switchboard registration`
// wrote.
type bridgeSetup struct {
	net       *connectortest.Network
	hsAddr    string
	asAddr    string
	bridgeDir string
	hs        *process
	bridge    *process
}

func newBridgeSetup(t *testing.T, uri string) *bridgeSetup {
	t.Helper()
	s := &bridgeSetup{hsAddr: freeAddr(t), asAddr: freeAddr(t), bridgeDir: t.TempDir()}
	var netURL string
	s.net, netURL = newTestNetwork(t)
	hsDir := t.TempDir()
	regPath := filepath.Join(hsDir, "testnet-registration.yaml")
	writeFile(t, filepath.Join(s.bridgeDir, "switchboard.yaml"), fmt.Sprintf(
		"server_name: localhost\ndatabase:\n  uri: %q\nhomeserver:\n  url: http://%s\nappservice:\n  listen: %s\n", uri, s.hsAddr, s.asAddr)+
		testnetSection(netURL))
	if out, stderr, code := run(t, s.bridgeDir, nil, "registration", "--network", "testnet", "-o", regPath); code != 0 {
		t.Fatalf("registration: code %d\n%s%s", code, out, stderr)
	}
	writeFile(t, filepath.Join(hsDir, "switchboard.yaml"), homeserverConfig+fmt.Sprintf("appservices: [%q]\n", regPath))
	s.hs = start(t, hsDir, []string{"SWITCHBOARD_LISTEN_CLIENT=" + s.hsAddr}, "serve")
	waitReady(t, s.hs, s.hsAddr, 15*time.Second)
	s.startBridge(t)
	return s
}

// startBridge starts the bridge process and waits until it is connected.
func (s *bridgeSetup) startBridge(t *testing.T) {
	t.Helper()
	s.bridge = start(t, s.bridgeDir, nil, "bridge", "--network", "testnet")
	waitCheck(t, s.bridge, s.asAddr, "bridge_testnet", 20*time.Second)
}

// TestBridgeAgainstHomeserver: `switchboard bridge` runs the network's
// appservice against another homeserver (here a `switchboard serve` that
// loads the registration file); messages cross both ways; the bridge
// serves /health, /metrics and its status, and stops cleanly.
func TestBridgeAgainstHomeserver(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, uri string) {
		s := newBridgeSetup(t, uri)
		exchange(t, s.net, "http://"+s.hsAddr)

		code, status := getJSON(t, "http://"+s.asAddr+"/_switchboard/status")
		if code != 200 || status["network"] != "testnet" || status["portals"] != float64(1) || status["healthy"] != true {
			t.Errorf("status: %d %v", code, status)
		}
		code, health := getJSON(t, "http://"+s.asAddr+"/health")
		db, _ := health["database"].(map[string]any)
		wantKind := "sqlite"
		if uri != "" {
			wantKind = "postgres"
		}
		if code != 200 || db["kind"] != wantKind || health["bridge_testnet"] == nil {
			t.Errorf("bridge /health: %d %v", code, health)
		}
		// The counter moves just after the network has the message.
		waitMetric(t, s.asAddr, `switchboard_bridge_events_delivered_total{direction="to_network",network="testnet"}`, 1)
		waitMetric(t, s.asAddr, `switchboard_bridge_events_delivered_total{direction="to_matrix",network="testnet"}`, 1)
		// The homeserver's pushes need the hs_token.
		req, _ := http.NewRequest(http.MethodPut, "http://"+s.asAddr+"/_matrix/app/v1/transactions/1", strings.NewReader(`{"events":[]}`))
		req.Header.Set("Authorization", "Bearer wrong")
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("push with a wrong hs_token: %v %v", resp, err)
		} else {
			resp.Body.Close()
		}

		s.bridge.stop(t, syscall.SIGTERM)
		logs := s.bridge.stderr.String()
		for _, want := range []string{"bridge ready", "homeserver_url=http://" + s.hsAddr, "bridge stopped", "switchboard stopped"} {
			if !strings.Contains(logs, want) {
				t.Errorf("bridge log lacks %q:\n%s", want, logs)
			}
		}
	})
}

// TestBridgeKill9MidBurst: with bursts in flight both ways, the bridge
// process is killed with SIGKILL and started again; in the end each side
// has every message of the other exactly once, in order.
func TestBridgeKill9MidBurst(t *testing.T) {
	const n = 300
	forEachDatabase(t, func(t *testing.T, uri string) {
		s := newBridgeSetup(t, uri)
		alice, room := exchange(t, s.net, "http://"+s.hsAddr)
		remoteUsers := []string{"bob", "carol", "dave"}

		// Matrix → network: alice sends m-0..m-n-1 one after another.
		// Network → Matrix: remote users post r-0..r-n-1, one per message
		// alice has sent, so both bursts are in flight together.
		sent := make(chan int, n)
		aliceDone := make(chan struct{})
		go func() {
			defer close(aliceDone)
			defer close(sent)
			for i := range n {
				if !alice.send(room, fmt.Sprintf("m-%d", i)) {
					return
				}
				sent <- i
			}
		}()
		postedDone := make(chan struct{})
		go func() {
			defer close(postedDone)
			i := 0
			for range sent {
				s.net.Post("general", connectors.RemoteUserID(remoteUsers[i%len(remoteUsers)]), fmt.Sprintf("r-%d", i))
				i++
			}
			for ; i < n; i++ {
				s.net.Post("general", connectors.RemoteUserID(remoteUsers[i%len(remoteUsers)]), fmt.Sprintf("r-%d", i))
			}
		}()

		// Kill when some, not all, have crossed each way. The counters are
		// the bridge's own (the warm-up exchange counts one each way).
		var toNetwork, toMatrix float64
		deadline := time.Now().Add(30 * time.Second)
		for {
			m := getText(t, "http://"+s.asAddr+"/metrics")
			toNetwork = metricValue(m, `switchboard_bridge_events_delivered_total{direction="to_network",network="testnet"}`) - 1
			toMatrix = metricValue(m, `switchboard_bridge_events_delivered_total{direction="to_matrix",network="testnet"}`) - 1
			if toNetwork >= n/4 && toMatrix >= n/4 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("bursts did not get going: %v to the network, %v to Matrix\n%s", toNetwork, toMatrix, s.bridge.stderr)
			}
			time.Sleep(2 * time.Millisecond)
		}
		if err := s.bridge.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		err := <-s.bridge.done
		s.bridge.done <- err
		atKill := countPrefix(s.net.Messages("general"), "m-")
		t.Logf("SIGKILL after %v/%d messages crossed to the network (%d stored there at the kill) and %v/%d to Matrix",
			toNetwork, n, atKill, toMatrix, n)
		if atKill >= n {
			t.Logf("warning: every Matrix message had reached the network before the kill")
		}

		s.startBridge(t)
		<-aliceDone
		<-postedDone
		if t.Failed() {
			t.FailNow()
		}
		// A last message each way: each portal keeps order, so once these
		// arrive everything before them has been handled.
		alice.send(room, "m-end")
		s.net.Post("general", "bob", "r-end")
		s.net.WaitFor(t, 60*time.Second, "m-end on the network", func(snap connectortest.Snapshot) bool {
			for _, m := range snap.Messages("general") {
				if m.Body == "m-end" {
					return true
				}
			}
			return false
		})
		alice.waitEvent(room, 60*time.Second, "r-end in the room", func(e *event.Event) bool {
			m := e.Content.AsMessage()
			return m != nil && m.Body == "r-end"
		})

		var want []string
		for i := range n {
			want = append(want, fmt.Sprintf("m-%d", i))
		}
		var onNetwork []string
		for _, m := range s.net.Messages("general") {
			if strings.HasPrefix(m.Body, "m-") && m.Body != "m-end" {
				onNetwork = append(onNetwork, m.Body)
				if m.RelayedFor != "alice" {
					t.Errorf("%s relayed for %q", m.Body, m.RelayedFor)
				}
			}
		}
		checkSequence(t, "Matrix → network", onNetwork, want)

		for i := range want {
			want[i] = fmt.Sprintf("r-%d", i)
		}
		synced, limited := alice.bodies(room, "r-")
		if limited {
			t.Error("a sync cut the room's timeline short; the comparison may miss events")
		}
		var inRoom []string
		for _, b := range synced {
			if b != "r-end" {
				inRoom = append(inRoom, b)
			}
		}
		checkSequence(t, "network → Matrix", inRoom, want)
		t.Logf("after restart: the network has %d of %d Matrix messages, the room %d of %d remote messages",
			len(onNetwork), n, len(inRoom), n)
		for _, line := range strings.Split(s.bridge.stderr.String(), "\n") {
			if strings.Contains(line, "resuming queued events") {
				t.Logf("restarted bridge: %s", line[strings.Index(line, "msg="):])
			}
		}
	})
}

// checkSequence reports, precisely, how got differs from want: messages
// that arrived twice, that never arrived, and the first out of order.
func checkSequence(t *testing.T, direction string, got, want []string) {
	t.Helper()
	if strings.Join(got, ",") == strings.Join(want, ",") {
		return
	}
	count := map[string]int{}
	for _, b := range got {
		count[b]++
	}
	var dups, missing []string
	for _, w := range want {
		switch c := count[w]; {
		case c == 0:
			missing = append(missing, w)
		case c > 1:
			dups = append(dups, fmt.Sprintf("%s×%d", w, c))
		}
	}
	firstBad := -1
	for i := range got {
		if i >= len(want) || got[i] != want[i] {
			firstBad = i
			break
		}
	}
	around := got[max(0, firstBad-3):min(len(got), firstBad+5)]
	t.Errorf("%s: %d messages, want %d; duplicated %v; missing %v; first difference at position %d: got %v around it",
		direction, len(got), len(want), dups, missing, firstBad, around)
}

func countPrefix(ms []connectortest.StoredMessage, prefix string) int {
	n := 0
	for _, m := range ms {
		if strings.HasPrefix(m.Body, prefix) {
			n++
		}
	}
	return n
}

// metricValue reads the sample named exactly series (name and labels) from
// a Prometheus text page; 0 when absent.
func metricValue(page, series string) float64 {
	for _, line := range strings.Split(page, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, _ := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v
		}
	}
	return 0
}

// waitMetric polls addr's /metrics until series is at least want.
func waitMetric(t *testing.T, addr, series string, want float64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := metricValue(getText(t, "http://"+addr+"/metrics"), series)
		if got >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s on %s: %v, want %v", series, addr, got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func getText(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

// TestRequireConnector covers the answers of a binary with no connector
// built in (the production binary today) and one with some.
func TestRequireConnector(t *testing.T) {
	saved := builtinConnectors
	t.Cleanup(func() { builtinConnectors = saved })

	builtinConnectors = map[string]builtin{}
	if _, err := requireConnector("irc"); err == nil || err.Error() != "--network irc: no connector for this network is built into Switchboard yet" {
		t.Errorf("none built: %v", err)
	}
	if len(connectorSections()) != 0 {
		t.Error("connectorSections of an empty registry")
	}

	builtinConnectors = map[string]builtin{"xmpp": {}, "irc": {}}
	if _, err := requireConnector("irc"); err != nil {
		t.Errorf("built in: %v", err)
	}
	if _, err := requireConnector("slack"); err == nil || err.Error() != "--network slack: unknown network; use one of irc, xmpp" {
		t.Errorf("unknown: %v", err)
	}
	if got := connectorSections(); len(got) != 2 || got["irc"] == nil {
		t.Errorf("connectorSections: %v", got)
	}
}
