package irc

import (
	"bytes"
	"net"
	"sync"
)

// whoFilter drops the WHO queries girc sends on its own from a Matrix
// user's connection: one for every channel it joins and one for every user
// who joins a channel it is in. girc has no setting for the second, and
// with many users' connections in one channel every join would make each
// of them ask the server: a flood. Only the bot needs to
// know who is who, and it keeps its WHO. The queries are found in what girc
// writes to the connection the bridge dialled for it.
type whoFilter struct {
	net.Conn
	mu      sync.Mutex
	partial []byte // the start of a line not yet complete
}

func (f *whoFilter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	data := append(f.partial, p...)
	var out []byte
	for {
		i := bytes.Index(data, []byte("\r\n"))
		if i < 0 {
			break
		}
		line := data[:i+2]
		data = data[i+2:]
		if !isAutoWho(line) {
			out = append(out, line...)
		}
	}
	f.partial = append([]byte(nil), data...)
	if len(out) > 0 {
		if _, err := f.Conn.Write(out); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// isAutoWho recognises girc's own WHO (its WHOX fields and token), so a WHO
// an admin sends with the raw command still goes out.
func isAutoWho(line []byte) bool {
	return bytes.HasPrefix(line, []byte("WHO ")) && bytes.HasSuffix(line, []byte(" %tacuhnr,1\r\n"))
}
