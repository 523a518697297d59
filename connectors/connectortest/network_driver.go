package connectortest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"switchboard/connectors"
)

// The test driver: the network's own users, as Go methods.

// do runs f under the lock and panics with its error: the driver's misuse
// is a test's programming error.
func (n *Network) do(what string, f func() error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := f(); err != nil {
		panic(fmt.Sprintf("connectortest: %s: %v", what, err))
	}
}

// CreateChat creates a chat with no members. id must be lower case
// [a-z0-9._=+-], at most 64 characters, and new.
func (n *Network) CreateChat(id connectors.PortalID, name string, public bool) {
	n.do("CreateChat", func() error {
		if !validID(string(id)) {
			return errf(http.StatusBadRequest, "bad chat id %q: want %s", id, idPattern)
		}
		if n.chats[string(id)] != nil {
			return errf(http.StatusConflict, "chat %q exists", id)
		}
		n.chats[string(id)] = &chat{
			id: string(id), name: name, public: public,
			members: map[string]bool{}, typing: map[string]time.Time{}, reads: map[string]string{},
		}
		n.notifyLocked()
		return nil
	})
}

// AddUser creates a user who can log in with password (or, for a user the
// network already has, sets the password without ending their sessions).
// A new user's display name is their id with the first letter upper-cased.
func (n *Network) AddUser(id connectors.RemoteUserID, password string) {
	n.do("AddUser", func() error {
		if id == BotUser {
			return errf(http.StatusConflict, "%q is the bot", id)
		}
		n.userLocked(string(id)).password = password
		return nil
	})
}

// SetPassword changes a user's password and ends every session they have:
// their tokens stop working, and the event stream tells the connector that
// made each session, which reports BAD_CREDENTIALS.
func (n *Network) SetPassword(id connectors.RemoteUserID, password string) {
	n.do("SetPassword", func() error {
		u := n.users[string(id)]
		if u == nil || id == BotUser {
			return errf(http.StatusNotFound, "no user %q", id)
		}
		u.password = password
		var ended []*session
		for tok, s := range n.tokens {
			if s.user == u.id {
				delete(n.tokens, tok)
				ended = append(ended, s)
			}
		}
		slices.SortFunc(ended, func(a, b *session) int { return strings.Compare(a.id, b.id) })
		for _, s := range ended {
			n.emitLocked(wireEvent{Type: evSessionRevoked, User: u.id, Via: s.via()})
		}
		return nil
	})
}

// Rename changes a user's display name (a "profile" event, in no chat).
func (n *Network) Rename(id connectors.RemoteUserID, name string) {
	n.do("Rename", func() error {
		u := n.userLocked(string(id))
		u.name = name
		n.emitLocked(wireEvent{Type: evProfile, User: u.id, Text: name})
		return nil
	})
}

// RenameChat changes a chat's name (a "name" event from the network).
func (n *Network) RenameChat(chat connectors.PortalID, name string) {
	n.do("RenameChat", func() error {
		c, err := n.chatLocked(string(chat))
		if err != nil {
			return err
		}
		c.name = name
		n.emitLocked(wireEvent{Type: evName, Chat: c.id, Text: name})
		return nil
	})
}

// Post sends a plain text message as user and returns its id. A user the
// network has not seen is created (without a password); one who is not in
// the chat joins it first, with a join event before the message's.
func (n *Network) Post(chat connectors.PortalID, user connectors.RemoteUserID, body string) connectors.MessageID {
	return n.PostMessage(chat, user, &connectors.Message{Body: body})
}

// PostMessage sends m as user: its MsgType, Body, HTML, Mentions (their
// Remote ids), ReplyTo, ThreadRoot and Attachment (Name, MimeType, Data or
// URL). It returns the message's id.
func (n *Network) PostMessage(chat connectors.PortalID, user connectors.RemoteUserID, m *connectors.Message) connectors.MessageID {
	var id string
	n.do("PostMessage", func() error {
		c, err := n.chatLocked(string(chat))
		if err != nil {
			return err
		}
		n.userLocked(string(user))
		id, err = n.postLocked(c, string(user), nil, toWireMessage(m), "")
		return err
	})
	return connectors.MessageID(id)
}

// Edit changes message id's text, as its sender; it returns the edit's id.
func (n *Network) Edit(chat connectors.PortalID, id connectors.MessageID, body string) connectors.MessageID {
	var editID string
	n.do("Edit", func() error {
		c, err := n.chatLocked(string(chat))
		if err != nil {
			return err
		}
		msg, err := n.messageLocked(c, string(id))
		if err != nil {
			return err
		}
		editID, err = n.editLocked(c, msg.id, msg.sender, nil, wireMessage{Body: body, MsgType: msg.content.MsgType})
		return err
	})
	return connectors.MessageID(editID)
}

// Delete deletes message id, as its sender.
func (n *Network) Delete(chat connectors.PortalID, id connectors.MessageID) {
	n.do("Delete", func() error {
		c, err := n.chatLocked(string(chat))
		if err != nil {
			return err
		}
		msg, err := n.messageLocked(c, string(id))
		if err != nil {
			return err
		}
		return n.deleteLocked(c, msg.id, msg.sender, nil)
	})
}

// React adds user's reaction key to message id and returns the reaction's id.
func (n *Network) React(chat connectors.PortalID, id connectors.MessageID, user connectors.RemoteUserID, key string) connectors.MessageID {
	var rid string
	n.do("React", func() error {
		c, err := n.chatLocked(string(chat))
		if err != nil {
			return err
		}
		n.userLocked(string(user))
		rid, err = n.reactLocked(c, string(id), string(user), nil, key)
		return err
	})
	return connectors.MessageID(rid)
}

// Unreact takes user's reaction key off message id.
func (n *Network) Unreact(chat connectors.PortalID, id connectors.MessageID, user connectors.RemoteUserID, key string) {
	n.do("Unreact", func() error {
		c, err := n.chatLocked(string(chat))
		if err != nil {
			return err
		}
		return n.unreactLocked(c, string(id), string(user), nil, key)
	})
}

// SetTopic sets a chat's topic as user ("" for the network itself).
func (n *Network) SetTopic(chat connectors.PortalID, user connectors.RemoteUserID, topic string) {
	n.do("SetTopic", func() error {
		c, err := n.chatLocked(string(chat))
		if err != nil {
			return err
		}
		if user != "" {
			n.userLocked(string(user))
		}
		return n.topicLocked(c, string(user), nil, topic)
	})
}

// Join adds user to a chat, public or not.
func (n *Network) Join(chat connectors.PortalID, user connectors.RemoteUserID) {
	n.do("Join", func() error {
		c, err := n.chatLocked(string(chat))
		if err != nil {
			return err
		}
		n.userLocked(string(user))
		n.joinLocked(c, string(user), nil)
		return nil
	})
}

// Leave removes user from a chat, with reason.
func (n *Network) Leave(chat connectors.PortalID, user connectors.RemoteUserID, reason string) {
	n.Kick(chat, user, "", reason)
}

// Kick removes user from a chat; the event names kicker.
func (n *Network) Kick(chat connectors.PortalID, user, kicker connectors.RemoteUserID, reason string) {
	n.do("Kick", func() error {
		c, err := n.chatLocked(string(chat))
		if err != nil {
			return err
		}
		n.leaveLocked(c, string(user), nil, string(kicker), reason)
		return nil
	})
}

// SetTyping starts (for 30 seconds) or stops user's typing in a chat.
func (n *Network) SetTyping(chat connectors.PortalID, user connectors.RemoteUserID, typing bool) {
	n.do("SetTyping", func() error {
		c, err := n.chatLocked(string(chat))
		if err != nil {
			return err
		}
		n.userLocked(string(user))
		n.typingLocked(c, string(user), nil, typing, 0)
		return nil
	})
}

// MarkRead moves user's read marker in a chat to message upTo.
func (n *Network) MarkRead(chat connectors.PortalID, user connectors.RemoteUserID, upTo connectors.MessageID) {
	n.do("MarkRead", func() error {
		c, err := n.chatLocked(string(chat))
		if err != nil {
			return err
		}
		n.userLocked(string(user))
		return n.readLocked(c, string(user), nil, string(upTo))
	})
}
