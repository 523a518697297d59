package bridge

import (
	"context"
	"sync"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/appservice"
)

// memberCache keeps the joined members of the rooms the bridge works in, so
// a message's sender name does not cost a homeserver request. A room is
// loaded once from the homeserver and then kept current from the
// membership events pushed to the bridge.
type memberCache struct {
	mu    sync.Mutex
	rooms map[id.RoomID]map[id.UserID]appservice.Member
}

// member returns user's profile in room; ok is false when they are not
// joined (or the homeserver could not be asked).
func (b *Bridge) member(ctx context.Context, room id.RoomID, user id.UserID) (appservice.Member, bool) {
	c := &b.memberCache
	c.mu.Lock()
	members, loaded := c.rooms[room]
	if loaded {
		m, ok := members[user]
		c.mu.Unlock()
		return m, ok
	}
	c.mu.Unlock()
	fetched, err := b.bot.JoinedMembers(ctx, room)
	if err != nil {
		return appservice.Member{}, false
	}
	c.mu.Lock()
	if c.rooms == nil {
		c.rooms = map[id.RoomID]map[id.UserID]appservice.Member{}
	}
	if _, raced := c.rooms[room]; !raced {
		c.rooms[room] = fetched
	}
	m, ok := c.rooms[room][user]
	c.mu.Unlock()
	return m, ok
}

// memberChanged applies a membership event to a loaded room.
func (b *Bridge) memberChanged(room id.RoomID, user id.UserID, content *event.MemberEventContent) {
	c := &b.memberCache
	c.mu.Lock()
	defer c.mu.Unlock()
	members, ok := c.rooms[room]
	if !ok || content == nil {
		return
	}
	if content.Membership == event.MembershipJoin {
		members[user] = appservice.Member{DisplayName: content.Displayname, AvatarURL: content.AvatarURL}
	} else {
		delete(members, user)
	}
}
