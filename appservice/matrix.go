package appservice

import (
	"context"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// Matrix is a homeserver as one appservice sees it.
//
// Implementations are safe for concurrent use. Every method that talks to
// the homeserver blocks until it has an answer, waits out rate limits, and
// returns when ctx ends.
type Matrix interface {
	// ServerName is the homeserver's server name, e.g. "example.org".
	ServerName() string
	// Bot is the intent of the registration's sender_localpart user.
	Bot() Intent
	// Intent acts as userID, which must be the bot or in the
	// registration's user namespace (panic-free: return an Intent whose
	// calls fail with ErrNotInNamespace otherwise). The same user always
	// gets the same Intent.
	Intent(userID id.UserID) Intent
	// Ping asks the homeserver to ping this appservice (POST
	// /_matrix/client/v1/appservice/{id}/ping); returns nil when the
	// homeserver reached us. An error means the homeserver is down, does
	// not know the registration, or cannot reach the receiver (wrong url
	// or hs_token); its text says which.
	Ping(ctx context.Context) error
}

// SendOptions are the per-call options of Intent.SendMessage and
// Intent.Redact.
type SendOptions struct {
	// TxnID is the client transaction id. "" → a random one; set it to make
	// a retry idempotent: the homeserver answers a repeated id with the
	// event it already made.
	TxnID string
	// Timestamp is the event's origin_server_ts. Zero → now; else sent as
	// ?ts= (appservice timestamp massaging), for backfill and for remote
	// messages that arrive late.
	Timestamp time.Time
}

// Member is a user's profile, as a room member or globally.
type Member struct {
	DisplayName string
	AvatarURL   id.ContentURIString
}

// Intent is one user of the appservice (the bot or a puppet) acting on the
// homeserver. Implementations are safe for concurrent use.
//
// Every method registers the user first if need be. Methods that act in a
// room (SendMessage, SendState, Redact, Invite, Kick, MarkRead, and Typing
// when it starts) also join it first, so the caller does not have to. Reads
// (State, JoinedMembers, Profile, ResolveAlias) do not join: the user must
// already see the room.
//
// Order: calls on one Intent may run concurrently and then reach the
// homeserver in any order. Callers that need order (one portal's messages)
// make the calls one after another.
type Intent interface {
	// UserID is the Matrix user this intent acts as.
	UserID() id.UserID
	// EnsureRegistered registers the user (POST /register with
	// m.login.application_service); M_USER_IN_USE counts as success. It
	// is remembered once done, so calling it again is free.
	EnsureRegistered(ctx context.Context) error
	// EnsureJoined joins roomID; if the join is forbidden, it has the bot
	// invite the user, then joins. Joined rooms are cached, so calling it
	// again is free.
	EnsureJoined(ctx context.Context, roomID id.RoomID) error
	// CreateRoom creates a room with this user as creator and returns its
	// id. req may be nil for a default private room.
	CreateRoom(ctx context.Context, req *mautrix.ReqCreateRoom) (id.RoomID, error)
	// SendMessage sends a message event and returns its event id. content
	// is anything json.Marshal accepts (usually *event.MessageEventContent).
	SendMessage(ctx context.Context, roomID id.RoomID, evtType event.Type, content any, opts SendOptions) (id.EventID, error)
	// SendState sets a state event and returns its event id.
	SendState(ctx context.Context, roomID id.RoomID, evtType event.Type, stateKey string, content any) (id.EventID, error)
	// Redact redacts target and returns the redaction's event id. reason
	// may be empty.
	Redact(ctx context.Context, roomID id.RoomID, target id.EventID, reason string, opts SendOptions) (id.EventID, error)
	// Join joins a room by id or alias and returns the room id. Unlike
	// EnsureJoined it always asks the homeserver and never asks the bot.
	Join(ctx context.Context, roomIDOrAlias string) (id.RoomID, error)
	// Invite invites userID to roomID. Inviting a user already in the
	// room succeeds.
	Invite(ctx context.Context, roomID id.RoomID, userID id.UserID) error
	// Leave leaves roomID. reason may be empty.
	Leave(ctx context.Context, roomID id.RoomID, reason string) error
	// Kick kicks userID from roomID. reason may be empty.
	Kick(ctx context.Context, roomID id.RoomID, userID id.UserID, reason string) error
	// SetDisplayName sets the global display name; nothing is sent when it
	// is already name (a change makes a member event in every room).
	SetDisplayName(ctx context.Context, name string) error
	// SetAvatarURL sets the global avatar; "" removes it. Nothing is sent
	// when it is already uri.
	SetAvatarURL(ctx context.Context, uri id.ContentURIString) error
	// Typing sets or clears the typing notice; timeout is how long it
	// lasts unless renewed.
	Typing(ctx context.Context, roomID id.RoomID, typing bool, timeout time.Duration) error
	// MarkRead sends a read receipt for eventID.
	MarkRead(ctx context.Context, roomID id.RoomID, eventID id.EventID) error
	// Upload stores media and returns its mxc:// URI. fileName may be empty.
	Upload(ctx context.Context, data []byte, contentType, fileName string) (id.ContentURIString, error)
	// Download fetches media (authenticated /_matrix/client/v1/media/download,
	// falling back to legacy /_matrix/media/v3/download on 404/M_UNRECOGNIZED),
	// refusing more than maxBytes (ErrTooLarge). ErrNotFound when the media
	// does not exist.
	Download(ctx context.Context, uri id.ContentURIString, maxBytes int64) (data []byte, contentType string, err error)
	// State reads one state event's content into into; ErrNotFound when absent.
	State(ctx context.Context, roomID id.RoomID, evtType event.Type, stateKey string, into any) error
	// PowerLevels reads a room's power levels with its create event, so
	// GetUserLevel knows room v12's creators (whose power is not listed).
	PowerLevels(ctx context.Context, roomID id.RoomID) (*event.PowerLevelsEventContent, error)
	// JoinedMembers lists the room's joined members with their room profiles.
	JoinedMembers(ctx context.Context, roomID id.RoomID) (map[id.UserID]Member, error)
	// Profile reads userID's global profile; ErrNotFound when none.
	Profile(ctx context.Context, userID id.UserID) (*Member, error)
	// SetAlias points alias at roomID (PUT /directory/room); M_UNKNOWN/409
	// when taken → ErrAliasTaken. An alias that already points at roomID
	// succeeds, so a retry is harmless.
	SetAlias(ctx context.Context, alias id.RoomAlias, roomID id.RoomID) error
	// ResolveAlias returns the room alias points at; ErrNotFound when none.
	ResolveAlias(ctx context.Context, alias id.RoomAlias) (id.RoomID, error)
}
