package connectortest

import (
	"regexp"
	"time"
)

// The JSON shapes of the network's HTTP API, shared by the server
// (network_api.go) and the connector (client.go). The API is documented in
// network_api.go.

// Limits of the network.
const (
	// MaxRequestBytes bounds every request body; a larger one is refused with 413.
	MaxRequestBytes = 8 << 20
	// MaxBodyBytes bounds a message's text (body and html each); a larger
	// one is refused with 413.
	MaxBodyBytes = 64 << 10
	// maxBatch bounds the events one /events response carries.
	maxBatch = 100
)

// idPattern is the shape of chat and user ids: lower case, so that the
// bridge's default puppet and alias names (which fold case) never merge two
// ids, with '=' and '+' allowed so that those names exercise escaping.
var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._=+-]{0,63}$`)

func validID(s string) bool { return idPattern.MatchString(s) }

// wireMessage is a message's content, both ways.
type wireMessage struct {
	Body       string          `json:"body"`
	HTML       string          `json:"html,omitempty"`
	MsgType    string          `json:"msgtype,omitempty"`
	ReplyTo    string          `json:"reply_to,omitempty"`
	ThreadRoot string          `json:"thread_root,omitempty"`
	Mentions   []string        `json:"mentions,omitempty"`
	Attachment *wireAttachment `json:"attachment,omitempty"`
	// RelayedFor is the display name of the Matrix user the bot sent this
	// for.
	RelayedFor string `json:"relayed_for,omitempty"`
}

type wireAttachment struct {
	Name string `json:"name"`
	Mime string `json:"mime,omitempty"`
	// Data is base64 in JSON (encoding/json's []byte form).
	Data []byte `json:"data,omitempty"`
	// URL is where the file is, when the sender gave a link instead of data.
	URL string `json:"url,omitempty"`
}

// wireVia is the identity that caused an event or stored a message: absent
// (null) for the network itself and the test driver.
type wireVia struct {
	// Bot is set for the bot token.
	Bot bool `json:"bot,omitempty"`
	// Session is the login session ("s1", ...); empty for the bot.
	Session string `json:"session,omitempty"`
	// Client is the label the session gave at login (a connector gives
	// its network name), so a connector recognises its own echoes after
	// a restart too.
	Client string `json:"client,omitempty"`
}

// Event types of the stream.
const (
	evMessage    = "message"
	evEdit       = "edit"
	evDelete     = "delete"
	evReaction   = "reaction"
	evUnreaction = "unreaction"
	evTyping     = "typing"
	evRead       = "read"
	evJoin       = "join"
	evLeave      = "leave"
	evTopic      = "topic"
	evName       = "name"
	evProfile    = "profile"
	// evSessionRevoked: a login session (Via) of User was ended by the
	// network (a password change). It is for the connector that made the
	// session, not for the bridge.
	evSessionRevoked = "session_revoked"
)

// wireEvent is one event of GET /events.
type wireEvent struct {
	// Seq is the network-wide sequence number, from 1, without gaps.
	Seq  int64     `json:"seq"`
	Type string    `json:"type"`
	Time time.Time `json:"time"`
	Chat string    `json:"chat,omitempty"`
	// User did it; UserName is their display name at the time.
	User     string   `json:"user,omitempty"`
	UserName string   `json:"user_name,omitempty"`
	Via      *wireVia `json:"via,omitempty"`
	// ID is the message's id (message), the edit's id (edit) or the
	// reaction's id (reaction, unreaction).
	ID string `json:"id,omitempty"`
	// Target is the message edited, deleted, reacted to or read up to.
	Target string `json:"target,omitempty"`
	// Message is the content of a message, or an edit's new content.
	Message *wireMessage `json:"message,omitempty"`
	// Key is a reaction's key.
	Key string `json:"key,omitempty"`
	// Text is the new topic, chat name or display name.
	Text   string `json:"text,omitempty"`
	Typing bool   `json:"typing,omitempty"`
	Reason string `json:"reason,omitempty"`
	Kicker string `json:"kicker,omitempty"`
}

type wireEvents struct {
	Events []wireEvent `json:"events"`
}

type wireChat struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Topic   string   `json:"topic,omitempty"`
	Public  bool     `json:"public"`
	Members []string `json:"members"`
}

type wireUser struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type wireLogin struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Client   string `json:"client,omitempty"`
}

type wireSession struct {
	Token   string `json:"token,omitempty"`
	User    string `json:"user"`
	Name    string `json:"name"`
	Session string `json:"session"`
	Bot     bool   `json:"bot,omitempty"`
}

type wireConnect struct {
	// Acked is the session's last acknowledged seq: the stream resumes
	// after it.
	Acked int64  `json:"acked"`
	User  string `json:"user"`
}

type wireAck struct {
	Seq int64 `json:"seq"`
}

type wireSent struct {
	ID string `json:"id"`
}

type wireReaction struct {
	Key string `json:"key"`
}

type wireTyping struct {
	Typing    bool  `json:"typing"`
	TimeoutMS int64 `json:"timeout_ms,omitempty"`
}

type wireRead struct {
	UpTo string `json:"up_to"`
}

type wireTopic struct {
	Topic string `json:"topic"`
}

type wireLeave struct {
	Reason string `json:"reason,omitempty"`
}

// wireError is the body of every error response.
type wireError struct {
	Error string `json:"error"`
}
