package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"maunium.net/go/mautrix/id"

	"switchboard/connectors"
	"switchboard/puppet"
)

// host is the connectors.Host the bridge gives its connector.
type host Bridge

var _ connectors.Host = (*host)(nil)

func (h *host) b() *Bridge { return (*Bridge)(h) }

// remoteItemQ is a remote event in its chat's lane.
type remoteItemQ struct {
	seq    int64
	evt    *connectors.RemoteEvent
	queued time.Time
}

// storedRemote is a remote event as bridge_outbox keeps it.
type storedRemote struct {
	Event  *connectors.RemoteEvent `json:"event"`
	Queued int64                   `json:"queued_ms"`
}

func decodeRemoteItem(r row) (*remoteItemQ, error) {
	var s storedRemote
	if err := json.Unmarshal(r.event, &s); err != nil {
		return nil, err
	}
	if s.Event == nil {
		return nil, fmt.Errorf("no event")
	}
	return &remoteItemQ{seq: r.seq, evt: s.Event, queued: time.UnixMilli(s.Queued)}, nil
}

// dedupKey says what makes a remote event a repeat: its kind and its id.
// Events without ids (typing, membership) are never repeats.
func dedupKey(evt *connectors.RemoteEvent) (kind, id string) {
	switch evt.Type {
	case connectors.EventMessage, connectors.EventEdit, connectors.EventReaction:
		return string(evt.Type), string(evt.ID)
	case connectors.EventDelete:
		return string(evt.Type), string(evt.Target)
	}
	return "", ""
}

// Queue persists a remote event and hands it to its chat's lane.
func (h *host) Queue(ctx context.Context, evt *connectors.RemoteEvent) error {
	return h.QueueBatch(ctx, []*connectors.RemoteEvent{evt})
}

// QueueBatch persists remote events together and hands each to its chat's
// lane, in order.
func (h *host) QueueBatch(ctx context.Context, evts []*connectors.RemoteEvent) error {
	b := h.b()
	now := time.Now()
	var (
		items []*remoteItem
		keys  []string
		kept  []*connectors.RemoteEvent
	)
	release := func(from int) {
		for _, k := range keys[from:] {
			b.fromRemote.release(k)
		}
	}
	var failed error
	for _, evt := range evts {
		if err := checkRemote(evt); err != nil {
			failed = err
			break
		}
		if evt.Time.IsZero() {
			evt.Time = now
		}
		if evt.Type == connectors.EventTyping {
			// Typing is ephemeral: not worth a disk write, and stale after
			// a restart. It still takes its place in the chat's order,
			// after what is queued before it in this batch.
			if err := h.flush(ctx, items, keys, kept, now); err != nil {
				return err
			}
			items, keys, kept = nil, nil, nil
			if err := b.queueEphemeralRemote(ctx, evt); err != nil {
				return err
			}
			continue
		}
		data, err := json.Marshal(storedRemote{Event: evt, Queued: now.UnixMilli()})
		if err != nil {
			failed = fmt.Errorf("queue %s event: %w", evt.Type, err)
			break
		}
		key := laneKeyForRemote(evt)
		if err := b.fromRemote.reserve(ctx, key); err != nil {
			release(0)
			return err
		}
		kind, dedupID := dedupKey(evt)
		items = append(items, &remoteItem{chat: string(evt.Chat), dedupKind: kind, dedupID: dedupID, event: data})
		keys = append(keys, key)
		kept = append(kept, evt)
	}
	if err := h.flush(ctx, items, keys, kept, now); err != nil {
		return err
	}
	return failed
}

// flush stores reserved items and pushes them to their lanes.
func (h *host) flush(ctx context.Context, items []*remoteItem, keys []string, evts []*connectors.RemoteEvent, now time.Time) error {
	b := h.b()
	if len(items) == 0 {
		return nil
	}
	errs := b.committer.submitAll(ctx, items)
	var first error
	for i, it := range items {
		switch {
		case errs[i] != nil:
			b.fromRemote.release(keys[i])
			if first == nil {
				first = errs[i]
			}
		case it.duplicate:
			b.fromRemote.release(keys[i])
			b.log.Debug("dropping repeated remote event", slog.String("chat", it.chat), slog.String("id", it.dedupID))
		default:
			b.fromRemote.push(keys[i], &remoteItemQ{seq: it.seq, evt: evts[i], queued: now})
		}
	}
	return first
}

// checkRemote refuses an event the bridge cannot deliver.
func checkRemote(evt *connectors.RemoteEvent) error {
	if evt == nil {
		return fmt.Errorf("queue: nil event")
	}
	if evt.Type == connectors.EventMessage && (evt.ID == "" || evt.Message == nil) {
		return fmt.Errorf("queue %s event in %s: a message needs an ID and a Message", evt.Type, evt.Chat)
	}
	if evt.Chat == "" && evt.Type != connectors.EventProfile {
		return fmt.Errorf("queue %s event: no chat", evt.Type)
	}
	return nil
}

// laneKeyForRemote orders a chat's events together; profile changes, which
// belong to no chat, have a lane of their own.
func laneKeyForRemote(evt *connectors.RemoteEvent) string {
	if evt.Chat == "" {
		return "\x00profile"
	}
	return string(evt.Chat)
}

func (b *Bridge) queueEphemeralRemote(ctx context.Context, evt *connectors.RemoteEvent) error {
	key := laneKeyForRemote(evt)
	if err := b.fromRemote.reserve(ctx, key); err != nil {
		return err
	}
	b.fromRemote.push(key, &remoteItemQ{evt: evt, queued: time.Now()})
	return nil
}

func (h *host) SetState(ctx context.Context, st connectors.State) { h.b().setState(ctx, st) }

func (h *host) Logins(ctx context.Context) ([]*connectors.Login, error) {
	ls, err := h.puppets.Logins(ctx, h.network)
	if err != nil {
		return nil, err
	}
	return toConnectorLogins(ls), nil
}

func toConnectorLogins(ls []*puppet.Login) []*connectors.Login {
	out := make([]*connectors.Login, 0, len(ls))
	for _, l := range ls {
		out = append(out, &connectors.Login{UserID: l.UserID, ID: connectors.LoginID(l.LoginID),
			RemoteUser: connectors.RemoteUserID(l.RemoteID), Name: l.Name, Secret: l.Secret})
	}
	return out
}

func (h *host) SaveLogin(ctx context.Context, l *connectors.Login) error {
	return h.puppets.PutLogin(ctx, &puppet.Login{Network: h.network, UserID: l.UserID, LoginID: string(l.ID),
		RemoteID: string(l.RemoteUser), Name: l.Name, Secret: l.Secret})
}

func (h *host) DeleteLogin(ctx context.Context, user id.UserID, login connectors.LoginID) error {
	return h.puppets.DeleteLogin(ctx, h.network, user, string(login))
}

func (h *host) PuppetUserID(user connectors.RemoteUserID) id.UserID {
	return h.ids.puppetUserID(user)
}

func (h *host) MatrixUser(ctx context.Context, user id.UserID) (*connectors.MatrixUser, bool, error) {
	if _, ok := h.ids.parsePuppet(user); ok || user == h.b().botUserID() {
		return nil, false, nil
	}
	u, err := h.b().matrixUser(ctx, user, "")
	return u, err == nil, err
}

func (h *host) ServerName() string { return h.serverName }

func (h *host) Log() *slog.Logger { return h.log.With(slog.String("component", "connector")) }

// matrixUser gathers what a connector needs about a Matrix user: their
// display name (in room, when given) and their logins on this network.
func (b *Bridge) matrixUser(ctx context.Context, user id.UserID, room id.RoomID) (*connectors.MatrixUser, error) {
	u := &connectors.MatrixUser{ID: user}
	if room != "" {
		if m, ok := b.member(ctx, room, user); ok {
			u.DisplayName, u.AvatarURL = m.DisplayName, m.AvatarURL
		}
	}
	if u.DisplayName == "" {
		if p, err := b.bot.Profile(ctx, user); err == nil && p != nil {
			u.DisplayName, u.AvatarURL = p.DisplayName, p.AvatarURL
		}
	}
	ls, err := b.puppets.UserLogins(ctx, b.network, user)
	if err != nil {
		return nil, err
	}
	u.Logins = toConnectorLogins(ls)
	return u, nil
}

func (h *host) BridgeChat(ctx context.Context, chat connectors.PortalID) error {
	_, err := h.b().ensurePortal(ctx, chat, nil)
	return err
}

func (h *host) UploadMedia(ctx context.Context, file *connectors.Attachment) (string, error) {
	b := h.b()
	if int64(len(file.Data)) > b.maxMedia {
		return "", fmt.Errorf("upload %s: %d bytes is over the %d-byte media limit", file.Name, len(file.Data), b.maxMedia)
	}
	uri, err := b.bot.Upload(ctx, file.Data, file.MimeType, file.Name)
	if err != nil {
		return "", fmt.Errorf("upload %s: %w", file.Name, err)
	}
	return b.publicMediaURL(uri, file.Name), nil
}
