package irctest

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// These tests drive a Client against a scripted fake server, for what real
// servers cannot show on demand: multi-line CAP LS, NAK, refusals.

// fakeConn is the server side of one scripted connection.
type fakeConn struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

// startFake accepts one connection on a loopback port and runs script on
// it; the test waits for the script at cleanup.
func startFake(t *testing.T, script func(f *fakeConn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	go func() {
		defer close(done)
		conn, err := ln.Accept()
		if err != nil {
			t.Errorf("fake server: accept: %v", err)
			return
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		script(&fakeConn{t: t, conn: conn, r: bufio.NewReader(conn)})
	}()
	return ln.Addr().String()
}

// expect reads the next line from the client and reports whether it is want.
func (f *fakeConn) expect(want string) bool {
	line, err := f.r.ReadString('\n')
	if got := strings.TrimRight(line, "\r\n"); err != nil || got != want {
		f.t.Errorf("fake server: client sent %q (%v), want %q", got, err, want)
		return false
	}
	return true
}

// send writes lines to the client.
func (f *fakeConn) send(lines ...string) {
	for _, line := range lines {
		if _, err := f.conn.Write([]byte(line + "\r\n")); err != nil {
			f.t.Errorf("fake server: write %q: %v", line, err)
		}
	}
}

// drain reads until the client closes the connection.
func (f *fakeConn) drain() {
	for {
		if _, err := f.r.ReadString('\n'); err != nil {
			return
		}
	}
}

// welcome completes a registration for nick.
func (f *fakeConn) welcome(nick string) {
	f.send(":fake.test 001 "+nick+" :Welcome", ":fake.test 376 "+nick+" :End of MOTD")
}

func TestDialNegotiatesCapsAndAnswersPing(t *testing.T) {
	addr := startFake(t, func(f *fakeConn) {
		_ = f.expect("CAP LS 302") && f.expect("NICK alice") && f.expect("USER test 0 * :alice")
		f.send(":fake.test CAP * LS * :away-notify sasl=PLAIN,EXTERNAL", ":fake.test CAP * LS :message-tags")
		_ = f.expect("CAP REQ :message-tags") && f.expect("CAP REQ :sasl")
		f.send(":fake.test CAP * ACK :message-tags", ":fake.test CAP * NAK :sasl")
		_ = f.expect("CAP END")
		f.welcome("alice")
		f.send("PING :token1")
		_ = f.expect("PONG :token1")
		f.send(":bob!b@h PRIVMSG alice :one", ":bob!b@h PRIVMSG alice :two")
		f.drain()
	})
	c := Dial(t, addr, "alice", "message-tags", "sasl", "batch")

	wantOffered := map[string]string{"away-notify": "", "sasl": "PLAIN,EXTERNAL", "message-tags": ""}
	if got := c.Caps(); len(got) != len(wantOffered) || got["sasl"] != "PLAIN,EXTERNAL" || got["away-notify"] != "" {
		t.Errorf("Caps() = %v, want %v", got, wantOffered)
	}
	if !c.Enabled("message-tags") || c.Enabled("sasl") || c.Enabled("batch") {
		t.Errorf("Enabled: message-tags %v, sasl %v, batch %v; want true, false (NAK), false (not offered)",
			c.Enabled("message-tags"), c.Enabled("sasl"), c.Enabled("batch"))
	}

	c.Expect(wait, "the second PRIVMSG", Privmsg("bob", "alice", "two"))
	c.ExpectNone(50*time.Millisecond, "the first PRIVMSG, passed over by the match", Privmsg("bob", "alice", "one"))
	if _, err := c.Wait(50*time.Millisecond, Command("PRIVMSG")); !errors.Is(err, errTimeout) {
		t.Errorf("Wait for a line that never comes = %v, want a timeout", err)
	}
	if lines := c.Lines(); len(lines) != 9 || lines[8] != ":bob!b@h PRIVMSG alice :two" {
		t.Errorf("Lines() = %q, want all 9 lines received", lines)
	}
}

func TestExpectFindsLinesThatArrivedEarlier(t *testing.T) {
	addr := startFake(t, func(f *fakeConn) {
		_ = f.expect("NICK alice") && f.expect("USER test 0 * :alice")
		f.welcome("alice")
		f.send(":bob!b@h PRIVMSG alice :early")
		f.drain()
	})
	c := Dial(t, addr, "alice")
	time.Sleep(50 * time.Millisecond) // let the line arrive before Expect looks
	c.Expect(wait, "the early PRIVMSG", Privmsg("bob", "alice", "early"))
}

func TestConnectReportsRefusedNick(t *testing.T) {
	addr := startFake(t, func(f *fakeConn) {
		_ = f.expect("NICK alice") && f.expect("USER test 0 * :alice")
		f.send(":fake.test 433 * alice :Nickname is already in use")
		f.drain()
	})
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, err := Connect(ctx, t, addr, "alice")
	if err == nil || !strings.Contains(err.Error(), " 433 ") {
		t.Errorf("Connect with a nick in use = %v, want an error quoting the 433", err)
	}
}

func TestDialWithoutCapSupport(t *testing.T) {
	addr := startFake(t, func(f *fakeConn) {
		_ = f.expect("CAP LS 302") && f.expect("NICK alice") && f.expect("USER test 0 * :alice")
		f.send(":fake.test 421 * CAP :Unknown command")
		f.welcome("alice")
		f.drain()
	})
	c := Dial(t, addr, "alice", "message-tags")
	if len(c.Caps()) != 0 || c.Enabled("message-tags") {
		t.Errorf("Caps() = %v, Enabled(message-tags) = %v; want none from a server without CAP", c.Caps(), c.Enabled("message-tags"))
	}
}

func TestWaitEndsWhenServerCloses(t *testing.T) {
	addr := startFake(t, func(f *fakeConn) {
		_ = f.expect("NICK alice") && f.expect("USER test 0 * :alice")
		f.welcome("alice")
		f.send("ERROR :Closing link")
	})
	c := Dial(t, addr, "alice")
	started := time.Now()
	_, err := c.Wait(wait, Command("PRIVMSG"))
	if err == nil || errors.Is(err, errTimeout) || time.Since(started) > wait/2 {
		t.Errorf("Wait on a closed connection = %v after %v, want a prompt connection error", err, time.Since(started))
	}
	select {
	case <-c.Disconnected():
	default:
		t.Error("Disconnected() is not closed after the server closed the connection")
	}
}
