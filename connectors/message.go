package connectors

import (
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// Message is the neutral form of a message, both ways: Matrix's own content
// model. The bridge sanitises HTML before handing a message to a connector
// and again before sending a connector's message to Matrix, so HTML holds
// only the subset the bridge allows (see the bridge's format rules) whichever
// way it travels.
type Message struct {
	// MsgType is event.MsgText, MsgNotice, MsgEmote, MsgImage, MsgFile,
	// MsgAudio or MsgVideo.
	MsgType event.MessageType
	// Body is the plain text, always set (for media, the file's name or a
	// caption).
	Body string
	// HTML is the formatted body; "" when the message is plain.
	HTML string
	// Mentions are the users the message mentions, in the order they appear.
	Mentions []Mention
	// ReplyTo is the remote id of the message this one replies to; "" for
	// none. Matrix → network: the bridge fills it from the message map, so a
	// reply to a message the network never saw arrives without it.
	ReplyTo MessageID
	// ThreadRoot is the remote id of the thread's first message; "" outside
	// threads.
	ThreadRoot MessageID
	// Attachment is the file of a media message; nil for text.
	Attachment *Attachment
	// Relayed is set when the bridge's relay sends for a Matrix user who has
	// no identity of their own on the network: the connector shows who it is
	// from (a "<name> " prefix, a webhook's name and avatar). nil otherwise.
	Relayed *Sender
	// TxnID is stable across retries of one Matrix event (Matrix → network
	// only): an idempotency key for networks that have them.
	TxnID string
	// Origin is the network the message entered Matrix from, when it came
	// through one of Switchboard's bridges ("" for a Matrix user's own
	// message). Informational: the bridge already keeps echoes away.
	Origin string
}

// Mention is one mentioned user. Matrix → network: ID is set, and Remote when
// the user is this network's puppet or has a login here. Network → Matrix:
// the connector sets Remote (a remote user, whose puppet the bridge pills) or
// ID (a Matrix user it recognised, say by their nick on the network).
type Mention struct {
	ID     id.UserID
	Remote RemoteUserID
	// Name is the text the mention shows: a nick or display name.
	Name string
}

// Attachment is a file. Network → Matrix: Data holds the bytes, or URL a
// location the bridge may download from. Matrix → network: the bridge sets
// Data and MatrixURL (the mxc:// URI), and PublicURL when the homeserver
// serves the file without authentication, for networks that can only link.
type Attachment struct {
	Name      string
	MimeType  string
	Size      int64
	Data      []byte
	URL       string
	MatrixURL id.ContentURIString
	PublicURL string
	// Width and Height are an image's or video's size in pixels; 0 unknown.
	Width, Height int
}

// EventType is the kind of a remote event.
type EventType string

const (
	// EventMessage: Sender sent Message (ID is its remote id).
	EventMessage EventType = "message"
	// EventEdit: Sender changed Target to Message (ID identifies the edit).
	EventEdit EventType = "edit"
	// EventDelete: Sender deleted Target.
	EventDelete EventType = "delete"
	// EventReaction: Sender reacted to Target with Text (ID identifies the
	// reaction, for EventUnreact).
	EventReaction EventType = "reaction"
	// EventUnreact: Sender took back the reaction ID (or, with no ID, the
	// reaction Text on Target).
	EventUnreact EventType = "unreact"
	// EventTyping: Sender started (Typing true) or stopped typing.
	EventTyping EventType = "typing"
	// EventRead: Sender read everything up to Target.
	EventRead EventType = "read"
	// EventJoin: Sender joined the chat.
	EventJoin EventType = "join"
	// EventLeave: Sender left the chat (Reason says why; Kicker set when
	// they were removed by someone).
	EventLeave EventType = "leave"
	// EventTopic: Sender (or the network, Sender empty) set the topic to
	// Text.
	EventTopic EventType = "topic"
	// EventName: the chat was renamed to Text.
	EventName EventType = "name"
	// EventProfile: Sender's display name is now Text (an IRC NICK). Chat
	// may be empty: the change is the user's, everywhere.
	EventProfile EventType = "profile"
)

// RemoteEvent is something that happened on the network, handed to
// Host.Queue. The bridge persists it as JSON, so it holds data only.
type RemoteEvent struct {
	Type EventType `json:"type"`
	// Chat is the portal it happened in; empty only for EventProfile.
	Chat PortalID `json:"chat,omitempty"`
	// Sender is who did it; empty for the network itself.
	Sender RemoteUserID `json:"sender,omitempty"`
	// SenderName is the sender's display name as the network shows it now;
	// the bridge updates the puppet when it changed. Optional.
	SenderName string `json:"sender_name,omitempty"`
	// ID is the event's own remote id. For messages it is required and
	// unique in the chat: it keys the message map and drops redeliveries.
	ID MessageID `json:"id,omitempty"`
	// Target is the message an edit, delete, reaction or read marker is about.
	Target MessageID `json:"target,omitempty"`
	// Time is when it happened on the network; zero means now.
	Time time.Time `json:"time,omitempty"`
	// Message is the content of EventMessage and EventEdit.
	Message *Message `json:"message,omitempty"`
	// Text is the reaction key, topic, name or new display name.
	Text string `json:"text,omitempty"`
	// Typing is EventTyping's state.
	Typing bool `json:"typing,omitempty"`
	// Reason explains a leave.
	Reason string `json:"reason,omitempty"`
	// Kicker is who removed Sender, for a kick.
	Kicker RemoteUserID `json:"kicker,omitempty"`
}
