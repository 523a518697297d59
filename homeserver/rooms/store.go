package rooms

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"

	"switchboard/internal/database"
)

// store is the SQL of the room engine. Every write runs inside the
// committer's transaction (the ctx it is given carries it).
type store struct {
	db *database.DB
}

const (
	insertRoomSQL = `INSERT INTO hs_rooms (room_id, room_version, creator, created_ts, published, current_group)
		VALUES ($1, $2, $3, $4, $5, 0)`
	selectRoomSQL      = `SELECT room_version, creator, created_ts, published, current_group FROM hs_rooms WHERE room_id = $1`
	setCurrentGroupSQL = `UPDATE hs_rooms SET current_group = $2 WHERE room_id = $1`
	setPublishedSQL    = `UPDATE hs_rooms SET published = $2 WHERE room_id = $1`
	selectPublishedSQL = `SELECT room_id FROM hs_rooms WHERE published = TRUE ORDER BY room_id`

	insertEventSQL = `INSERT INTO hs_events (stream_pos, event_id, room_id, type, state_key, sender, depth, origin_ts,
		state_before, relates_to, rel_type, txn_device, txn_id, json)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`
	eventColumns      = `stream_pos, event_id, room_id, state_before, redacted_by, txn_device, txn_id, json`
	selectEventSQL    = `SELECT ` + eventColumns + ` FROM hs_events WHERE event_id = $1`
	redactEventSQL    = `UPDATE hs_events SET json = $2, redacted_by = $3 WHERE event_id = $1`
	maxStreamPosSQL   = `SELECT COALESCE(MAX(stream_pos), 0) FROM hs_events`
	roomEventsFwdSQL  = `SELECT ` + eventColumns + ` FROM hs_events WHERE room_id = $1 AND stream_pos > $2 AND stream_pos <= $3 ORDER BY stream_pos ASC LIMIT $4`
	roomEventsBackSQL = `SELECT ` + eventColumns + ` FROM hs_events WHERE room_id = $1 AND stream_pos <= $2 AND stream_pos > $3 ORDER BY stream_pos DESC LIMIT $4`
	relationsSQL      = `SELECT ` + eventColumns + ` FROM hs_events WHERE relates_to = $1 AND stream_pos <= $2 AND stream_pos > $3 ORDER BY stream_pos DESC LIMIT $4`
	lastEventSQL      = `SELECT event_id, depth FROM hs_events WHERE room_id = $1 ORDER BY stream_pos DESC LIMIT 1`

	insertGroupSQL      = `INSERT INTO hs_state_groups (group_id, room_id, prev_group, chain_length) VALUES ($1, $2, $3, $4)`
	insertGroupEntrySQL = `INSERT INTO hs_state_group_entries (group_id, type, state_key, event_id) VALUES ($1, $2, $3, $4)`
	maxGroupSQL         = `SELECT COALESCE(MAX(group_id), 0) FROM hs_state_groups`
	// groupChainSQL lists the entries of a group and of every group it is a
	// delta over, newest first (n = 0 is the group itself).
	groupChainSQL = `WITH RECURSIVE chain (group_id, prev_group, n) AS (
			SELECT group_id, prev_group, 0 FROM hs_state_groups WHERE group_id = $1
			UNION ALL
			SELECT g.group_id, g.prev_group, c.n + 1 FROM hs_state_groups g JOIN chain c ON g.group_id = c.prev_group
		)
		SELECT c.n, e.type, e.state_key, e.event_id FROM chain c
		JOIN hs_state_group_entries e ON e.group_id = c.group_id`
	groupLookupSQL = `WITH RECURSIVE chain (group_id, prev_group, n) AS (
			SELECT group_id, prev_group, 0 FROM hs_state_groups WHERE group_id = $1
			UNION ALL
			SELECT g.group_id, g.prev_group, c.n + 1 FROM hs_state_groups g JOIN chain c ON g.group_id = c.prev_group
		)
		SELECT e.event_id FROM chain c
		JOIN hs_state_group_entries e ON e.group_id = c.group_id AND e.type = $2 AND e.state_key = $3
		ORDER BY c.n ASC LIMIT 1`

	upsertCurrentStateSQL = `INSERT INTO hs_current_state (room_id, type, state_key, event_id, membership, stream_pos)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (room_id, type, state_key) DO UPDATE SET event_id = excluded.event_id,
			membership = excluded.membership, stream_pos = excluded.stream_pos`
	currentStateSQL  = `SELECT type, state_key, event_id FROM hs_current_state WHERE room_id = $1`
	roomsOfUserSQL   = `SELECT room_id, membership, stream_pos FROM hs_current_state WHERE type = 'm.room.member' AND state_key = $1`
	membersOfRoomSQL = `SELECT state_key, membership FROM hs_current_state WHERE room_id = $1 AND type = 'm.room.member'`
	countJoinedSQL   = `SELECT COUNT(*) FROM hs_current_state WHERE room_id = $1 AND type = 'm.room.member' AND membership = 'join'`
	insertTxnSQL     = `INSERT INTO hs_transactions (user_id, device_id, txn_id, event_id) VALUES ($1, $2, $3, $4)`
	selectTxnSQL     = `SELECT event_id FROM hs_transactions WHERE user_id = $1 AND device_id = $2 AND txn_id = $3`
	insertAliasSQL   = `INSERT INTO hs_room_aliases (alias, room_id, creator) VALUES ($1, $2, $3)`
	selectAliasSQL   = `SELECT room_id, creator FROM hs_room_aliases WHERE alias = $1`
	deleteAliasSQL   = `DELETE FROM hs_room_aliases WHERE alias = $1`
	aliasesOfRoomSQL = `SELECT alias FROM hs_room_aliases WHERE room_id = $1 ORDER BY alias`
)

// storedEvent is a row of hs_events.
type storedEvent struct {
	pos         int64
	eventID     string
	roomID      id.RoomID
	stateBefore int64
	redactedBy  string
	txnDevice   string
	txnID       string
	json        []byte
}

func scanEvent(row dbutil.Scannable) (*storedEvent, error) {
	var ev storedEvent
	var redactedBy, txnDevice, txnID sql.NullString
	var data string
	err := row.Scan(&ev.pos, &ev.eventID, &ev.roomID, &ev.stateBefore, &redactedBy, &txnDevice, &txnID, &data)
	if err != nil {
		return nil, err
	}
	ev.redactedBy, ev.txnDevice, ev.txnID = redactedBy.String, txnDevice.String, txnID.String
	ev.json = []byte(data)
	return &ev, nil
}

func (s *store) event(ctx context.Context, eventID string) (*storedEvent, error) {
	ev, err := scanEvent(s.db.QueryRow(ctx, selectEventSQL, eventID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return ev, err
}

func (s *store) events(ctx context.Context, query string, args ...any) ([]*storedEvent, error) {
	rows, err := s.db.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*storedEvent
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}

// eventsByID loads events by id, in no particular order; missing ids are
// left out.
func (s *store) eventsByID(ctx context.Context, ids []string) ([]*storedEvent, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	out := make([]*storedEvent, 0, len(ids))
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		placeholders := make([]string, len(chunk))
		args := make([]any, len(chunk))
		for i, eventID := range chunk {
			placeholders[i] = fmt.Sprintf("$%d", i+1)
			args[i] = eventID
		}
		evs, err := s.events(ctx, `SELECT `+eventColumns+` FROM hs_events WHERE event_id IN (`+strings.Join(placeholders, ",")+`)`, args...)
		if err != nil {
			return nil, err
		}
		out = append(out, evs...)
	}
	return out, nil
}

func (s *store) maxInt(ctx context.Context, query string) (int64, error) {
	var v int64
	err := s.db.QueryRow(ctx, query).Scan(&v)
	return v, err
}

// stateEntry is one (type, state_key) → event id of a state group.
type stateEntry struct {
	Type, StateKey, EventID string
}

// groupState resolves a state group to its full state.
func (s *store) groupState(ctx context.Context, group int64) (map[stateTuple]string, error) {
	out := map[stateTuple]string{}
	if group == 0 {
		return out, nil
	}
	rows, err := s.db.Query(ctx, groupChainSQL, group)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	depth := map[stateTuple]int{}
	for rows.Next() {
		var n int
		var e stateEntry
		if err := rows.Scan(&n, &e.Type, &e.StateKey, &e.EventID); err != nil {
			return nil, err
		}
		t := stateTuple{EventType: e.Type, StateKey: e.StateKey}
		if d, seen := depth[t]; !seen || n < d {
			depth[t] = n
			out[t] = e.EventID
		}
	}
	return out, rows.Err()
}

// groupLookup returns the event id of one piece of state in a group, or "".
func (s *store) groupLookup(ctx context.Context, group int64, evType, stateKey string) (string, error) {
	if group == 0 {
		return "", nil
	}
	var eventID string
	err := s.db.QueryRow(ctx, groupLookupSQL, group, evType, stateKey).Scan(&eventID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return eventID, err
}

func (s *store) txnEvent(ctx context.Context, userID id.UserID, deviceID id.DeviceID, txnID string) (string, error) {
	var eventID string
	err := s.db.QueryRow(ctx, selectTxnSQL, userID, deviceID, txnID).Scan(&eventID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return eventID, err
}

// membership is one row of a user's or a room's memberships.
type membership struct {
	RoomID     id.RoomID
	UserID     id.UserID
	Membership string
	StreamPos  int64
}

func (s *store) roomsOfUser(ctx context.Context, userID id.UserID) ([]membership, error) {
	rows, err := s.db.Query(ctx, roomsOfUserSQL, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []membership
	for rows.Next() {
		m := membership{UserID: userID}
		if err := rows.Scan(&m.RoomID, &m.Membership, &m.StreamPos); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func (s *store) membersOfRoom(ctx context.Context, roomID id.RoomID) ([]membership, error) {
	rows, err := s.db.Query(ctx, membersOfRoomSQL, roomID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []membership
	for rows.Next() {
		m := membership{RoomID: roomID}
		if err := rows.Scan(&m.UserID, &m.Membership); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

const (
	roomsChangedSinceSQL = `SELECT room_id, MAX(stream_pos) FROM hs_events WHERE stream_pos > $1 AND stream_pos <= $2 GROUP BY room_id`
	groupAfterSQL        = `SELECT state_before FROM hs_events WHERE room_id = $1 AND stream_pos > $2 ORDER BY stream_pos ASC LIMIT 1`
)

// roomsChangedSince maps each room with events in (from, to] to its newest
// position there.
func (s *store) roomsChangedSince(ctx context.Context, from, to int64) (map[id.RoomID]int64, error) {
	rows, err := s.db.Query(ctx, roomsChangedSinceSQL, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[id.RoomID]int64{}
	for rows.Next() {
		var roomID id.RoomID
		var pos int64
		if err := rows.Scan(&roomID, &pos); err != nil {
			return nil, err
		}
		out[roomID] = pos
	}
	return out, rows.Err()
}

// groupAfter is the state group of roomID after every event up to pos: the
// state before the room's first event past pos, or current when there is
// none (currentGroup).
func (s *store) groupAfter(ctx context.Context, roomID id.RoomID, pos, currentGroup int64) (int64, error) {
	var group int64
	err := s.db.QueryRow(ctx, groupAfterSQL, roomID, pos).Scan(&group)
	if errors.Is(err, sql.ErrNoRows) {
		return currentGroup, nil
	}
	return group, err
}
