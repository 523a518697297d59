package irc

import (
	"bufio"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"
)

func TestIdentdAnswers(t *testing.T) {
	d, err := startIdentd("127.0.0.1:0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	d.register(40000, "alice")
	ask := func(query string) string {
		t.Helper()
		c, err := net.Dial("tcp", d.ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprint(c, query)
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			t.Fatalf("%q: %v", query, err)
		}
		return strings.TrimRight(line, "\r\n")
	}
	for query, want := range map[string]string{
		"40000 , 6667\r\n":  "40000 , 6667 : USERID : UNIX : alice",
		"40001,6667\r\n":    "40001 , 6667 : ERROR : NO-USER",
		"hello\r\n":         "hello : ERROR : INVALID-PORT",
		"40000 , 6667\n":    "40000 , 6667 : USERID : UNIX : alice",
		"1 , x\r\nQUIT\r\n": "1 , x : ERROR : INVALID-PORT",
	} {
		if got := ask(query); got != want {
			t.Errorf("ident %q = %q, want %q", query, got, want)
		}
	}
}
