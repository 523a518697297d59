package rooms

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

// nowFunc is the clock events are stamped with.
var nowFunc = timeNow

// ResolveAlias returns the room an alias of this server points to, or "" if
// none.
func (e *Engine) ResolveAlias(ctx context.Context, alias id.RoomAlias) (id.RoomID, id.UserID, error) {
	var roomID id.RoomID
	var creator id.UserID
	err := e.opts.DB.QueryRow(ctx, selectAliasSQL, alias).Scan(&roomID, &creator)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	return roomID, creator, err
}

// resolveRoom turns a room id or alias into a room id.
func (e *Engine) resolveRoom(ctx context.Context, roomIDOrAlias string) (id.RoomID, error) {
	if !strings.HasPrefix(roomIDOrAlias, "#") {
		if !strings.HasPrefix(roomIDOrAlias, "!") {
			return "", mautrix.MInvalidParam.WithMessage("%q is neither a room id nor an alias", roomIDOrAlias)
		}
		return id.RoomID(roomIDOrAlias), nil
	}
	alias := id.RoomAlias(roomIDOrAlias)
	if _, server, _ := strings.Cut(string(alias), ":"); server != e.opts.ServerName {
		return "", mautrix.MNotFound.WithMessage("Room alias %s is on another server; federation is not available", alias)
	}
	return e.resolveLocalAlias(ctx, alias)
}

// resolveLocalAlias resolves an alias of this server, asking the
// appservice whose namespace holds it when it is unknown: that is how portal
// rooms appear the first time someone joins their alias.
func (e *Engine) resolveLocalAlias(ctx context.Context, alias id.RoomAlias) (id.RoomID, error) {
	roomID, _, err := e.ResolveAlias(ctx, alias)
	if err != nil {
		return "", err
	}
	if roomID == "" && e.opts.Appservices != nil {
		exists, err := e.opts.Appservices.QueryAlias(ctx, alias)
		if err != nil {
			return "", err
		}
		if exists {
			if roomID, _, err = e.ResolveAlias(ctx, alias); err != nil {
				return "", err
			}
		}
	}
	if roomID == "" {
		return "", mautrix.MNotFound.WithMessage("Room alias %s not found", alias)
	}
	return roomID, nil
}

// Join makes user a member of the room (by id or alias), as the room's join
// rules allow. Joining a room one is already in is a no-op that succeeds.
func (e *Engine) Join(ctx context.Context, user id.UserID, roomIDOrAlias, reason string) (id.RoomID, error) {
	roomID, err := e.resolveRoom(ctx, roomIDOrAlias)
	if err != nil {
		return "", err
	}
	r, err := e.room(ctx, roomID)
	if err != nil {
		if errors.Is(err, errUnknownRoom) && !strings.HasSuffix(string(roomID), ":"+e.opts.ServerName) {
			return "", mautrix.MNotFound.WithMessage("Room %s is not known to this server; federation is not available", roomID)
		}
		return "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.membershipOf(user) == "join" {
		return roomID, nil
	}
	if err := e.setMembershipLocked(ctx, r, user, user, "join", reason); err != nil {
		return "", err
	}
	if _, err := e.opts.DB.Exec(ctx, unforgetSQL, user, roomID); err != nil {
		return "", err
	}
	return roomID, nil
}

// SetMembership sends a member event by sender about target: leave (own
// leave, or kick), invite, ban, or unban (leave over a ban).
func (e *Engine) SetMembership(ctx context.Context, roomID id.RoomID, sender, target id.UserID, membership, reason string) error {
	if _, _, err := target.Parse(); err != nil {
		return mautrix.MInvalidParam.WithMessage("Invalid user id %q", target)
	}
	r, err := e.room(ctx, roomID)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	current := r.membershipOf(target)
	switch membership {
	case "invite":
		if current == "join" {
			return mautrix.MForbidden.WithMessage("%s is already in the room", target)
		}
		if current == "ban" {
			return mautrix.MForbidden.WithMessage("%s is banned from the room", target)
		}
	case "unban":
		if current != "ban" {
			return mautrix.MBadState.WithStatus(400).WithMessage("%s is not banned", target)
		}
		membership = "leave"
	case "leave":
		if sender != target && current != "join" && current != "invite" && current != "knock" {
			return mautrix.MForbidden.WithMessage("%s is not in the room", target)
		}
		if sender == target && current == "" {
			return mautrix.MForbidden.WithMessage("You are not in the room")
		}
	}
	return e.setMembershipLocked(ctx, r, sender, target, membership, reason)
}

func (e *Engine) setMembershipLocked(ctx context.Context, r *room, sender, target id.UserID, membership, reason string) error {
	content, err := e.memberContent(ctx, target, membership, reason, false)
	if err != nil {
		return err
	}
	data, err := jsonMarshal(content)
	if err != nil {
		return err
	}
	stateKey := string(target)
	_, err = e.sendLocked(ctx, r, proto{Sender: sender, Type: spec.MRoomMember, StateKey: &stateKey, Content: data})
	return err
}

// membershipOf is user's current membership ("" when none).
func (r *room) membershipOf(user id.UserID) string {
	ev, ok := r.state[stateTuple{EventType: spec.MRoomMember, StateKey: string(user)}]
	if !ok {
		return ""
	}
	m, _ := ev.Membership()
	return m
}

// Membership is user's current membership of roomID ("" when none).
func (e *Engine) Membership(ctx context.Context, roomID id.RoomID, user id.UserID) (string, error) {
	r, err := e.room(ctx, roomID)
	if err != nil {
		return "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.membershipOf(user), nil
}

const (
	forgetSQL    = `INSERT INTO hs_forgotten (user_id, room_id) VALUES ($1, $2) ON CONFLICT (user_id, room_id) DO NOTHING`
	unforgetSQL  = `DELETE FROM hs_forgotten WHERE user_id = $1 AND room_id = $2`
	forgottenSQL = `SELECT room_id FROM hs_forgotten WHERE user_id = $1`
)

// Forget hides a room the user has left from their /sync (include_leave)
// until they join it again.
func (e *Engine) Forget(ctx context.Context, user id.UserID, roomID id.RoomID) error {
	m, err := e.Membership(ctx, roomID, user)
	if err != nil {
		return err
	}
	switch m {
	case "join", "invite", "knock":
		return mautrix.MUnknown.WithStatus(400).WithMessage("Leave the room before forgetting it")
	case "":
		return mautrix.MNotFound.WithMessage("You have never been in this room")
	}
	_, err = e.opts.DB.Exec(ctx, forgetSQL, user, roomID)
	return err
}

// forgotten lists the rooms user has forgotten.
func (e *Engine) forgotten(ctx context.Context, user id.UserID) (map[id.RoomID]bool, error) {
	rows, err := e.opts.DB.Query(ctx, forgottenSQL, user)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[id.RoomID]bool{}
	for rows.Next() {
		var roomID id.RoomID
		if err := rows.Scan(&roomID); err != nil {
			return nil, err
		}
		out[roomID] = true
	}
	return out, rows.Err()
}
