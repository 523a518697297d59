package bridge

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"
)

// laneCapacity is how many queued events one lane holds before producers
// wait (back-pressure). Events loaded from the database at start may exceed
// it: they are already persisted and must not wait for room.
const laneCapacity = 256

// lanes runs one goroutine per key (a chat, or a room) so events with the
// same key are handled one at a time, in order, while different keys run
// side by side. Nothing is ever dropped: a full lane makes its producer wait.
type lanes[T any] struct {
	name   string
	handle func(ctx context.Context, key string, item T)
	log    *slog.Logger

	ctx context.Context
	wg  sync.WaitGroup

	mu    sync.Mutex
	lanes map[string]*lane[T]
}

type lane[T any] struct {
	slots  chan struct{} // one token per queued item; a full channel is back-pressure
	mu     sync.Mutex
	items  []T
	wake   chan struct{}
	queued int
}

func newLanes[T any](ctx context.Context, name string, log *slog.Logger, handle func(ctx context.Context, key string, item T)) *lanes[T] {
	return &lanes[T]{name: name, handle: handle, log: log, ctx: ctx, lanes: map[string]*lane[T]{}}
}

func (ls *lanes[T]) get(key string) *lane[T] {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	l, ok := ls.lanes[key]
	if !ok {
		l = &lane[T]{slots: make(chan struct{}, laneCapacity), wake: make(chan struct{}, 1)}
		ls.lanes[key] = l
		ls.wg.Add(1)
		go ls.run(key, l)
	}
	return l
}

// reserve waits for room in key's lane. Every successful reserve is followed
// by exactly one push or release.
func (ls *lanes[T]) reserve(ctx context.Context, key string) error {
	if err := ls.ctx.Err(); err != nil {
		return fmt.Errorf("bridge stopping: %w", err)
	}
	l := ls.get(key)
	select {
	case l.slots <- struct{}{}:
		return nil
	default:
	}
	ls.log.Warn("queue full, waiting", slog.String("queue", ls.name), slog.String("key", key))
	select {
	case l.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-ls.ctx.Done():
		return fmt.Errorf("bridge stopping: %w", ls.ctx.Err())
	}
}

// tryReserve takes a slot in key's lane only if one is free at once: for
// events that are better skipped than waited for.
func (ls *lanes[T]) tryReserve(key string) bool {
	if ls.ctx.Err() != nil {
		return false
	}
	select {
	case ls.get(key).slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// release gives back a reserved slot that will not be pushed.
func (ls *lanes[T]) release(key string) {
	<-ls.get(key).slots
}

// push appends a reserved item to its lane.
func (ls *lanes[T]) push(key string, item T) {
	ls.append(key, item, true)
}

// load appends an item without a slot: for events loaded from the database
// at start, which are already safe and must not block start-up.
func (ls *lanes[T]) load(key string, item T) {
	ls.append(key, item, false)
}

func (ls *lanes[T]) append(key string, item T, reserved bool) {
	l := ls.get(key)
	l.mu.Lock()
	l.items = append(l.items, item)
	if reserved {
		l.queued++
	}
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// depth returns how many items wait across every lane.
func (ls *lanes[T]) depth() int {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	n := 0
	for _, l := range ls.lanes {
		l.mu.Lock()
		n += len(l.items)
		l.mu.Unlock()
	}
	return n
}

func (ls *lanes[T]) run(key string, l *lane[T]) {
	defer ls.wg.Done()
	for {
		l.mu.Lock()
		if len(l.items) == 0 {
			l.mu.Unlock()
			select {
			case <-l.wake:
				continue
			case <-ls.ctx.Done():
				return
			}
		}
		// Loaded items sit before pushed ones (loading ends before the
		// first push), so the front item holds a slot only when every
		// remaining item does.
		fromSlot := len(l.items) <= l.queued
		item := l.items[0]
		var zero T
		l.items[0] = zero
		l.items = l.items[1:]
		if fromSlot {
			l.queued--
		}
		l.mu.Unlock()

		ls.safeHandle(key, item)
		if fromSlot {
			<-l.slots
		}
		if ls.ctx.Err() != nil {
			return
		}
	}
}

// safeHandle runs the handler, turning a panic into a log line with its
// stack so one bad event cannot stop its lane, let alone the process.
func (ls *lanes[T]) safeHandle(key string, item T) {
	start := time.Now()
	defer func() {
		if r := recover(); r != nil {
			ls.log.Error("event handler panicked",
				slog.String("queue", ls.name), slog.String("key", key),
				slog.Any("panic", r), slog.String("stack", string(debug.Stack())),
				slog.Duration("after", time.Since(start)))
		}
	}()
	ls.handle(ls.ctx, key, item)
}

// wait returns when every lane goroutine has ended (after ctx is cancelled).
func (ls *lanes[T]) wait() { ls.wg.Wait() }
