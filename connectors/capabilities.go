package connectors

import (
	"context"
	"time"

	"maunium.net/go/mautrix/id"
)

// Optional capabilities. The bridge checks for each by type assertion on the
// Client (or, for the connector-wide ones, the Connector) and leaves out what
// a network cannot do: an edit on Matrix is dropped for a network without
// Editor, with a notice when it matters.

// Editor is a Client that edits messages it sent.
type Editor interface {
	// EditMessage replaces target's content with msg. The returned id, if
	// not empty, is recorded for the edit (some networks give edits ids).
	EditMessage(ctx context.Context, chat PortalID, target MessageID, msg *Message) (MessageID, error)
}

// Deleter is a Client that deletes (retracts, redacts) messages.
type Deleter interface {
	DeleteMessage(ctx context.Context, chat PortalID, target MessageID) error
}

// Reactor is a Client that reacts to messages.
type Reactor interface {
	// React adds the reaction key (an emoji, usually) to target and returns
	// the reaction's remote id, or "" when the network gives none.
	React(ctx context.Context, chat PortalID, target MessageID, key string) (MessageID, error)
	// Unreact takes a reaction back: reaction is the id React returned (may
	// be empty), key and target what React was given.
	Unreact(ctx context.Context, chat PortalID, target MessageID, reaction MessageID, key string) error
}

// Typer is a Client that shows typing.
type Typer interface {
	// SetTyping starts (typing true, for at most timeout) or stops typing.
	SetTyping(ctx context.Context, chat PortalID, typing bool, timeout time.Duration) error
}

// ReadMarker is a Client that sends read receipts.
type ReadMarker interface {
	MarkRead(ctx context.Context, chat PortalID, upTo MessageID) error
}

// TopicSetter is a Client that changes a chat's topic.
type TopicSetter interface {
	SetTopic(ctx context.Context, chat PortalID, topic string) error
}

// MemberSyncer is a Client whose presence in a chat follows its Matrix user's
// membership of the portal room (IRC joins the channel as soon as the user
// joins the room, XMPP enters the MUC).
type MemberSyncer interface {
	// JoinChat is called when the user joins the portal room (and at start
	// for every member with a login here).
	JoinChat(ctx context.Context, chat PortalID) error
	// LeaveChat is called when the user leaves or is removed from the room.
	LeaveChat(ctx context.Context, chat PortalID, reason string) error
}

// LoginHandler is a Connector whose users log in with credentials (`login`
// and `logout` commands).
type LoginHandler interface {
	// Login checks the credentials in args and returns the login to store
	// (the bridge sets its UserID); its errors are shown to the user, so
	// they must say what to fix and never echo a secret.
	Login(ctx context.Context, user *MatrixUser, args []string) (*Login, error)
	// Logout ends a login on the network (the bridge then forgets it).
	Logout(ctx context.Context, login *Login) error
}

// ChatRefParser is a Connector whose chats are named in commands with more
// than one word (`link libera #go-nuts`). Without it, the `link` command's
// single argument is the PortalID.
type ChatRefParser interface {
	// ParseChatRef turns command arguments into a chat id, or an error that
	// says the expected form.
	ParseChatRef(args []string) (PortalID, error)
}

// IDMapper is a Connector with its own shape of puppet localparts and portal
// aliases. Without it the bridge writes @<network>_<escaped RemoteUserID> and
// #<network>_<escaped PortalID>, with EscapeLocalpart.
type IDMapper interface {
	// PuppetLocalpart is the localpart of user's puppet, including the
	// "<network>_" prefix: "irc_libera_alice".
	PuppetLocalpart(user RemoteUserID) string
	// ParsePuppetLocalpart reverses PuppetLocalpart; ok false when
	// localpart is not one of this network's puppets.
	ParsePuppetLocalpart(localpart string) (RemoteUserID, bool)
	// AliasLocalpart is the portal alias's localpart, including the prefix:
	// "irc_libera_#go-nuts".
	AliasLocalpart(chat PortalID) string
	// ParseAliasLocalpart reverses AliasLocalpart.
	ParseAliasLocalpart(localpart string) (PortalID, bool)
}

// Commander is a Connector with commands of its own, offered next to the
// bridge's (help, list, link, unlink, login, logout, ping, status).
type Commander interface {
	Commands() []Command
}

// Command is one bot command.
type Command struct {
	// Name is the word that runs it: "nick".
	Name string
	// Args describes the arguments for help: "<new nick>".
	Args string
	// Help is one line for `help`.
	Help string
	// Sensitive marks a command whose arguments are secrets (a password):
	// the bridge redacts the command's message whatever the outcome and
	// runs it only in the user's management room.
	Sensitive bool
	// Run does it and returns the reply to post in the room. Its error is
	// posted too, so it must say what to do.
	Run func(ctx context.Context, call *CommandCall) (string, error)
}

// CommandCall is one run of a command.
type CommandCall struct {
	User *MatrixUser
	Args []string
	// Chat is the portal the command was given in; "" in a management room
	// or an unlinked room.
	Chat PortalID
	// Room is the Matrix room the command was sent in.
	Room id.RoomID
	// Admin is true when the user has the bridge's admin permission.
	Admin bool
}

// Watcher is a Connector whose own connection must follow a chat to hear it
// (an IRC bot joins the channel, an XMPP component enters the MUC).
type Watcher interface {
	// WatchChat is called when a portal for chat is created or linked, and
	// at start for every existing portal. It must be idempotent.
	WatchChat(ctx context.Context, chat PortalID) error
	// UnwatchChat is called when a chat's last portal is unlinked.
	UnwatchChat(ctx context.Context, chat PortalID) error
}

// LinkApprover is a Connector whose network must agree before a Matrix room
// is linked to one of its chats (IRC networks ask a channel operator). The
// bridge asks after its own checks pass, without holding up the room, and
// links only when ApproveLink returns nil.
type LinkApprover interface {
	// ApproveLink asks the chat's owners whether user may link room to chat
	// and waits for the answer (or for ctx). Its error is shown in the room,
	// so it says who refused or why nobody answered.
	ApproveLink(ctx context.Context, chat PortalID, user *MatrixUser, room id.RoomID) error
}

// DirectMessenger is a Connector whose users can be messaged one to one from
// Matrix: inviting a puppet to a direct room opens a private chat with its
// remote user.
type DirectMessenger interface {
	// DirectChat returns the private chat between user and remote, with its
	// description (Direct set). It returns ErrNoIdentity when user cannot
	// message remote as themselves and the network has no relay for it.
	DirectChat(ctx context.Context, user *MatrixUser, remote RemoteUserID) (PortalID, *ChatInfo, error)
}
