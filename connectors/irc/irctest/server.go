package irctest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Kind names an IRC server implementation.
type Kind string

// The servers Start knows how to run.
const (
	InspIRCd Kind = "inspircd"
	Ngircd   Kind = "ngircd"
)

// Options configure a test server; the zero value of every field but Kind
// is a sensible default.
type Options struct {
	Kind Kind
	// Port 0 picks a free loopback port.
	Port int
	// Fakelag turns the server's own flood penalties on; by default they
	// are off (see the package documentation for what each server allows).
	Fakelag bool
	// MaxClients is the connection limit per IP and in total; 0 means 5000
	// (benchmarks open 1000+ connections from 127.0.0.1).
	MaxClients int
	// ServerName defaults to "irc.test"; it must contain a dot.
	ServerName string
	// OperName and OperPassword, when both set, configure an IRC operator
	// with every privilege, so a test can /OPER.
	OperName, OperPassword string
}

const (
	defaultMaxClients = 5000
	defaultServerName = "irc.test"
	// readyTimeout bounds the wait for a started server to register a client.
	readyTimeout = 15 * time.Second
	// stopGrace is how long Stop waits after SIGTERM before SIGKILL.
	stopGrace = 5 * time.Second
	// startAttempts is how often Start tries when it picks the port itself
	// and the server dies at once (another process may have taken the port).
	startAttempts = 3
	// probeNick registers the readiness probes.
	probeNick = "irctestprobe"
	// logTailLines is how much of the server log a failed test shows.
	logTailLines = 40
)

// errExitedEarly is returned by launch when the server process ended before
// it accepted a registration; Start then retries on another port.
var errExitedEarly = errors.New("server exited before it was ready")

// Server is a running IRC server, a child process of the test, configured
// and logging inside the test's temporary directory.
type Server struct {
	// Addr is "127.0.0.1:port".
	Addr string
	Kind Kind

	opts    Options
	flavor  flavor
	binary  string
	dir     string
	port    int
	output  syncBuffer // stdout and stderr of every run
	mu      sync.Mutex
	running *process // nil when stopped
}

// process is one run of the server binary.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd.Wait returned
	err    error         // cmd.Wait's result, set before exited closes
}

// Start starts the server and waits until it accepts an IRC registration.
// When the binary is missing it skips the test with how to install it,
// unless the environment has CI=true: then the test fails, so that a
// missing server never hides behind a skip in CI. The server is stopped at
// test cleanup, and its log is shown when the test failed.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	opts, err := opts.withDefaults()
	if err != nil {
		t.Fatalf("irctest: %v", err)
	}
	fl, ok := flavors[opts.Kind]
	if !ok {
		t.Fatalf("irctest: unknown server kind %q; use irctest.InspIRCd or irctest.Ngircd", opts.Kind)
	}
	binary, err := findBinary(fl.binary)
	if err != nil {
		reportMissing(t, fl, err)
	}
	raiseFileLimit(t, uint64(opts.MaxClients))
	s := &Server{Kind: opts.Kind, opts: opts, flavor: fl, binary: binary, dir: t.TempDir()}
	t.Cleanup(s.Stop)
	t.Cleanup(func() { s.logOnFailure(t) })
	for attempt := 1; ; attempt++ {
		port := opts.Port
		if port == 0 {
			if port, err = freePort(); err != nil {
				t.Fatalf("irctest: %v", err)
			}
		}
		err = s.launch(t, port)
		if err == nil {
			return s
		}
		s.Stop()
		if opts.Port != 0 || attempt == startAttempts || !errors.Is(err, errExitedEarly) {
			t.Fatalf("irctest: start %s on port %d: %v\nserver log:\n%s", opts.Kind, port, err, s.Log())
		}
	}
}

// withDefaults fills in the defaults and rejects options the generated
// configuration could not carry safely.
func (o Options) withDefaults() (Options, error) {
	if o.MaxClients == 0 {
		o.MaxClients = defaultMaxClients
	}
	if o.ServerName == "" {
		o.ServerName = defaultServerName
	}
	if o.MaxClients < 0 {
		return o, fmt.Errorf("options: MaxClients %d is negative", o.MaxClients)
	}
	if o.Port < 0 || o.Port > 65535 {
		return o, fmt.Errorf("options: Port %d is not a TCP port", o.Port)
	}
	if !strings.Contains(o.ServerName, ".") {
		return o, fmt.Errorf("options: ServerName %q must contain a dot (ngircd requires it)", o.ServerName)
	}
	if (o.OperName == "") != (o.OperPassword == "") {
		return o, errors.New("options: set OperName and OperPassword together")
	}
	for _, v := range []string{o.ServerName, o.OperName, o.OperPassword} {
		if strings.ContainsAny(v, "\"&<>;#= \t\r\n") {
			return o, fmt.Errorf("options: %q: use letters, digits, dots, dashes or underscores", v)
		}
	}
	return o, nil
}

// Stop kills the server (SIGTERM, then SIGKILL after a grace period) and
// waits for it to exit. It is safe to call more than once.
func (s *Server) Stop() {
	s.mu.Lock()
	p := s.running
	s.running = nil
	s.mu.Unlock()
	if p == nil {
		return
	}
	signalGroup(p.cmd, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(stopGrace):
		signalGroup(p.cmd, syscall.SIGKILL)
		<-p.exited
	}
}

// Restart stops the server and starts it again on the same port, as an
// outage or netsplit would, and waits until it is ready. Clients connected
// before lose their connections.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	fmt.Fprintf(&s.output, "\n--- irctest: restart on port %d ---\n", s.port)
	if err := s.launch(t, s.port); err != nil {
		s.Stop()
		t.Fatalf("irctest: restart %s on port %d: %v\nserver log:\n%s", s.Kind, s.port, err, s.Log())
	}
}

// Host returns the loopback address the server listens on.
func (s *Server) Host() string { return "127.0.0.1" }

// Port returns the server's TCP port.
func (s *Server) Port() int { return s.port }

// ListenBacklog returns the accept backlog the server listens with. A test
// that opens many connections at once should keep fewer than this many
// connects in flight: past it the kernel's accept queue overflows and,
// with SYN cookies on, some connections that looked established are reset.
// ngIRCd hard-codes 10; InspIRCd is configured for 4096 (the kernel caps it
// at net.core.somaxconn).
func (s *Server) ListenBacklog() int { return s.flavor.listenBacklog }

// Log returns what the server has logged so far: its standard output and
// error, then its log file when it writes one.
func (s *Server) Log() string {
	out := s.output.String()
	if s.flavor.logFile == "" {
		return out
	}
	path := filepath.Join(s.dir, s.flavor.logFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return out + fmt.Sprintf("\n--- %s: %v ---\n", path, err)
	}
	return out + fmt.Sprintf("\n--- %s ---\n", path) + string(data)
}

// launch writes the configuration, starts the binary on port and waits
// until it registers a client.
func (s *Server) launch(t testing.TB, port int) error {
	s.port = port
	s.Addr = net.JoinHostPort(s.Host(), strconv.Itoa(port))
	args, err := s.flavor.configure(s.dir, port, s.opts)
	if err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	cmd := exec.Command(s.binary, args...)
	cmd.Dir = s.dir
	cmd.Stdout = &s.output
	cmd.Stderr = &s.output
	cmd.SysProcAttr = childProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s: %w", s.binary, err)
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	s.mu.Lock()
	s.running = p
	s.mu.Unlock()
	return s.waitReady(t, p)
}

// waitReady registers a probe client, retrying until readyTimeout, and
// gives up early when the process exits.
func (s *Server) waitReady(t testing.TB, p *process) error {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	for {
		c, err := connect(ctx, t, s.Addr, probeNick, nil)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%w: %v", errExitedEarly, p.err)
		case <-ctx.Done():
			return fmt.Errorf("not ready after %v: %w", readyTimeout, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// logOnFailure shows the end of the server log when the test failed.
func (s *Server) logOnFailure(t testing.TB) {
	if !t.Failed() {
		return
	}
	lines := strings.Split(strings.TrimRight(s.Log(), "\n"), "\n")
	if len(lines) > logTailLines {
		lines = lines[len(lines)-logTailLines:]
	}
	t.Logf("irctest: last %d lines of the %s log (%s):\n%s", len(lines), s.Kind, s.dir, strings.Join(lines, "\n"))
}

// findBinary looks the executable up in PATH and then in the sbin
// directories that a non-root PATH often lacks.
func findBinary(name string) (string, error) {
	path, err := exec.LookPath(name)
	if err == nil {
		return path, nil
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
		candidate := filepath.Join(dir, name)
		if info, statErr := os.Stat(candidate); statErr == nil && !info.IsDir() && info.Mode()&0o111 != 0 {
			return candidate, nil
		}
	}
	return "", err
}

// reportMissing skips the test, or fails it when CI=true.
func reportMissing(t testing.TB, fl flavor, err error) {
	t.Helper()
	msg := fmt.Sprintf("irctest: %s is not installed (%v); install it with `apt-get install %s`", fl.binary, err, fl.aptPackage)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true, so this fails instead of skipping)")
	}
	t.Skip(msg)
}

// freePort asks the kernel for a free loopback port. Another process may
// take it before the server binds it; Start retries in that case.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// syncBuffer is a bytes.Buffer that the server's output goroutines and the
// test may use at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
