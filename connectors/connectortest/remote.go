package connectortest

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"switchboard/connectors"
)

// Remote returns the network's side of the conformance suite: a [Remote]
// that is also an [Observer] and has [Accounts].
func (n *Network) Remote() Remote { return &netRemote{n: n} }

type netRemote struct {
	n     *Network
	count atomic.Int64
}

var (
	_ Remote   = (*netRemote)(nil)
	_ Observer = (*netRemote)(nil)
	_ Accounts = (*netRemote)(nil)
)

// CreateChat makes a public chat whose id is name, slugged, plus a number.
func (r *netRemote) CreateChat(_ *testing.T, name string) connectors.PortalID {
	slug := strings.Map(func(c rune) rune {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			return c
		case c >= 'A' && c <= 'Z':
			return c - 'A' + 'a'
		}
		return '-'
	}, name)
	if len(slug) > 40 {
		slug = slug[:40]
	}
	id := connectors.PortalID(fmt.Sprintf("%s-%d", strings.Trim(slug, "-"), r.count.Add(1)))
	r.n.CreateChat(id, name, true)
	return id
}

func (r *netRemote) Post(_ *testing.T, chat connectors.PortalID, user, body string) Posted {
	id := r.n.Post(chat, connectors.RemoteUserID(user), body)
	return Posted{ID: id, Sender: connectors.RemoteUserID(user)}
}

func (r *netRemote) WaitReceived(t *testing.T, chat connectors.PortalID, text string) ReceivedMessage {
	t.Helper()
	m := r.n.WaitMessage(t, chat, func(m StoredMessage) bool { return strings.Contains(m.Body, text) })
	return ReceivedMessage{ID: m.ID, Sender: string(m.Sender), Body: m.Body, RelayedFor: m.RelayedFor}
}

func (r *netRemote) SetDown(_ *testing.T, down bool) { r.n.SetDown(down) }

func (r *netRemote) WaitEdited(t *testing.T, chat connectors.PortalID, id connectors.MessageID, text string) {
	t.Helper()
	r.waitMessage(t, chat, id, "edited to "+text, func(m StoredMessage) bool { return m.Body == text && len(m.Edits) > 0 })
}

func (r *netRemote) WaitDeleted(t *testing.T, chat connectors.PortalID, id connectors.MessageID) {
	t.Helper()
	r.waitMessage(t, chat, id, "deleted", func(m StoredMessage) bool { return m.Deleted })
}

func (r *netRemote) WaitReacted(t *testing.T, chat connectors.PortalID, id connectors.MessageID, key string) {
	t.Helper()
	r.waitMessage(t, chat, id, "a reaction "+key, func(m StoredMessage) bool {
		for _, re := range m.Reactions {
			if re.Key == key {
				return true
			}
		}
		return false
	})
}

func (r *netRemote) WaitTopic(t *testing.T, chat connectors.PortalID, topic string) {
	t.Helper()
	r.n.WaitFor(t, 0, "topic of "+string(chat), func(Snapshot) bool {
		c := r.n.chats[string(chat)]
		return c != nil && c.topic == topic
	})
}

func (r *netRemote) waitMessage(t *testing.T, chat connectors.PortalID, id connectors.MessageID, what string, pred func(StoredMessage) bool) {
	t.Helper()
	r.n.WaitFor(t, 0, fmt.Sprintf("message %s in %s %s", id, chat, what), func(s Snapshot) bool {
		for _, m := range s.Messages(chat) {
			if m.ID == id {
				return pred(m)
			}
		}
		return false
	})
}

// NewAccount adds a user with a random password.
func (r *netRemote) NewAccount(*testing.T) Account {
	user := connectors.RemoteUserID(fmt.Sprintf("account%d", r.count.Add(1)))
	password := newToken()
	r.n.AddUser(user, password)
	return Account{Remote: user, Shown: string(user), LoginArgs: []string{string(user), password}}
}
