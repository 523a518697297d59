package rooms

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/homeserver/mxhttp"
)

const (
	upsertReceiptSQL = `INSERT INTO hs_receipts (room_id, user_id, receipt_type, thread_id, event_id, event_pos, ts, stream_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (room_id, user_id, receipt_type, thread_id) DO UPDATE SET event_id = excluded.event_id,
			event_pos = excluded.event_pos, ts = excluded.ts, stream_id = excluded.stream_id
		WHERE hs_receipts.event_pos <= excluded.event_pos`
	receiptsSinceSQL = `SELECT room_id, user_id, receipt_type, thread_id, event_id, ts, stream_id FROM hs_receipts
		WHERE stream_id > $1 AND stream_id <= $2`
	maxReceiptSQL  = `SELECT COALESCE(MAX(stream_id), 0) FROM hs_receipts`
	ownReadPosSQL  = `SELECT COALESCE(MAX(event_pos), 0) FROM hs_receipts WHERE room_id = $1 AND user_id = $2 AND receipt_type IN ('m.read', 'm.read.private')`
	unreadCountSQL = `SELECT COUNT(*) FROM hs_events WHERE room_id = $1 AND stream_pos > $2 AND stream_pos <= $3 AND sender <> $4
		AND type IN ('m.room.message', 'm.room.encrypted', 'm.sticker') AND redacted_by IS NULL`
)

// receiptStream numbers receipt changes. Writes are serialised by its lock
// so positions commit in order and a /sync token never skips one.
type receiptStream struct {
	mu     sync.Mutex
	latest int64
}

// SetReceipt records that user has read up to eventID in roomID.
func (e *Engine) SetReceipt(ctx context.Context, requester mxhttp.Identity, roomID id.RoomID, receiptType, threadID, eventID string) error {
	switch receiptType {
	case "m.read", "m.read.private":
	default:
		return mautrix.MInvalidParam.WithMessage("Unknown receipt type %q", receiptType)
	}
	r, err := e.room(ctx, roomID)
	if err != nil {
		return err
	}
	if r.currentMembership(requester.UserID) != "join" {
		return mautrix.MForbidden.WithMessage("You are not joined to this room")
	}
	ev, err := e.store.event(ctx, eventID)
	if err != nil {
		return err
	}
	if ev == nil || ev.roomID != roomID {
		return mautrix.MNotFound.WithMessage("Event not found")
	}
	e.receipts.mu.Lock()
	next := e.receipts.latest + 1
	_, err = e.opts.DB.Exec(ctx, upsertReceiptSQL, roomID, requester.UserID, receiptType, threadID, eventID, ev.pos, nowFunc().UnixMilli(), next)
	if err == nil {
		e.receipts.latest = next
	}
	e.receipts.mu.Unlock()
	if err != nil {
		return err
	}
	e.notify()
	return nil
}

// receiptsSince builds the m.receipt ephemeral events for rooms, with the
// receipts that changed in (from, to]; private receipts only for their owner.
func (e *Engine) receiptsSince(ctx context.Context, user id.UserID, from, to int64) (map[id.RoomID]event.ReceiptEventContent, error) {
	out := map[id.RoomID]event.ReceiptEventContent{}
	if to <= from {
		return out, nil
	}
	rows, err := e.opts.DB.Query(ctx, receiptsSinceSQL, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var roomID id.RoomID
		var sender id.UserID
		var rtype, thread, eventID string
		var ts, stream int64
		if err := rows.Scan(&roomID, &sender, &rtype, &thread, &eventID, &ts, &stream); err != nil {
			return nil, err
		}
		if rtype == "m.read.private" && sender != user {
			continue
		}
		content, ok := out[roomID]
		if !ok {
			content = event.ReceiptEventContent{}
			out[roomID] = content
		}
		receipt := event.ReadReceipt{Timestamp: timeFromMillis(ts)}
		if thread != "" {
			receipt.ThreadID = event.ThreadID(thread)
		}
		content.Set(id.EventID(eventID), event.ReceiptType(rtype), sender, receipt)
	}
	return out, rows.Err()
}

// unreadCount counts the messages from others after user's read receipt.
func (e *Engine) unreadCount(ctx context.Context, roomID id.RoomID, user id.UserID, upTo int64) (int, error) {
	var readPos int64
	if err := e.opts.DB.QueryRow(ctx, ownReadPosSQL, roomID, user).Scan(&readPos); err != nil {
		return 0, err
	}
	var n int
	err := e.opts.DB.QueryRow(ctx, unreadCountSQL, roomID, readPos, upTo, user).Scan(&n)
	return n, err
}

func (e *Engine) handleReceipt(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ThreadID string `json:"thread_id"`
	}
	if err := mxhttp.ReadJSON(r, &body, 0); err != nil {
		e.fail(w, r, err)
		return
	}
	receiptType := r.PathValue("receiptType")
	roomID := id.RoomID(r.PathValue("roomId"))
	eventID := r.PathValue("eventId")
	var err error
	if receiptType == "m.fully_read" {
		err = e.setFullyRead(r.Context(), identity(r), roomID, eventID)
	} else {
		err = e.SetReceipt(r.Context(), identity(r), roomID, receiptType, body.ThreadID, eventID)
	}
	if err != nil {
		e.fail(w, r, err)
		return
	}
	mxhttp.WriteJSON(w, http.StatusOK, struct{}{})
}

func (e *Engine) handleReadMarkers(w http.ResponseWriter, r *http.Request) {
	var body struct {
		FullyRead   string `json:"m.fully_read"`
		Read        string `json:"m.read"`
		ReadPrivate string `json:"m.read.private"`
	}
	if err := mxhttp.ReadJSON(r, &body, 0); err != nil {
		e.fail(w, r, err)
		return
	}
	ident := identity(r)
	roomID := id.RoomID(r.PathValue("roomId"))
	for rtype, eventID := range map[string]string{"m.read": body.Read, "m.read.private": body.ReadPrivate} {
		if eventID == "" {
			continue
		}
		if err := e.SetReceipt(r.Context(), ident, roomID, rtype, "", eventID); err != nil {
			e.fail(w, r, err)
			return
		}
	}
	if body.FullyRead != "" {
		if err := e.setFullyRead(r.Context(), ident, roomID, body.FullyRead); err != nil {
			e.fail(w, r, err)
			return
		}
	}
	mxhttp.WriteJSON(w, http.StatusOK, struct{}{})
}

// RoomAccountDataWriter stores room account data; the account store does.
type RoomAccountDataWriter interface {
	SetAccountData(ctx context.Context, userID id.UserID, roomID id.RoomID, eventType string, content json.RawMessage) (int64, error)
}

// setFullyRead moves the m.fully_read marker, which the spec keeps as room
// account data.
func (e *Engine) setFullyRead(ctx context.Context, requester mxhttp.Identity, roomID id.RoomID, eventID string) error {
	if _, err := e.Event(ctx, requester, roomID, eventID); err != nil {
		return err
	}
	writer, ok := e.accounts.(RoomAccountDataWriter)
	if !ok {
		return mautrix.MUnrecognized.WithMessage("Read markers are not available")
	}
	content, err := jsonMarshal(map[string]string{"event_id": eventID})
	if err != nil {
		return err
	}
	_, err = writer.SetAccountData(ctx, requester.UserID, roomID, "m.fully_read", content)
	return err
}
