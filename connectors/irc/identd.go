package irc

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// identd answers RFC 1413 ident queries about the bridge's connections,
// so an IRC network can tell its Matrix users apart without trusting one
// shared username. It is small enough that no library is worth it.
type identd struct {
	ln  net.Listener
	log *slog.Logger

	mu    sync.Mutex
	users map[int]string // local port → ident
	wg    sync.WaitGroup
}

func startIdentd(addr string, log *slog.Logger) (*identd, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	d := &identd{ln: ln, log: log, users: map[int]string{}}
	d.wg.Go(d.serve)
	return d, nil
}

func (d *identd) register(localPort int, ident string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.users[localPort] = ident
}

func (d *identd) serve() {
	for {
		nc, err := d.ln.Accept()
		if err != nil {
			return
		}
		d.wg.Go(func() { d.answer(nc) })
	}
}

// answer reads one "<local port> , <remote port>" query and replies.
func (d *identd) answer(nc net.Conn) {
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(io.LimitReader(nc, 512)).ReadString('\n')
	if err != nil && line == "" {
		return
	}
	fmt.Fprint(nc, d.reply(strings.TrimSpace(line))+"\r\n")
}

func (d *identd) reply(query string) string {
	lp, rp, ok := strings.Cut(query, ",")
	local, err1 := strconv.Atoi(strings.TrimSpace(lp))
	remote, err2 := strconv.Atoi(strings.TrimSpace(rp))
	if !ok || err1 != nil || err2 != nil {
		return query + " : ERROR : INVALID-PORT"
	}
	d.mu.Lock()
	ident, found := d.users[local]
	d.mu.Unlock()
	if !found {
		return fmt.Sprintf("%d , %d : ERROR : NO-USER", local, remote)
	}
	return fmt.Sprintf("%d , %d : USERID : UNIX : %s", local, remote, ident)
}

func (d *identd) close() {
	_ = d.ln.Close()
	d.wg.Wait()
}
