package appservices

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/homeserver/rooms"
	"switchboard/registration"
)

const (
	selectStateSQL   = `SELECT stream_pos, next_txn FROM hs_as_state WHERE as_id = $1`
	insertStateSQL   = `INSERT INTO hs_as_state (as_id, stream_pos, next_txn) VALUES ($1, $2, 1)`
	advanceSQL       = `UPDATE hs_as_state SET stream_pos = $2 WHERE as_id = $1`
	bumpTxnSQL       = `UPDATE hs_as_state SET next_txn = next_txn + 1 WHERE as_id = $1`
	selectPendingSQL = `SELECT txn_id, to_pos, event_ids FROM hs_as_txns WHERE as_id = $1`
	insertPendingSQL = `INSERT INTO hs_as_txns (as_id, txn_id, to_pos, event_ids) VALUES ($1, $2, $3, $4)`
	deletePendingSQL = `DELETE FROM hs_as_txns WHERE as_id = $1`
)

// scanLimit bounds how many stream events one step reads looking for
// interesting ones.
const scanLimit = 1000

// pendingTxn is the transaction in flight.
type pendingTxn struct {
	id       int64
	toPos    int64
	eventIDs []string
	// ephemeral events ride along the first attempt; they are not stored
	// and not retried after a restart (typing and receipts are transient).
	ephemeral []event.Event
}

// pusher delivers one appservice's transactions, one at a time, in order.
type pusher struct {
	s       *Service
	reg     *registration.Registration
	events  Events
	ctx     context.Context
	pos     int64
	nextTxn int64
	pending *pendingTxn
	eph     rooms.EphemeralPositions
	backoff time.Duration
}

func newPusher(ctx context.Context, s *Service, reg *registration.Registration, events Events) (*pusher, error) {
	p := &pusher{s: s, reg: reg, events: events, ctx: ctx, eph: events.EphemeralNow()}
	err := s.db.QueryRow(ctx, selectStateSQL, reg.ID).Scan(&p.pos, &p.nextTxn)
	if errors.Is(err, sql.ErrNoRows) {
		// A new appservice starts with what happens from now on.
		p.pos, p.nextTxn = events.Latest(), 1
		if _, err := s.db.Exec(ctx, insertStateSQL, reg.ID, p.pos); err != nil {
			return nil, fmt.Errorf("appservice %s: %w", reg.ID, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("appservice %s: %w", reg.ID, err)
	}
	var txnID, toPos int64
	var ids string
	err = s.db.QueryRow(ctx, selectPendingSQL, reg.ID).Scan(&txnID, &toPos, &ids)
	if err == nil {
		p.pending = &pendingTxn{id: txnID, toPos: toPos}
		if err := json.Unmarshal([]byte(ids), &p.pending.eventIDs); err != nil {
			return nil, fmt.Errorf("appservice %s: stored transaction: %w", reg.ID, err)
		}
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("appservice %s: %w", reg.ID, err)
	}
	return p, nil
}

func (p *pusher) run() {
	for {
		changed := p.events.Changed()
		progressed, err := p.step()
		if err != nil {
			select {
			case <-p.s.stop:
				return // Close cancelled the request in flight
			default:
			}
			p.s.failures.WithLabelValues(p.reg.ID).Inc()
			p.backoff = min(max(p.backoff*2, 100*time.Millisecond), p.s.opts.MaxBackoff)
			wait := p.backoff/2 + time.Duration(rand.Int64N(int64(p.backoff/2)+1))
			p.s.log.Warn("appservice push failed", "appservice", p.reg.ID, "retry_in", wait, "error", err)
			select {
			case <-time.After(wait):
			case <-p.s.stop:
				return
			}
			continue
		}
		p.backoff = 0
		p.s.queued.WithLabelValues(p.reg.ID).Set(float64(max(p.events.Latest()-p.pos, 0)))
		if progressed {
			continue
		}
		select {
		case <-changed:
		case <-time.After(30 * time.Second):
		case <-p.s.stop:
			return
		}
	}
}

// step sends the pending transaction, or builds the next one from the
// stream. It reports whether it got anywhere.
func (p *pusher) step() (bool, error) {
	if p.pending == nil {
		built, err := p.build()
		if err != nil || p.pending == nil {
			// Nothing to send: the position may still have moved past
			// events of no interest.
			return built, err
		}
	}
	if err := p.send(p.pending); err != nil {
		return false, err
	}
	err := p.s.db.DoTxn(p.ctx, nil, func(ctx context.Context) error {
		if _, err := p.s.db.Exec(ctx, deletePendingSQL, p.reg.ID); err != nil {
			return err
		}
		_, err := p.s.db.Exec(ctx, advanceSQL, p.reg.ID, p.pending.toPos)
		return err
	})
	if err != nil {
		return false, err
	}
	p.pos = p.pending.toPos
	p.pending = nil
	return true, nil
}

// build reads the stream past the appservice's position and stores the next
// transaction (or just advances, when nothing there concerns it).
func (p *pusher) build() (bool, error) {
	evs, err := p.events.EventsSince(p.ctx, p.pos, scanLimit)
	if err != nil {
		return false, err
	}
	cache := map[id.RoomID]bool{}
	var ephemeral []event.Event
	if p.reg.EphemeralEvents {
		if ephemeral, err = p.ephemeral(cache); err != nil {
			return false, err
		}
	}
	var ids []string
	toPos := p.pos
	for _, ev := range evs {
		interested, err := p.interestedIn(ev.Event, cache)
		if err != nil {
			return false, err
		}
		toPos = ev.Pos
		if interested {
			ids = append(ids, ev.Event.EventID)
			if len(ids) == p.s.opts.BatchSize {
				break
			}
		}
	}
	if len(ids) == 0 && len(ephemeral) == 0 {
		if toPos == p.pos {
			return false, nil
		}
		if _, err := p.s.db.Exec(p.ctx, advanceSQL, p.reg.ID, toPos); err != nil {
			return false, err
		}
		p.pos = toPos
		return true, nil
	}
	if ids == nil {
		ids = []string{}
	}
	txn := &pendingTxn{id: p.nextTxn, toPos: toPos, eventIDs: ids, ephemeral: ephemeral}
	idsJSON, _ := json.Marshal(ids)
	err = p.s.db.DoTxn(p.ctx, nil, func(ctx context.Context) error {
		if _, err := p.s.db.Exec(ctx, insertPendingSQL, p.reg.ID, txn.id, txn.toPos, string(idsJSON)); err != nil {
			return err
		}
		_, err := p.s.db.Exec(ctx, bumpTxnSQL, p.reg.ID)
		return err
	})
	if err != nil {
		return false, err
	}
	p.nextTxn++
	p.pending = txn
	return true, nil
}

// interestedIn follows the Application Service API: events from or about
// the appservice's users, in its rooms, in rooms with one of its aliases,
// or in rooms where one of its users is a member.
func (p *pusher) interestedIn(ev rooms.ClientEvent, cache map[id.RoomID]bool) (bool, error) {
	if p.reg.IsInterestedInUser(string(ev.Sender)) {
		return true, nil
	}
	if ev.Type == "m.room.member" && ev.StateKey != nil && p.reg.IsInterestedInUser(*ev.StateKey) {
		return true, nil
	}
	return p.interestedInRoom(ev.RoomID, cache)
}

func (p *pusher) interestedInRoom(roomID id.RoomID, cache map[id.RoomID]bool) (bool, error) {
	if v, ok := cache[roomID]; ok {
		return v, nil
	}
	interested := p.reg.IsInterestedInRoom(string(roomID))
	if !interested {
		aliases, err := p.events.LocalAliases(p.ctx, roomID)
		if err != nil {
			return false, err
		}
		for _, a := range aliases {
			if p.reg.IsInterestedInAlias(string(a)) {
				interested = true
				break
			}
		}
	}
	if !interested {
		members, err := p.events.RoomMembers(p.ctx, roomID)
		if err != nil {
			return false, err
		}
		for user, m := range members {
			if (m == "join" || m == "invite") && p.reg.IsInterestedInUser(string(user)) {
				interested = true
				break
			}
		}
	}
	cache[roomID] = interested
	return interested, nil
}

// ephemeral collects the typing, receipts and presence the appservice is
// interested in: those of its rooms, and the presence of its users and of
// users who share a room with them.
func (p *pusher) ephemeral(cache map[id.RoomID]bool) ([]event.Event, error) {
	byRoom, presence, now, err := p.events.EphemeralSince(p.ctx, p.eph)
	if err != nil {
		return nil, err
	}
	p.eph = now
	var out []event.Event
	for roomID, list := range byRoom {
		interested, err := p.interestedInRoom(roomID, cache)
		if err != nil {
			return nil, err
		}
		if interested {
			out = append(out, list...)
		}
	}
	for _, ev := range presence {
		interested := p.reg.IsInterestedInUser(string(ev.Sender))
		if !interested {
			joined, err := p.events.JoinedRooms(p.ctx, ev.Sender)
			if err != nil {
				return nil, err
			}
			for _, roomID := range joined {
				if interested, err = p.interestedInRoom(roomID, cache); err != nil {
					return nil, err
				} else if interested {
					break
				}
			}
		}
		if interested {
			out = append(out, ev)
		}
	}
	return out, nil
}

type transaction struct {
	Events           []rooms.ClientEvent `json:"events"`
	Ephemeral        []event.Event       `json:"ephemeral,omitempty"`
	MSC2409Ephemeral []event.Event       `json:"de.sorunome.msc2409.ephemeral,omitempty"`
}

func (p *pusher) send(txn *pendingTxn) error {
	evs, err := p.events.EventsByID(p.ctx, txn.eventIDs)
	if err != nil {
		return err
	}
	body := transaction{Events: evs, Ephemeral: txn.ephemeral, MSC2409Ephemeral: txn.ephemeral}
	if body.Events == nil {
		body.Events = []rooms.ClientEvent{}
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return err
	}
	url := joinURL(p.reg.URL, "/_matrix/app/v1/transactions/"+strconv.FormatInt(txn.id, 10))
	req, err := http.NewRequestWithContext(p.ctx, http.MethodPut, url, bytes.NewReader(payload))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+p.reg.ServerToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.s.client.Do(req)
	if err != nil {
		return fmt.Errorf("transaction %d: %s", txn.id, strings.TrimPrefix(err.Error(), "Put "))
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return fmt.Errorf("transaction %d: appservice answered %s", txn.id, resp.Status)
	}
	return nil
}
