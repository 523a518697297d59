package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/appservice"
	"switchboard/connectors"
	"switchboard/portal"
)

// portalForRemote finds the portal of a remote event's chat. A chat without
// one gets a room only when it is a direct chat with someone to invite;
// other chats are bridged by alias or by the link command.
func (b *Bridge) portalForRemote(ctx context.Context, evt *connectors.RemoteEvent) (*portal.Portal, error) {
	p, err := b.portals.Get(ctx, b.network, string(evt.Chat))
	if err != nil || p != nil {
		return p, err
	}
	// The chat's portal may be being created right now (the event
	// happened while the bridge was asking the network about the chat):
	// wait for that to finish, then look again.
	b.portalMu.Lock()
	p, err = b.portals.Get(ctx, b.network, string(evt.Chat))
	b.portalMu.Unlock()
	if err != nil || p != nil {
		return p, err
	}
	if evt.Type != connectors.EventMessage {
		return nil, errNoPortal
	}
	info, err := b.conn.ChatInfo(ctx, evt.Chat)
	if errors.Is(err, connectors.ErrNotFound) {
		return nil, errNoPortal
	}
	if err != nil {
		return nil, err
	}
	if !info.Direct || len(info.Invite) == 0 {
		return nil, errNoPortal
	}
	return b.ensurePortal(ctx, evt.Chat, info)
}

// ensurePortal returns chat's portal, creating its room when there is none:
// public chats get the alias #<network>_<chat>, direct chats invite their
// Matrix user. info may be nil; it is asked for when needed.
func (b *Bridge) ensurePortal(ctx context.Context, chat connectors.PortalID, info *connectors.ChatInfo) (*portal.Portal, error) {
	b.portalMu.Lock()
	defer b.portalMu.Unlock()
	if p, err := b.portals.Get(ctx, b.network, string(chat)); err != nil || p != nil {
		return p, err
	}
	if info == nil {
		var err error
		if info, err = b.conn.ChatInfo(ctx, chat); err != nil {
			return nil, err
		}
	}
	// The bot creates the room and so holds its power (in room v12 as a
	// creator, which must not be listed in the power levels); the
	// defaults suit a portal.
	req := &mautrix.ReqCreateRoom{
		Name:         info.Name,
		Topic:        info.Topic,
		Invite:       info.Invite,
		IsDirect:     info.Direct,
		InitialState: []*event.Event{b.bridgeStateEvent(chat, info.Name)},
	}
	switch {
	case info.Direct:
		req.Preset = "trusted_private_chat"
	case info.Public:
		req.Preset = "public_chat"
		req.RoomAliasName = b.ids.aliasLocalpart(chat)
	default:
		req.Preset = "private_chat"
		req.RoomAliasName = b.ids.aliasLocalpart(chat)
	}
	if info.HistoryVisibility != "" {
		req.InitialState = append(req.InitialState, &event.Event{Type: event.StateHistoryVisibility, StateKey: new(string),
			Content: event.Content{Parsed: &event.HistoryVisibilityEventContent{HistoryVisibility: info.HistoryVisibility}}})
	}
	if info.Avatar != nil {
		if uri, err := b.uploadAvatar(ctx, info.Avatar); err != nil {
			b.log.Debug("portal avatar", slog.String("chat", string(chat)), slog.Any("error", err))
		} else {
			req.InitialState = append(req.InitialState, &event.Event{Type: event.StateRoomAvatar, StateKey: new(string),
				Content: event.Content{Parsed: &event.RoomAvatarEventContent{URL: uri}}})
		}
	}
	if info.Direct && len(info.Members) > 0 {
		// In a direct chat the remote side is the puppet, who should look
		// like the room's other member from the start.
		req.Name = ""
	}
	roomID, err := b.bot.CreateRoom(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("create room for %s: %w", chat, err)
	}
	p := &portal.Portal{Network: b.network, RemoteID: string(chat), RoomID: roomID, Name: info.Name,
		Topic: info.Topic, Relay: b.settings.Relay, Direct: info.Direct}
	if err := b.portals.Insert(ctx, p); err != nil {
		return nil, err
	}
	b.countLink(roomID, 1)
	b.log.Info("portal created", slog.String("chat", string(chat)), slog.String("room_id", string(roomID)))
	b.watch(ctx, chat)
	for _, m := range info.Members {
		if _, err := b.puppetInRoom(ctx, m, "", roomID); err != nil {
			b.log.Warn("puppet join at portal creation", slog.String("remote_user", string(m)), slog.Any("error", err))
		}
	}
	return p, nil
}

// uploadAvatar uploads a chat's avatar as the bot.
func (b *Bridge) uploadAvatar(ctx context.Context, a *connectors.Attachment) (id.ContentURIString, error) {
	data, err := b.attachmentData(ctx, a)
	if err != nil {
		return "", err
	}
	return b.bot.Upload(ctx, data, a.MimeType, a.Name)
}

// bridgeStateKey is the state key of a portal's m.bridge event.
func (b *Bridge) bridgeStateKey(chat connectors.PortalID) string {
	return "org.switchboard://" + b.network + "/" + string(chat)
}

// bridgeStateEvent is the MSC2346 m.bridge state event that tells clients
// the room is bridged, to what, and by which bot.
func (b *Bridge) bridgeStateEvent(chat connectors.PortalID, name string) *event.Event {
	key := b.bridgeStateKey(chat)
	return &event.Event{
		Type:     event.StateBridge,
		StateKey: &key,
		Content:  event.Content{Parsed: b.bridgeStateContent(chat, name)},
	}
}

func (b *Bridge) bridgeStateContent(chat connectors.PortalID, name string) *event.BridgeEventContent {
	return &event.BridgeEventContent{
		BridgeBot: b.botUserID(),
		Creator:   b.botUserID(),
		Protocol:  event.BridgeInfoSection{ID: b.network, DisplayName: b.display},
		Channel:   event.BridgeInfoSection{ID: string(chat), DisplayName: name},
	}
}

// errNoStatePower: a room was linked, but the bot may not send state in it,
// so clients cannot show what it is bridged to.
var errNoStatePower = errors.New("linked, but I may not send state events here, so clients cannot show the bridge; give me power level 50 for that")

// linkRoom plumbs an existing room to chat (the link command). The portal
// is stored even when it returns errNoStatePower.
func (b *Bridge) linkRoom(ctx context.Context, room id.RoomID, chat connectors.PortalID, info *connectors.ChatInfo) (*portal.Portal, error) {
	b.portalMu.Lock()
	defer b.portalMu.Unlock()
	p := &portal.Portal{Network: b.network, RemoteID: string(chat), RoomID: room, Name: info.Name,
		Topic: info.Topic, Relay: b.settings.Relay, Plumbed: true}
	if err := b.portals.Insert(ctx, p); err != nil {
		return nil, err
	}
	b.countLink(room, 1)
	key := b.bridgeStateKey(chat)
	if _, err := b.bot.SendState(ctx, room, event.StateBridge, key, b.bridgeStateContent(chat, info.Name)); err != nil {
		b.log.Info("send m.bridge state", slog.String("room_id", string(room)), slog.Any("error", err))
		if appservice.IsForbidden(err) {
			err = errNoStatePower
		}
		b.watch(ctx, chat)
		return p, err
	}
	b.watch(ctx, chat)
	return p, nil
}

// unlinkRoom removes a portal and clears its m.bridge state.
func (b *Bridge) unlinkRoom(ctx context.Context, p *portal.Portal) error {
	if err := b.portals.Delete(ctx, b.network, p.RemoteID); err != nil {
		return err
	}
	b.countLink(p.RoomID, -1)
	key := b.bridgeStateKey(connectors.PortalID(p.RemoteID))
	if _, err := b.bot.SendState(ctx, p.RoomID, event.StateBridge, key, struct{}{}); err != nil {
		b.log.Warn("clear m.bridge state", slog.String("room_id", string(p.RoomID)), slog.Any("error", err))
	}
	if w, ok := b.conn.(connectors.Watcher); ok {
		if err := w.UnwatchChat(ctx, connectors.PortalID(p.RemoteID)); err != nil {
			b.log.Warn("unwatch chat", slog.String("chat", p.RemoteID), slog.Any("error", err))
		}
	}
	return nil
}

// watch tells a connector that must follow chats to hear them about a new
// portal.
func (b *Bridge) watch(ctx context.Context, chat connectors.PortalID) {
	if w, ok := b.conn.(connectors.Watcher); ok {
		if err := w.WatchChat(ctx, chat); err != nil {
			b.log.Warn("watch chat", slog.String("chat", string(chat)), slog.Any("error", err))
		}
	}
}

// watchAll tells the connector about every portal, at start.
func (b *Bridge) watchAll(ctx context.Context) error {
	if _, ok := b.conn.(connectors.Watcher); !ok {
		return nil
	}
	all, err := b.portals.All(ctx, b.network)
	if err != nil {
		return fmt.Errorf("list portals: %w", err)
	}
	for _, p := range all {
		b.watch(ctx, connectors.PortalID(p.RemoteID))
	}
	return nil
}

// countLink tracks how many of this network's chats each room is linked
// to, so the receiver can tell a room with several links (whose puppets'
// messages it must still carry) without a database query per event.
func (b *Bridge) countLink(room id.RoomID, delta int) {
	b.linksMu.Lock()
	defer b.linksMu.Unlock()
	if b.links[room] += delta; b.links[room] <= 0 {
		delete(b.links, room)
	}
}

// loadLinks counts the links of every room, at start.
func (b *Bridge) loadLinks(ctx context.Context) error {
	all, err := b.portals.All(ctx, b.network)
	if err != nil {
		return fmt.Errorf("list portals: %w", err)
	}
	for _, p := range all {
		b.countLink(p.RoomID, 1)
	}
	return nil
}
