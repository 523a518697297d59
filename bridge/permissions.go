package bridge

import (
	"fmt"
	"strings"

	"maunium.net/go/mautrix/id"
)

// level is what a Matrix user may do with a bridge.
type level int

const (
	levelNone  level = iota // ignored: their messages are not bridged
	levelRelay              // their messages may be relayed by the bot
	levelUser               // they may log in, link rooms (with power) and use the bridge
	levelAdmin              // everything, in any room
)

func (l level) String() string {
	return [...]string{"none", "relay", "user", "admin"}[l]
}

// permissions is bridges.permissions resolved: the most specific entry wins
// (a user id, then their server, then "*").
type permissions struct {
	users   map[id.UserID]level
	servers map[string]level
	all     level
}

func parsePermissions(raw map[string]string, serverName string) (permissions, error) {
	p := permissions{users: map[id.UserID]level{}, servers: map[string]level{}}
	if len(raw) == 0 {
		p.servers[serverName] = levelUser
		return p, nil
	}
	for key, value := range raw {
		var l level
		switch strings.ToLower(value) {
		case "none":
			l = levelNone
		case "relay":
			l = levelRelay
		case "user":
			l = levelUser
		case "admin":
			l = levelAdmin
		default:
			return p, fmt.Errorf("bridges.permissions[%q]: unknown level %q; use none, relay, user or admin", key, value)
		}
		switch {
		case key == "*":
			p.all = l
		case strings.HasPrefix(key, "@"):
			p.users[id.UserID(key)] = l
		default:
			p.servers[key] = l
		}
	}
	return p, nil
}

func (p permissions) of(user id.UserID) level {
	if l, ok := p.users[user]; ok {
		return l
	}
	if l, ok := p.servers[user.Homeserver()]; ok {
		return l
	}
	return p.all
}
