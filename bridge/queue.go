package bridge

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"switchboard/internal/database"
)

// The persisted queues. Matrix → network: a transaction's events are stored
// in bridge_inbox (with the transaction id in bridge_as_txns) before the
// homeserver gets its 200, and deleted once handled. Network → Matrix: an
// event a connector queues is stored in bridge_outbox (its id in
// bridge_remote_seen) before Host.Queue returns, and deleted in the same
// database transaction that records its Matrix twin in the message map.

const (
	selectSeqSQL  = `SELECT next_inbox, next_outbox FROM bridge_queue_seq WHERE network = $1`
	insertSeqSQL  = `INSERT INTO bridge_queue_seq (network, next_inbox, next_outbox) VALUES ($1, 1, 1) ON CONFLICT (network) DO NOTHING`
	updateInSQL   = `UPDATE bridge_queue_seq SET next_inbox = $2 WHERE network = $1`
	updateOutSQL  = `UPDATE bridge_queue_seq SET next_outbox = $2 WHERE network = $1`
	insertTxnSQL  = `INSERT INTO bridge_as_txns (network, txn_id, received_ts) VALUES ($1, $2, $3) ON CONFLICT (network, txn_id) DO NOTHING`
	insertInSQL   = `INSERT INTO bridge_inbox (network, seq, room_id, event) VALUES ($1, $2, $3, $4)`
	selectInSQL   = `SELECT seq, room_id, event FROM bridge_inbox WHERE network = $1 ORDER BY seq`
	deleteInSQL   = `DELETE FROM bridge_inbox WHERE network = $1 AND seq = $2`
	insertSeenSQL = `INSERT INTO bridge_remote_seen (network, chat, kind, remote_id, seen_ts) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (network, chat, kind, remote_id) DO NOTHING`
	insertOutSQL  = `INSERT INTO bridge_outbox (network, seq, chat, event) VALUES ($1, $2, $3, $4)`
	selectOutSQL  = `SELECT seq, chat, event FROM bridge_outbox WHERE network = $1 ORDER BY seq`
	deleteOutSQL  = `DELETE FROM bridge_outbox WHERE network = $1 AND seq = $2`
	countInSQL    = `SELECT COUNT(*) FROM bridge_inbox WHERE network = $1`
	countOutSQL   = `SELECT COUNT(*) FROM bridge_outbox WHERE network = $1`
)

// queueStore is one network's view of the queue tables. Sequence numbers are
// handed out under mu and committed with the rows, so seq order is commit
// order and a number is never reused, even after its row is deleted.
type queueStore struct {
	db      *database.DB
	network string

	mu      sync.Mutex
	nextIn  int64
	nextOut int64
}

// row is one stored queue entry: an inbox row (key is the room id) or an
// outbox row (key is the chat).
type row struct {
	seq   int64
	key   string
	event []byte
}

func newQueueStore(ctx context.Context, db *database.DB, network string) (*queueStore, error) {
	q := &queueStore{db: db, network: network}
	if _, err := db.Exec(ctx, insertSeqSQL, network); err != nil {
		return nil, fmt.Errorf("init queue sequence: %w", err)
	}
	if err := db.QueryRow(ctx, selectSeqSQL, network).Scan(&q.nextIn, &q.nextOut); err != nil {
		return nil, fmt.Errorf("read queue sequence: %w", err)
	}
	return q, nil
}

// storeTransaction stores a pushed transaction's events (already filtered to
// those the bridge handles) in one database transaction. fresh is false when
// the transaction id was stored before: the events are then not stored again.
// The returned rows carry their sequence numbers.
func (q *queueStore) storeTransaction(ctx context.Context, txnID string, events []row) (rows []row, fresh bool, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	next := q.nextIn
	err = q.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		res, err := q.db.Exec(ctx, insertTxnSQL, q.network, txnID, time.Now().UnixMilli())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // a repeat: fresh stays false
		}
		fresh = true
		for _, e := range events {
			e.seq = next
			next++
			if _, err := q.db.Exec(ctx, insertInSQL, q.network, e.seq, e.key, string(e.event)); err != nil {
				return err
			}
			rows = append(rows, e)
		}
		if len(events) > 0 {
			_, err = q.db.Exec(ctx, updateInSQL, q.network, next)
		}
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("store transaction %s: %w", txnID, err)
	}
	q.nextIn = next
	return rows, fresh, nil
}

// remoteItem is one remote event on its way into bridge_outbox. dedupKind
// and dedupID name it in bridge_remote_seen; an empty dedupID is never a
// repeat.
type remoteItem struct {
	chat      string
	dedupKind string
	dedupID   string
	event     []byte

	seq       int64 // set by storeRemote
	duplicate bool  // set by storeRemote
}

// storeRemote stores a batch of remote events in one database transaction,
// marking repeats instead of storing them.
func (q *queueStore) storeRemote(ctx context.Context, items []*remoteItem) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	next := q.nextOut
	now := time.Now().UnixMilli()
	err := q.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		for _, it := range items {
			it.duplicate = false
			if it.dedupID != "" {
				res, err := q.db.Exec(ctx, insertSeenSQL, q.network, it.chat, it.dedupKind, it.dedupID, now)
				if err != nil {
					return err
				}
				if n, err := res.RowsAffected(); err != nil {
					return err
				} else if n == 0 {
					it.duplicate = true
					continue
				}
			}
			it.seq = next
			next++
			if _, err := q.db.Exec(ctx, insertOutSQL, q.network, it.seq, it.chat, string(it.event)); err != nil {
				return err
			}
		}
		_, err := q.db.Exec(ctx, updateOutSQL, q.network, next)
		return err
	})
	if err != nil {
		return fmt.Errorf("store remote events: %w", err)
	}
	q.nextOut = next
	return nil
}

func (q *queueStore) pending(ctx context.Context, query string) ([]row, error) {
	rs, err := q.db.Query(ctx, query, q.network)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []row
	for rs.Next() {
		var r row
		var ev string
		if err := rs.Scan(&r.seq, &r.key, &ev); err != nil {
			return nil, err
		}
		r.event = []byte(ev)
		out = append(out, r)
	}
	return out, rs.Err()
}

func (q *queueStore) pendingInbox(ctx context.Context) ([]row, error) {
	return q.pending(ctx, selectInSQL)
}

func (q *queueStore) pendingOutbox(ctx context.Context) ([]row, error) {
	return q.pending(ctx, selectOutSQL)
}

func (q *queueStore) deleteInbox(ctx context.Context, seq int64) error {
	_, err := q.db.Exec(ctx, deleteInSQL, q.network, seq)
	return err
}

func (q *queueStore) deleteOutbox(ctx context.Context, seq int64) error {
	_, err := q.db.Exec(ctx, deleteOutSQL, q.network, seq)
	return err
}

// counts returns how many events wait in each direction.
func (q *queueStore) counts(ctx context.Context) (inbox, outbox int64, err error) {
	if err = q.db.QueryRow(ctx, countInSQL, q.network).Scan(&inbox); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, 0, err
	}
	if err = q.db.QueryRow(ctx, countOutSQL, q.network).Scan(&outbox); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, 0, err
	}
	return inbox, outbox, nil
}
