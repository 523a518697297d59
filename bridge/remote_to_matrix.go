package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/appservice"
	"switchboard/connectors"
	"switchboard/portal"
)

// handleRemoteItem delivers one remote event to Matrix. It retries while the
// homeserver cannot be reached (the lane waits, keeping order) and gives up
// only on an error retrying cannot fix, which it logs and counts. The outbox
// row goes when the event is done either way.
func (b *Bridge) handleRemoteItem(ctx context.Context, _ string, it *remoteItemQ) {
	log := b.log.With(slog.String("chat", string(it.evt.Chat)), slog.String("type", string(it.evt.Type)), slog.Int64("seq", it.seq))
	err := b.retryMatrix(ctx, log, func() error { return b.deliverRemote(ctx, it) })
	if ctx.Err() != nil {
		return // stopping: the row stays for the next start
	}
	if err != nil {
		log.Warn("remote event not delivered", slog.Any("error", err))
		b.metrics.failed.WithLabelValues("to_matrix").Inc()
		if it.seq != 0 {
			if err := b.queue.deleteOutbox(ctx, it.seq); err != nil {
				log.Error("delete outbox row", slog.Any("error", err))
			}
		}
		return
	}
	b.metrics.delivered.WithLabelValues("to_matrix").Inc()
	b.metrics.latency.WithLabelValues("to_matrix").Observe(time.Since(it.queued).Seconds())
}

// errNoPortal: the event's chat is not bridged; it is dropped.
var errNoPortal = errors.New("chat not bridged")

func (b *Bridge) deliverRemote(ctx context.Context, it *remoteItemQ) error {
	evt := it.evt
	if evt.Type == connectors.EventProfile {
		_, err := b.ensurePuppet(ctx, evt.Sender, evt.Text)
		if err == nil {
			err = b.done(ctx, it.seq)
		}
		return err
	}
	p, err := b.portalForRemote(ctx, evt)
	if errors.Is(err, errNoPortal) {
		b.log.Debug("dropping event for an unbridged chat", slog.String("chat", string(evt.Chat)), slog.String("type", string(evt.Type)))
		return b.done(ctx, it.seq)
	}
	if err != nil {
		return err
	}
	switch evt.Type {
	case connectors.EventMessage:
		return b.remoteMessage(ctx, p, it)
	case connectors.EventEdit:
		return b.remoteEdit(ctx, p, it)
	case connectors.EventReaction:
		return b.remoteReaction(ctx, p, it)
	case connectors.EventDelete:
		return b.remoteDelete(ctx, p, it)
	case connectors.EventUnreact:
		return b.remoteUnreact(ctx, p, it)
	case connectors.EventTyping:
		intent, err := b.puppetInRoom(ctx, evt.Sender, evt.SenderName, p.RoomID)
		if err != nil {
			return err
		}
		return intent.Typing(ctx, p.RoomID, evt.Typing, 30*time.Second)
	case connectors.EventRead:
		target, err := b.portals.MessageByRemote(ctx, b.network, p.RemoteID, string(evt.Target))
		if err != nil || target == nil {
			return errors.Join(err, b.done(ctx, it.seq))
		}
		intent, err := b.puppetInRoom(ctx, evt.Sender, evt.SenderName, p.RoomID)
		if err == nil {
			err = intent.MarkRead(ctx, p.RoomID, target.EventID)
		}
		return errors.Join(err, b.done(ctx, it.seq))
	case connectors.EventJoin:
		_, err := b.puppetInRoom(ctx, evt.Sender, evt.SenderName, p.RoomID)
		if err != nil {
			return err
		}
		return b.done(ctx, it.seq)
	case connectors.EventLeave:
		return b.remoteLeave(ctx, p, it)
	case connectors.EventTopic, connectors.EventName:
		return b.remoteRoomState(ctx, p, it)
	}
	b.log.Debug("ignoring remote event of unknown type", slog.String("type", string(evt.Type)))
	return b.done(ctx, it.seq)
}

// done deletes a handled outbox row (seq 0: an ephemeral event, never stored).
func (b *Bridge) done(ctx context.Context, seq int64) error {
	if seq == 0 {
		return nil
	}
	return b.queue.deleteOutbox(ctx, seq)
}

// txnID is the Matrix transaction id of an outbox row: the same on every
// retry, so a crash between sending and recording never duplicates.
func (b *Bridge) txnID(seq int64, part string) string {
	return "sb." + b.network + "." + strconv.FormatInt(seq, 10) + part
}

// origin marks every event the bridge sends into Matrix with where it came
// from, so the bridge recognises its own messages when the homeserver pushes
// them back and other networks linked to the room skip the origin chat.
type origin struct {
	Network string `json:"network"`
	Chat    string `json:"chat"`
	ID      string `json:"id,omitempty"`
}

const originKey = "org.switchboard.origin"

// withOrigin adds the origin key to content's JSON object.
func withOrigin(content any, o origin) (json.RawMessage, error) {
	data, err := json.Marshal(content)
	if err != nil {
		return nil, err
	}
	tag, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	if len(data) < 2 || data[0] != '{' {
		return nil, fmt.Errorf("content is not a JSON object")
	}
	out := make([]byte, 0, len(data)+len(tag)+len(originKey)+4)
	out = append(out, '{', '"')
	out = append(out, originKey...)
	out = append(out, '"', ':')
	out = append(out, tag...)
	if len(data) > 2 {
		out = append(out, ',')
	}
	out = append(out, data[1:]...)
	return out, nil
}

func (b *Bridge) remoteMessage(ctx context.Context, p *portal.Portal, it *remoteItemQ) error {
	evt := it.evt
	if m, err := b.portals.MessageByRemote(ctx, b.network, p.RemoteID, string(evt.ID)); err != nil {
		return err
	} else if m != nil {
		return b.done(ctx, it.seq) // delivered before a crash: only the row was left
	}
	intent, err := b.puppetInRoom(ctx, evt.Sender, evt.SenderName, p.RoomID)
	if err != nil {
		return err
	}
	content, err := b.toMatrixContent(ctx, intent, p, evt.Message)
	if err != nil {
		return err
	}
	raw, err := withOrigin(content, origin{Network: b.network, Chat: p.RemoteID, ID: string(evt.ID)})
	if err != nil {
		return err
	}
	evtType := event.EventMessage
	if content.MsgType == event.MessageType(event.EventSticker.Type) {
		evtType = event.EventSticker
	}
	recorded := b.sending.start(p.RoomID)
	defer recorded()
	eventID, err := intent.SendMessage(ctx, p.RoomID, evtType, raw, appservice.SendOptions{TxnID: b.txnID(it.seq, ""), Timestamp: evt.Time})
	if err != nil {
		return err
	}
	return b.record(ctx, it.seq, &portal.Message{Network: b.network, Chat: p.RemoteID, RemoteID: string(evt.ID),
		RoomID: p.RoomID, EventID: eventID, Sender: intent.UserID(), Kind: portal.KindMessage, Timestamp: evt.Time})
}

// record stores a message-map row and deletes the outbox row in one
// database transaction.
func (b *Bridge) record(ctx context.Context, seq int64, m *portal.Message) error {
	return b.writes.do(ctx, func(ctx context.Context) error {
		if err := b.portals.PutMessage(ctx, m); err != nil {
			return err
		}
		return b.done(ctx, seq)
	})
}

func (b *Bridge) remoteEdit(ctx context.Context, p *portal.Portal, it *remoteItemQ) error {
	evt := it.evt
	target, err := b.portals.MessageByRemote(ctx, b.network, p.RemoteID, string(evt.Target))
	if err != nil {
		return err
	}
	if target == nil || evt.Message == nil {
		b.log.Debug("edit of an unknown message", slog.String("target", string(evt.Target)))
		return b.done(ctx, it.seq)
	}
	intent, err := b.puppetInRoom(ctx, evt.Sender, evt.SenderName, p.RoomID)
	if err != nil {
		return err
	}
	content, err := b.toMatrixContent(ctx, intent, p, evt.Message)
	if err != nil {
		return err
	}
	content.RelatesTo = nil
	content.SetEdit(target.EventID)
	fixEditFallback(content)
	raw, err := withOrigin(content, origin{Network: b.network, Chat: p.RemoteID, ID: string(evt.ID)})
	if err != nil {
		return err
	}
	eventID, err := intent.SendMessage(ctx, p.RoomID, event.EventMessage, raw, appservice.SendOptions{TxnID: b.txnID(it.seq, ""), Timestamp: evt.Time})
	if err != nil {
		return err
	}
	if evt.ID == "" {
		return b.done(ctx, it.seq)
	}
	return b.record(ctx, it.seq, &portal.Message{Network: b.network, Chat: p.RemoteID, RemoteID: string(evt.ID),
		RoomID: p.RoomID, EventID: eventID, Sender: intent.UserID(), Kind: portal.KindEdit, Target: string(evt.Target), Timestamp: evt.Time})
}

func (b *Bridge) remoteReaction(ctx context.Context, p *portal.Portal, it *remoteItemQ) error {
	evt := it.evt
	target, err := b.portals.MessageByRemote(ctx, b.network, p.RemoteID, string(evt.Target))
	if err != nil {
		return err
	}
	if target == nil || evt.Text == "" {
		return b.done(ctx, it.seq)
	}
	intent, err := b.puppetInRoom(ctx, evt.Sender, evt.SenderName, p.RoomID)
	if err != nil {
		return err
	}
	var content event.ReactionEventContent
	content.RelatesTo.SetAnnotation(target.EventID, evt.Text)
	raw, err := withOrigin(&content, origin{Network: b.network, Chat: p.RemoteID, ID: string(evt.ID)})
	if err != nil {
		return err
	}
	eventID, err := intent.SendMessage(ctx, p.RoomID, event.EventReaction, raw, appservice.SendOptions{TxnID: b.txnID(it.seq, ""), Timestamp: evt.Time})
	if err != nil {
		return err
	}
	remoteID := string(evt.ID)
	if remoteID == "" {
		remoteID = "reaction:" + string(eventID)
	}
	return b.record(ctx, it.seq, &portal.Message{Network: b.network, Chat: p.RemoteID, RemoteID: remoteID,
		RoomID: p.RoomID, EventID: eventID, Sender: intent.UserID(), Kind: portal.KindReaction,
		Target: string(evt.Target), Key: evt.Text, Timestamp: evt.Time})
}

// remoteDelete redacts the Matrix twin of a deleted message (or reaction).
func (b *Bridge) remoteDelete(ctx context.Context, p *portal.Portal, it *remoteItemQ) error {
	target, err := b.portals.MessageByRemote(ctx, b.network, p.RemoteID, string(it.evt.Target))
	if err != nil {
		return err
	}
	return b.redactTwin(ctx, p, it.seq, target)
}

// remoteUnreact redacts a reaction, found by its id or by (target, sender,
// key) for networks whose reactions have no ids.
func (b *Bridge) remoteUnreact(ctx context.Context, p *portal.Portal, it *remoteItemQ) error {
	evt := it.evt
	var target *portal.Message
	var err error
	if evt.ID != "" {
		target, err = b.portals.MessageByRemote(ctx, b.network, p.RemoteID, string(evt.ID))
	} else {
		target, err = b.portals.ReactionByKey(ctx, b.network, p.RemoteID, string(evt.Target), b.ids.puppetUserID(evt.Sender), evt.Text)
	}
	if err != nil {
		return err
	}
	return b.redactTwin(ctx, p, it.seq, target)
}

// redactTwin redacts a message-map row's Matrix event and forgets the row
// with the queue entry; a nil target (never bridged, or already gone) only
// finishes the entry.
func (b *Bridge) redactTwin(ctx context.Context, p *portal.Portal, seq int64, target *portal.Message) error {
	if target == nil {
		return b.done(ctx, seq)
	}
	if err := b.redactAs(ctx, target, seq); err != nil {
		return err
	}
	return b.writes.do(ctx, func(ctx context.Context) error {
		if err := b.portals.DeleteMessage(ctx, b.network, p.RemoteID, target.RemoteID); err != nil {
			return err
		}
		return b.done(ctx, seq)
	})
}

// redactAs redacts as the puppet that sent the event, else as the bot.
func (b *Bridge) redactAs(ctx context.Context, target *portal.Message, seq int64) error {
	intent := b.mx.Intent(target.Sender)
	if _, ok := b.ids.parsePuppet(target.Sender); !ok {
		intent = b.bot
	}
	_, err := intent.Redact(ctx, target.RoomID, target.EventID, "", appservice.SendOptions{TxnID: b.txnID(seq, "")})
	if err != nil && appservice.IsForbidden(err) && intent != b.bot {
		_, err = b.bot.Redact(ctx, target.RoomID, target.EventID, "", appservice.SendOptions{TxnID: b.txnID(seq, ".bot")})
	}
	return err
}

func (b *Bridge) remoteLeave(ctx context.Context, p *portal.Portal, it *remoteItemQ) error {
	evt := it.evt
	userID := b.ids.puppetUserID(evt.Sender)
	var err error
	if evt.Kicker != "" {
		err = b.mx.Intent(b.ids.puppetUserID(evt.Kicker)).Kick(ctx, p.RoomID, userID, evt.Reason)
		if err != nil && appservice.IsForbidden(err) {
			err = b.bot.Kick(ctx, p.RoomID, userID, evt.Reason)
		}
	} else {
		err = b.mx.Intent(userID).Leave(ctx, p.RoomID, evt.Reason)
	}
	if err != nil && appservice.IsForbidden(err) {
		err = nil // not in the room: nothing to undo
	}
	if err != nil {
		return err
	}
	return b.done(ctx, it.seq)
}

// remoteRoomState carries a topic or name change to the portal room: as the
// puppet who made it when the room lets them, else as the bot.
func (b *Bridge) remoteRoomState(ctx context.Context, p *portal.Portal, it *remoteItemQ) error {
	evt := it.evt
	var evtType event.Type
	var content any
	if evt.Type == connectors.EventTopic {
		if p.Topic == evt.Text {
			return b.done(ctx, it.seq)
		}
		evtType, content = event.StateTopic, &event.TopicEventContent{Topic: evt.Text}
		p.Topic = evt.Text
	} else {
		if p.Name == evt.Text {
			return b.done(ctx, it.seq)
		}
		evtType, content = event.StateRoomName, &event.RoomNameEventContent{Name: evt.Text}
		p.Name = evt.Text
	}
	raw, err := withOrigin(content, origin{Network: b.network, Chat: p.RemoteID})
	if err != nil {
		return err
	}
	var sendErr error
	if evt.Sender != "" {
		var intent appservice.Intent
		intent, sendErr = b.puppetInRoom(ctx, evt.Sender, evt.SenderName, p.RoomID)
		if sendErr == nil {
			_, sendErr = intent.SendState(ctx, p.RoomID, evtType, "", raw)
		}
	}
	if evt.Sender == "" || (sendErr != nil && appservice.IsForbidden(sendErr)) {
		_, sendErr = b.bot.SendState(ctx, p.RoomID, evtType, "", raw)
	}
	if sendErr != nil {
		return sendErr
	}
	return b.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		if err := b.portals.Update(ctx, p); err != nil {
			return err
		}
		return b.done(ctx, it.seq)
	})
}

// toMatrixContent converts a neutral message into Matrix content: sanitised
// HTML, mention pills' targets, the reply and thread relations from the
// message map, and an attachment uploaded as the sending puppet.
func (b *Bridge) toMatrixContent(ctx context.Context, intent appservice.Intent, p *portal.Portal, msg *connectors.Message) (*event.MessageEventContent, error) {
	if msg == nil {
		return nil, fmt.Errorf("no message content")
	}
	c := &event.MessageEventContent{MsgType: msg.MsgType, Body: msg.Body, Mentions: &event.Mentions{}}
	if c.MsgType == "" {
		c.MsgType = event.MsgText
	}
	if msg.HTML != "" {
		if clean := SanitizeHTML(msg.HTML); clean != "" {
			c.Format, c.FormattedBody = event.FormatHTML, clean
		}
	}
	for _, m := range msg.Mentions {
		userID := m.ID
		if userID == "" && m.Remote != "" {
			userID = b.ids.puppetUserID(m.Remote)
		}
		if userID != "" {
			c.Mentions.Add(userID)
		}
	}
	var replyTo, threadRoot id.EventID
	if msg.ReplyTo != "" {
		if m, err := b.portals.MessageByRemote(ctx, b.network, p.RemoteID, string(msg.ReplyTo)); err != nil {
			return nil, err
		} else if m != nil {
			replyTo = m.EventID
		}
	}
	if msg.ThreadRoot != "" {
		if m, err := b.portals.MessageByRemote(ctx, b.network, p.RemoteID, string(msg.ThreadRoot)); err != nil {
			return nil, err
		} else if m != nil {
			threadRoot = m.EventID
		}
	}
	switch {
	case threadRoot != "":
		fallback := replyTo
		if fallback == "" {
			fallback = threadRoot
		}
		c.RelatesTo = (&event.RelatesTo{}).SetThread(threadRoot, fallback)
		if replyTo != "" {
			c.RelatesTo.IsFallingBack = false
		}
	case replyTo != "":
		c.RelatesTo = (&event.RelatesTo{}).SetReplyTo(replyTo)
	}
	if a := msg.Attachment; a != nil {
		if err := b.uploadAttachment(ctx, intent, a, c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// fixEditFallback rebuilds the "* new text" fallback body of an edit, which
// mautrix cuts at a byte offset that may split a character.
func fixEditFallback(c *event.MessageEventContent) {
	if c.NewContent == nil {
		return
	}
	c.Body = "* " + c.NewContent.Body
	if c.NewContent.FormattedBody != "" {
		c.FormattedBody = "* " + c.NewContent.FormattedBody
	}
}
