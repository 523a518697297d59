package irc

import (
	"net"
	"strings"
	"testing"
)

// recordingConn keeps what is written to it.
type recordingConn struct {
	net.Conn
	written strings.Builder
}

func (c *recordingConn) Write(p []byte) (int, error) { return c.written.Write(p) }

func TestWhoFilterDropsOnlyWho(t *testing.T) {
	rec := &recordingConn{}
	f := &whoFilter{Conn: rec}
	// girc's writes, one of them split in the middle of a line.
	for _, chunk := range []string{
		"JOIN #chat\r\n",
		"WHO #chat %tacuhnr,1\r\nMODE #chat\r\n",
		"PRIVMSG #chat :who is WHO\r\nWH",
		"O bob %tacuhnr,1\r\nPRIVMSG #chat :WHO bob\r\n",
		"WHO #ops\r\n",
	} {
		if n, err := f.Write([]byte(chunk)); err != nil || n != len(chunk) {
			t.Fatalf("Write(%q) = %d, %v", chunk, n, err)
		}
	}
	want := "JOIN #chat\r\nMODE #chat\r\nPRIVMSG #chat :who is WHO\r\nPRIVMSG #chat :WHO bob\r\nWHO #ops\r\n"
	if got := rec.written.String(); got != want {
		t.Errorf("written %q, want %q", got, want)
	}
}
