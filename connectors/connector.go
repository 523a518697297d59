package connectors

import (
	"context"
	"log/slog"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// Connector is one chat network, as the bridge engine drives it. One value
// serves every portal, puppet and login of its network.
type Connector interface {
	// Info names the network. It is called before Start and must not block.
	Info() Info

	// Start connects the network side (the bot's connection, if the network
	// has one) and keeps it up, reconnecting on its own. It returns once
	// connecting has begun; failures after that are reported through
	// Host.SetState. The bridge calls Start once, after its queues are
	// loaded, and ctx lives as long as the connector runs.
	Start(ctx context.Context, host Host) error

	// Stop closes every connection and returns when the connector's
	// goroutines have ended. Events the connector hands to Host.Queue during
	// Stop are still accepted.
	Stop(ctx context.Context) error

	// ClientFor returns the client that speaks for user on the network as
	// themselves: their own login, their own connection or their own address
	// on the network, created or reused. It returns ErrNoIdentity when the
	// user has none and cannot get one; the bridge then relays the user's
	// messages through Relay when the portal allows relaying, and reports in
	// the room when it does not.
	ClientFor(ctx context.Context, user *MatrixUser) (Client, error)

	// Relay returns the client of the bridge's own identity on the network
	// (its bot, or a webhook), which sends for Matrix users who have no
	// identity there; such messages carry Message.Relayed.
	Relay(ctx context.Context) (Client, error)

	// ChatInfo describes a remote chat. It returns ErrNotFound when the chat
	// does not exist (or the bridge may not see it), which is how an alias
	// query for an unknown chat ends in 404.
	ChatInfo(ctx context.Context, chat PortalID) (*ChatInfo, error)

	// UserInfo describes a remote user, for their puppet's profile. It
	// returns ErrNotFound for a user the network does not know.
	UserInfo(ctx context.Context, user RemoteUserID) (*UserInfo, error)
}

// Client acts on the network as one identity: a Matrix user's own, or the
// bridge's relay. Its methods may be called from several portals' goroutines
// at once, but never concurrently for the same chat, so calls for one chat
// keep their order. Errors wrapping ErrUnavailable or a *RetryError are
// retried by the bridge (in order, with backoff); any other error is final
// and reported in the room.
type Client interface {
	// SendMessage sends msg to chat and returns its remote id, which the
	// bridge records in the message map ("" when the network has no ids).
	// msg.TxnID is the same on every retry of one Matrix event: a network
	// with idempotency keys should use it so a retry after a crash does not
	// duplicate.
	SendMessage(ctx context.Context, chat PortalID, msg *Message) (MessageID, error)
}

// Info names a network.
type Info struct {
	// Name is the network's short name: lower case [a-z0-9]+, used in the
	// bot's id (@<name>bot), puppet ids and aliases (@<name>_…, #<name>_…),
	// the command prefix (!<name>) and the config section (bridges.<name>).
	Name string
	// DisplayName is how people write it: "IRC", "XMPP".
	DisplayName string
}

// MatrixUser is a Matrix user as a connector sees them.
type MatrixUser struct {
	ID          id.UserID
	DisplayName string
	AvatarURL   id.ContentURIString
	// Logins are the user's stored identities on this network, oldest first;
	// empty when they have none.
	Logins []*Login
}

// Sender is who a relayed message is from: a Matrix user without an identity
// of their own on the network, shown by the relay with their name.
type Sender struct {
	ID          id.UserID
	DisplayName string
	AvatarURL   id.ContentURIString
}

// Name is how a relay shows the sender: their display name, else their
// user id's localpart.
func (s *Sender) Name() string {
	if s.DisplayName != "" {
		return s.DisplayName
	}
	return s.ID.Localpart()
}

// Login is a Matrix user's own identity on a network: a login with
// credentials, or an identity the connector made for them (a per-user IRC
// connection, a JID on the bridge's component). The bridge stores logins;
// Secret is never logged or shown.
type Login struct {
	// UserID is the Matrix user it belongs to.
	UserID id.UserID
	// ID tells one of the user's logins on the network from another; the
	// connector chooses it (often the remote user id).
	ID LoginID
	// RemoteUser is who the login is on the network, when known.
	RemoteUser RemoteUserID
	// Name is what the user sees in `status` and `list`: "alice[m] on
	// Libera.Chat".
	Name string
	// Secret is connector-defined data (tokens, passwords, a nick): stored
	// as is, never logged.
	Secret []byte
}

// ChatInfo describes a remote chat for its portal room.
type ChatInfo struct {
	Name  string
	Topic string
	// Avatar is an image fetched by the bridge and uploaded to Matrix, when
	// the chat has one.
	Avatar *Attachment
	// Public makes the portal joinable by anyone who knows its alias;
	// otherwise people are invited.
	Public bool
	// Direct marks a one-to-one chat with Members[0].
	Direct bool
	// Members are remote users to show in the room at creation (their
	// puppets join). Empty is fine: puppets also join when they first speak.
	Members []RemoteUserID
	// Invite are Matrix users to invite when the bridge creates the room:
	// for a direct chat, the Matrix user it is with. A direct chat without
	// anyone to invite is not bridged.
	Invite []id.UserID
	// HistoryVisibility is who may read the room's history, when the
	// network wants other than the preset's ("joined" for IRC, where nobody
	// reads what was said before they came). "" keeps the preset's.
	HistoryVisibility event.HistoryVisibility
}

// UserInfo describes a remote user for their puppet.
type UserInfo struct {
	DisplayName string
	Avatar      *Attachment
}

// Host is what the bridge gives its connector: the way remote events reach
// Matrix, and a few facts the connector needs. Every method is safe for
// concurrent use.
type Host interface {
	// Queue hands one remote event to the bridge. It returns after the event
	// is persisted, so a connector may acknowledge it to its network once
	// Queue returns nil; the bridge then delivers it to Matrix in the order
	// queued per chat, retrying until the homeserver accepts it. A message,
	// edit or reaction whose (Chat, Type, ID) was queued before, and a
	// delete of a Target deleted before, is dropped, so a network that
	// redelivers after a reconnect never duplicates; other events (typing,
	// membership, topic, unreact) are applied idempotently instead. Queue
	// blocks while the chat's queue is full (back-pressure, never a drop) and
	// returns ctx's error if ctx ends first. Typing events are not persisted.
	Queue(ctx context.Context, evt *RemoteEvent) error

	// QueueBatch is Queue for several events at once, in their order: they
	// are persisted together, so a connector that reads a stream of events
	// from one connection (IRC) need not wait for one write per event. It
	// returns after all are persisted, or at the first that cannot be;
	// those before it are queued.
	QueueBatch(ctx context.Context, evts []*RemoteEvent) error

	// SetState reports the state of one connection: the bridge's own
	// (State.UserID empty) or a Matrix user's login. The bridge shows it in
	// the user's management room, the status command, /metrics and the
	// status endpoint; repeats of the same state are not re-announced.
	SetState(ctx context.Context, state State)

	// Logins returns every stored login on this network, for the connector
	// to reconnect at start.
	Logins(ctx context.Context) ([]*Login, error)
	// SaveLogin stores a login (replacing one with the same user and id).
	SaveLogin(ctx context.Context, login *Login) error
	// DeleteLogin forgets a login.
	DeleteLogin(ctx context.Context, user id.UserID, login LoginID) error

	// PuppetUserID is the Matrix user id of a remote user's puppet.
	PuppetUserID(user RemoteUserID) id.UserID
	// MatrixUser looks a Matrix user up (display name, logins) for a
	// connector that acts for them; ok is false for one of this bridge's
	// own puppets.
	MatrixUser(ctx context.Context, user id.UserID) (u *MatrixUser, ok bool, err error)

	// BridgeChat bridges chat now: it creates the chat's portal room when
	// there is none (a channel the operator lists in the config), as an
	// alias query would.
	BridgeChat(ctx context.Context, chat PortalID) error

	// UploadMedia stores a file in the homeserver's media repository (as the
	// bot) and returns a link anyone can open without a Matrix account, for
	// networks that can only link to files (an IRC message too long for its
	// lines).
	UploadMedia(ctx context.Context, file *Attachment) (link string, err error)

	// ServerName is the homeserver's server name.
	ServerName() string
	// Log is the connector's logger.
	Log() *slog.Logger
}

// StateEvent is the kind of a connection's state, named as mautrix bridges
// name them so dashboards built for those read Switchboard's too.
type StateEvent string

const (
	StateConnecting          StateEvent = "CONNECTING"
	StateConnected           StateEvent = "CONNECTED"
	StateTransientDisconnect StateEvent = "TRANSIENT_DISCONNECT"
	StateBadCredentials      StateEvent = "BAD_CREDENTIALS"
	StateUnknownError        StateEvent = "UNKNOWN_ERROR"
	StateLoggedOut           StateEvent = "LOGGED_OUT"
)

// State is the state of one connection.
type State struct {
	Event StateEvent
	// UserID and Login name the Matrix user's login the state is about;
	// both empty for the bridge's own connection.
	UserID id.UserID
	Login  LoginID
	// Message says what happened, for people: "connection refused by
	// irc.example.org:6697". Never a secret.
	Message string
}
