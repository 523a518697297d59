package accounts

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/homeserver/mxhttp"
)

// Account data is one stream for the whole server. Every write takes the
// next position from hs_account_data_stream in the transaction that writes
// the data. The counter's row lock serialises writers (on PostgreSQL;
// SQLite has one writer anyway), so positions commit in order and a reader
// that has seen position N can never later find a smaller one appear. A
// sequence (BIGSERIAL) would hand out numbers at insert time, and two
// transactions could then commit out of order, making /sync skip the
// slower one's data. Account data changes are rare enough that serialising
// them costs nothing noticeable.

const (
	typePushRules = "m.push_rules"
	typeFullyRead = "m.fully_read"

	maxAccountDataTypeBytes = 255
	maxRoomIDBytes          = 255
)

const (
	getStreamPositionQuery = `SELECT position FROM hs_account_data_stream WHERE id = 1`
	bumpStreamQuery        = `UPDATE hs_account_data_stream SET position = position + 1 WHERE id = 1 RETURNING position`
	upsertAccountDataQuery = `
		INSERT INTO hs_account_data (user_id, room_id, type, content, stream_position) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (user_id, room_id, type) DO UPDATE SET content = excluded.content, stream_position = excluded.stream_position`
	getAccountDataQuery   = `SELECT content FROM hs_account_data WHERE user_id = $1 AND room_id = $2 AND type = $3`
	accountDataSinceQuery = `
		SELECT room_id, type, content, stream_position FROM hs_account_data
		WHERE user_id = $1 AND stream_position > $2 ORDER BY stream_position`
)

// SetAccountData stores account data for userID (in roomID, or global when
// roomID is empty) on behalf of the server itself — read markers, tags —
// and returns its stream position. Unlike the client endpoint it accepts
// the types the server manages, such as m.fully_read. content must be a
// JSON object.
func (a *Accounts) SetAccountData(ctx context.Context, userID id.UserID, roomID id.RoomID, eventType string, content json.RawMessage) (int64, error) {
	compact, err := compactObject(content)
	if err != nil {
		return 0, fmt.Errorf("account data %s of %s: %w", eventType, userID, err)
	}
	var pos int64
	err = a.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		var err error
		pos, err = a.writeAccountData(ctx, userID, roomID, eventType, compact)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("account data %s of %s: %w", eventType, userID, err)
	}
	a.accountDataCommitted(userID, pos)
	return pos, nil
}

// writeAccountData takes the next stream position and stores the data at
// it. It must run inside a transaction, and the caller calls
// accountDataCommitted after that transaction commits.
func (a *Accounts) writeAccountData(ctx context.Context, userID id.UserID, roomID id.RoomID, eventType string, content []byte) (int64, error) {
	var pos int64
	if err := a.db.QueryRow(ctx, bumpStreamQuery).Scan(&pos); err != nil {
		return 0, err
	}
	_, err := a.db.Exec(ctx, upsertAccountDataQuery, userID, string(roomID), eventType, string(content), pos)
	return pos, err
}

// accountDataCommitted advances the known stream position and wakes the
// user's /sync.
func (a *Accounts) accountDataCommitted(userID id.UserID, pos int64) {
	for {
		cur := a.accountDataPos.Load()
		if pos <= cur || a.accountDataPos.CompareAndSwap(cur, pos) {
			break
		}
	}
	if fn := a.notifier.Load(); fn != nil {
		(*fn)(userID, pos)
	}
}

// AccountDataPosition is the newest committed account data stream
// position.
func (a *Accounts) AccountDataPosition() int64 { return a.accountDataPos.Load() }

// AccountDataSince returns userID's account data changed after stream
// position since (all of it when since is 0): the global events, the
// per-room events by room, and the position the answer is complete up to,
// to pass as since next time. m.push_rules always reflects the current
// rules, and is included when since is 0 even if the user never changed
// them. Events carry type and content only.
func (a *Accounts) AccountDataSince(ctx context.Context, userID id.UserID, since int64) (global []event.Event, perRoom map[id.RoomID][]event.Event, latest int64, err error) {
	latest = a.accountDataPos.Load()
	type row struct {
		room    string
		typ     string
		content string
		pos     int64
	}
	var found []row
	rows, err := a.db.Query(ctx, accountDataSinceQuery, userID, since)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("account data of %s: %w", userID, err)
	}
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.room, &r.typ, &r.content, &r.pos); err != nil {
			rows.Close()
			return nil, nil, 0, fmt.Errorf("account data of %s: %w", userID, err)
		}
		found = append(found, r)
	}
	if err := errors.Join(rows.Close(), rows.Err()); err != nil {
		return nil, nil, 0, fmt.Errorf("account data of %s: %w", userID, err)
	}

	perRoom = map[id.RoomID][]event.Event{}
	sawPushRules := false
	for _, r := range found {
		latest = max(latest, r.pos)
		content := json.RawMessage(r.content)
		if r.room == "" && r.typ == typePushRules {
			sawPushRules = true
			if content, err = a.pushRulesContent(ctx, userID); err != nil {
				return nil, nil, 0, err
			}
		}
		evt := accountDataEvent(r.typ, content)
		if r.room == "" {
			global = append(global, evt)
		} else {
			perRoom[id.RoomID(r.room)] = append(perRoom[id.RoomID(r.room)], evt)
		}
	}
	if since == 0 && !sawPushRules {
		content, err := a.pushRulesContent(ctx, userID)
		if err != nil {
			return nil, nil, 0, err
		}
		global = append(global, accountDataEvent(typePushRules, content))
	}
	return global, perRoom, latest, nil
}

func accountDataEvent(typ string, content json.RawMessage) event.Event {
	return event.Event{
		Type:    event.Type{Type: typ, Class: event.AccountDataEventType},
		Content: event.Content{VeryRaw: content},
	}
}

// accountDataPath reads and checks the path of an account data request:
// the user must be the caller, the room id (if any) well-formed.
func (a *Accounts) accountDataPath(r *http.Request) (roomID id.RoomID, eventType string, err error) {
	if id.UserID(r.PathValue("userId")) != identity(r).UserID {
		return "", "", mautrix.MForbidden.WithMessage("You can only use your own account data")
	}
	room := r.PathValue("roomId") // "" on the global route
	if room != "" {
		if !strings.HasPrefix(room, "!") || len(room) < 2 || !validText(room, maxRoomIDBytes) {
			return "", "", mautrix.MInvalidParam.WithMessage("%q is not a room id", room)
		}
	}
	eventType = r.PathValue("type")
	if eventType == "" || !validText(eventType, maxAccountDataTypeBytes) {
		return "", "", mautrix.MInvalidParam.WithMessage("the account data type must be 1 to %d bytes of text", maxAccountDataTypeBytes)
	}
	return id.RoomID(room), eventType, nil
}

func (a *Accounts) handleGetAccountData(w http.ResponseWriter, r *http.Request) {
	roomID, eventType, err := a.accountDataPath(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	userID := identity(r).UserID
	if roomID == "" && eventType == typePushRules {
		content, err := a.pushRulesContent(r.Context(), userID)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		writeRawJSON(w, content)
		return
	}
	var content string
	err = a.db.QueryRow(r.Context(), getAccountDataQuery, userID, string(roomID), eventType).Scan(&content)
	if errors.Is(err, sql.ErrNoRows) {
		a.fail(w, r, mautrix.MNotFound.WithMessage("No account data of type %s", eventType))
		return
	} else if err != nil {
		a.fail(w, r, fmt.Errorf("get account data: %w", err))
		return
	}
	writeRawJSON(w, []byte(content))
}

func (a *Accounts) handlePutAccountData(w http.ResponseWriter, r *http.Request) {
	roomID, eventType, err := a.accountDataPath(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if eventType == typeFullyRead || eventType == typePushRules {
		a.fail(w, r, mautrix.MBadJSON.WithStatus(http.StatusMethodNotAllowed).
			WithMessage("%s is managed by the server; use its own API", eventType))
		return
	}
	body, err := mxhttp.ReadBody(r, 0)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var object map[string]json.RawMessage
	if err := mxhttp.DecodeJSON(body, &object); err != nil {
		a.fail(w, r, err)
		return
	}
	if _, err := a.SetAccountData(r.Context(), identity(r).UserID, roomID, eventType, body); err != nil {
		a.fail(w, r, err)
		return
	}
	ok(w)
}

// compactObject checks that data is one JSON object and compacts it. An
// empty body counts as {}.
func compactObject(data []byte) ([]byte, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return []byte("{}"), nil
	}
	if data[0] != '{' || !json.Valid(data) {
		return nil, errors.New("content must be a JSON object")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, data); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeRawJSON(w http.ResponseWriter, data []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
}
