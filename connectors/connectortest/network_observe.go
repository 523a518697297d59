package connectortest

import (
	"maps"
	"slices"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"

	"switchboard/connectors"
)

// DefaultWait is how long the Wait helpers of this package wait for a
// condition before failing the test: generous, for slow CI under -race.
const DefaultWait = 15 * time.Second

// Via is the identity a message or reaction came through.
type Via struct {
	// Bot is true for the bot token (the relay).
	Bot bool
	// Session is a login's session ("s1", ...); "" for the bot and the
	// test driver.
	Session string
	// Client is the label the session gave at login: a Connector gives its
	// network name.
	Client string
}

// Native is true for what the test driver did: the network's own users,
// not a connector.
func (v Via) Native() bool { return v == Via{} }

func viaOf(w *wireVia) Via {
	if w == nil {
		return Via{}
	}
	return Via{Bot: w.Bot, Session: w.Session, Client: w.Client}
}

// StoredMessage is a message as the network stores it.
type StoredMessage struct {
	ID     connectors.MessageID
	Chat   connectors.PortalID
	Sender connectors.RemoteUserID
	// Via is the identity it was sent through.
	Via  Via
	Time time.Time
	// MsgType, Body and HTML are the current content (after edits).
	MsgType event.MessageType
	Body    string
	HTML    string
	// Original is the body as first sent.
	Original   string
	ReplyTo    connectors.MessageID
	ThreadRoot connectors.MessageID
	Mentions   []connectors.RemoteUserID
	// Attachment holds Name, MimeType, Size, and Data or URL.
	Attachment *connectors.Attachment
	// RelayedFor is the display name of the Matrix user the bot relayed
	// this message for; "" otherwise.
	RelayedFor string
	// IdempotencyKey is the key it was sent with, if any.
	IdempotencyKey string
	Edits          []Edit
	Deleted        bool
	Reactions      []Reaction
}

// Edit is one edit of a message.
type Edit struct {
	ID   connectors.MessageID
	Body string
	HTML string
}

// Reaction is one user's reaction to a message.
type Reaction struct {
	ID   connectors.MessageID
	User connectors.RemoteUserID
	Key  string
	Via  Via
}

func (m *message) stored() StoredMessage {
	s := StoredMessage{
		ID:             connectors.MessageID(m.id),
		Chat:           connectors.PortalID(m.chat),
		Sender:         connectors.RemoteUserID(m.sender),
		Via:            viaOf(m.via),
		Time:           m.time,
		MsgType:        event.MessageType(m.content.MsgType),
		Body:           m.content.Body,
		HTML:           m.content.HTML,
		Original:       m.original.Body,
		ReplyTo:        connectors.MessageID(m.content.ReplyTo),
		ThreadRoot:     connectors.MessageID(m.content.ThreadRoot),
		RelayedFor:     m.content.RelayedFor,
		IdempotencyKey: m.key,
		Edits:          slices.Clone(m.edits),
		Deleted:        m.deleted,
	}
	for _, u := range m.content.Mentions {
		s.Mentions = append(s.Mentions, connectors.RemoteUserID(u))
	}
	if a := m.content.Attachment; a != nil {
		s.Attachment = &connectors.Attachment{Name: a.Name, MimeType: a.Mime, Size: int64(len(a.Data)), Data: slices.Clone(a.Data), URL: a.URL}
	}
	for _, r := range m.reactions {
		s.Reactions = append(s.Reactions, Reaction{ID: connectors.MessageID(r.id), User: connectors.RemoteUserID(r.user), Key: r.key, Via: viaOf(r.via)})
	}
	return s
}

// Messages returns every message stored in chat, oldest first, deleted ones
// included; nil for an unknown chat.
func (n *Network) Messages(chat connectors.PortalID) []StoredMessage {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.messagesLocked(string(chat))
}

func (n *Network) messagesLocked(chat string) []StoredMessage {
	c := n.chats[chat]
	if c == nil {
		return nil
	}
	out := make([]StoredMessage, 0, len(c.messages))
	for _, id := range c.messages {
		out = append(out, n.messages[id].stored())
	}
	return out
}

// Message returns message id; ok is false when the network has none.
func (n *Network) Message(id connectors.MessageID) (m StoredMessage, ok bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	msg := n.messages[string(id)]
	if msg == nil {
		return StoredMessage{}, false
	}
	return msg.stored(), true
}

// Reactions returns the reactions on message id, oldest first.
func (n *Network) Reactions(id connectors.MessageID) []Reaction {
	m, _ := n.Message(id)
	return m.Reactions
}

// Members returns a chat's members, sorted.
func (n *Network) Members(chat connectors.PortalID) []connectors.RemoteUserID {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := n.chats[string(chat)]
	if c == nil {
		return nil
	}
	var out []connectors.RemoteUserID
	for _, u := range slices.Sorted(maps.Keys(c.members)) {
		out = append(out, connectors.RemoteUserID(u))
	}
	return out
}

// Topic returns a chat's topic.
func (n *Network) Topic(chat connectors.PortalID) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if c := n.chats[string(chat)]; c != nil {
		return c.topic
	}
	return ""
}

// Typing returns who is typing in a chat now, sorted.
func (n *Network) Typing(chat connectors.PortalID) []connectors.RemoteUserID {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := n.chats[string(chat)]
	if c == nil {
		return nil
	}
	now := time.Now()
	var out []connectors.RemoteUserID
	for _, u := range slices.Sorted(maps.Keys(c.typing)) {
		if c.typing[u].After(now) {
			out = append(out, connectors.RemoteUserID(u))
		}
	}
	return out
}

// Reads returns each user's read marker in a chat.
func (n *Network) Reads(chat connectors.PortalID) map[connectors.RemoteUserID]connectors.MessageID {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := n.chats[string(chat)]
	if c == nil {
		return nil
	}
	out := map[connectors.RemoteUserID]connectors.MessageID{}
	for u, m := range c.reads {
		out[connectors.RemoteUserID(u)] = connectors.MessageID(m)
	}
	return out
}

// LastSeq is the sequence number of the newest event.
func (n *Network) LastSeq() int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return int64(len(n.events))
}

// Acked is the bot's last acknowledged event: a connector that starts now
// receives the events after it.
func (n *Network) Acked() int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.tokens[n.botToken].acked
}

// WaitFor waits until cond (called under the network's lock, so it must
// not call the network's methods; use the snapshot it is given) holds,
// re-checking on every change of the network, and fails t after timeout
// (DefaultWait when 0), naming what it waited for.
func (n *Network) WaitFor(t testing.TB, timeout time.Duration, what string, cond func(s Snapshot) bool) {
	t.Helper()
	if timeout <= 0 {
		timeout = DefaultWait
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		n.mu.Lock()
		ok := cond(Snapshot{n})
		wake := n.wake
		n.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-wake:
		case <-deadline.C:
			t.Fatalf("connectortest: waited %s for %s", timeout, what)
		}
	}
}

// Snapshot reads the network inside WaitFor's condition.
type Snapshot struct{ n *Network }

// Messages is Network.Messages, under the lock WaitFor holds.
func (s Snapshot) Messages(chat connectors.PortalID) []StoredMessage {
	return s.n.messagesLocked(string(chat))
}

// Acked is Network.Acked, under the lock WaitFor holds.
func (s Snapshot) Acked() int64 { return s.n.tokens[s.n.botToken].acked }

// LastSeq is Network.LastSeq, under the lock WaitFor holds.
func (s Snapshot) LastSeq() int64 { return int64(len(s.n.events)) }

// Members is Network.Members' set, under the lock WaitFor holds.
func (s Snapshot) Members(chat connectors.PortalID) map[connectors.RemoteUserID]bool {
	out := map[connectors.RemoteUserID]bool{}
	if c := s.n.chats[string(chat)]; c != nil {
		for u := range c.members {
			out[connectors.RemoteUserID(u)] = true
		}
	}
	return out
}

// WaitMessages waits until chat holds at least count messages and returns
// them all; it fails t after timeout (DefaultWait when 0).
func (n *Network) WaitMessages(t testing.TB, chat connectors.PortalID, count int, timeout time.Duration) []StoredMessage {
	t.Helper()
	var out []StoredMessage
	n.WaitFor(t, timeout, "messages in "+string(chat), func(s Snapshot) bool {
		out = s.Messages(chat)
		return len(out) >= count
	})
	return out
}

// WaitMessage waits up to DefaultWait for a message in chat that pred
// accepts and returns the first one.
func (n *Network) WaitMessage(t testing.TB, chat connectors.PortalID, pred func(StoredMessage) bool) StoredMessage {
	t.Helper()
	var found StoredMessage
	n.WaitFor(t, 0, "a matching message in "+string(chat), func(s Snapshot) bool {
		for _, m := range s.Messages(chat) {
			if pred(m) {
				found = m
				return true
			}
		}
		return false
	})
	return found
}
