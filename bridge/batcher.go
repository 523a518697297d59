package bridge

import (
	"context"
	"log/slog"

	"switchboard/internal/database"
)

// txnBatcher runs small writes from many lanes in shared database
// transactions (group commit): on SQLite every transaction goes through the
// one writer connection, so one transaction per message would make that
// connection the bridge's speed limit.
type txnBatcher struct {
	db   *database.DB
	log  *slog.Logger
	in   chan *batchReq
	done chan struct{}
}

type batchReq struct {
	fn  func(ctx context.Context) error
	err chan error
}

const maxBatch = 256

func newTxnBatcher(ctx context.Context, db *database.DB, log *slog.Logger) *txnBatcher {
	t := &txnBatcher{db: db, log: log, in: make(chan *batchReq, maxBatch), done: make(chan struct{})}
	go t.run(ctx)
	return t
}

// do runs fn in a transaction shared with other callers and returns its
// error once committed (or rolled back). fn must only touch the database
// through the context it is given.
func (t *txnBatcher) do(ctx context.Context, fn func(ctx context.Context) error) error {
	req := &batchReq{fn: fn, err: make(chan error, 1)}
	select {
	case t.in <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-t.done:
		return errStopping
	}
	select {
	case err := <-req.err:
		return err
	case <-t.done:
		select {
		case err := <-req.err:
			return err
		default:
			return errStopping
		}
	}
}

func (t *txnBatcher) run(ctx context.Context) {
	defer close(t.done)
	for {
		var batch []*batchReq
		select {
		case req := <-t.in:
			batch = append(batch, req)
		case <-ctx.Done():
			return
		}
	gather:
		for len(batch) < maxBatch {
			select {
			case req := <-t.in:
				batch = append(batch, req)
			default:
				break gather
			}
		}
		// Written even while stopping: the callers are waiting, and what
		// they were told is stored must be.
		wctx := context.WithoutCancel(ctx)
		err := t.db.DoTxn(wctx, nil, func(ctx context.Context) error {
			for _, r := range batch {
				if err := r.fn(ctx); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil || len(batch) == 1 {
			for _, r := range batch {
				r.err <- err
			}
			continue
		}
		// One write failed and took the others with it: run each alone so
		// only the failing one reports an error.
		t.log.Debug("batched write failed, retrying one by one", slog.Any("error", err))
		for _, r := range batch {
			r.err <- t.db.DoTxn(wctx, nil, r.fn)
		}
	}
}

func (t *txnBatcher) wait() { <-t.done }
