package irc

import "sync"

// recentMessages remembers the author and text of the latest messages by
// msgid, so a Matrix reply can name the IRC author and an edit can be sent
// as a short correction. It forgets the oldest past its size.
type recentMessages struct {
	mu    sync.Mutex
	size  int
	order []string // ring of msgids
	next  int
	byID  map[string]recentMessage
}

type recentMessage struct {
	nick, text string
}

func newRecentMessages(size int) recentMessages {
	return recentMessages{size: size, order: make([]string, size), byID: make(map[string]recentMessage, size)}
}

func (r *recentMessages) put(msgid, nick, text string) {
	if msgid == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.byID[msgid]; !ok {
		if old := r.order[r.next]; old != "" {
			delete(r.byID, old)
		}
		r.order[r.next] = msgid
		r.next = (r.next + 1) % r.size
	}
	r.byID[msgid] = recentMessage{nick: nick, text: text}
}

func (r *recentMessages) get(msgid string) (recentMessage, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m, ok := r.byID[msgid]
	return m, ok
}
