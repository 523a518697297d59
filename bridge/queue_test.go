package bridge

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"switchboard/internal/database"
	"switchboard/internal/database/dbtest"
)

// openQueue migrates db and opens network's queue store on it.
func openQueue(t *testing.T, db *database.DB, network string) *queueStore {
	t.Helper()
	ctx := context.Background()
	if err := Migrate(ctx, db, "example.org"); err != nil {
		t.Fatal(err)
	}
	q, err := newQueueStore(ctx, db, network)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func inRows(room string, events ...string) []row {
	var rs []row
	for _, e := range events {
		rs = append(rs, row{key: room, event: []byte(e)})
	}
	return rs
}

func seqs(rs []row) []int64 {
	var s []int64
	for _, r := range rs {
		s = append(s, r.seq)
	}
	return s
}

// rowStrings renders rows as "seq key event" for comparing in one go.
func rowStrings(rs []row) []string {
	var s []string
	for _, r := range rs {
		s = append(s, fmt.Sprintf("%d %s %s", r.seq, r.key, r.event))
	}
	return s
}

func checkCounts(t *testing.T, q *queueStore, wantIn, wantOut int64) {
	t.Helper()
	in, out, err := q.counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if in != wantIn || out != wantOut {
		t.Errorf("counts = (%d, %d), want (%d, %d)", in, out, wantIn, wantOut)
	}
}

func pending(t *testing.T, f func(context.Context) ([]row, error)) []row {
	t.Helper()
	rs, err := f(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// TestQueueStoreTransaction: a transaction's events get increasing
// sequence numbers; a repeated transaction id stores nothing.
func TestQueueStoreTransaction(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		q := openQueue(t, db, "irc")
		for _, step := range []struct {
			txn       string
			events    []row
			wantFresh bool
			wantSeqs  []int64
		}{
			{"t1", inRows("!a:x", `{"n":1}`, `{"n":2}`, `{"n":3}`), true, []int64{1, 2, 3}},
			{"t1", inRows("!a:x", `{"n":1}`, `{"n":2}`, `{"n":3}`), false, nil}, // homeserver retry
			{"t1", inRows("!b:x", `{"other":true}`), false, nil},                // same id, other events
			{"t2", nil, true, nil}, // nothing the bridge handles
			{"t2", inRows("!a:x", `{"late":true}`), false, nil},
			{"t3", inRows("!b:x", `{"n":4}`), true, []int64{4}},
			{"t4", append(inRows("!a:x", `{"n":5}`), inRows("!b:x", `{"n":6}`)...), true, []int64{5, 6}},
		} {
			rows, fresh, err := q.storeTransaction(ctx, step.txn, step.events)
			if err != nil {
				t.Fatalf("store %s: %v", step.txn, err)
			}
			if fresh != step.wantFresh || !slices.Equal(seqs(rows), step.wantSeqs) {
				t.Errorf("store %s: fresh %v seqs %v, want fresh %v seqs %v", step.txn, fresh, seqs(rows), step.wantFresh, step.wantSeqs)
			}
			for i, r := range rows {
				if r.key != step.events[i].key || string(r.event) != string(step.events[i].event) {
					t.Errorf("store %s: row %d = %s %s, want the event given", step.txn, i, r.key, r.event)
				}
			}
		}
		want := []string{`1 !a:x {"n":1}`, `2 !a:x {"n":2}`, `3 !a:x {"n":3}`, `4 !b:x {"n":4}`, `5 !a:x {"n":5}`, `6 !b:x {"n":6}`}
		if got := rowStrings(pending(t, q.pendingInbox)); !slices.Equal(got, want) {
			t.Errorf("pendingInbox = %q, want %q", got, want)
		}
		checkCounts(t, q, 6, 0)
	})
}

// TestQueueStoreRemoteDedup: storeRemote marks repeats by (chat, kind, id)
// within a batch and across batches; events without an id never repeat.
func TestQueueStoreRemoteDedup(t *testing.T) {
	type item struct {
		chat, kind, id string
		dup            bool // want
	}
	batches := [][]item{
		{
			{"c1", "message", "m1", false},
			{"c1", "message", "m1", true},  // same batch
			{"c2", "message", "m1", false}, // other chat
			{"c1", "edit", "m1", false},    // other kind
			{"c1", "typing", "", false},    // no id
			{"c1", "typing", "", false},    // no id, again
			{"c1", "", "", false},
		},
		{
			{"c1", "message", "m1", true}, // earlier batch
			{"c2", "edit", "m1", false},
			{"c1", "message", "M1", false}, // ids are case-sensitive
			{"c1", "message", "m2", false},
		},
		{
			{"c1", "message", "m2", true},
			{"c1", "edit", "m1", true},
		},
		{}, // an empty batch stores nothing and breaks nothing
	}
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		q := openQueue(t, db, "irc")
		var wantRows []string
		next := int64(1)
		for b, batch := range batches {
			var items []*remoteItem
			for i, it := range batch {
				items = append(items, &remoteItem{chat: it.chat, dedupKind: it.kind, dedupID: it.id,
					event: fmt.Appendf(nil, `{"b":%d,"i":%d}`, b, i)})
			}
			if err := q.storeRemote(ctx, items); err != nil {
				t.Fatalf("batch %d: %v", b, err)
			}
			for i, it := range batch {
				got := items[i]
				if got.duplicate != it.dup {
					t.Errorf("batch %d item %d (%s %s %q): duplicate = %v, want %v", b, i, it.chat, it.kind, it.id, got.duplicate, it.dup)
				}
				if !it.dup {
					if got.seq != next {
						t.Errorf("batch %d item %d: seq %d, want %d", b, i, got.seq, next)
					}
					wantRows = append(wantRows, fmt.Sprintf("%d %s %s", next, it.chat, got.event))
					next++
				}
			}
		}
		if got := rowStrings(pending(t, q.pendingOutbox)); !slices.Equal(got, wantRows) {
			t.Errorf("pendingOutbox =\n%q\nwant\n%q", got, wantRows)
		}
		checkCounts(t, q, 0, int64(len(wantRows)))

		// A store reopened on the same database still knows what it saw.
		q2, err := newQueueStore(ctx, db, "irc")
		if err != nil {
			t.Fatal(err)
		}
		again := &remoteItem{chat: "c1", dedupKind: "message", dedupID: "m1", event: []byte(`{}`)}
		if err := q2.storeRemote(ctx, []*remoteItem{again}); err != nil {
			t.Fatal(err)
		}
		if !again.duplicate {
			t.Error("a repeat after reopening was stored again")
		}
	})
}

// TestQueueStoreSeqNeverReused: sequence numbers keep growing after rows
// are deleted and after the store is opened again, in both directions, and
// each network counts on its own.
func TestQueueStoreSeqNeverReused(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		q := openQueue(t, db, "irc")
		other, err := newQueueStore(ctx, db, "xmpp")
		if err != nil {
			t.Fatal(err)
		}
		storeIn := func(q *queueStore, txn string, n int) []int64 {
			t.Helper()
			events := make([]row, n)
			for i := range events {
				events[i] = row{key: "!r:x", event: []byte(txn)}
			}
			rows, fresh, err := q.storeTransaction(ctx, txn, events)
			if err != nil || !fresh {
				t.Fatalf("store %s: fresh %v, %v", txn, fresh, err)
			}
			return seqs(rows)
		}
		storeOut := func(q *queueStore, n int) []int64 {
			t.Helper()
			items := make([]*remoteItem, n)
			for i := range items {
				items[i] = &remoteItem{chat: "c", event: []byte(`{}`)}
			}
			if err := q.storeRemote(ctx, items); err != nil {
				t.Fatal(err)
			}
			var s []int64
			for _, it := range items {
				s = append(s, it.seq)
			}
			return s
		}
		deleteAll := func(q *queueStore) {
			t.Helper()
			for _, r := range pending(t, q.pendingInbox) {
				if err := q.deleteInbox(ctx, r.seq); err != nil {
					t.Fatal(err)
				}
			}
			for _, r := range pending(t, q.pendingOutbox) {
				if err := q.deleteOutbox(ctx, r.seq); err != nil {
					t.Fatal(err)
				}
			}
			checkCounts(t, q, 0, 0)
		}

		if got := storeIn(q, "a", 3); !slices.Equal(got, []int64{1, 2, 3}) {
			t.Errorf("first inbox seqs %v", got)
		}
		if got := storeOut(q, 2); !slices.Equal(got, []int64{1, 2}) {
			t.Errorf("first outbox seqs %v", got)
		}
		// The other network starts at 1 and sees none of irc's rows.
		if got := storeIn(other, "a", 1); !slices.Equal(got, []int64{1}) {
			t.Errorf("other network's inbox seqs %v", got)
		}
		if got := len(pending(t, other.pendingInbox)); got != 1 {
			t.Errorf("other network sees %d inbox rows, want 1", got)
		}
		deleteAll(q)
		if got := storeIn(q, "b", 1); !slices.Equal(got, []int64{4}) {
			t.Errorf("inbox seqs after deleting every row %v, want [4]", got)
		}
		if got := storeOut(q, 1); !slices.Equal(got, []int64{3}) {
			t.Errorf("outbox seqs after deleting every row %v, want [3]", got)
		}
		deleteAll(q)

		// A restart: a new store on the same database.
		q, err = newQueueStore(ctx, db, "irc")
		if err != nil {
			t.Fatal(err)
		}
		if got := storeIn(q, "c", 2); !slices.Equal(got, []int64{5, 6}) {
			t.Errorf("inbox seqs after reopening %v, want [5 6]", got)
		}
		if got := storeOut(q, 1); !slices.Equal(got, []int64{4}) {
			t.Errorf("outbox seqs after reopening %v, want [4]", got)
		}
		// Repeats and duplicates use no numbers.
		if _, fresh, err := q.storeTransaction(ctx, "c", inRows("!r:x", "x")); err != nil || fresh {
			t.Fatalf("repeat: fresh %v, %v", fresh, err)
		}
		dup := []*remoteItem{{chat: "c", dedupKind: "message", dedupID: "m", event: []byte(`{}`)}, {chat: "c", dedupKind: "message", dedupID: "m", event: []byte(`{}`)}}
		if err := q.storeRemote(ctx, dup); err != nil {
			t.Fatal(err)
		}
		q, err = newQueueStore(ctx, db, "irc")
		if err != nil {
			t.Fatal(err)
		}
		if got := storeIn(q, "d", 1); !slices.Equal(got, []int64{7}) {
			t.Errorf("inbox seqs after a repeat and reopening %v, want [7]", got)
		}
		if got := storeOut(q, 1); !slices.Equal(got, []int64{6}) {
			t.Errorf("outbox seqs after a duplicate and reopening %v, want [6]", got)
		}
	})
}

// TestQueueStorePendingOrder: pending rows come back in sequence order,
// with gaps where rows were deleted, whatever the keys; counts follow.
func TestQueueStorePendingOrder(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		q := openQueue(t, db, "irc")
		checkCounts(t, q, 0, 0)
		for i, room := range []string{"!z:x", "!a:x", "!m:x", "!a:x", "!z:x"} {
			if _, _, err := q.storeTransaction(ctx, fmt.Sprint("t", i), inRows(room, fmt.Sprint(i))); err != nil {
				t.Fatal(err)
			}
		}
		var items []*remoteItem
		for i, chat := range []string{"zz", "aa", "mm", "aa"} {
			items = append(items, &remoteItem{chat: chat, dedupKind: "message", dedupID: fmt.Sprint(i), event: []byte(fmt.Sprint(i))})
		}
		if err := q.storeRemote(ctx, items); err != nil {
			t.Fatal(err)
		}
		checkCounts(t, q, 5, 4)
		for _, seq := range []int64{2, 4} {
			if err := q.deleteInbox(ctx, seq); err != nil {
				t.Fatal(err)
			}
		}
		if err := q.deleteOutbox(ctx, 1); err != nil {
			t.Fatal(err)
		}
		// Deleting what is not there (a row handled twice) is no error.
		if err := q.deleteOutbox(ctx, 99); err != nil {
			t.Errorf("delete missing outbox row: %v", err)
		}
		checkCounts(t, q, 3, 3)
		if got, want := rowStrings(pending(t, q.pendingInbox)), []string{"1 !z:x 0", "3 !m:x 2", "5 !z:x 4"}; !slices.Equal(got, want) {
			t.Errorf("pendingInbox = %q, want %q", got, want)
		}
		if got, want := rowStrings(pending(t, q.pendingOutbox)), []string{"2 aa 1", "3 mm 2", "4 aa 3"}; !slices.Equal(got, want) {
			t.Errorf("pendingOutbox = %q, want %q", got, want)
		}
	})
}

// TestQueueStoreConcurrent: concurrent transactions and batches get
// distinct sequence numbers, and seq order is the order rows were stored.
func TestQueueStoreConcurrent(t *testing.T) {
	const writers, perWriter = 8, 5
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		q := openQueue(t, db, "irc")
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				rows, fresh, err := q.storeTransaction(ctx, fmt.Sprint("txn", w), inRows(fmt.Sprint("!", w), slices.Repeat([]string{"e"}, perWriter)...))
				if err != nil || !fresh || len(rows) != perWriter {
					t.Errorf("writer %d: %d rows, fresh %v, %v", w, len(rows), fresh, err)
				}
				for i := 1; i < len(rows); i++ {
					if rows[i].seq != rows[i-1].seq+1 {
						t.Errorf("writer %d: a transaction's seqs are not consecutive: %v", w, seqs(rows))
					}
				}
			})
			wg.Go(func() {
				items := make([]*remoteItem, perWriter)
				for i := range items {
					items[i] = &remoteItem{chat: fmt.Sprint("c", w), dedupKind: "message", dedupID: fmt.Sprint(i), event: []byte(`{}`)}
				}
				if err := q.storeRemote(ctx, items); err != nil {
					t.Errorf("writer %d: %v", w, err)
				}
			})
		}
		wg.Wait()
		want := seqRange(1, writers*perWriter)
		if got := seqs(pending(t, q.pendingInbox)); !slices.Equal(got, want) {
			t.Errorf("inbox seqs %v, want %v", got, want)
		}
		if got := seqs(pending(t, q.pendingOutbox)); !slices.Equal(got, want) {
			t.Errorf("outbox seqs %v, want %v", got, want)
		}
	})
}

func seqRange(from, n int) []int64 {
	s := make([]int64, n)
	for i := range s {
		s[i] = int64(from + i)
	}
	return s
}
