package bridge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitFor polls cond until it holds, failing t after a generous deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// startLanes starts lanes whose goroutines are stopped and waited for when
// t ends. Handlers that block must also return when their ctx ends.
func startLanes[T any](t *testing.T, log *slog.Logger, handle func(ctx context.Context, key string, item T)) (*lanes[T], context.CancelFunc) {
	t.Helper()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ls := newLanes(ctx, "test", log, handle)
	t.Cleanup(func() {
		cancel()
		ls.wait()
	})
	return ls, cancel
}

// mustPush reserves a slot (failing after a deadline instead of hanging)
// and pushes item. Safe to call from any goroutine.
func mustPush[T any](t *testing.T, ls *lanes[T], key string, item T) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ls.reserve(ctx, key); err != nil {
		t.Errorf("reserve %s: %v", key, err)
		return false
	}
	ls.push(key, item)
	return true
}

// tryReserve reserves a slot only if one is free right now: with an
// already-cancelled ctx, reserve can only succeed on its non-blocking path.
func tryReserve[T any](ls *lanes[T], key string) error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ls.reserve(ctx, key)
}

// freeSlots counts the free slots of key's lane (and gives them back).
func freeSlots[T any](ls *lanes[T], key string) int {
	n := 0
	for tryReserve(ls, key) == nil {
		n++
	}
	for range n {
		ls.release(key)
	}
	return n
}

// recorder collects handled items per key.
type recorder[T any] struct {
	mu   sync.Mutex
	got  map[string][]T
	n    int
	seen chan string // receives the key of every handled item, if not nil
}

func newRecorder[T any]() *recorder[T] { return &recorder[T]{got: map[string][]T{}} }

func (r *recorder[T]) add(key string, item T) {
	r.mu.Lock()
	r.got[key] = append(r.got[key], item)
	r.n++
	r.mu.Unlock()
}

func (r *recorder[T]) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

func (r *recorder[T]) items(key string) []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got[key])
}

func seq(from, to int) []int {
	var s []int
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

// TestLanesOrderPerKey: each key's items are handled in push order while
// many producers push to many keys at once, including several producers
// sharing one key, and more items than a lane holds (so producers wait).
func TestLanesOrderPerKey(t *testing.T) {
	const keys, perKey, sharedProducers, perShared = 16, laneCapacity + 50, 8, 100
	rec := newRecorder[int]()
	ls, _ := startLanes(t, nil, func(_ context.Context, key string, item int) { rec.add(key, item) })

	var wg sync.WaitGroup
	for k := range keys {
		wg.Go(func() {
			key := fmt.Sprintf("chat-%d", k)
			for i := range perKey {
				if !mustPush(t, ls, key, i) {
					return
				}
			}
		})
	}
	// Several producers on one key: push order is the order of the
	// numbers, since a number is taken and pushed under one lock.
	var mu sync.Mutex
	next := 0
	for range sharedProducers {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			for range perShared {
				if err := ls.reserve(ctx, "shared"); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				ls.push("shared", next)
				next++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	total := keys*perKey + sharedProducers*perShared
	waitFor(t, "every item handled", func() bool { return rec.count() == total })

	for k := range keys {
		key := fmt.Sprintf("chat-%d", k)
		if got := rec.items(key); !slices.Equal(got, seq(0, perKey)) {
			t.Errorf("%s handled out of order or incompletely: %v", key, got)
		}
	}
	if got := rec.items("shared"); !slices.Equal(got, seq(0, sharedProducers*perShared)) {
		t.Errorf("shared key handled out of push order: %v", got)
	}
	if d := ls.depth(); d != 0 {
		t.Errorf("depth after everything was handled = %d, want 0", d)
	}
}

// TestLanesKeysIndependent: a handler stuck on one key does not hold up
// another key.
func TestLanesKeysIndependent(t *testing.T) {
	gate := make(chan struct{})
	aStarted, aDone, bDone := make(chan struct{}), make(chan struct{}), make(chan struct{})
	ls, _ := startLanes(t, nil, func(ctx context.Context, key string, item string) {
		switch key {
		case "a":
			close(aStarted)
			select {
			case <-gate:
			case <-ctx.Done():
			}
			close(aDone)
		case "b":
			close(bDone)
		}
	})
	mustPush(t, ls, "a", "blocks")
	<-aStarted
	mustPush(t, ls, "b", "passes")
	select {
	case <-bDone:
	case <-time.After(10 * time.Second):
		t.Fatal("key b was not handled while key a's handler was blocked")
	}
	select {
	case <-aDone:
		t.Fatal("key a's handler returned before its gate opened")
	default:
	}
	close(gate)
	<-aDone
}

// TestLanesBackPressure: a lane holds laneCapacity items (the one being
// handled included); then reserve waits for a handled item, or returns when
// its ctx or the lanes' ctx ends. Nothing is dropped.
func TestLanesBackPressure(t *testing.T) {
	step := make(chan struct{})
	started := make(chan int, 2*laneCapacity)
	rec := newRecorder[int]()
	// This handler ignores ctx on purpose, so that stopping the lanes
	// cannot free a slot under the last check; the cleanup below (which
	// runs before startLanes's) lets it finish.
	ls, stop := startLanes(t, nil, func(_ context.Context, key string, item int) {
		started <- item
		<-step
		rec.add(key, item)
	})
	t.Cleanup(func() { close(step) })

	for i := range laneCapacity {
		if err := tryReserve(ls, "k"); err != nil {
			t.Fatalf("reserve %d of %d on a lane with room: %v", i+1, laneCapacity, err)
		}
		ls.push("k", i)
	}
	if first := <-started; first != 0 {
		t.Fatalf("first handled item = %d, want 0", first)
	}
	// The item being handled still holds its slot.
	if err := tryReserve(ls, "k"); !errors.Is(err, context.Canceled) {
		t.Fatalf("reserve on a full lane with an ended ctx = %v, want context.Canceled", err)
	}

	// A producer waits...
	reserved := make(chan error, 1)
	go func() { reserved <- ls.reserve(context.Background(), "k") }()
	select {
	case err := <-reserved:
		t.Fatalf("reserve on a full lane returned %v without waiting", err)
	case <-time.After(20 * time.Millisecond):
	}
	// ...until one item is handled.
	step <- struct{}{}
	select {
	case err := <-reserved:
		if err != nil {
			t.Fatalf("reserve after a slot was freed: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("reserve still waiting after an item was handled")
	}
	ls.push("k", laneCapacity)
	<-started // item 1 is now being handled; the lane is full again

	// The producer's ctx ending ends the wait.
	ctx, cancel := context.WithCancel(context.Background())
	go func() { reserved <- ls.reserve(ctx, "k") }()
	cancel()
	if err := <-reserved; !errors.Is(err, context.Canceled) {
		t.Errorf("reserve when its ctx ended = %v, want context.Canceled", err)
	}

	// So does the lanes' ctx (the bridge stopping).
	go func() { reserved <- ls.reserve(context.Background(), "k") }()
	stop()
	if err := <-reserved; !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "stopping") {
		t.Errorf("reserve when the lanes stopped = %v, want a stopping error wrapping context.Canceled", err)
	}

	// Nothing was dropped: handled so far is 0 only; the rest wait in order.
	if got := rec.items("k"); !slices.Equal(got, []int{0}) {
		t.Errorf("handled %v, want [0]", got)
	}
	if d := ls.depth(); d != laneCapacity-1 {
		t.Errorf("depth = %d, want %d", d, laneCapacity-1)
	}
}

// TestLanesLoadBeforePush: loaded items (from the database at start) are
// handled before pushed ones, never wait for a slot and never take one, so
// after everything is handled the lane has all its slots back.
func TestLanesLoadBeforePush(t *testing.T) {
	const loaded = 2 * laneCapacity
	gate := make(chan struct{})
	started := make(chan struct{}, 1)
	rec := newRecorder[int]()
	ls, _ := startLanes(t, nil, func(ctx context.Context, key string, item int) {
		select {
		case started <- struct{}{}:
		default:
		}
		select {
		case <-gate:
		case <-ctx.Done():
			return
		}
		rec.add(key, item)
	})
	for i := range loaded {
		ls.load("k", i) // more than laneCapacity: must not block
	}
	<-started
	for i := range laneCapacity {
		if err := tryReserve(ls, "k"); err != nil {
			t.Fatalf("reserve %d after loading %d items: %v (loaded items took slots)", i+1, loaded, err)
		}
		ls.push("k", loaded+i)
	}
	if err := tryReserve(ls, "k"); err == nil {
		t.Fatal("lane took more than laneCapacity pushed items")
	}
	if d := ls.depth(); d != loaded+laneCapacity-1 {
		t.Errorf("depth = %d, want %d", d, loaded+laneCapacity-1)
	}
	close(gate)
	waitFor(t, "every item handled", func() bool { return rec.count() == loaded+laneCapacity })
	if got := rec.items("k"); !slices.Equal(got, seq(0, loaded+laneCapacity)) {
		t.Errorf("handled out of order: %v", got)
	}
	// Every slot came back: each pushed item returned exactly its own.
	waitFor(t, "all slots free", func() bool { return freeSlots(ls, "k") == laneCapacity })
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLanesPanic: a handler that panics does not stop its lane; the panic
// is logged with its stack and the item's slot comes back.
func TestLanesPanic(t *testing.T) {
	for _, tc := range []struct {
		name   string
		loaded []string
		pushed []string
		want   []string
	}{
		{"pushed", nil, []string{"a", "boom", "b", "boom", "c"}, []string{"a", "b", "c"}},
		{"loaded", []string{"boom", "a"}, []string{"b"}, []string{"a", "b"}},
		{"only panics", nil, []string{"boom", "boom"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs syncBuffer
			rec := newRecorder[string]()
			var panics sync.WaitGroup
			for _, it := range slices.Concat(tc.loaded, tc.pushed) {
				if it == "boom" {
					panics.Add(1)
				}
			}
			ls, _ := startLanes(t, slog.New(slog.NewTextHandler(&logs, nil)), func(_ context.Context, key string, item string) {
				if item == "boom" {
					panics.Done()
					panic("handler bug")
				}
				rec.add(key, item)
			})
			for _, it := range tc.loaded {
				ls.load("k", it)
			}
			for _, it := range tc.pushed {
				mustPush(t, ls, "k", it)
			}
			// A sentinel after everything proves the lane still runs.
			mustPush(t, ls, "k", "end")
			waitFor(t, "the sentinel", func() bool { return slices.Contains(rec.items("k"), "end") })
			panics.Wait()
			if got := rec.items("k"); !slices.Equal(got, append(slices.Clone(tc.want), "end")) {
				t.Errorf("handled %q, want %q then end", got, tc.want)
			}
			waitFor(t, "all slots free", func() bool { return freeSlots(ls, "k") == laneCapacity })
			out := logs.String()
			if !strings.Contains(out, "event handler panicked") || !strings.Contains(out, "handler bug") || !strings.Contains(out, "lane_test.go") {
				t.Errorf("panic not logged with its value and stack:\n%s", out)
			}
		})
	}
}

// TestLanesDepth: depth counts items waiting in every lane, not the ones
// being handled.
func TestLanesDepth(t *testing.T) {
	gate := make(chan struct{})
	started := make(chan string, 16)
	rec := newRecorder[int]()
	ls, _ := startLanes(t, nil, func(ctx context.Context, key string, item int) {
		started <- key
		select {
		case <-gate:
		case <-ctx.Done():
			return
		}
		rec.add(key, item)
	})
	if d := ls.depth(); d != 0 {
		t.Fatalf("depth of new lanes = %d", d)
	}
	for i := range 4 {
		mustPush(t, ls, "a", i)
	}
	ls.load("b", 0)
	ls.load("b", 1)
	seen := map[string]bool{}
	for len(seen) < 2 {
		seen[<-started] = true
	}
	if d := ls.depth(); d != 4 {
		t.Errorf("depth with 6 items, 2 in handlers = %d, want 4", d)
	}
	close(gate)
	waitFor(t, "every item handled", func() bool { return rec.count() == 6 })
	if d := ls.depth(); d != 0 {
		t.Errorf("depth after handling = %d, want 0", d)
	}
}

// TestLanesWait: wait returns once the lanes' ctx ends, even with items
// still queued (they stay in the database for the next start); the
// handler running at that moment sees its ctx end.
func TestLanesWait(t *testing.T) {
	running := make(chan struct{})
	var mu sync.Mutex
	var handled []string
	var ctxErr error
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ls := newLanes(ctx, "test", slog.New(slog.DiscardHandler), func(ctx context.Context, key string, item string) {
		mu.Lock()
		handled = append(handled, item)
		mu.Unlock()
		if item == "slow" {
			close(running)
			<-ctx.Done()
			mu.Lock()
			ctxErr = ctx.Err()
			mu.Unlock()
		}
	})
	mustPush(t, ls, "idle", "x") // a lane with nothing left to do
	waitFor(t, "idle lane drained", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(handled) == 1
	})
	mustPush(t, ls, "busy", "slow")
	mustPush(t, ls, "busy", "queued-1")
	mustPush(t, ls, "busy", "queued-2")
	<-running

	cancel()
	done := make(chan struct{})
	go func() {
		ls.wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("wait did not return after the lanes' ctx ended")
	}
	mu.Lock()
	defer mu.Unlock()
	if !errors.Is(ctxErr, context.Canceled) {
		t.Errorf("running handler's ctx error = %v, want context.Canceled", ctxErr)
	}
	if !slices.Equal(handled, []string{"x", "slow"}) {
		t.Errorf("handled %q; after stopping, queued items must be left alone", handled)
	}
	if d := ls.depth(); d != 2 {
		t.Errorf("depth after stopping = %d, want the 2 unhandled items", d)
	}
}

// TestLanesReserveAfterStop: once the lanes' ctx has ended and
// wait has returned, reserve on a lane with room still succeeds, and get
// starts a new lane goroutine (wg.Add after Wait) that nobody waits for;
// pushed items are then handled with a cancelled ctx, or not at all.
// Remove the skip once reserve checks ls.ctx first.
func TestLanesReserveAfterStop(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ls := newLanes(ctx, "test", slog.New(slog.DiscardHandler), func(context.Context, string, int) {})
	cancel()
	ls.wait()
	err := ls.reserve(context.Background(), "new")
	ls.wait() // the goroutine get started sees ctx done and ends
	if err == nil {
		t.Fatal("reserve after the lanes stopped returned nil")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("reserve after stop = %v, want a stopping error wrapping context.Canceled", err)
	}
}
