package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/appservice"
	"switchboard/connectors"
	"switchboard/portal"
)

// handleMatrixItem carries one Matrix event to every chat linked to its room
// and then forgets it. A chat whose network is down holds the room's lane
// (order is kept) until it is back; a failure retrying cannot fix is
// reported in the room.
func (b *Bridge) handleMatrixItem(ctx context.Context, room string, it *matrixItem) {
	evt, err := parseEvent(it.raw)
	if err != nil {
		b.log.Debug("dropping unreadable Matrix event", slog.Any("error", err))
	} else {
		func() {
			defer func() {
				if r := recover(); r != nil {
					b.log.Error("Matrix event handler panicked", slog.String("room_id", room),
						slog.String("event_id", string(evt.ID)), slog.Any("panic", r))
					b.notice(ctx, evt.RoomID, fmt.Sprintf("An internal error stopped this message from reaching %s; it was reported.", b.display))
				}
			}()
			b.handleMatrixEvent(ctx, evt)
		}()
	}
	if ctx.Err() != nil || it.seq == 0 {
		return // stopping: the row stays for the next start
	}
	if err := b.writes.do(ctx, func(ctx context.Context) error { return b.queue.deleteInbox(ctx, it.seq) }); err != nil {
		b.log.Error("delete inbox row", slog.Int64("seq", it.seq), slog.Any("error", err))
	}
}

// parseEvent decodes a pushed event and its content. Content that does not
// fit its type is left unparsed; the handlers then ignore the event.
func parseEvent(raw []byte) (*event.Event, error) {
	var evt event.Event
	if err := json.Unmarshal(raw, &evt); err != nil {
		return nil, err
	}
	switch {
	case evt.StateKey != nil:
		evt.Type.Class = event.StateEventType
	case evt.Type == event.EphemeralEventTyping || evt.Type == event.EphemeralEventReceipt:
		evt.Type.Class = event.EphemeralEventType
	default:
		evt.Type.Class = event.MessageEventType
	}
	_ = evt.Content.ParseRaw(evt.Type)
	return &evt, nil
}

func (b *Bridge) handleMatrixEvent(ctx context.Context, evt *event.Event) {
	switch evt.Type {
	case event.StateMember:
		b.handleMatrixMember(ctx, evt)
	case event.EventMessage, event.EventSticker:
		msg := evt.Content.AsMessage()
		if b.isCommand(ctx, evt, msg) {
			return
		}
		b.bridgeMessage(ctx, evt, msg)
	case event.EventReaction:
		b.bridgeReaction(ctx, evt)
	case event.EventRedaction:
		b.bridgeRedaction(ctx, evt)
	case event.StateTopic:
		b.bridgeTopic(ctx, evt)
	case event.EphemeralEventTyping:
		b.bridgeTyping(ctx, evt)
	case event.EphemeralEventReceipt:
		b.bridgeReceipts(ctx, evt)
	}
}

// eventOrigin reads the origin tag of an event one of this bridge's puppets
// sent; nil for anyone else's event (a Matrix user cannot steer bridging
// with a tag of their own).
func (b *Bridge) eventOrigin(evt *event.Event) *origin {
	if _, ok := b.ids.parsePuppet(evt.Sender); !ok {
		return nil
	}
	raw, ok := evt.Content.Raw[originKey]
	if !ok {
		return nil
	}
	data, _ := json.Marshal(raw)
	var o origin
	if json.Unmarshal(data, &o) != nil || o.Network != b.network {
		return nil
	}
	return &o
}

// target is one linked chat an event goes to, and who speaks there.
type target struct {
	portal  *portal.Portal
	chat    connectors.PortalID
	client  connectors.Client
	relayed *connectors.Sender
}

// targets returns the chats linked to the event's room that should get it,
// with the client to use in each. Chats the sender may not reach are
// explained to them once per room.
func (b *Bridge) targets(ctx context.Context, evt *event.Event) []target {
	links, err := b.portals.ByRoom(ctx, b.network, evt.RoomID)
	if err != nil {
		b.log.Error("look up portals", slog.String("room_id", string(evt.RoomID)), slog.Any("error", err))
		return nil
	}
	if len(links) == 0 {
		return nil
	}
	o := b.eventOrigin(evt)
	lvl := b.perms.of(evt.Sender)
	if o == nil && lvl < levelRelay {
		return nil
	}
	var user *connectors.MatrixUser
	if o == nil {
		if user, err = b.matrixUser(ctx, evt.Sender, evt.RoomID); err != nil {
			b.log.Error("look up Matrix user", slog.Any("error", err))
			return nil
		}
	}
	var out []target
	for _, p := range links {
		if o != nil && o.Chat == p.RemoteID {
			continue // the chat it came from
		}
		t := target{portal: p, chat: connectors.PortalID(p.RemoteID)}
		switch {
		case o == nil && lvl >= levelUser:
			t.client, err = b.conn.ClientFor(ctx, user)
		case o == nil:
			err = connectors.ErrNoIdentity // relay-only users get no identity of their own
		default:
			err = connectors.ErrNoIdentity // a puppet of this network has no other identity on it
		}
		if errors.Is(err, connectors.ErrNoIdentity) {
			if !p.Relay {
				if o == nil {
					b.noticeOnce(ctx, evt.RoomID, evt.Sender, fmt.Sprintf(
						"%s: your messages here are not bridged, because you are not logged in and relaying is off in this room. Log in with `%s login`, or ask a room admin to turn on `%s relay on`.",
						b.display, b.prefix, b.prefix))
				}
				continue
			}
			t.client, err = b.conn.Relay(ctx)
			t.relayed = b.sender(ctx, evt)
		}
		if err != nil {
			b.log.Warn("no client for sender", slog.String("chat", p.RemoteID), slog.Any("error", err))
			b.notice(ctx, evt.RoomID, fmt.Sprintf("%s: could not deliver to %s: %v", b.display, p.RemoteID, err))
			continue
		}
		out = append(out, t)
	}
	return out
}

// sender describes a relayed sender by their name in the room.
func (b *Bridge) sender(ctx context.Context, evt *event.Event) *connectors.Sender {
	s := &connectors.Sender{ID: evt.Sender}
	if m, ok := b.member(ctx, evt.RoomID, evt.Sender); ok {
		s.DisplayName, s.AvatarURL = m.DisplayName, m.AvatarURL
	}
	return s
}

// deliverFailed reports an event that cannot reach a chat.
func (b *Bridge) deliverFailed(ctx context.Context, evt *event.Event, chat string, err error) {
	if ctx.Err() != nil {
		return
	}
	b.metrics.failed.WithLabelValues("to_network").Inc()
	b.log.Warn("Matrix event not delivered", slog.String("event_id", string(evt.ID)), slog.String("chat", chat), slog.Any("error", err))
	reason := err.Error()
	if errors.Is(err, connectors.ErrNotSupported) {
		reason = "the network does not support this"
	}
	b.notice(ctx, evt.RoomID, fmt.Sprintf("⚠ Not delivered to %s %s: %s", b.display, chat, reason))
}

func (b *Bridge) bridgeMessage(ctx context.Context, evt *event.Event, content *event.MessageEventContent) {
	if content == nil {
		return
	}
	if replace := content.RelatesTo.GetReplaceID(); replace != "" {
		b.bridgeEdit(ctx, evt, content, replace)
		return
	}
	start := time.Now()
	done, err := b.portals.MessagesByEvent(ctx, b.network, evt.ID)
	if err != nil {
		b.log.Error("look up message map", slog.Any("error", err))
		return
	}
	for _, t := range b.targets(ctx, evt) {
		if findChat(done, t.portal.RemoteID) != nil {
			continue // delivered before a restart
		}
		msg, err := b.toRemoteMessage(ctx, evt, content, t)
		if err != nil {
			b.deliverFailed(ctx, evt, t.portal.RemoteID, err)
			continue
		}
		var remoteID connectors.MessageID
		log := b.log.With(slog.String("chat", t.portal.RemoteID), slog.String("event_id", string(evt.ID)))
		err = b.retryRemote(ctx, log, func() (err error) {
			remoteID, err = t.client.SendMessage(ctx, t.chat, msg)
			return err
		})
		if err != nil {
			b.deliverFailed(ctx, evt, t.portal.RemoteID, err)
			continue
		}
		b.recordSent(ctx, evt, t, remoteID, portal.KindMessage, "", "")
		b.metrics.delivered.WithLabelValues("to_network").Inc()
	}
	b.metrics.latency.WithLabelValues("to_network").Observe(time.Since(start).Seconds())
}

func findChat(ms []*portal.Message, chat string) *portal.Message {
	for _, m := range ms {
		if m.Chat == chat {
			return m
		}
	}
	return nil
}

// noRemoteID prefixes the message-map key of an event delivered to a
// network that gave it no id: the row says "sent", but there is nothing
// the network could edit, delete or react to.
const noRemoteID = "mx:"

func hasRemoteID(m *portal.Message) bool { return !strings.HasPrefix(m.RemoteID, noRemoteID) }

// recordSent stores the message-map row of an event delivered to a chat.
// A network without ids still gets a row, so a retry knows it was sent.
func (b *Bridge) recordSent(ctx context.Context, evt *event.Event, t target, remoteID connectors.MessageID, kind, targetID, key string) {
	if remoteID == "" {
		remoteID = connectors.MessageID(noRemoteID + string(evt.ID))
	}
	m := &portal.Message{Network: b.network, Chat: t.portal.RemoteID, RemoteID: string(remoteID),
		RoomID: evt.RoomID, EventID: evt.ID, Sender: evt.Sender, Kind: kind, Target: targetID, Key: key,
		Timestamp: time.UnixMilli(evt.Timestamp)}
	err := b.writes.do(ctx, func(ctx context.Context) error { return b.portals.PutMessage(ctx, m) })
	if err != nil {
		b.log.Error("record message map", slog.Any("error", err))
	}
}

// toRemoteMessage converts Matrix content to the neutral form for one chat:
// the reply fallback stripped, HTML sanitised, mentions and relations mapped
// to that chat's ids, and media downloaded.
func (b *Bridge) toRemoteMessage(ctx context.Context, evt *event.Event, content *event.MessageEventContent, t target) (*connectors.Message, error) {
	c := *content
	c.RemoveReplyFallback()
	msg := &connectors.Message{MsgType: c.MsgType, Body: c.Body, Relayed: t.relayed,
		TxnID: string(evt.ID) + "/" + t.portal.RemoteID}
	if evt.Type == event.EventSticker {
		msg.MsgType = event.MsgImage
	}
	if msg.MsgType == "" {
		msg.MsgType = event.MsgText
	}
	if c.Format == event.FormatHTML && c.FormattedBody != "" {
		msg.HTML = SanitizeHTML(c.FormattedBody)
	}
	if o := b.eventOrigin(evt); o != nil {
		msg.Origin = b.network
	} else if o := foreignOrigin(evt); o != "" {
		msg.Origin = o
	}
	if c.Mentions != nil {
		for _, u := range c.Mentions.UserIDs {
			m := connectors.Mention{ID: u}
			if remote, ok := b.ids.parsePuppet(u); ok {
				m.Remote = remote
			} else if ls, err := b.puppets.UserLogins(ctx, b.network, u); err == nil && len(ls) > 0 {
				m.Remote = connectors.RemoteUserID(ls[0].RemoteID)
			}
			if member, ok := b.member(ctx, evt.RoomID, u); ok {
				m.Name = member.DisplayName
			}
			if m.Name == "" {
				m.Name = u.Localpart()
			}
			msg.Mentions = append(msg.Mentions, m)
		}
	}
	if reply := c.RelatesTo.GetNonFallbackReplyTo(); reply != "" {
		msg.ReplyTo = b.remoteTwin(ctx, evt.RoomID, reply, t.portal.RemoteID)
	}
	if root := c.RelatesTo.GetThreadParent(); root != "" {
		msg.ThreadRoot = b.remoteTwin(ctx, evt.RoomID, root, t.portal.RemoteID)
	}
	if c.URL != "" {
		data, mime, err := b.bot.Download(ctx, c.URL, b.maxMedia)
		if err != nil {
			return nil, fmt.Errorf("download %s: %w", c.URL, err)
		}
		a := &connectors.Attachment{Name: c.GetFileName(), MimeType: mime, Size: int64(len(data)), Data: data, MatrixURL: c.URL}
		if c.Info != nil {
			if c.Info.MimeType != "" {
				a.MimeType = c.Info.MimeType
			}
			a.Width, a.Height = c.Info.Width, c.Info.Height
		}
		if b.mediaURL != "" {
			a.PublicURL = b.publicMediaURL(c.URL, a.Name)
		}
		msg.Attachment = a
		if caption := c.GetCaption(); caption != "" {
			msg.Body = caption
		} else {
			msg.Body = a.Name
		}
	}
	return msg, nil
}

// foreignOrigin reads the network another Switchboard bridge tagged an
// event with (informational only).
func foreignOrigin(evt *event.Event) string {
	raw, ok := evt.Content.Raw[originKey].(map[string]any)
	if !ok {
		return ""
	}
	s, _ := raw["network"].(string)
	return s
}

// remoteTwin is the remote id of a Matrix event in chat, "" when unknown.
func (b *Bridge) remoteTwin(ctx context.Context, room id.RoomID, eventID id.EventID, chat string) connectors.MessageID {
	ms, err := b.twins(ctx, room, eventID)
	if err != nil {
		return ""
	}
	if m := findChat(ms, chat); m != nil && hasRemoteID(m) {
		return connectors.MessageID(m.RemoteID)
	}
	return ""
}

func (b *Bridge) bridgeEdit(ctx context.Context, evt *event.Event, content *event.MessageEventContent, original id.EventID) {
	newContent := content.NewContent
	if newContent == nil {
		return
	}
	twins, err := b.twins(ctx, evt.RoomID, original)
	if err != nil || len(twins) == 0 {
		return
	}
	for _, t := range b.targets(ctx, evt) {
		twin := findChat(twins, t.portal.RemoteID)
		if twin == nil {
			continue
		}
		msg, err := b.toRemoteMessage(ctx, evt, newContent, t)
		if err != nil {
			b.deliverFailed(ctx, evt, t.portal.RemoteID, err)
			continue
		}
		log := b.log.With(slog.String("chat", t.portal.RemoteID), slog.String("event_id", string(evt.ID)))
		editor, ok := t.client.(connectors.Editor)
		var remoteID connectors.MessageID
		if ok && hasRemoteID(twin) {
			err = b.retryRemote(ctx, log, func() (err error) {
				remoteID, err = editor.EditMessage(ctx, t.chat, connectors.MessageID(twin.RemoteID), msg)
				return err
			})
		} else {
			// A network without edits gets the correction as a new line,
			// the way people write one by hand.
			msg.Body = "* " + msg.Body
			if msg.HTML != "" {
				msg.HTML = "* " + msg.HTML
			}
			err = b.retryRemote(ctx, log, func() (err error) {
				remoteID, err = t.client.SendMessage(ctx, t.chat, msg)
				return err
			})
		}
		if err != nil {
			b.deliverFailed(ctx, evt, t.portal.RemoteID, err)
			continue
		}
		b.recordSent(ctx, evt, t, remoteID, portal.KindEdit, twin.RemoteID, "")
	}
}

func (b *Bridge) bridgeReaction(ctx context.Context, evt *event.Event) {
	content := evt.Content.AsReaction()
	targetID, key := content.RelatesTo.GetAnnotationID(), content.RelatesTo.GetAnnotationKey()
	if targetID == "" || key == "" {
		return
	}
	twins, err := b.twins(ctx, evt.RoomID, targetID)
	if err != nil || len(twins) == 0 {
		return
	}
	for _, t := range b.targets(ctx, evt) {
		twin := findChat(twins, t.portal.RemoteID)
		reactor, ok := t.client.(connectors.Reactor)
		if twin == nil || !ok || t.relayed != nil || !hasRemoteID(twin) {
			continue // a relayed reaction would be the bot's: better none
		}
		var remoteID connectors.MessageID
		log := b.log.With(slog.String("chat", t.portal.RemoteID), slog.String("event_id", string(evt.ID)))
		err := b.retryRemote(ctx, log, func() (err error) {
			remoteID, err = reactor.React(ctx, t.chat, connectors.MessageID(twin.RemoteID), key)
			return err
		})
		if err != nil {
			b.deliverFailed(ctx, evt, t.portal.RemoteID, err)
			continue
		}
		b.recordSent(ctx, evt, t, remoteID, portal.KindReaction, twin.RemoteID, key)
	}
}

func (b *Bridge) bridgeRedaction(ctx context.Context, evt *event.Event) {
	redacts := evt.Redacts
	if c := evt.Content.AsRedaction(); c != nil && c.Redacts != "" {
		redacts = c.Redacts
	}
	if redacts == "" {
		return
	}
	twins, err := b.twins(ctx, evt.RoomID, redacts)
	if err != nil || len(twins) == 0 {
		return
	}
	for _, t := range b.targets(ctx, evt) {
		twin := findChat(twins, t.portal.RemoteID)
		if twin == nil || !hasRemoteID(twin) {
			continue
		}
		log := b.log.With(slog.String("chat", t.portal.RemoteID), slog.String("event_id", string(evt.ID)))
		var err error
		switch twin.Kind {
		case portal.KindReaction:
			reactor, ok := t.client.(connectors.Reactor)
			if !ok {
				continue
			}
			err = b.retryRemote(ctx, log, func() error {
				return reactor.Unreact(ctx, t.chat, connectors.MessageID(twin.Target), connectors.MessageID(twin.RemoteID), twin.Key)
			})
		default:
			deleter, ok := t.client.(connectors.Deleter)
			if !ok {
				continue
			}
			err = b.retryRemote(ctx, log, func() error {
				return deleter.DeleteMessage(ctx, t.chat, connectors.MessageID(twin.RemoteID))
			})
		}
		if err != nil {
			b.deliverFailed(ctx, evt, t.portal.RemoteID, err)
			continue
		}
		if err := b.portals.DeleteMessage(ctx, b.network, t.portal.RemoteID, twin.RemoteID); err != nil {
			b.log.Error("delete message map row", slog.Any("error", err))
		}
	}
}

func (b *Bridge) bridgeTopic(ctx context.Context, evt *event.Event) {
	if b.eventOrigin(evt) != nil {
		return
	}
	content := evt.Content.AsTopic()
	for _, t := range b.targets(ctx, evt) {
		if t.portal.Topic == content.Topic {
			continue
		}
		setter, ok := t.client.(connectors.TopicSetter)
		if !ok {
			continue
		}
		log := b.log.With(slog.String("chat", t.portal.RemoteID))
		if err := b.retryRemote(ctx, log, func() error { return setter.SetTopic(ctx, t.chat, content.Topic) }); err != nil {
			b.deliverFailed(ctx, evt, t.portal.RemoteID, err)
			continue
		}
		t.portal.Topic = content.Topic
		if err := b.portals.Update(ctx, t.portal); err != nil {
			b.log.Error("update portal topic", slog.Any("error", err))
		}
	}
}

// bridgeTyping tells each chat who of its room's Matrix users started or
// stopped typing since the last typing event.
func (b *Bridge) bridgeTyping(ctx context.Context, evt *event.Event) {
	content := evt.Content.AsTyping()
	now := map[id.UserID]bool{}
	for _, u := range content.UserIDs {
		if _, own := b.ids.parsePuppet(u); !own && u != b.botUserID() {
			now[u] = true
		}
	}
	b.typingMu.Lock()
	before := b.typing[evt.RoomID]
	b.typing[evt.RoomID] = now
	b.typingMu.Unlock()
	changes := map[id.UserID]bool{}
	for u := range now {
		if !before[u] {
			changes[u] = true
		}
	}
	for u := range before {
		if !now[u] {
			changes[u] = false
		}
	}
	for u, typing := range changes {
		fake := &event.Event{RoomID: evt.RoomID, Sender: u, Type: event.EphemeralEventTyping}
		for _, t := range b.targets(ctx, fake) {
			if typer, ok := t.client.(connectors.Typer); ok && t.relayed == nil {
				if err := typer.SetTyping(ctx, t.chat, typing, 30*time.Second); err != nil {
					b.log.Debug("typing", slog.Any("error", err))
				}
			}
		}
	}
}

// bridgeReceipts sends Matrix users' read receipts to chats whose network
// has them, for messages the network knows.
func (b *Bridge) bridgeReceipts(ctx context.Context, evt *event.Event) {
	content := evt.Content.AsReceipt()
	if content == nil {
		return
	}
	for eventID, receipts := range *content {
		for user := range receipts[event.ReceiptTypeRead] {
			if _, own := b.ids.parsePuppet(user); own || user == b.botUserID() {
				continue
			}
			twins, err := b.portals.MessagesByEvent(ctx, b.network, eventID)
			if err != nil || len(twins) == 0 {
				continue
			}
			fake := &event.Event{RoomID: evt.RoomID, Sender: user, Type: event.EphemeralEventReceipt}
			for _, t := range b.targets(ctx, fake) {
				twin := findChat(twins, t.portal.RemoteID)
				marker, ok := t.client.(connectors.ReadMarker)
				if twin == nil || !ok || t.relayed != nil || !hasRemoteID(twin) {
					continue
				}
				if err := marker.MarkRead(ctx, t.chat, connectors.MessageID(twin.RemoteID)); err != nil {
					b.log.Debug("read receipt", slog.Any("error", err))
				}
			}
		}
	}
}

// handleMatrixMember follows Matrix membership: the bot accepts invites
// from permitted users, and a user with an identity on the network joins or
// leaves the linked chats with the room.
func (b *Bridge) handleMatrixMember(ctx context.Context, evt *event.Event) {
	content := evt.Content.AsMember()
	if evt.StateKey == nil {
		return
	}
	target := id.UserID(*evt.StateKey)
	b.memberChanged(evt.RoomID, target, content)
	if target == b.botUserID() {
		if content.Membership == event.MembershipInvite {
			b.acceptBotInvite(ctx, evt, content)
		}
		return
	}
	remote, own := b.ids.parsePuppet(target)
	if own && content.Membership == event.MembershipInvite && content.IsDirect {
		b.openDirect(ctx, evt, remote)
		return
	}
	if own || target != evt.Sender && content.Membership == event.MembershipJoin {
		return
	}
	var join bool
	switch content.Membership {
	case event.MembershipJoin:
		join = true
	case event.MembershipLeave, event.MembershipBan:
	default:
		return
	}
	if b.perms.of(target) < levelUser {
		return
	}
	links, err := b.portals.ByRoom(ctx, b.network, evt.RoomID)
	if err != nil || len(links) == 0 {
		return
	}
	user, err := b.matrixUser(ctx, target, evt.RoomID)
	if err != nil {
		return
	}
	client, err := b.conn.ClientFor(ctx, user)
	if err != nil {
		return
	}
	syncer, ok := client.(connectors.MemberSyncer)
	if !ok {
		return
	}
	for _, p := range links {
		chat := connectors.PortalID(p.RemoteID)
		log := b.log.With(slog.String("chat", p.RemoteID), slog.String("user_id", string(target)))
		if join {
			err = b.retryRemote(ctx, log, func() error { return syncer.JoinChat(ctx, chat) })
		} else {
			err = b.retryRemote(ctx, log, func() error { return syncer.LeaveChat(ctx, chat, content.Reason) })
		}
		if err != nil {
			log.Warn("membership not carried to the network", slog.Bool("join", join), slog.Any("error", err))
		}
	}
}

// claimRoom gives a room the bot joined an alias in the bridge's namespace.
// The spec has a homeserver push an appservice the events of rooms its users
// are in; some homeservers (Dendrite 0.15) push only rooms whose alias, or
// whose sender, is in the namespace, and would never show the bridge a
// command or a message in a linked room or a management room without it.
func (b *Bridge) claimRoom(ctx context.Context, room id.RoomID) {
	localpart, _, _ := strings.Cut(strings.TrimPrefix(string(room), "!"), ":")
	alias := id.NewRoomAlias(b.network+"_room."+connectors.EscapeLocalpart(localpart), b.serverName)
	if err := b.bot.SetAlias(ctx, alias, room); err != nil && !errors.Is(err, appservice.ErrAliasTaken) {
		b.log.Debug("claim room alias", slog.String("room_id", string(room)), slog.Any("error", err))
	}
}

// acceptBotInvite joins the bot to a room a permitted user invited it to.
// A direct invite from a user becomes their management room, where
// commands need no prefix.
func (b *Bridge) acceptBotInvite(ctx context.Context, evt *event.Event, content *event.MemberEventContent) {
	if b.perms.of(evt.Sender) < levelUser {
		b.log.Info("ignoring bot invite from a user without permission", slog.String("user_id", string(evt.Sender)))
		_ = b.bot.Leave(ctx, evt.RoomID, "not permitted to use this bridge")
		return
	}
	if _, err := b.bot.Join(ctx, string(evt.RoomID)); err != nil {
		b.log.Warn("join on invite", slog.String("room_id", string(evt.RoomID)), slog.Any("error", err))
		return
	}
	b.claimRoom(ctx, evt.RoomID)
	if content.IsDirect {
		u, err := b.puppets.User(ctx, b.network, evt.Sender)
		if err == nil && (u == nil || u.ManagementRoom == "") {
			b.setManagementRoom(ctx, evt.Sender, evt.RoomID)
		}
		b.notice(ctx, evt.RoomID, fmt.Sprintf("Hello! I am the %s bridge. This is your management room: send commands here without a prefix. Send `help` for the list.", b.display))
	}
}
