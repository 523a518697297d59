package irc

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/lrstanley/girc"
	"maunium.net/go/mautrix/id"

	"switchboard/connectors"
)

// Matrix users' own connections: opened on first use, stored as logins so a
// restart reopens them, closed when idle, and their private messages.

// handleUser turns a Matrix user's connection's private messages into their
// direct chats. Channel traffic is the bot's to bridge.
func (n *network) handleUser(c *conn, e *girc.Event) {
	if e.Echo || e.Source == nil {
		return
	}
	switch e.Command {
	case girc.PRIVMSG, girc.NOTICE:
		if len(e.Params) < 2 || isChannelPrefix(e.Params[0][0]) || !strings.EqualFold(e.Params[0], c.nick()) {
			return
		}
		nick := e.Source.Name
		if e.Source.Ident == "" && strings.Contains(nick, ".") {
			return // a server notice
		}
		if _, own := n.isOwn(nick); own {
			return
		}
		if ok, ctcp := e.IsCTCP(); ok && ctcp.Command != girc.CTCP_ACTION {
			return
		}
		msg := n.toMessage(e)
		msgid := n.messageID(e)
		n.recent.put(string(msgid), nick, msg.Body)
		n.queue(&connectors.RemoteEvent{Type: connectors.EventMessage, Chat: directChat(n.cfg.ID, nick, c.user),
			Sender: remoteUser(n.cfg.ID, nick), SenderName: nick, ID: msgid, Time: e.Timestamp, Message: msg})
	}
}

// loginSecret is what the bridge stores for a Matrix user's connection.
type loginSecret struct {
	Nick     string   `json:"nick"`
	Channels []string `json:"channels,omitempty"`
	Password string   `json:"password,omitempty"`
	// Idle is set when the connection was closed for idleness; it opens
	// again when its user next speaks, not at start.
	Idle bool `json:"idle,omitempty"`
}

// userConn returns user's connection, opening it when they have none. It
// returns ErrNoIdentity when the network relays everyone or is full.
func (n *network) userConn(ctx context.Context, user *connectors.MatrixUser) (*conn, error) {
	n.mu.Lock()
	uc := n.users[user.ID]
	count := len(n.users)
	n.mu.Unlock()
	if uc != nil {
		return uc, nil
	}
	if !*n.cfg.PerUserConnections {
		return nil, connectors.ErrNoIdentity
	}
	if count >= n.cfg.MaxConnections {
		n.log.Warn("per-user connection limit reached; relaying", slog.String("user_id", string(user.ID)), slog.Int("max_connections", n.cfg.MaxConnections))
		return nil, connectors.ErrNoIdentity
	}
	s := loginSecret{Nick: n.nickFor(user.DisplayName, user.ID.Localpart())}
	for _, l := range user.Logins {
		if string(l.ID) == n.cfg.ID {
			_ = json.Unmarshal(l.Secret, &s)
			s.Idle = false
		}
	}
	uc = n.startUserConn(user.ID, s)
	n.saveLogin(ctx, uc)
	return uc, nil
}

// startUserConn opens a Matrix user's connection.
func (n *network) startUserConn(user id.UserID, s loginSecret) *conn {
	n.mu.Lock()
	if uc := n.users[user]; uc != nil {
		n.mu.Unlock()
		return uc
	}
	uc := newConn(n, connOptions{user: user, nick: s.Nick, ident: identFor(user), realName: string(user),
		password: s.Password, handle: n.handleUser})
	for _, ch := range s.Channels {
		uc.channels[fold(ch)] = ch
	}
	uc.lastActive.Store(time.Now().Unix())
	n.users[user] = uc
	n.mu.Unlock()
	n.c.goRun(func() { uc.run(n.c.ctx) })
	return uc
}

// saveLogin stores a user's connection so a restart reopens it.
func (n *network) saveLogin(ctx context.Context, uc *conn) {
	uc.mu.Lock()
	s := loginSecret{Nick: uc.client.GetNick(), Password: uc.password, Idle: uc.stopped}
	uc.mu.Unlock()
	if s.Nick == "" {
		s.Nick = uc.client.Config.Nick
	}
	s.Channels = uc.channelList()
	data, _ := json.Marshal(s)
	l := &connectors.Login{UserID: uc.user, ID: connectors.LoginID(n.cfg.ID), RemoteUser: remoteUser(n.cfg.ID, s.Nick),
		Name: s.Nick + " on " + n.cfg.Name, Secret: data}
	if err := n.c.host.SaveLogin(ctx, l); err != nil {
		n.log.Warn("store IRC connection", slog.String("user_id", string(uc.user)), slog.Any("error", err))
	}
}

// closeIdle disconnects connections whose users have been quiet longer
// than idle_timeout.
func (n *network) closeIdle() {
	timeout := time.Duration(n.cfg.IdleTimeout)
	tick := time.NewTicker(min(timeout/4+time.Second, time.Minute))
	defer tick.Stop()
	for {
		select {
		case <-n.c.ctx.Done():
			return
		case <-tick.C:
		}
		cutoff := time.Now().Add(-timeout).Unix()
		n.mu.Lock()
		var idle []*conn
		for user, uc := range n.users {
			if uc.lastActive.Load() < cutoff {
				idle = append(idle, uc)
				delete(n.users, user)
			}
		}
		n.mu.Unlock()
		for _, uc := range idle {
			uc.stop("Idle")
			n.saveLogin(n.c.ctx, uc)
			n.log.Info("closed idle IRC connection", slog.String("user_id", string(uc.user)))
		}
	}
}

// nickFor makes a Matrix user's nick from nick_template.
func (n *network) nickFor(displayName, localpart string) string {
	name := sanitizeNick(displayName)
	if name == "" {
		name = sanitizeNick(localpart)
	}
	nick := strings.ReplaceAll(n.cfg.NickTemplate, "{displayname}", name)
	nick = strings.ReplaceAll(nick, "{localpart}", sanitizeNick(localpart))
	nick = sanitizeNick(nick)
	if nick == "" || !nickPattern.MatchString(nick) {
		nick = "matrix" + strconv.Itoa(int(n.idSeq.Add(1)))
	}
	if len(nick) > 30 {
		nick = nick[:30]
	}
	return nick
}

// sanitizeNick keeps the characters a nick may hold and makes sure it
// does not start with a digit or '-'.
func sanitizeNick(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("[]\\`_^{|}-", r):
			b.WriteRune(r)
		case r == ' ' || r == '.':
			b.WriteByte('_')
		}
	}
	out := b.String()
	for out != "" && (out[0] == '-' || out[0] >= '0' && out[0] <= '9') {
		out = out[1:]
	}
	return out
}

// identFor is the ident (username) of a Matrix user's connection: their
// localpart, cut to what servers accept.
func identFor(user id.UserID) string {
	s := sanitizeNick(user.Localpart())
	if s == "" {
		s = "matrix"
	}
	if len(s) > 10 {
		s = s[:10]
	}
	return s
}
