package rooms

import (
	"sort"
	"sync"
	"time"

	"maunium.net/go/mautrix/id"
)

// maxTypingTimeout bounds how long one typing notification lasts.
const maxTypingTimeout = 2 * time.Minute

// typingTracker keeps who is typing in each room, in memory: typing is
// ephemeral and does not survive a restart. Every change bumps a serial that
// /sync tokens carry.
type typingTracker struct {
	mu      sync.Mutex
	rooms   map[id.RoomID]map[id.UserID]time.Time // user → expiry
	changed map[id.RoomID]int64                   // serial of the room's last change
	serial  int64
	notify  func()
	stop    chan struct{}
	done    chan struct{}
}

func newTypingTracker(notify func()) *typingTracker {
	t := &typingTracker{
		rooms:   map[id.RoomID]map[id.UserID]time.Time{},
		changed: map[id.RoomID]int64{},
		notify:  notify,
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	go t.expireLoop()
	return t
}

// Set records that user started (timeout > 0) or stopped typing in room.
func (t *typingTracker) Set(room id.RoomID, user id.UserID, typing bool, timeout time.Duration) {
	t.mu.Lock()
	users := t.rooms[room]
	_, was := users[user]
	if typing {
		if users == nil {
			users = map[id.UserID]time.Time{}
			t.rooms[room] = users
		}
		users[user] = time.Now().Add(min(timeout, maxTypingTimeout))
	} else {
		delete(users, user)
	}
	changed := was != typing
	if changed {
		t.serial++
		t.changed[room] = t.serial
	}
	t.mu.Unlock()
	if changed {
		t.notify()
	}
}

// Serial is the position of the newest change.
func (t *typingTracker) Serial() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.serial
}

// Since returns who is typing in room if it changed after serial (or if
// serial is ahead of the tracker, as after a restart); ok is false when
// nothing changed.
func (t *typingTracker) Since(room id.RoomID, serial int64) (users []id.UserID, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c := t.changed[room]; c <= serial && serial <= t.serial {
		return nil, false
	}
	users = make([]id.UserID, 0, len(t.rooms[room]))
	for u := range t.rooms[room] {
		users = append(users, u)
	}
	sort.Slice(users, func(i, j int) bool { return users[i] < users[j] })
	return users, true
}

func (t *typingTracker) expireLoop() {
	defer close(t.done)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-t.stop:
			return
		case now := <-tick.C:
			t.expire(now)
		}
	}
}

func (t *typingTracker) expire(now time.Time) {
	t.mu.Lock()
	expired := false
	for room, users := range t.rooms {
		for u, until := range users {
			if now.After(until) {
				delete(users, u)
				t.serial++
				t.changed[room] = t.serial
				expired = true
			}
		}
	}
	t.mu.Unlock()
	if expired {
		t.notify()
	}
}

// Close stops the expiry loop.
func (t *typingTracker) Close() {
	close(t.stop)
	<-t.done
}

// ChangedSince returns who is typing in every room whose typing changed
// after serial.
func (t *typingTracker) ChangedSince(serial int64) map[id.RoomID][]id.UserID {
	t.mu.Lock()
	rooms := []id.RoomID{}
	for room, c := range t.changed {
		if c > serial || serial > t.serial {
			rooms = append(rooms, room)
		}
	}
	t.mu.Unlock()
	out := make(map[id.RoomID][]id.UserID, len(rooms))
	for _, room := range rooms {
		users, _ := t.Since(room, serial)
		if users == nil {
			users = []id.UserID{}
		}
		out[room] = users
	}
	return out
}
