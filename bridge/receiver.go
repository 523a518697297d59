package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/appservice"
	"switchboard/connectors"
)

// receiverHandler is the bridge as appservice.Handler: the homeserver's
// pushes and queries arrive here.
type receiverHandler Bridge

var _ appservice.Handler = (*receiverHandler)(nil)

// matrixItem is a Matrix event in its room's lane: stored (seq > 0) or
// ephemeral (seq 0, typing and receipts, never stored).
type matrixItem struct {
	seq int64
	raw []byte
}

// eventHead is the part of a pushed event the receiver looks at to decide
// whether to keep it.
type eventHead struct {
	Type     string          `json:"type"`
	RoomID   id.RoomID       `json:"room_id"`
	Sender   id.UserID       `json:"sender"`
	StateKey *string         `json:"state_key"`
	Content  json.RawMessage `json:"content"`
}

// handledTypes are the room events the bridge acts on; the rest of a
// transaction is acknowledged and forgotten.
var handledTypes = map[string]bool{
	event.EventMessage.Type:   true,
	event.EventSticker.Type:   true,
	event.EventReaction.Type:  true,
	event.EventRedaction.Type: true,
	event.StateMember.Type:    true,
	event.StateTopic.Type:     true,
	event.StateRoomName.Type:  true,
}

// HandleTransaction stores the transaction's events the bridge handles and
// hands them to their rooms' lanes. It returns once they are stored: a
// crash after that loses nothing, and a repeat of the transaction id is
// acknowledged without storing anything twice.
func (h *receiverHandler) HandleTransaction(ctx context.Context, txn *appservice.Transaction) error {
	b := (*Bridge)(h)
	if !b.started.Load() || b.ctx.Err() != nil {
		return errStopping // the homeserver retries
	}
	var keep []row
	for _, raw := range txn.Events {
		var head eventHead
		if err := json.Unmarshal(raw, &head); err != nil || head.RoomID == "" || head.Type == "" {
			b.log.Debug("ignoring malformed pushed event", slog.Any("error", err))
			continue
		}
		if !b.wants(&head) {
			continue
		}
		keep = append(keep, row{key: string(head.RoomID), event: raw})
	}
	// Typing and receipts are not stored (see queueEphemeralMatrix), and a
	// repeated transaction repeating them is harmless.
	for _, raw := range txn.Ephemeral {
		b.queueEphemeralMatrix(ctx, raw)
	}
	if len(keep) == 0 {
		// Nothing to store: only echoes and events of no interest, which
		// are as safe to see twice as to see once.
		return nil
	}
	reserved := make([]string, 0, len(keep))
	release := func() {
		for _, k := range reserved {
			b.fromMatrix.release(k)
		}
	}
	for _, r := range keep {
		if err := b.fromMatrix.reserve(ctx, r.key); err != nil {
			release()
			return err
		}
		reserved = append(reserved, r.key)
	}
	rows, fresh, err := b.queue.storeTransaction(ctx, txn.ID, keep)
	if err != nil || !fresh {
		release()
		return err
	}
	for _, r := range rows {
		b.fromMatrix.push(r.key, &matrixItem{seq: r.seq, raw: r.event})
	}
	return nil
}

// wants decides whether a pushed event is the bridge's business. Events of
// its own puppets and bot are echoes of what it sent, except a message a
// puppet sent into a room linked to more than one chat of this network,
// which the other chats must still get.
func (b *Bridge) wants(head *eventHead) bool {
	if !handledTypes[head.Type] {
		return false
	}
	if head.Sender == b.botUserID() {
		return false // the bot's notices and state are for Matrix only
	}
	if _, own := b.ids.parsePuppet(head.Sender); !own {
		return true
	}
	switch head.Type {
	case event.EventMessage.Type, event.EventSticker.Type, event.EventReaction.Type, event.EventRedaction.Type:
		return b.multiLink(head.RoomID)
	}
	return false
}

// multiLink reports whether room is linked to several chats of this network.
func (b *Bridge) multiLink(room id.RoomID) bool { return b.linkCount(room) > 1 }

// linked reports whether room is linked to any chat of this network.
func (b *Bridge) linked(room id.RoomID) bool { return b.linkCount(room) > 0 }

func (b *Bridge) linkCount(room id.RoomID) int {
	b.linksMu.Lock()
	defer b.linksMu.Unlock()
	return b.links[room]
}

// queueEphemeralMatrix hands typing and receipts to their rooms' lanes
// without storing them: they are stale after a restart, and under
// back-pressure they are the one thing worth skipping.
func (b *Bridge) queueEphemeralMatrix(ctx context.Context, raw json.RawMessage) {
	var head eventHead
	if err := json.Unmarshal(raw, &head); err != nil || head.RoomID == "" {
		return
	}
	if head.Type != event.EphemeralEventTyping.Type && head.Type != event.EphemeralEventReceipt.Type {
		return
	}
	if b.fromMatrix.tryReserve(string(head.RoomID)) {
		b.fromMatrix.push(string(head.RoomID), &matrixItem{raw: raw})
	}
}

// QueryUser answers whether a user in the namespace exists: a puppet of a
// remote user the network knows, whom it registers on the way.
func (h *receiverHandler) QueryUser(ctx context.Context, userID id.UserID) (bool, error) {
	b := (*Bridge)(h)
	remote, ok := b.ids.parsePuppet(userID)
	if !ok {
		return false, nil
	}
	if _, err := b.conn.UserInfo(ctx, remote); err != nil {
		if errors.Is(err, connectors.ErrNotFound) {
			return false, nil
		}
		return false, err
	}
	if _, err := b.ensurePuppet(ctx, remote, ""); err != nil {
		return false, err
	}
	return true, nil
}

// QueryAlias answers whether a portal alias exists: when it names a chat
// the network has, the portal room is created with that alias, so joining
// #<network>_<chat> bridges the chat.
func (h *receiverHandler) QueryAlias(ctx context.Context, alias id.RoomAlias) (bool, error) {
	b := (*Bridge)(h)
	chat, ok := b.ids.parseAlias(alias)
	if !ok {
		return false, nil
	}
	info, err := b.conn.ChatInfo(ctx, chat)
	if errors.Is(err, connectors.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if info.Direct {
		return false, nil
	}
	existing, err := b.portals.Get(ctx, b.network, string(chat))
	if err != nil {
		return false, err
	}
	if existing != nil {
		// Linked to a room that lacks the alias (a plumbed room, or the
		// alias was deleted): give that room the alias.
		if err := b.bot.SetAlias(ctx, alias, existing.RoomID); err != nil && !errors.Is(err, appservice.ErrAliasTaken) {
			return false, err
		}
		return true, nil
	}
	// Described again under the portal lock, so an event the network sends
	// about the chat meanwhile waits for the room instead of being dropped.
	p, err := b.ensurePortal(ctx, chat, nil)
	if err != nil {
		return false, err
	}
	b.log.Info("portal created by alias", slog.String("alias", string(alias)), slog.String("room_id", string(p.RoomID)))
	return true, nil
}
