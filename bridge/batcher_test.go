package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"switchboard/internal/database"
	"switchboard/internal/database/dbtest"
)

// startBatcher creates a scratch table and a batcher that is stopped and
// waited for when t ends.
func startBatcher(t *testing.T, db *database.DB) (*txnBatcher, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := db.Exec(ctx, `CREATE TABLE batch_scratch (id INTEGER PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	b := newTxnBatcher(ctx, db, slog.New(slog.DiscardHandler))
	t.Cleanup(func() {
		cancel()
		b.wait()
	})
	return b, cancel
}

func insertScratch(db *database.DB, id int) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		_, err := db.Exec(ctx, `INSERT INTO batch_scratch (id, v) VALUES ($1, $2)`, id, fmt.Sprint("v", id))
		return err
	}
}

func scratchIDs(t *testing.T, db *database.DB) []int {
	t.Helper()
	rs, err := db.Query(context.Background(), `SELECT id FROM batch_scratch ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var ids []int
	for rs.Next() {
		var id int
		if err := rs.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestTxnBatcherConcurrent: many concurrent writes all commit, each once.
func TestTxnBatcherConcurrent(t *testing.T) {
	const n = 300
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		b, _ := startBatcher(t, db)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				if err := b.do(context.Background(), insertScratch(db, i)); err != nil {
					t.Errorf("write %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		if got := scratchIDs(t, db); !slices.Equal(got, seq(0, n)) {
			t.Errorf("committed %d rows, want ids 0..%d: %v", len(got), n-1, got)
		}
	})
}

var errScratch = errors.New("scratch write refused")

// TestTxnBatcherFailureIsolated: a write that fails gets its error and
// leaves nothing behind, and the writes that shared its batch still commit,
// each exactly once. The batch is built on purpose: a first write holds
// the batcher while the others queue up, in a known order, behind it.
func TestTxnBatcherFailureIsolated(t *testing.T) {
	const before, after = 5, 5
	for _, tc := range []struct {
		name string
		fail func(db *database.DB) func(ctx context.Context) error
		is   error // the error the failing write must get (nil: any error)
	}{
		{"fn returns an error", func(db *database.DB) func(ctx context.Context) error {
			return func(ctx context.Context) error {
				if err := insertScratch(db, 1000)(ctx); err != nil {
					return err
				}
				return errScratch // after writing: the row must be rolled back
			}
		}, errScratch},
		{"sql error", func(db *database.DB) func(ctx context.Context) error {
			// A primary key conflict with the holder's row: on PostgreSQL
			// this also aborts the whole transaction.
			return insertScratch(db, 0)
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
				b, _ := startBatcher(t, db)
				holding, release := make(chan struct{}), make(chan struct{})
				holderErr := make(chan error, 1)
				go func() {
					holderErr <- b.do(context.Background(), func(ctx context.Context) error {
						close(holding)
						<-release
						return insertScratch(db, 0)(ctx)
					})
				}()
				<-holding

				type result struct {
					id  int
					err error
				}
				results := make(chan result, before+after+1)
				var calls [before + after + 1]atomic.Int32
				const failing = before
				queue := func(i int) {
					fn := insertScratch(db, i+1)
					if i == failing {
						fn = tc.fail(db)
					}
					go func() {
						results <- result{i, b.do(context.Background(), func(ctx context.Context) error {
							calls[i].Add(1)
							return fn(ctx)
						})}
					}()
					waitFor(t, fmt.Sprintf("write %d queued", i), func() bool { return len(b.in) == i+1 })
				}
				for i := range before + after + 1 {
					queue(i)
				}
				close(release)
				if err := <-holderErr; err != nil {
					t.Fatalf("holder: %v", err)
				}
				for range before + after + 1 {
					r := <-results
					switch {
					case r.id != failing && r.err != nil:
						t.Errorf("write %d in the failing write's batch: %v", r.id, r.err)
					case r.id == failing && r.err == nil:
						t.Errorf("failing write reported success")
					case r.id == failing && tc.is != nil && !errors.Is(r.err, tc.is):
						t.Errorf("failing write got %v, want %v", r.err, tc.is)
					}
				}
				// Writes before the failing one ran in the shared batch
				// (rolled back with it) and again alone; those after ran
				// alone only.
				for i := range before + after + 1 {
					want := int32(1)
					if i <= failing {
						want = 2
					}
					if got := calls[i].Load(); got != want {
						t.Errorf("write %d ran %d times, want %d (was it in the failing batch?)", i, got, want)
					}
				}
				want := []int{0} // the holder's
				for i := range before + after + 1 {
					if i != failing {
						want = append(want, i+1)
					}
				}
				if got := scratchIDs(t, db); !slices.Equal(got, want) {
					t.Errorf("committed ids %v, want %v", got, want)
				}
			})
		})
	}
}

// TestTxnBatcherStopped: once the batcher has stopped, do returns
// errStopping instead of waiting for ever.
func TestTxnBatcherStopped(t *testing.T) {
	db := dbtest.SQLite(t)
	b, stop := startBatcher(t, db)
	if err := b.do(context.Background(), insertScratch(db, 1)); err != nil {
		t.Fatal(err)
	}
	stop()
	b.wait()
	ran := false
	err := b.do(context.Background(), func(context.Context) error { ran = true; return nil })
	if !errors.Is(err, errStopping) {
		t.Errorf("do after stop = %v, want errStopping", err)
	}
	if ran {
		t.Error("do after stop ran its function")
	}
}
