package irc

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lrstanley/girc"
	"golang.org/x/time/rate"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/connectors"
	"switchboard/connectors/irc/ircfmt"
)

// network is one IRC network: its bot and its Matrix users' connections.
type network struct {
	c   *Connector
	cfg NetworkConfig
	log *slog.Logger

	// connectPacer spaces out connection attempts of all of the network's
	// connections, so a restart or netsplit never storms the server.
	connectPacer *rate.Limiter
	bot          *conn

	mu    sync.Mutex
	users map[id.UserID]*conn
	// nicks maps the folded nicks of the bridge's own connections to their
	// Matrix users (the bot's to ""): lines from them are never bridged
	// back.
	nicks map[string]id.UserID
	// members is who was in each bridged channel when last seen, so a
	// rejoin after a reconnect shows only the difference.
	members map[string]map[string]bool
	// splitQuits are users who vanished in a netsplit (or while the bot
	// was away), waiting to come back before they are shown leaving.
	splitQuits map[string]*splitQuit
	consents   []*consentAsk
	// events are on their way to the bridge, in order (see dispatch).
	events chan *connectors.RemoteEvent

	recent  recentMessages
	idSeq   atomic.Uint64
	started time.Time
}

func newNetwork(c *Connector, cfg NetworkConfig) *network {
	cfg.applyDefaults()
	return &network{
		c:            c,
		cfg:          cfg,
		connectPacer: rate.NewLimiter(rate.Limit(cfg.ConnectsPerSecond), max(1, int(cfg.ConnectsPerSecond))),
		users:        map[id.UserID]*conn{},
		nicks:        map[string]id.UserID{},
		members:      map[string]map[string]bool{},
		splitQuits:   map[string]*splitQuit{},
		recent:       newRecentMessages(10000),
		events:       make(chan *connectors.RemoteEvent, 4*dispatchBatch),
	}
}

// start connects the bot, bridges the configured channels and reconnects
// the users' connections stored at the last run.
func (n *network) start(logins []*connectors.Login) {
	n.log = n.c.log.With(slog.String("irc_network", n.cfg.ID))
	n.started = time.Now()
	opts := connOptions{nick: n.cfg.BotNick, ident: "switchboard", realName: "Switchboard bridge bot", handle: n.handleBot}
	if s := n.cfg.SASL; s != nil {
		switch strings.ToUpper(s.Mechanism) {
		case "PLAIN":
			opts.sasl = &girc.SASLPlain{User: s.Username, Pass: s.Password}
		case "EXTERNAL":
			opts.sasl = &girc.SASLExternal{}
			if cert, err := loadCert(s.CertFile, s.KeyFile); err != nil {
				n.log.Error("SASL EXTERNAL certificate", slog.Any("error", err))
			} else {
				opts.tlsCert = cert
			}
		}
	}
	n.bot = newConn(n, opts)
	n.c.goRun(n.dispatch)
	for _, ch := range n.cfg.Channels {
		n.bot.channels[fold(ch)] = ch
	}
	n.c.goRun(func() { n.bot.run(n.c.ctx) })
	n.c.goRun(n.bridgeConfiguredChannels)
	for _, l := range logins {
		if string(l.ID) != n.cfg.ID || !*n.cfg.PerUserConnections {
			continue
		}
		var s loginSecret
		if err := json.Unmarshal(l.Secret, &s); err != nil {
			n.log.Warn("unreadable stored IRC connection", slog.String("user_id", string(l.UserID)), slog.Any("error", err))
			continue
		}
		if s.Idle {
			continue
		}
		n.startUserConn(l.UserID, s)
	}
	if n.cfg.IdleTimeout > 0 {
		n.c.goRun(n.closeIdle)
	}
}

// bridgeConfiguredChannels creates the portals of the configured channels,
// once the bot is in.
func (n *network) bridgeConfiguredChannels() {
	for _, ch := range n.cfg.Channels {
		for {
			err := n.c.host.BridgeChat(n.c.ctx, channelChat(n.cfg.ID, ch))
			if err == nil || n.c.ctx.Err() != nil {
				break
			}
			n.log.Warn("bridge configured channel", slog.String("channel", ch), slog.Any("error", err))
			select {
			case <-n.c.ctx.Done():
				return
			case <-time.After(10 * time.Second):
			}
		}
	}
}

func (n *network) stop(reason string) {
	n.mu.Lock()
	conns := make([]*conn, 0, len(n.users)+1)
	for _, uc := range n.users {
		conns = append(conns, uc)
	}
	for _, q := range n.splitQuits {
		q.timer.Stop()
	}
	n.mu.Unlock()
	if n.bot != nil {
		conns = append(conns, n.bot)
	}
	var wg sync.WaitGroup
	for _, uc := range conns {
		wg.Go(func() { uc.stop(reason) })
	}
	wg.Wait()
}

// localID makes a message id for a line the server gave none.
func (n *network) localID() string {
	return "sb-" + strconv.FormatInt(n.started.UnixNano(), 36) + "-" + strconv.FormatUint(n.idSeq.Add(1), 36)
}

// ownNick records the nick one of the bridge's connections has now,
// forgetting the one it had.
func (n *network) ownNick(c *conn, nick string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if c.ownedNick != "" && n.nicks[c.ownedNick] == c.user {
		delete(n.nicks, c.ownedNick)
	}
	c.ownedNick = fold(nick)
	n.nicks[c.ownedNick] = c.user
}

// isOwn reports whether nick is one of the bridge's connections, and whose.
func (n *network) isOwn(nick string) (id.UserID, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	u, ok := n.nicks[fold(nick)]
	return u, ok
}

// displayNick is nick as the network writes it, when the bot has seen it.
func (n *network) displayNick(nick string) string {
	if n.bot != nil && n.bot.client.IsConnected() {
		if u := n.bot.client.LookupUser(nick); u != nil {
			return u.Nick
		}
	}
	return nick
}

// watch has the bot join channel, now and after reconnects.
func (n *network) watch(channel string) {
	if err := n.bot.join(n.c.ctx, channel, false); err != nil {
		n.log.Debug("join watched channel later", slog.String("channel", channel), slog.Any("error", err))
	}
}

func (n *network) unwatch(channel string) {
	_ = n.bot.part(n.c.ctx, channel, "No longer bridged")
}

// channelInfo joins channel as the bot and describes it.
func (n *network) channelInfo(ctx context.Context, channel string) (*connectors.ChatInfo, error) {
	if err := n.bot.join(ctx, channel, true); err != nil {
		if retryable(err) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %v", connectors.ErrNotFound, err)
	}
	info := &connectors.ChatInfo{Name: channel, Public: true, HistoryVisibility: "joined"}
	ch := n.bot.client.LookupChannel(channel)
	if ch == nil {
		return info, nil
	}
	info.Name = ch.Name
	info.Topic = ch.Topic
	if ch.Modes.HasMode("i") || ch.Modes.HasMode("k") {
		info.Public = false
	}
	if *n.cfg.MembershipSync {
		for _, nick := range ch.UserList {
			if _, own := n.isOwn(nick); !own {
				info.Members = append(info.Members, remoteUser(n.cfg.ID, nick))
			}
		}
	}
	return info, nil
}

// queue hands an event to the bridge through the dispatcher, in order. It
// waits while the dispatcher is behind: back-pressure that slows reading
// from the server, never a drop.
func (n *network) queue(evt *connectors.RemoteEvent) {
	select {
	case n.events <- evt:
	case <-n.c.ctx.Done():
		n.log.Debug("IRC event after stop", slog.String("type", string(evt.Type)), slog.String("chat", string(evt.Chat)))
	}
}

// dispatchBatch bounds how many events go to the bridge in one write.
const dispatchBatch = 256

// dispatch passes queued events to the bridge, as many at once as have
// piled up, so a busy channel costs one database write per batch rather
// than per line. At stop it hands over what is left.
func (n *network) dispatch() {
	batch := make([]*connectors.RemoteEvent, 0, dispatchBatch)
	for {
		select {
		case evt := <-n.events:
			batch = append(batch[:0], evt)
		case <-n.c.ctx.Done():
			batch = batch[:0]
			for len(n.events) > 0 && len(batch) < cap(batch) {
				batch = append(batch, <-n.events)
			}
			n.handOver(context.WithoutCancel(n.c.ctx), batch)
			return
		}
	gather:
		for len(batch) < dispatchBatch {
			select {
			case evt := <-n.events:
				batch = append(batch, evt)
			default:
				break gather
			}
		}
		n.handOver(n.c.ctx, batch)
	}
}

func (n *network) handOver(ctx context.Context, batch []*connectors.RemoteEvent) {
	if len(batch) == 0 {
		return
	}
	if err := n.c.host.QueueBatch(ctx, batch); err != nil && ctx.Err() == nil {
		n.log.Warn("IRC events not queued", slog.Int("events", len(batch)), slog.Any("error", err))
	}
}

// handleBot turns what the bot sees into events for Matrix. Only the bot
// listens to channels; lines from the bridge's own connections are
// Matrix users' and never come back.
func (n *network) handleBot(c *conn, e *girc.Event) {
	if e.Echo || e.Source == nil {
		return
	}
	nick := e.Source.Name
	switch e.Command {
	case girc.PRIVMSG, girc.NOTICE:
		if len(e.Params) < 2 {
			return
		}
		target := e.Params[0]
		if !isChannelPrefix(target[0]) {
			n.answerConsent(nick, e.Last())
			return
		}
		if _, own := n.isOwn(nick); own || !n.bridged(target) {
			return
		}
		n.channelMessage(c, e, target)
	case girc.CAP_TAGMSG:
		if len(e.Params) < 1 || !isChannelPrefix(e.Params[0][0]) || !n.bridged(e.Params[0]) {
			return
		}
		if _, own := n.isOwn(nick); own {
			return
		}
		n.tagMessage(channelChat(n.cfg.ID, e.Params[0]), nick, e)
	case girc.JOIN:
		if len(e.Params) < 1 {
			return
		}
		n.joined(e.Params[0], nick)
	case girc.PART:
		if len(e.Params) < 1 {
			return
		}
		reason := ""
		if len(e.Params) > 1 {
			reason = e.Last()
		}
		n.left(e.Params[0], nick, reason, "")
	case girc.KICK:
		if len(e.Params) < 2 {
			return
		}
		reason := ""
		if len(e.Params) > 2 {
			reason = e.Last()
		}
		n.left(e.Params[0], e.Params[1], reason, nick)
	case girc.QUIT:
		n.quit(c, nick, e.Last())
	case girc.NICK:
		if len(e.Params) < 1 {
			return
		}
		n.renamed(c, nick, e.Params[0])
	case girc.TOPIC:
		if len(e.Params) < 2 || !n.bridged(e.Params[0]) {
			return
		}
		n.queue(&connectors.RemoteEvent{Type: connectors.EventTopic, Chat: channelChat(n.cfg.ID, e.Params[0]),
			Sender: n.senderOf(nick), SenderName: nick, Text: toPlain(e.Last()), Time: e.Timestamp})
	case "REDACT": // draft/message-redaction
		if len(e.Params) < 2 || !isChannelPrefix(e.Params[0][0]) || !n.bridged(e.Params[0]) {
			return
		}
		if _, own := n.isOwn(nick); own {
			return
		}
		n.queue(&connectors.RemoteEvent{Type: connectors.EventDelete, Chat: channelChat(n.cfg.ID, e.Params[0]),
			Sender: remoteUser(n.cfg.ID, nick), Target: connectors.MessageID(e.Params[1]), Time: e.Timestamp})
	case girc.RPL_ENDOFNAMES:
		if len(e.Params) > 1 && n.bridged(e.Params[1]) {
			n.reconcileMembers(c, e.Params[1])
		}
	}
}

// senderOf is who an event is from: a remote user, or nobody for one of
// the bridge's own connections.
func (n *network) senderOf(nick string) connectors.RemoteUserID {
	if _, own := n.isOwn(nick); own {
		return ""
	}
	return remoteUser(n.cfg.ID, nick)
}

// bridged reports whether the bot is meant to be in channel.
func (n *network) bridged(channel string) bool {
	n.bot.mu.Lock()
	defer n.bot.mu.Unlock()
	_, ok := n.bot.channels[fold(channel)]
	return ok
}

// channelMessage bridges a PRIVMSG or NOTICE to a channel.
func (n *network) channelMessage(c *conn, e *girc.Event, channel string) {
	chat := channelChat(n.cfg.ID, channel)
	msg := n.toMessage(e)
	n.mentionAtStart(c, channel, msg)
	msgid := n.messageID(e)
	n.recent.put(string(msgid), e.Source.Name, msg.Body)
	n.queue(&connectors.RemoteEvent{Type: connectors.EventMessage, Chat: chat, Sender: remoteUser(n.cfg.ID, e.Source.Name),
		SenderName: e.Source.Name, ID: msgid, Time: e.Timestamp, Message: msg})
}

// messageID is the line's msgid, or one of the bridge's own.
func (n *network) messageID(e *girc.Event) connectors.MessageID {
	if msgid, ok := e.Tags.Get("msgid"); ok && msgid != "" {
		return connectors.MessageID(msgid)
	}
	return connectors.MessageID(n.localID())
}

// toMessage converts a PRIVMSG, NOTICE or CTCP ACTION.
func (n *network) toMessage(e *girc.Event) *connectors.Message {
	text := e.Last()
	msgType := event.MsgText
	switch {
	case e.IsAction():
		text = strings.TrimSuffix(strings.TrimPrefix(text, "\x01ACTION "), "\x01")
		msgType = event.MsgEmote
	case e.Command == girc.NOTICE:
		msgType = event.MsgNotice
	}
	body, html := ircfmt.ToMatrix(text)
	msg := &connectors.Message{MsgType: msgType, Body: body, HTML: html}
	if reply, ok := e.Tags.Get("+draft/reply"); ok && reply != "" {
		msg.ReplyTo = connectors.MessageID(reply)
	}
	return msg
}

// mentionAtStart turns "nick: text" into a mention of nick's puppet or
// Matrix user, when nick is in the channel.
func (n *network) mentionAtStart(c *conn, channel string, msg *connectors.Message) {
	if msg.HTML != "" {
		return // formatted lines keep their formatting; the mention stays text
	}
	nick, rest, ok := ircfmt.LeadingMention(msg.Body)
	if !ok {
		return
	}
	var userID id.UserID
	mention := connectors.Mention{Name: nick}
	if owner, own := n.isOwn(nick); own && owner != "" {
		userID, mention.ID = owner, owner
	} else if ch := c.client.LookupChannel(channel); ch != nil && ch.UserIn(nick) {
		mention.Remote = remoteUser(n.cfg.ID, nick)
		userID = n.c.host.PuppetUserID(mention.Remote)
	} else {
		return
	}
	msg.Mentions = append(msg.Mentions, mention)
	msg.HTML = pillHTML(userID, nick) + ": " + html.EscapeString(rest)
}

// tagMessage handles client-only tags: reactions and typing.
func (n *network) tagMessage(chat connectors.PortalID, nick string, e *girc.Event) {
	if react, ok := e.Tags.Get("+draft/react"); ok && react != "" {
		target, _ := e.Tags.Get("+draft/reply")
		if target == "" {
			return
		}
		n.queue(&connectors.RemoteEvent{Type: connectors.EventReaction, Chat: chat, Sender: remoteUser(n.cfg.ID, nick),
			SenderName: nick, ID: n.messageID(e), Target: connectors.MessageID(target), Text: react, Time: e.Timestamp})
		return
	}
	if typing, ok := e.Tags.Get("+typing"); ok {
		n.queue(&connectors.RemoteEvent{Type: connectors.EventTyping, Chat: chat, Sender: remoteUser(n.cfg.ID, nick),
			Typing: typing == "active", Time: e.Timestamp})
	}
}
