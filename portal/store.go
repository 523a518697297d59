package portal

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"

	"switchboard/internal/database"
)

const (
	portalColumns = `network, remote_id, room_id, name, topic, avatar_url, relay, plumbed, direct, created_ts`

	getPortalQuery = `SELECT ` + portalColumns + ` FROM bridge_portals WHERE network = $1 AND remote_id = $2`
	// Sorted in Go, as messagesByEventQuery, so SQLite uses
	// bridge_portals_room_idx rather than walking the network's portals.
	portalsByRoomQuery = `SELECT ` + portalColumns + ` FROM bridge_portals WHERE network = $1 AND room_id = $2`
	allPortalsQuery    = `SELECT ` + portalColumns + ` FROM bridge_portals WHERE network = $1 ORDER BY remote_id`
	insertPortalQuery  = `
		INSERT INTO bridge_portals (` + portalColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (network, remote_id) DO NOTHING`
	portalRoomQuery   = `SELECT room_id FROM bridge_portals WHERE network = $1 AND remote_id = $2`
	updatePortalQuery = `
		UPDATE bridge_portals SET room_id = $3, name = $4, topic = $5, avatar_url = $6, relay = $7, plumbed = $8, direct = $9
		WHERE network = $1 AND remote_id = $2`
	deletePortalQuery = `DELETE FROM bridge_portals WHERE network = $1 AND remote_id = $2`

	messageColumns = `network, chat, remote_id, room_id, event_id, sender, kind, target, reaction_key, ts`

	insertMessageQuery = `
		INSERT INTO bridge_messages (` + messageColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (network, chat, remote_id) DO NOTHING`
	messageByRemoteQuery = `SELECT ` + messageColumns + ` FROM bridge_messages WHERE network = $1 AND chat = $2 AND remote_id = $3`
	// No ORDER BY: SQLite would then walk the primary key in its order
	// (network, chat, remote_id), filtering every row of the network, rather
	// than look the event up in bridge_messages_event_idx; the few rows are
	// sorted in Go instead.
	messagesByEventQuery = `
		SELECT ` + messageColumns + ` FROM bridge_messages WHERE network = $1 AND event_id = $2`
	reactionByKeyQuery = `
		SELECT ` + messageColumns + ` FROM bridge_messages
		WHERE network = $1 AND chat = $2 AND target = $3 AND sender = $4 AND reaction_key = $5 AND kind = 'reaction'
		ORDER BY ts, remote_id LIMIT 1`
	deleteMessageQuery         = `DELETE FROM bridge_messages WHERE network = $1 AND chat = $2 AND remote_id = $3`
	deleteMessagesByEventQuery = `DELETE FROM bridge_messages WHERE network = $1 AND event_id = $2`
)

// insertAttempts bounds Insert's retries when a conflicting portal is
// deleted between the insert and the look-up of its room.
const insertAttempts = 3

// Portal links one remote chat on one network to a Matrix room. A room may
// have several portals (chats on different networks, or several chats of
// one network); a remote chat has at most one room.
type Portal struct {
	Network   string    // the connector's network name, e.g. "irc"
	RemoteID  string    // the connector's chat id, e.g. "libera/#go-nuts"
	RoomID    id.RoomID // the Matrix room
	Name      string
	Topic     string
	AvatarURL id.ContentURIString
	Relay     bool      // Matrix users without an identity on the network are relayed by the bot
	Plumbed   bool      // linked into an existing room with `link` (false: the bridge created the room)
	Direct    bool      // a one-to-one chat
	CreatedAt time.Time // set by Insert when zero; never changed by Update
}

// Message kinds in the message map.
const (
	KindMessage  = "message"
	KindReaction = "reaction"
	KindEdit     = "edit"
)

// Message is one line of the message map: a remote message (or reaction, or
// edit) and its Matrix twin.
type Message struct {
	Network   string // the connector's network name
	Chat      string // the remote chat id (Portal.RemoteID)
	RemoteID  string // remote message id, unique in (Network, Chat)
	RoomID    id.RoomID
	EventID   id.EventID
	Sender    id.UserID // Matrix sender of the event (the puppet, or the Matrix user)
	Kind      string    // KindMessage, KindReaction or KindEdit
	Target    string    // for reactions and edits: remote id of the message they relate to; "" otherwise
	Key       string    // reaction key; "" otherwise
	Timestamp time.Time // the message's time; PutMessage sets it to now when zero
}

// Store keeps portals and the message map. It is safe for concurrent use.
type Store struct {
	db *database.DB
}

// NewStore returns the store on db, whose Schema must have been migrated.
func NewStore(db *database.DB) *Store {
	return &Store{db: db}
}

func scanPortal(row dbutil.Scannable) (*Portal, error) {
	var (
		p       Portal
		created int64
	)
	err := row.Scan(&p.Network, &p.RemoteID, &p.RoomID, &p.Name, &p.Topic, &p.AvatarURL,
		&p.Relay, &p.Plumbed, &p.Direct, &created)
	if err != nil {
		return nil, err
	}
	p.CreatedAt = time.UnixMilli(created)
	return &p, nil
}

func scanMessage(row dbutil.Scannable) (*Message, error) {
	var (
		m  Message
		ts int64
	)
	err := row.Scan(&m.Network, &m.Chat, &m.RemoteID, &m.RoomID, &m.EventID, &m.Sender,
		&m.Kind, &m.Target, &m.Key, &ts)
	if err != nil {
		return nil, err
	}
	m.Timestamp = time.UnixMilli(ts)
	return &m, nil
}

// Get returns the portal of a remote chat, or nil, nil when it has none.
func (s *Store) Get(ctx context.Context, network, remoteID string) (*Portal, error) {
	p, err := database.One(s.db.QueryRow(ctx, getPortalQuery, network, remoteID), scanPortal)
	if err != nil {
		return nil, fmt.Errorf("get portal %s %s: %w", network, remoteID, err)
	}
	return p, nil
}

// ByRoom returns all of network's portals in a room, ordered by remote id;
// nil when there are none.
func (s *Store) ByRoom(ctx context.Context, network string, roomID id.RoomID) ([]*Portal, error) {
	rows, err := s.db.Query(ctx, portalsByRoomQuery, network, roomID)
	ps, err := database.All(rows, err, scanPortal)
	if err != nil {
		return nil, fmt.Errorf("get %s portals of %s: %w", network, roomID, err)
	}
	slices.SortFunc(ps, func(a, b *Portal) int { return strings.Compare(a.RemoteID, b.RemoteID) })
	return ps, nil
}

// All returns every portal of network, ordered by remote id; nil when
// there are none.
func (s *Store) All(ctx context.Context, network string) ([]*Portal, error) {
	rows, err := s.db.Query(ctx, allPortalsQuery, network)
	ps, err := database.All(rows, err, scanPortal)
	if err != nil {
		return nil, fmt.Errorf("get %s portals: %w", network, err)
	}
	return ps, nil
}

// Insert adds a new portal, setting p.CreatedAt to now when it is zero.
// When the remote chat already has a portal nothing is written and the
// error is an *ExistsError naming its room (errors.Is(err, ErrExists)).
func (s *Store) Insert(ctx context.Context, p *Portal) error {
	if p.CreatedAt.IsZero() {
		p.CreatedAt = time.Now()
	}
	for range insertAttempts {
		res, err := s.db.Exec(ctx, insertPortalQuery, p.Network, p.RemoteID, p.RoomID, p.Name, p.Topic, p.AvatarURL,
			p.Relay, p.Plumbed, p.Direct, p.CreatedAt.UnixMilli())
		if err != nil {
			return fmt.Errorf("insert portal %s %s: %w", p.Network, p.RemoteID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("insert portal %s %s: %w", p.Network, p.RemoteID, err)
		} else if n == 1 {
			return nil
		}
		var room id.RoomID
		err = s.db.QueryRow(ctx, portalRoomQuery, p.Network, p.RemoteID).Scan(&room)
		if errors.Is(err, sql.ErrNoRows) {
			continue // deleted since the insert: try again
		} else if err != nil {
			return fmt.Errorf("insert portal %s %s: get existing room: %w", p.Network, p.RemoteID, err)
		}
		return &ExistsError{Network: p.Network, RemoteID: p.RemoteID, RoomID: room}
	}
	return &ExistsError{Network: p.Network, RemoteID: p.RemoteID}
}

// Update writes p's room, name, topic, avatar and flags over the stored
// portal of (p.Network, p.RemoteID); CreatedAt is kept. It returns
// ErrNotFound (wrapped) when there is no such portal.
func (s *Store) Update(ctx context.Context, p *Portal) error {
	res, err := s.db.Exec(ctx, updatePortalQuery, p.Network, p.RemoteID, p.RoomID, p.Name, p.Topic, p.AvatarURL,
		p.Relay, p.Plumbed, p.Direct)
	if err != nil {
		return fmt.Errorf("update portal %s %s: %w", p.Network, p.RemoteID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("update portal %s %s: %w", p.Network, p.RemoteID, err)
	}
	if n == 0 {
		return fmt.Errorf("update portal %s %s: %w", p.Network, p.RemoteID, ErrNotFound)
	}
	return nil
}

// Delete removes the portal of a remote chat, if any. Its lines in the
// message map stay until deleted on their own.
func (s *Store) Delete(ctx context.Context, network, remoteID string) error {
	if _, err := s.db.Exec(ctx, deletePortalQuery, network, remoteID); err != nil {
		return fmt.Errorf("delete portal %s %s: %w", network, remoteID, err)
	}
	return nil
}

// PutMessage adds a line to the message map, setting m.Timestamp to now
// when it is zero. A line that already exists for (m.Network, m.Chat,
// m.RemoteID) is left as it is, without error: the first twin wins.
func (s *Store) PutMessage(ctx context.Context, m *Message) error {
	if m.Timestamp.IsZero() {
		m.Timestamp = time.Now()
	}
	_, err := s.db.Exec(ctx, insertMessageQuery, m.Network, m.Chat, m.RemoteID, m.RoomID, m.EventID, m.Sender,
		m.Kind, m.Target, m.Key, m.Timestamp.UnixMilli())
	if err != nil {
		return fmt.Errorf("put message %s %s %s: %w", m.Network, m.Chat, m.RemoteID, err)
	}
	return nil
}

// MessageByRemote returns the line of a remote message id in a chat, or
// nil, nil when there is none.
func (s *Store) MessageByRemote(ctx context.Context, network, chat, remoteID string) (*Message, error) {
	m, err := database.One(s.db.QueryRow(ctx, messageByRemoteQuery, network, chat, remoteID), scanMessage)
	if err != nil {
		return nil, fmt.Errorf("get message %s %s %s: %w", network, chat, remoteID, err)
	}
	return m, nil
}

// MessagesByEvent returns the lines of network that a Matrix event maps to:
// one per linked chat (more when a chat got it as several messages),
// ordered by chat, then time. Nil when there are none.
func (s *Store) MessagesByEvent(ctx context.Context, network string, eventID id.EventID) ([]*Message, error) {
	rows, err := s.db.Query(ctx, messagesByEventQuery, network, eventID)
	ms, err := database.All(rows, err, scanMessage)
	if err != nil {
		return nil, fmt.Errorf("get %s messages of %s: %w", network, eventID, err)
	}
	slices.SortFunc(ms, func(a, b *Message) int {
		return cmp.Or(strings.Compare(a.Chat, b.Chat), a.Timestamp.Compare(b.Timestamp), strings.Compare(a.RemoteID, b.RemoteID))
	})
	return ms, nil
}

// ReactionByKey returns sender's reaction with key to the remote message
// target in a chat (the oldest, should there be several), or nil, nil when
// there is none.
func (s *Store) ReactionByKey(ctx context.Context, network, chat, target string, sender id.UserID, key string) (*Message, error) {
	m, err := database.One(s.db.QueryRow(ctx, reactionByKeyQuery, network, chat, target, sender, key), scanMessage)
	if err != nil {
		return nil, fmt.Errorf("get reaction of %s to %s %s %s: %w", sender, network, chat, target, err)
	}
	return m, nil
}

// DeleteMessage removes the line of a remote message id, if any.
func (s *Store) DeleteMessage(ctx context.Context, network, chat, remoteID string) error {
	if _, err := s.db.Exec(ctx, deleteMessageQuery, network, chat, remoteID); err != nil {
		return fmt.Errorf("delete message %s %s %s: %w", network, chat, remoteID, err)
	}
	return nil
}

// DeleteMessagesByEvent removes every line of network that maps to a
// Matrix event, in every chat.
func (s *Store) DeleteMessagesByEvent(ctx context.Context, network string, eventID id.EventID) error {
	if _, err := s.db.Exec(ctx, deleteMessagesByEventQuery, network, eventID); err != nil {
		return fmt.Errorf("delete %s messages of %s: %w", network, eventID, err)
	}
	return nil
}
