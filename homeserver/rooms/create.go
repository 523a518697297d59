package rooms

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	gmsl "github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

// CreateRoomRequest is the body of POST /createRoom.
type CreateRoomRequest struct {
	Visibility                string            `json:"visibility,omitempty"`
	RoomAliasName             string            `json:"room_alias_name,omitempty"`
	Name                      string            `json:"name,omitempty"`
	Topic                     string            `json:"topic,omitempty"`
	Invite                    []id.UserID       `json:"invite,omitempty"`
	CreationContent           map[string]any    `json:"creation_content,omitempty"`
	InitialState              []InitialState    `json:"initial_state,omitempty"`
	Preset                    string            `json:"preset,omitempty"`
	IsDirect                  bool              `json:"is_direct,omitempty"`
	RoomVersion               string            `json:"room_version,omitempty"`
	PowerLevelContentOverride map[string]any    `json:"power_level_content_override,omitempty"`
	Invite3PID                []json.RawMessage `json:"invite_3pid,omitempty"`
}

// InitialState is one event of createRoom's initial_state.
type InitialState struct {
	Type     string          `json:"type"`
	StateKey string          `json:"state_key"`
	Content  json.RawMessage `json:"content"`
}

// CreateRoom creates a room as creator, with the events createRoom's spec
// lists in its order: create, the creator's join, power levels, canonical
// alias, the preset's rules, initial_state, name, topic, then invites.
// creatorAS is the appservice acting for the creator, "" for none.
func (e *Engine) CreateRoom(ctx context.Context, creator id.UserID, creatorAS string, req CreateRoomRequest) (id.RoomID, error) {
	version := req.RoomVersion
	if version == "" {
		version = DefaultRoomVersion
	}
	if !slices.Contains(SupportedRoomVersions, version) {
		return "", mautrix.MUnsupportedRoomVersion.WithStatus(400).WithMessage("Room version %q is not supported; use one of %s", version, strings.Join(SupportedRoomVersions, ", "))
	}
	verImpl := gmsl.MustGetRoomVersion(gmsl.RoomVersion(version))
	if len(req.Invite3PID) > 0 {
		return "", mautrix.MUnrecognized.WithStatus(400).WithMessage("Third-party invites are not supported")
	}
	preset := req.Preset
	if preset == "" {
		preset = "private_chat"
		if req.Visibility == "public" {
			preset = "public_chat"
		}
	}
	if preset != "private_chat" && preset != "public_chat" && preset != "trusted_private_chat" {
		return "", mautrix.MBadJSON.WithMessage("Unknown preset %q", preset)
	}
	if req.Visibility != "" && req.Visibility != "public" && req.Visibility != "private" {
		return "", mautrix.MBadJSON.WithMessage("visibility must be public or private")
	}
	for _, invitee := range req.Invite {
		if _, _, err := invitee.Parse(); err != nil {
			return "", mautrix.MInvalidParam.WithMessage("Invalid user id %q in invite", invitee)
		}
	}
	var alias id.RoomAlias
	if req.RoomAliasName != "" {
		// As Synapse: a localpart may hold '#' (bridges write #irc_#channel),
		// but not ':' or white space.
		if strings.ContainsAny(req.RoomAliasName, ": \t\n\r\x00") {
			return "", mautrix.MInvalidParam.WithMessage("room_alias_name must be a bare localpart without ':' or spaces")
		}
		alias = id.NewRoomAlias(req.RoomAliasName, e.opts.ServerName)
		if err := e.checkAlias(alias, creatorAS); err != nil {
			return "", err
		}
		if roomID, _, err := e.ResolveAlias(ctx, alias); err != nil {
			return "", err
		} else if roomID != "" {
			return "", mautrix.MRoomInUse.WithMessage("Room alias %s is already in use", alias)
		}
	}

	r := &room{version: verImpl, state: map[stateTuple]gmsl.PDU{}}
	if !verImpl.DomainlessRoomIDs() {
		r.id = id.RoomID("!" + randomString(18) + ":" + e.opts.ServerName)
	}
	r.mu.Lock()
	defer r.mu.Unlock()

	send := func(evType, stateKey string, content any, extra func(ctx context.Context) error) error {
		data, err := json.Marshal(content)
		if err != nil {
			return mautrix.MBadJSON.WithMessage("Invalid content for %s", evType)
		}
		sk := stateKey
		pdu, err := e.buildLocked(r, proto{Sender: creator, Type: evType, StateKey: &sk, Content: data}, nowFunc())
		if err != nil {
			return fmt.Errorf("%s: %w", evType, err)
		}
		_, err = e.commitLocked(ctx, r, pdu, proto{Sender: creator}, extra)
		return err
	}

	createContent := map[string]any{}
	for k, v := range req.CreationContent {
		createContent[k] = v
	}
	createContent["room_version"] = version
	if !verImpl.PrivilegedCreators() && version < "11" {
		createContent["creator"] = creator
	}
	if preset == "trusted_private_chat" && verImpl.PrivilegedCreators() && len(req.Invite) > 0 {
		createContent["additional_creators"] = req.Invite
	}
	if err := send(spec.MRoomCreate, "", createContent, nil); err != nil {
		return "", err
	}
	e.mu.Lock()
	e.rooms[r.id] = r
	e.mu.Unlock()

	member, err := e.memberContent(ctx, creator, "join", "", false)
	if err != nil {
		return "", err
	}
	if err := send(spec.MRoomMember, string(creator), member, nil); err != nil {
		return "", err
	}
	if err := send(spec.MRoomPowerLevels, "", e.initialPowerLevels(r, creator, preset, req), nil); err != nil {
		return "", err
	}
	if alias != "" {
		insertAlias := func(ctx context.Context) error {
			_, err := e.opts.DB.Exec(ctx, insertAliasSQL, alias, r.id, creator)
			return err
		}
		if err := send(spec.MRoomCanonicalAlias, "", map[string]any{"alias": alias}, insertAlias); err != nil {
			return "", err
		}
	}
	initial := map[stateTuple]InitialState{}
	for _, st := range req.InitialState {
		initial[stateTuple{EventType: st.Type, StateKey: st.StateKey}] = st
	}
	joinRule, guestAccess := "invite", "can_join"
	if preset == "public_chat" {
		joinRule, guestAccess = "public", "forbidden"
	}
	for _, ev := range []struct {
		t       string
		content map[string]any
	}{
		{spec.MRoomJoinRules, map[string]any{"join_rule": joinRule}},
		{spec.MRoomHistoryVisibility, map[string]any{"history_visibility": "shared"}},
		{"m.room.guest_access", map[string]any{"guest_access": guestAccess}},
	} {
		if _, overridden := initial[stateTuple{EventType: ev.t}]; overridden {
			continue
		}
		if err := send(ev.t, "", ev.content, nil); err != nil {
			return "", err
		}
	}
	for _, st := range req.InitialState {
		if st.Type == spec.MRoomCreate || st.Type == spec.MRoomMember {
			return "", mautrix.MBadJSON.WithMessage("initial_state may not contain %s events", st.Type)
		}
		if err := send(st.Type, st.StateKey, st.Content, nil); err != nil {
			return "", err
		}
	}
	if req.Name != "" {
		if err := send(spec.MRoomName, "", map[string]any{"name": req.Name}, nil); err != nil {
			return "", err
		}
	}
	if req.Topic != "" {
		if err := send(spec.MRoomTopic, "", map[string]any{"topic": req.Topic}, nil); err != nil {
			return "", err
		}
	}
	for _, invitee := range req.Invite {
		content, err := e.memberContent(ctx, invitee, "invite", "", req.IsDirect)
		if err != nil {
			return "", err
		}
		if err := send(spec.MRoomMember, string(invitee), content, nil); err != nil {
			return "", err
		}
	}
	if req.Visibility == "public" {
		if _, err := e.opts.DB.Exec(ctx, setPublishedSQL, r.id, true); err != nil {
			return "", err
		}
	}
	return r.id, nil
}

// initialPowerLevels is the room's first m.room.power_levels: the spec's
// defaults with the events a room admin should own, the creator at 100 (or,
// where creators are privileged, absent from users), invitees of a trusted
// private chat at 100, then power_level_content_override on top.
func (e *Engine) initialPowerLevels(r *room, creator id.UserID, preset string, req CreateRoomRequest) map[string]any {
	users := map[string]any{}
	if !r.version.PrivilegedCreators() {
		users[string(creator)] = 100
		if preset == "trusted_private_chat" {
			for _, invitee := range req.Invite {
				users[string(invitee)] = 100
			}
		}
	}
	pl := map[string]any{
		"users":         users,
		"users_default": 0,
		"events": map[string]any{
			"m.room.name":               50,
			"m.room.power_levels":       100,
			"m.room.history_visibility": 100,
			"m.room.canonical_alias":    50,
			"m.room.avatar":             50,
			"m.room.tombstone":          100,
			"m.room.server_acl":         100,
			"m.room.encryption":         100,
		},
		"events_default": 0,
		"state_default":  50,
		"ban":            50,
		"kick":           50,
		"redact":         50,
		"invite":         0,
		"notifications":  map[string]any{"room": 50},
	}
	for k, v := range req.PowerLevelContentOverride {
		pl[k] = v
	}
	return pl
}

// memberContent is the content of a member event for user: their profile
// for joins and invites (so other members see a name), and the reason.
func (e *Engine) memberContent(ctx context.Context, user id.UserID, membership, reason string, isDirect bool) (map[string]any, error) {
	content := map[string]any{"membership": membership}
	if (membership == "join" || membership == "invite") && e.opts.Profiles != nil {
		name, avatar, err := e.opts.Profiles.Profile(ctx, user)
		if err != nil && membership == "join" {
			return nil, err
		}
		// An invitee may be unknown here (remote, or not created yet by
		// its appservice): the invite goes out without a profile.
		if name != "" {
			content["displayname"] = name
		}
		if avatar != "" {
			content["avatar_url"] = avatar
		}
	}
	if reason != "" {
		content["reason"] = reason
	}
	if isDirect {
		content["is_direct"] = true
	}
	return content, nil
}

func randomString(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
