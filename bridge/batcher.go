package bridge

import (
	"context"
	"log/slog"

	"switchboard/internal/database"
)

// batcher gathers items that many goroutines submit at once and hands them
// to commit together (group commit): on SQLite every transaction goes
// through the one writer connection, so one transaction per message would
// make that connection the bridge's speed limit.
type batcher[T any] struct {
	// commit stores a batch and returns one error per item (nil: stored).
	commit func(ctx context.Context, items []T) []error
	in     chan *batchReq[T]
	done   chan struct{}
}

type batchReq[T any] struct {
	item T
	err  chan error
}

const maxBatch = 256

func newBatcher[T any](ctx context.Context, commit func(ctx context.Context, items []T) []error) *batcher[T] {
	b := &batcher[T]{commit: commit, in: make(chan *batchReq[T], maxBatch), done: make(chan struct{})}
	go b.run(ctx)
	return b
}

// submit hands item to the next batch and returns its error once the batch
// is committed (or failed).
func (b *batcher[T]) submit(ctx context.Context, item T) error {
	req := &batchReq[T]{item: item, err: make(chan error, 1)}
	select {
	case b.in <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-b.done:
		return errStopping
	}
	select {
	case err := <-req.err:
		return err
	case <-b.done:
		// run answers every request it took before it ends.
		select {
		case err := <-req.err:
			return err
		default:
			return errStopping
		}
	}
}

// submitAll hands items to the next batches in their order and returns
// their errors once all are committed: items submitted together share a
// transaction (up to maxBatch of them).
func (b *batcher[T]) submitAll(ctx context.Context, items []T) []error {
	errs := make([]error, len(items))
	reqs := make([]*batchReq[T], 0, len(items))
	for i, item := range items {
		req := &batchReq[T]{item: item, err: make(chan error, 1)}
		select {
		case b.in <- req:
			reqs = append(reqs, req)
		case <-ctx.Done():
			errs[i] = ctx.Err()
		case <-b.done:
			errs[i] = errStopping
		}
		if errs[i] != nil {
			for j := i + 1; j < len(items); j++ {
				errs[j] = errs[i]
			}
			break
		}
	}
	for i, req := range reqs {
		select {
		case errs[i] = <-req.err:
		case <-b.done:
			select {
			case errs[i] = <-req.err:
			default:
				errs[i] = errStopping
			}
		}
	}
	return errs
}

func (b *batcher[T]) run(ctx context.Context) {
	defer close(b.done)
	for {
		var batch []*batchReq[T]
		select {
		case req := <-b.in:
			batch = append(batch, req)
		case <-ctx.Done():
			return
		}
	gather:
		for len(batch) < maxBatch {
			select {
			case req := <-b.in:
				batch = append(batch, req)
			default:
				break gather
			}
		}
		items := make([]T, len(batch))
		for i, r := range batch {
			items[i] = r.item
		}
		// Committed even while stopping: the callers are waiting, and what
		// they were told is stored must be.
		errs := b.commit(context.WithoutCancel(ctx), items)
		for i, r := range batch {
			r.err <- errs[i]
		}
	}
}

func (b *batcher[T]) wait() { <-b.done }

// sameError is one error for each of n items.
func sameError(n int, err error) []error {
	errs := make([]error, n)
	for i := range errs {
		errs[i] = err
	}
	return errs
}

// txnBatcher runs small writes from many lanes in shared database
// transactions.
type txnBatcher struct {
	*batcher[func(ctx context.Context) error]
}

func newTxnBatcher(ctx context.Context, db *database.DB, log *slog.Logger) *txnBatcher {
	commit := func(ctx context.Context, fns []func(ctx context.Context) error) []error {
		err := db.DoTxn(ctx, nil, func(ctx context.Context) error {
			for _, fn := range fns {
				if err := fn(ctx); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil || len(fns) == 1 {
			return sameError(len(fns), err)
		}
		// One write failed and took the others with it: run each alone so
		// only the failing one reports an error.
		log.Debug("batched write failed, retrying one by one", slog.Any("error", err))
		errs := make([]error, len(fns))
		for i, fn := range fns {
			errs[i] = db.DoTxn(ctx, nil, fn)
		}
		return errs
	}
	return &txnBatcher{newBatcher(ctx, commit)}
}

// do runs fn in a transaction shared with other callers and returns its
// error once committed (or rolled back). fn must only touch the database
// through the context it is given.
func (t *txnBatcher) do(ctx context.Context, fn func(ctx context.Context) error) error {
	return t.submit(ctx, fn)
}

// newRemoteCommitter writes remote events to bridge_outbox in batches:
// events queued by many chats at once share one database transaction
// instead of one each.
func newRemoteCommitter(ctx context.Context, q *queueStore, log *slog.Logger) *batcher[*remoteItem] {
	return newBatcher(ctx, func(ctx context.Context, items []*remoteItem) []error {
		err := q.storeRemote(ctx, items)
		if err != nil {
			log.Error("store remote events", slog.Any("error", err))
		}
		return sameError(len(items), err)
	})
}
