package irc

import (
	"regexp"
	"strings"
	"time"

	"switchboard/connectors"
)

// Membership: IRC joins, parts, quits, kicks and nick changes as the bot
// sees them become puppets joining and leaving portal rooms; netsplits are
// held back so they do not flood the rooms.

// joined handles a JOIN seen by the bot.
func (n *network) joined(channel, nick string) {
	if !n.bridged(channel) {
		return
	}
	if _, own := n.isOwn(nick); own {
		return
	}
	n.rememberMember(channel, nick, true)
	if n.cancelSplitQuit(nick) {
		return // back from a netsplit: never shown leaving
	}
	if !*n.cfg.MembershipSync {
		return
	}
	n.queue(&connectors.RemoteEvent{Type: connectors.EventJoin, Chat: channelChat(n.cfg.ID, channel),
		Sender: remoteUser(n.cfg.ID, nick), SenderName: nick})
}

// left handles a PART or KICK of nick from channel.
func (n *network) left(channel, nick, reason, kicker string) {
	if !n.bridged(channel) {
		return
	}
	if _, own := n.isOwn(nick); own {
		return
	}
	n.rememberMember(channel, nick, false)
	if !*n.cfg.MembershipSync {
		return
	}
	evt := &connectors.RemoteEvent{Type: connectors.EventLeave, Chat: channelChat(n.cfg.ID, channel),
		Sender: remoteUser(n.cfg.ID, nick), Reason: toPlain(reason)}
	if kicker != "" {
		evt.Kicker = n.senderOf(kicker)
	}
	n.queue(evt)
}

// netsplitReason matches the QUIT reason of a netsplit: the two servers
// that lost each other ("hub.example.net leaf.example.net"), or the
// "*.net *.split" that networks hiding their servers write.
var netsplitReason = regexp.MustCompile(`^[\w.*-]+\.[\w.*-]+ [\w.*-]+\.[\w.*-]+$`)

// massQuit reports whether a QUIT is one of many at once — a netsplit or
// the server going down — after which most users are soon back.
func massQuit(reason string) bool {
	if netsplitReason.MatchString(reason) {
		return true
	}
	r := strings.ToLower(reason)
	return strings.Contains(r, "server shutting down") || strings.Contains(r, "server going down") ||
		strings.Contains(r, "server shutdown") || strings.Contains(r, "server restart")
}

// quit handles a QUIT: the user leaves every bridged channel they were in,
// except after a netsplit, when they are given time to come back.
func (n *network) quit(c *conn, nick, reason string) {
	if _, own := n.isOwn(nick); own {
		return
	}
	u := c.client.LookupUser(nick) // girc forgets the user after this handler
	if u == nil {
		return
	}
	channels := u.ChannelList
	if massQuit(reason) {
		n.holdSplitQuit(nick, channels, "Netsplit: "+reason)
		return
	}
	for _, ch := range channels {
		n.left(ch, nick, "Quit: "+reason, "")
	}
}

// splitQuit is a user waiting to come back.
type splitQuit struct {
	timer    *time.Timer
	channels map[string]string // folded → as written
	reason   string
}

// holdSplitQuit delays showing nick leave channels: after a netsplit most
// users are back within seconds, and a flood of leaves and joins would
// bury the conversation. Only those still missing after netsplit_grace
// are shown leaving.
func (n *network) holdSplitQuit(nick string, channels []string, reason string) {
	key := fold(nick)
	n.mu.Lock()
	defer n.mu.Unlock()
	q := n.splitQuits[key]
	if q == nil {
		q = &splitQuit{channels: map[string]string{}, reason: reason}
		n.splitQuits[key] = q
		q.timer = time.AfterFunc(time.Duration(n.cfg.NetsplitGrace), func() {
			n.mu.Lock()
			if n.splitQuits[key] != q {
				n.mu.Unlock()
				return
			}
			delete(n.splitQuits, key)
			chans := make([]string, 0, len(q.channels))
			for _, ch := range q.channels {
				chans = append(chans, ch)
			}
			n.mu.Unlock()
			for _, ch := range chans {
				n.left(ch, nick, q.reason, "")
			}
		})
	}
	for _, ch := range channels {
		q.channels[fold(ch)] = ch
	}
}

func (n *network) cancelSplitQuit(nick string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	q := n.splitQuits[fold(nick)]
	if q == nil {
		return false
	}
	delete(n.splitQuits, fold(nick))
	q.timer.Stop()
	return true
}

// renamed handles a NICK change: the old nick's puppet leaves the shared
// channels and the new nick's puppet, named after it, joins them.
func (n *network) renamed(c *conn, from, to string) {
	if _, own := n.isOwn(from); own {
		return // the connection's own handler records its new nick
	}
	u := c.client.LookupUser(from)
	if u == nil {
		return
	}
	for _, ch := range u.ChannelList {
		if !n.bridged(ch) {
			continue
		}
		n.rememberMember(ch, from, false)
		n.rememberMember(ch, to, true)
		if !*n.cfg.MembershipSync {
			continue
		}
		chat := channelChat(n.cfg.ID, ch)
		n.queue(&connectors.RemoteEvent{Type: connectors.EventLeave, Chat: chat, Sender: remoteUser(n.cfg.ID, from),
			Reason: "Now known as " + to})
		n.queue(&connectors.RemoteEvent{Type: connectors.EventJoin, Chat: chat, Sender: remoteUser(n.cfg.ID, to), SenderName: to})
	}
}

func (n *network) rememberMember(channel, nick string, in bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	set := n.members[fold(channel)]
	if set == nil {
		set = map[string]bool{}
		n.members[fold(channel)] = set
	}
	if in {
		set[fold(nick)] = true
	} else {
		delete(set, fold(nick))
	}
}

// reconcileMembers compares a channel's members after the bot (re)joined
// with those it knew: newcomers join, the missing leave.
func (n *network) reconcileMembers(c *conn, channel string) {
	ch := c.client.LookupChannel(channel)
	if ch == nil {
		return
	}
	now := map[string]string{}
	for _, nick := range ch.UserList {
		if _, own := n.isOwn(nick); !own {
			now[fold(nick)] = nick
		}
	}
	n.mu.Lock()
	before, known := n.members[fold(channel)]
	set := make(map[string]bool, len(now))
	for k := range now {
		set[k] = true
	}
	n.members[fold(channel)] = set
	n.mu.Unlock()
	if !*n.cfg.MembershipSync {
		return
	}
	chat := channelChat(n.cfg.ID, channel)
	for k, nick := range now {
		back := n.cancelSplitQuit(nick) // quit in a netsplit, here again
		if back || known && before[k] {
			continue
		}
		n.queue(&connectors.RemoteEvent{Type: connectors.EventJoin, Chat: chat, Sender: remoteUser(n.cfg.ID, nick), SenderName: nick})
	}
	for k := range before {
		if _, still := now[k]; !still {
			// Gone while the bot was away, as after a netsplit or a
			// server restart: most come back.
			n.holdSplitQuit(k, []string{channel}, "Left while the bridge was away")
		}
	}
}
