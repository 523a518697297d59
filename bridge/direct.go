package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"maunium.net/go/mautrix/event"

	"switchboard/connectors"
	"switchboard/portal"
)

// openDirect answers a Matrix user's invite of a puppet to a direct room: a
// private chat with the puppet's remote user, started from Matrix. The
// puppet joins and the room becomes the chat's portal; when it cannot be,
// the puppet declines the invite saying why.
func (b *Bridge) openDirect(ctx context.Context, evt *event.Event, remote connectors.RemoteUserID) {
	intent := b.mx.Intent(b.ids.puppetUserID(remote))
	log := b.log.With(slog.String("room_id", string(evt.RoomID)), slog.String("remote_user", string(remote)))
	decline := func(reason string) {
		log.Info("declining a direct chat", slog.String("reason", reason))
		if err := intent.Leave(ctx, evt.RoomID, reason); err != nil {
			log.Debug("decline invite", slog.Any("error", err))
		}
	}
	dm, ok := b.conn.(connectors.DirectMessenger)
	if !ok {
		decline(fmt.Sprintf("%s users cannot be messaged from Matrix through this bridge", b.display))
		return
	}
	if b.perms.of(evt.Sender) < levelUser {
		decline("you are not allowed to use this bridge")
		return
	}
	user, err := b.matrixUser(ctx, evt.Sender, "")
	if err != nil {
		decline("the bridge could not look you up; try again later")
		return
	}
	chat, info, err := dm.DirectChat(ctx, user, remote)
	if errors.Is(err, connectors.ErrNoIdentity) {
		decline(fmt.Sprintf("you have no identity on %s to send private messages with", b.display))
		return
	}
	if err != nil {
		decline(fmt.Sprintf("could not open a private chat: %v", err))
		return
	}
	if existing, err := b.portals.Get(ctx, b.network, string(chat)); err == nil && existing != nil && existing.RoomID != evt.RoomID {
		decline(fmt.Sprintf("you already have a private chat with this user in %s", existing.RoomID))
		return
	}
	if _, err := b.ensurePuppet(ctx, remote, ""); err != nil {
		log.Warn("puppet for a direct chat", slog.Any("error", err))
		return
	}
	if _, err := intent.Join(ctx, string(evt.RoomID)); err != nil {
		log.Warn("puppet join of a direct chat", slog.Any("error", err))
		return
	}
	p := &portal.Portal{Network: b.network, RemoteID: string(chat), RoomID: evt.RoomID, Name: info.Name,
		Relay: b.settings.Relay, Direct: true}
	b.portalMu.Lock()
	err = b.portals.Insert(ctx, p)
	b.portalMu.Unlock()
	var exists *portal.ExistsError
	if err != nil && !errors.As(err, &exists) {
		log.Warn("store direct chat portal", slog.Any("error", err))
		return
	}
	if err == nil {
		b.countLink(evt.RoomID, 1)
		b.watch(ctx, chat)
		log.Info("direct chat opened from Matrix", slog.String("chat", string(chat)))
	}
}
