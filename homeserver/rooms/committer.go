package rooms

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"switchboard/internal/database"
)

// maxBatch bounds how many writes share one transaction.
const maxBatch = 256

// A write is one unit of work for the committer: fn runs inside the shared
// transaction (ctx carries it), and events is how many stream positions it
// needs; fn receives the first of them.
type write struct {
	events int
	fn     func(ctx context.Context, firstPos int64) error
	done   chan writeResult
}

type writeResult struct {
	firstPos int64
	err      error
}

// committer is the only writer of room events. It groups writes that arrive
// while a transaction is in progress into the next transaction, so that
// clients sending into different rooms share one commit (and one fsync)
// instead of queueing behind each other's.
type committer struct {
	db      *database.DB
	log     *slog.Logger
	queue   chan *write
	nextPos int64 // owned by the run goroutine
	// committed is called, in order, with the last stream position of each
	// committed transaction.
	committed func(lastPos int64)

	stop chan struct{}
	wg   sync.WaitGroup
}

func newCommitter(db *database.DB, log *slog.Logger, nextPos int64, committed func(int64)) *committer {
	c := &committer{
		db:        db,
		log:       log,
		queue:     make(chan *write, maxBatch),
		nextPos:   nextPos,
		committed: committed,
		stop:      make(chan struct{}),
	}
	c.wg.Add(1)
	go c.run()
	return c
}

// errStopped is returned for writes submitted after Close.
var errStopped = errors.New("rooms: engine stopped")

// submit queues w and waits for its transaction to commit or fail. The write
// itself is not cancelled with ctx once queued: a client that hangs up does
// not get to leave a room half-written.
func (c *committer) submit(ctx context.Context, events int, fn func(ctx context.Context, firstPos int64) error) (int64, error) {
	w := &write{events: events, fn: fn, done: make(chan writeResult, 1)}
	select {
	case c.queue <- w:
	case <-c.stop:
		return 0, errStopped
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	res := <-w.done
	return res.firstPos, res.err
}

func (c *committer) run() {
	defer c.wg.Done()
	batch := make([]*write, 0, maxBatch)
	for {
		select {
		case w := <-c.queue:
			batch = append(batch[:0], w)
		case <-c.stop:
			c.drain()
			return
		}
	collect:
		for len(batch) < maxBatch {
			select {
			case w := <-c.queue:
				batch = append(batch, w)
			default:
				break collect
			}
		}
		c.commit(batch)
	}
}

// drain fails what is still queued at shutdown; submitters are waiting.
func (c *committer) drain() {
	for {
		select {
		case w := <-c.queue:
			w.done <- writeResult{err: errStopped}
		default:
			return
		}
	}
}

func (c *committer) commit(batch []*write) {
	first := c.nextPos
	results, err := c.runTxn(batch)
	if err != nil && len(batch) > 1 {
		// One write spoiled the batch: retry each alone so the others
		// are not failed with it.
		for _, w := range batch {
			c.commit([]*write{w})
		}
		return
	}
	if err != nil {
		c.nextPos = first
		batch[0].done <- writeResult{err: err}
		return
	}
	if c.committed != nil && c.nextPos > first {
		c.committed(c.nextPos - 1)
	}
	for i, w := range batch {
		w.done <- writeResult{firstPos: results[i]}
	}
}

func (c *committer) runTxn(batch []*write) ([]int64, error) {
	start := c.nextPos
	results := make([]int64, len(batch))
	err := c.db.DoTxn(context.Background(), nil, func(ctx context.Context) error {
		pos := start
		for i, w := range batch {
			results[i] = pos
			if err := w.fn(ctx, pos); err != nil {
				return err
			}
			pos += int64(w.events)
		}
		c.nextPos = pos
		return nil
	})
	if err != nil {
		c.nextPos = start
		return nil, err
	}
	return results, nil
}

// Close stops the committer after the transaction in progress; writes still
// queued fail with errStopped.
func (c *committer) Close() {
	close(c.stop)
	c.wg.Wait()
}
