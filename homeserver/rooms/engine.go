package rooms

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	gmsl "github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/internal/database"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Schema is the room engine's database schema, versioned in hs_rooms_version.
func Schema() database.Schema {
	return database.EmbeddedSchema("rooms", "hs_rooms_version", migrations, "migrations")
}

// DefaultRoomVersion is the version createRoom uses when the client names
// none: 12, the version the specification recommends since v1.16.
const DefaultRoomVersion = "12"

// SupportedRoomVersions are the versions createRoom accepts.
var SupportedRoomVersions = []string{"10", "11", "12"}

// MaxEventBytes is the spec's limit on a whole event's JSON.
const MaxEventBytes = 65536

// stateTuple is a (type, state_key) pair.
type stateTuple = gmsl.StateKeyTuple

// Authenticator wraps handlers that need a logged-in user.
type Authenticator interface {
	RequireAuth(h http.HandlerFunc) http.Handler
}

// Profiles gives the display name and avatar a member event carries.
type Profiles interface {
	Profile(ctx context.Context, userID id.UserID) (displayName, avatarURL string, err error)
}

// Options is what the engine needs from the homeserver.
type Options struct {
	ServerName string
	KeyID      string // "ed25519:a_xxxx"
	SigningKey ed25519.PrivateKey
	DB         *database.DB
	Log        *slog.Logger
	Auth       Authenticator
	Profiles   Profiles
	// AccountData feeds account data and stored filters into /sync.
	AccountData AccountData
	// Appservices, when set, answers for the alias namespaces appservices
	// own: aliases only they may create, and unknown aliases they may
	// create on demand.
	Appservices AliasAuthority
	// OnCommit is called after each commit with the last stream position
	// written, to wake long-polling /sync requests. May be nil.
	OnCommit func(lastPos int64)
}

// AliasAuthority is the appservice registry as the room engine needs it.
type AliasAuthority interface {
	// CheckAlias returns 400 M_EXCLUSIVE when alias lies in an exclusive
	// alias namespace of an appservice other than appserviceID ("" for an
	// ordinary user).
	CheckAlias(alias id.RoomAlias, appserviceID string) error
	// QueryAlias asks the appservice whose namespace holds alias whether it
	// exists; the appservice creates the room before answering yes. False
	// when no appservice claims the alias.
	QueryAlias(ctx context.Context, alias id.RoomAlias) (bool, error)
}

// AccountData is the account store as /sync needs it.
type AccountData interface {
	// AccountDataSince returns the user's account data changed after since
	// (0: all of it) and the position it read up to.
	AccountDataSince(ctx context.Context, userID id.UserID, since int64) (global []event.Event, perRoom map[id.RoomID][]event.Event, latest int64, err error)
	// AccountDataPosition is the newest account data position.
	AccountDataPosition() int64
	// Filter returns a filter the user stored.
	Filter(ctx context.Context, userID id.UserID, filterID string) (json.RawMessage, error)
}

// Engine owns every room of the server.
type Engine struct {
	opts      Options
	store     store
	committer *committer
	log       *slog.Logger

	mu    sync.Mutex
	rooms map[id.RoomID]*room

	nextGroup atomic.Int64
	latest    atomic.Int64
	typing    *typingTracker
	vis       *visibility
	changes   *broadcast
	accounts  AccountData
	closeOnce sync.Once
	receipts  receiptStream
	presence  *presenceTracker
}

// New migrates the schema and loads the stream positions.
func New(ctx context.Context, opts Options) (*Engine, error) {
	if err := opts.DB.Migrate(ctx, Schema()); err != nil {
		return nil, err
	}
	e := &Engine{opts: opts, store: store{db: opts.DB}, log: opts.Log, rooms: map[id.RoomID]*room{}, changes: newBroadcast(), accounts: opts.AccountData}
	maxPos, err := e.store.maxInt(ctx, maxStreamPosSQL)
	if err != nil {
		return nil, fmt.Errorf("rooms: read stream position: %w", err)
	}
	maxGroup, err := e.store.maxInt(ctx, maxGroupSQL)
	if err != nil {
		return nil, fmt.Errorf("rooms: read state groups: %w", err)
	}
	e.latest.Store(maxPos)
	if e.receipts.latest, err = e.store.maxInt(ctx, maxReceiptSQL); err != nil {
		return nil, fmt.Errorf("rooms: read receipt position: %w", err)
	}
	e.nextGroup.Store(maxGroup)
	e.typing = newTypingTracker(e.notify)
	e.vis = newVisibility(e)
	e.presence = newPresenceTracker(e.notify)
	e.committer = newCommitter(opts.DB, opts.Log, maxPos+1, func(last int64) {
		e.latest.Store(last)
		e.notify()
	})
	return e, nil
}

// Wake tells long-polling /sync requests that something changed. The
// account store calls it after account data changes.
func (e *Engine) Wake() { e.notify() }

func (e *Engine) notify() {
	e.changes.wake()
	if e.opts.OnCommit != nil {
		e.opts.OnCommit(e.latest.Load())
	}
}

// Close stops the committer; the database stays open for the caller to close.
func (e *Engine) Close() {
	e.closeOnce.Do(func() {
		e.committer.Close()
		e.typing.Close()
	})
}

// Latest is the stream position of the newest committed event.
func (e *Engine) Latest() int64 { return e.latest.Load() }

// room is a room's live state. Its lock serialises everything that writes
// to the room: an event is built on the state its predecessor left.
type room struct {
	mu          sync.Mutex
	id          id.RoomID
	version     gmsl.IRoomVersion
	state       map[stateTuple]gmsl.PDU
	group       int64
	chainLen    int
	extremities []string
	depth       int64
}

var errUnknownRoom = mautrix.MNotFound.WithMessage("Unknown room")

// room returns the live room, loading it on first use; nil with
// errUnknownRoom when the server does not know it.
func (e *Engine) room(ctx context.Context, roomID id.RoomID) (*room, error) {
	e.mu.Lock()
	r, ok := e.rooms[roomID]
	e.mu.Unlock()
	if ok {
		return r, nil
	}
	r, err := e.loadRoom(ctx, roomID)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if existing, ok := e.rooms[roomID]; ok {
		return existing, nil
	}
	e.rooms[roomID] = r
	return r, nil
}

func (e *Engine) loadRoom(ctx context.Context, roomID id.RoomID) (*room, error) {
	var version, creator string
	var created int64
	var published bool
	var group int64
	err := e.opts.DB.QueryRow(ctx, selectRoomSQL, roomID).Scan(&version, &creator, &created, &published, &group)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errUnknownRoom
	} else if err != nil {
		return nil, fmt.Errorf("load room %s: %w", roomID, err)
	}
	verImpl, err := gmsl.GetRoomVersion(gmsl.RoomVersion(version))
	if err != nil {
		return nil, fmt.Errorf("load room %s: %w", roomID, err)
	}
	r := &room{id: roomID, version: verImpl, state: map[stateTuple]gmsl.PDU{}, group: group}
	rows, err := e.opts.DB.Query(ctx, currentStateSQL, roomID)
	if err != nil {
		return nil, fmt.Errorf("load room %s state: %w", roomID, err)
	}
	var ids []string
	for rows.Next() {
		var t stateTuple
		var eventID string
		if err := rows.Scan(&t.EventType, &t.StateKey, &eventID); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, eventID)
	}
	rows.Close()
	stored, err := e.store.eventsByID(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("load room %s state: %w", roomID, err)
	}
	for _, ev := range stored {
		pdu, err := verImpl.NewEventFromTrustedJSON(ev.json, ev.redactedBy != "")
		if err != nil {
			return nil, fmt.Errorf("load room %s: event %s: %w", roomID, ev.eventID, err)
		}
		r.state[stateTuple{EventType: pdu.Type(), StateKey: *pdu.StateKey()}] = pdu
	}
	var last string
	if err := e.opts.DB.QueryRow(ctx, lastEventSQL, roomID).Scan(&last, &r.depth); err != nil {
		return nil, fmt.Errorf("load room %s: latest event: %w", roomID, err)
	}
	r.extremities = []string{last}
	if group != 0 {
		if err := e.opts.DB.QueryRow(ctx, `SELECT chain_length FROM hs_state_groups WHERE group_id = $1`, group).Scan(&r.chainLen); err != nil {
			return nil, fmt.Errorf("load room %s: state group: %w", roomID, err)
		}
	}
	return r, nil
}

// userIDForSender maps a sender to a user: without pseudonymous ids (room
// versions up to 12) the sender is the user id.
func userIDForSender(_ spec.RoomID, senderID spec.SenderID) (*spec.UserID, error) {
	return spec.NewUserID(string(senderID), true)
}

// proto is an event a local user asks to send.
type proto struct {
	Sender   id.UserID
	Type     string
	StateKey *string
	Content  []byte
	Redacts  string
	// Txn, when set, makes the send idempotent for (sender, device, txn id).
	TxnDevice id.DeviceID
	TxnID     string
	// Timestamp, when set, is the origin_server_ts (appservices may set it
	// with the ts query parameter).
	Timestamp time.Time
}

// buildLocked builds, signs and auth-checks an event on r's current state.
// r.mu must be held. For the create event of a room version with
// domainless room ids, r.id is empty and the event names the room.
func (e *Engine) buildLocked(r *room, p proto, now time.Time) (gmsl.PDU, error) {
	pe := &gmsl.ProtoEvent{
		SenderID: string(p.Sender),
		RoomID:   string(r.id),
		Type:     p.Type,
		StateKey: p.StateKey,
		Content:  p.Content,
		Redacts:  p.Redacts,
		Depth:    r.depth + 1,
	}
	if r.extremities != nil {
		pe.PrevEvents = r.extremities
	} else {
		pe.PrevEvents = []string{}
	}
	builder := r.version.NewEventBuilderFromProtoEvent(pe)
	needed, err := gmsl.StateNeededForProtoEvent(&gmsl.ProtoEvent{
		SenderID: pe.SenderID, Type: pe.Type, StateKey: pe.StateKey, Content: pe.Content, Version: r.version,
	})
	if err != nil {
		return nil, mautrix.MBadJSON.WithMessage("%s", notAllowedMessage(err))
	}
	authEvents, err := r.authEvents(needed.Tuples())
	if err != nil {
		return nil, err
	}
	if err := builder.AddAuthEvents(authEvents); err != nil {
		return nil, fmt.Errorf("auth events: %w", err)
	}
	if !p.Timestamp.IsZero() {
		now = p.Timestamp
	}
	pdu, err := builder.Build(now, spec.ServerName(e.opts.ServerName), gmsl.KeyID(e.opts.KeyID), e.opts.SigningKey)
	if err != nil {
		var validation *gmsl.EventValidationError
		if errors.As(err, &validation) {
			return nil, mautrix.MBadJSON.WithMessage("%s", validation.Message)
		}
		return nil, mautrix.MBadJSON.WithMessage("Invalid event: %s", err)
	}
	if len(pdu.JSON()) > MaxEventBytes {
		return nil, mautrix.MTooLarge.WithMessage("Event is larger than %d bytes", MaxEventBytes)
	}
	if err := gmsl.Allowed(pdu, authEvents, userIDForSender); err != nil {
		var notAllowed *gmsl.NotAllowed
		if errors.As(err, &notAllowed) {
			return nil, mautrix.MForbidden.WithMessage("%s", notAllowed.Message)
		}
		var validation *gmsl.EventValidationError
		if errors.As(err, &validation) {
			return nil, mautrix.MBadJSON.WithMessage("%s", validation.Message)
		}
		return nil, err
	}
	return pdu, nil
}

func notAllowedMessage(err error) string {
	var notAllowed *gmsl.NotAllowed
	if errors.As(err, &notAllowed) {
		return notAllowed.Message
	}
	return err.Error()
}

// authEvents collects the current state events among tuples.
func (r *room) authEvents(tuples []stateTuple) (*gmsl.AuthEvents, error) {
	events := make([]gmsl.PDU, 0, len(tuples))
	for _, t := range tuples {
		if ev, ok := r.state[t]; ok {
			events = append(events, ev)
		}
	}
	return gmsl.NewAuthEvents(events)
}

// maxChain is how many deltas a state group chain may grow before the next
// group is written as a full snapshot.
const maxChain = 32

// commitLocked stores pdu as the room's next event and advances the room's
// live state. r.mu must be held. extra runs in the same transaction.
func (e *Engine) commitLocked(ctx context.Context, r *room, pdu gmsl.PDU, p proto, extra func(ctx context.Context) error) (int64, error) {
	stateBefore := r.group
	isState := pdu.StateKey() != nil
	var newGroup int64
	var groupEntries []gmsl.PDU
	var prevGroup *int64
	chainLen := 0
	if isState {
		newGroup = e.nextGroup.Add(1)
		if r.group == 0 || r.chainLen >= maxChain {
			for t, ev := range r.state {
				if t != (stateTuple{EventType: pdu.Type(), StateKey: *pdu.StateKey()}) {
					groupEntries = append(groupEntries, ev)
				}
			}
		} else {
			prev := r.group
			prevGroup = &prev
			chainLen = r.chainLen + 1
		}
		groupEntries = append(groupEntries, pdu)
	}
	roomID := id.RoomID(pdu.RoomID().String())
	relatesTo, relType := relation(pdu.Content())
	pos, err := e.committer.submit(ctx, 1, func(ctx context.Context, pos int64) error {
		db := e.opts.DB
		if pdu.Type() == spec.MRoomCreate && pdu.StateKeyEquals("") {
			if _, err := db.Exec(ctx, insertRoomSQL, roomID, string(r.version.Version()), string(pdu.SenderID()), int64(pdu.OriginServerTS()), false); err != nil {
				return fmt.Errorf("insert room: %w", err)
			}
		}
		var txnDevice, txnID any
		if p.TxnID != "" {
			txnDevice, txnID = string(p.TxnDevice), p.TxnID
		}
		if _, err := db.Exec(ctx, insertEventSQL, pos, pdu.EventID(), roomID, pdu.Type(), pdu.StateKey(), string(pdu.SenderID()),
			pdu.Depth(), int64(pdu.OriginServerTS()), stateBefore, nullable(relatesTo), nullable(relType), txnDevice, txnID, string(pdu.JSON())); err != nil {
			return fmt.Errorf("insert event: %w", err)
		}
		if p.TxnID != "" {
			if _, err := db.Exec(ctx, insertTxnSQL, p.Sender, p.TxnDevice, p.TxnID, pdu.EventID()); err != nil {
				return fmt.Errorf("insert transaction: %w", err)
			}
		}
		if isState {
			if _, err := db.Exec(ctx, insertGroupSQL, newGroup, roomID, prevGroup, chainLen); err != nil {
				return fmt.Errorf("insert state group: %w", err)
			}
			for _, ev := range groupEntries {
				if _, err := db.Exec(ctx, insertGroupEntrySQL, newGroup, ev.Type(), *ev.StateKey(), ev.EventID()); err != nil {
					return fmt.Errorf("insert state group entry: %w", err)
				}
			}
			var membership any
			if pdu.Type() == spec.MRoomMember {
				m, _ := pdu.Membership()
				membership = m
			}
			if _, err := db.Exec(ctx, upsertCurrentStateSQL, roomID, pdu.Type(), *pdu.StateKey(), pdu.EventID(), membership, pos); err != nil {
				return fmt.Errorf("update current state: %w", err)
			}
			if _, err := db.Exec(ctx, setCurrentGroupSQL, roomID, newGroup); err != nil {
				return fmt.Errorf("update room: %w", err)
			}
		}
		if extra != nil {
			return extra(ctx)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if r.id == "" {
		r.id = roomID
	}
	if isState {
		r.state[stateTuple{EventType: pdu.Type(), StateKey: *pdu.StateKey()}] = pdu
		r.group = newGroup
		if prevGroup == nil {
			r.chainLen = 0
		} else {
			r.chainLen = chainLen
		}
	}
	r.extremities = []string{pdu.EventID()}
	r.depth = pdu.Depth()
	return pos, nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func timeNow() time.Time { return time.Now() }

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

func timeFromMillis(ms int64) time.Time { return time.UnixMilli(ms) }
