package connectortest

import (
	"errors"
	"fmt"
	"slices"

	"maunium.net/go/mautrix/event"

	"switchboard/connectors"
)

// toWireMessage converts the neutral form to the network's: mentions of
// remote users become the network's mentions (Matrix users without a remote
// id cannot be mentioned here and stay text), a relayed message names its
// sender in relayed_for, and an attachment without data travels as its
// public link.
func toWireMessage(m *connectors.Message) wireMessage {
	w := wireMessage{
		Body:       m.Body,
		HTML:       m.HTML,
		MsgType:    string(m.MsgType),
		ReplyTo:    string(m.ReplyTo),
		ThreadRoot: string(m.ThreadRoot),
	}
	for _, mt := range m.Mentions {
		if mt.Remote != "" && !slices.Contains(w.Mentions, string(mt.Remote)) {
			w.Mentions = append(w.Mentions, string(mt.Remote))
		}
	}
	if a := m.Attachment; a != nil {
		w.Attachment = &wireAttachment{Name: a.Name, Mime: a.MimeType, Data: a.Data}
		if len(a.Data) == 0 {
			w.Attachment.URL = a.PublicURL
			if w.Attachment.URL == "" {
				w.Attachment.URL = a.URL
			}
		}
	}
	if m.Relayed != nil {
		w.RelayedFor = m.Relayed.Name()
	}
	return w
}

// fromWireMessage converts the network's form to the neutral one.
func fromWireMessage(w *wireMessage) *connectors.Message {
	m := &connectors.Message{
		MsgType:    event.MessageType(w.MsgType),
		Body:       w.Body,
		HTML:       w.HTML,
		ReplyTo:    connectors.MessageID(w.ReplyTo),
		ThreadRoot: connectors.MessageID(w.ThreadRoot),
	}
	if m.MsgType == "" {
		m.MsgType = event.MsgText
	}
	for _, u := range w.Mentions {
		m.Mentions = append(m.Mentions, connectors.Mention{Remote: connectors.RemoteUserID(u), Name: u})
	}
	if a := w.Attachment; a != nil {
		m.Attachment = &connectors.Attachment{Name: a.Name, MimeType: a.Mime, Size: int64(len(a.Data)), Data: a.Data, URL: a.URL}
	}
	return m
}

var errBadEvent = errors.New("malformed event")

// isEcho reports whether ev was caused through a connector named client:
// by the bot, or by a login that connector made.
func isEcho(ev *wireEvent, client string) bool {
	return ev.Via != nil && (ev.Via.Bot || ev.Via.Client == client)
}

// toRemoteEvent converts one event of the stream. It refuses an event the
// bridge could not use (a message without an id, an unknown type).
func toRemoteEvent(ev *wireEvent) (*connectors.RemoteEvent, error) {
	re := &connectors.RemoteEvent{
		Chat:       connectors.PortalID(ev.Chat),
		Sender:     connectors.RemoteUserID(ev.User),
		SenderName: ev.UserName,
		Time:       ev.Time,
		Target:     connectors.MessageID(ev.Target),
	}
	need := func(ok bool, what string) error {
		if !ok {
			return fmt.Errorf("%w: %s event %d: %s", errBadEvent, ev.Type, ev.Seq, what)
		}
		return nil
	}
	if ev.Type != evProfile {
		if err := need(ev.Chat != "", "no chat"); err != nil {
			return nil, err
		}
	}
	var err error
	switch ev.Type {
	case evMessage:
		re.Type = connectors.EventMessage
		re.ID = connectors.MessageID(ev.ID)
		err = need(ev.ID != "" && ev.User != "" && ev.Message != nil, "want id, user and message")
		if err == nil {
			re.Message = fromWireMessage(ev.Message)
		}
	case evEdit:
		re.Type = connectors.EventEdit
		re.ID = connectors.MessageID(ev.ID)
		err = need(ev.Target != "" && ev.Message != nil, "want target and message")
		if err == nil {
			re.Message = fromWireMessage(ev.Message)
		}
	case evDelete:
		re.Type = connectors.EventDelete
		err = need(ev.Target != "", "want target")
	case evReaction, evUnreaction:
		re.Type = connectors.EventReaction
		if ev.Type == evUnreaction {
			re.Type = connectors.EventUnreact
		}
		re.ID = connectors.MessageID(ev.ID)
		re.Text = ev.Key
		err = need(ev.Target != "" && ev.Key != "" && ev.User != "", "want target, key and user")
	case evTyping:
		re.Type = connectors.EventTyping
		re.Typing = ev.Typing
		err = need(ev.User != "", "want user")
	case evRead:
		re.Type = connectors.EventRead
		err = need(ev.User != "" && ev.Target != "", "want user and target")
	case evJoin:
		re.Type = connectors.EventJoin
		err = need(ev.User != "", "want user")
	case evLeave:
		re.Type = connectors.EventLeave
		re.Reason = ev.Reason
		re.Kicker = connectors.RemoteUserID(ev.Kicker)
		err = need(ev.User != "", "want user")
	case evTopic:
		re.Type = connectors.EventTopic
		re.Text = ev.Text
	case evName:
		re.Type = connectors.EventName
		re.Text = ev.Text
	case evProfile:
		re.Type = connectors.EventProfile
		re.Chat = ""
		re.Text = ev.Text
		re.SenderName = ev.Text
		err = need(ev.User != "" && ev.Text != "", "want user and text")
	default:
		err = need(false, "unknown type")
	}
	if err != nil {
		return nil, err
	}
	return re, nil
}
