package connectortest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"switchboard/connectors"
)

// BotUser is the user id of the network's bot: the identity of its bot
// token, which relays for Matrix users and reads the event stream.
const BotUser connectors.RemoteUserID = "bot"

// DefaultBotToken is the bot token of every Network: the test network is
// not a place for secrets, and a bridge in a child process finds it without
// being told (see Section.BotToken).
const DefaultBotToken = "testnet-bot-token"

// DefaultPollTimeout is how long GET /events waits for an event.
const DefaultPollTimeout = 25 * time.Second

// Network is an in-process chat network with an HTTP+JSON API (see
// network_api.go): the remote side of bridge tests. Its Go methods drive the
// network as its other users would (Post, Edit, React, SetTopic, Join...) and
// observe what the bridge did (Messages, WaitMessage, Reactions...); a
// [Connector] reaches it over HTTP only.
//
// The test driver's methods panic on misuse (an unknown chat or message), as
// a test's programming error; every method is safe for concurrent use.
// Changes made through the driver are "native": their events carry no
// identity, so every connector hands them to the bridge. Everything is kept
// in memory for the network's life, including the event log.
type Network struct {
	mu          sync.Mutex
	botToken    string
	pollTimeout time.Duration
	chats       map[string]*chat
	users       map[string]*user
	tokens      map[string]*session // by token
	messages    map[string]*message // by id, network-wide
	events      []wireEvent         // events[i].Seq == i+1
	idem        map[idemKey]string  // (user, idempotency key) → message id
	counters    map[byte]int        // next id per prefix: m, e, r, s
	down        bool
	closed      bool
	// wake is closed and replaced on every change, waking long-polls and
	// waiters.
	wake       chan struct{}
	limitN     int
	limitAfter time.Duration

	handler http.Handler
	srvOnce sync.Once
	srv     *httptest.Server
}

type chat struct {
	id, name, topic string
	public          bool
	members         map[string]bool
	messages        []string             // ids in order
	typing          map[string]time.Time // user → typing until
	reads           map[string]string    // user → read up to
}

type user struct {
	id, name, password string
}

// session is one token: the bot's or a login's.
type session struct {
	id, token, user, client string
	bot                     bool
	// acked is the last seq this session acknowledged on the event stream.
	acked int64
}

func (s *session) via() *wireVia {
	if s.bot {
		return &wireVia{Bot: true}
	}
	return &wireVia{Session: s.id, Client: s.client}
}

type message struct {
	id, chat, sender string
	via              *wireVia
	time             time.Time
	original         wireMessage
	content          wireMessage // after edits
	edits            []Edit
	deleted          bool
	reactions        []*reaction
	key              string
}

type reaction struct {
	id, user, key string
	via           *wireVia
}

type idemKey struct{ user, key string }

// apiError is a refusal, with the HTTP status the API answers it with.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func errf(status int, format string, args ...any) *apiError {
	return &apiError{status: status, msg: fmt.Sprintf(format, args...)}
}

// NewNetwork returns an empty network whose bot token is DefaultBotToken.
// It serves nothing until Start (or Handler).
func NewNetwork() *Network {
	n := &Network{
		botToken:    DefaultBotToken,
		pollTimeout: DefaultPollTimeout,
		chats:       map[string]*chat{},
		users:       map[string]*user{},
		tokens:      map[string]*session{},
		messages:    map[string]*message{},
		idem:        map[idemKey]string{},
		counters:    map[byte]int{},
		wake:        make(chan struct{}),
	}
	n.users[string(BotUser)] = &user{id: string(BotUser), name: "Bot"}
	n.tokens[n.botToken] = &session{id: "bot", token: n.botToken, user: string(BotUser), bot: true}
	n.handler = n.routes()
	return n
}

// BotToken is the token of the network's bot.
func (n *Network) BotToken() string { return n.botToken }

// SetPollTimeout changes how long GET /events waits for an event (default
// DefaultPollTimeout).
func (n *Network) SetPollTimeout(d time.Duration) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.pollTimeout = d
}

// Start serves the network on a loopback port and returns its base URL
// ("http://127.0.0.1:port"). Later calls return the same URL. Close stops it.
func (n *Network) Start() (url string) {
	n.srvOnce.Do(func() { n.srv = httptest.NewServer(n.handler) })
	if n.srv == nil {
		panic("connectortest: Network.Start after Close")
	}
	return n.srv.URL
}

// Handler is the network's HTTP API, for a caller that serves it itself.
func (n *Network) Handler() http.Handler { return n.handler }

// Close ends long-polls in flight, makes every later request fail with 503
// and stops the server Start started, waiting for its requests to end.
func (n *Network) Close() {
	n.mu.Lock()
	n.closed = true
	n.notifyLocked()
	n.mu.Unlock()
	n.srvOnce.Do(func() {}) // a later Start starts nothing
	if n.srv != nil {
		n.srv.Close()
	}
}

// SetDown simulates an outage: while down, every request fails at once with
// 503 and long-polls in flight end. The driver still works, and what
// happens meanwhile is delivered after SetDown(false).
func (n *Network) SetDown(down bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.down = down
	n.notifyLocked()
}

// LimitNext makes the next count authenticated requests (except the event
// stream and acks) fail with 429 and Retry-After: after (whole seconds,
// rounded up).
func (n *Network) LimitNext(count int, after time.Duration) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.limitN, n.limitAfter = count, after
}

// notifyLocked wakes everyone waiting for a change.
func (n *Network) notifyLocked() {
	close(n.wake)
	n.wake = make(chan struct{})
}

// nextIDLocked returns the next id with prefix: "m1", "m2", ...
func (n *Network) nextIDLocked(prefix byte) string {
	n.counters[prefix]++
	return string(prefix) + strconv.Itoa(n.counters[prefix])
}

// emitLocked appends ev to the event log, stamping its seq, time and the
// user's display name.
func (n *Network) emitLocked(ev wireEvent) {
	ev.Seq = int64(len(n.events)) + 1
	if ev.Time.IsZero() {
		ev.Time = time.Now().UTC()
	}
	if u := n.users[ev.User]; u != nil && ev.UserName == "" {
		ev.UserName = u.name
	}
	n.events = append(n.events, ev)
	n.notifyLocked()
}

func (n *Network) chatLocked(id string) (*chat, error) {
	c := n.chats[id]
	if c == nil {
		return nil, errf(http.StatusNotFound, "no chat %q", id)
	}
	return c, nil
}

// messageLocked finds message id in chat c.
func (n *Network) messageLocked(c *chat, id string) (*message, error) {
	m := n.messages[id]
	if m == nil || m.chat != c.id {
		return nil, errf(http.StatusNotFound, "no message %q in chat %q", id, c.id)
	}
	return m, nil
}

// userLocked returns user id, creating it (with no password: it cannot log
// in) when the driver names a user the network has not seen.
func (n *Network) userLocked(id string) *user {
	u := n.users[id]
	if u == nil {
		if !validID(id) {
			panic(fmt.Sprintf("connectortest: bad user id %q: want %s", id, idPattern))
		}
		u = &user{id: id, name: defaultName(id)}
		n.users[id] = u
	}
	return u
}

// defaultName is a new user's display name: the id with its first letter
// upper-cased ("alice" → "Alice"), so display names and ids differ.
func defaultName(id string) string {
	if id == "" {
		return ""
	}
	return strings.ToUpper(id[:1]) + id[1:]
}

func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// validateMessage checks a message's content before it is stored.
func (n *Network) validateMessageLocked(c *chat, m *wireMessage) error {
	if len(m.Body) > MaxBodyBytes || len(m.HTML) > MaxBodyBytes {
		return errf(http.StatusRequestEntityTooLarge, "message text over %d bytes", MaxBodyBytes)
	}
	if m.Body == "" && m.Attachment == nil {
		return errf(http.StatusBadRequest, "body: empty")
	}
	switch m.MsgType {
	case "":
		m.MsgType = "m.text"
	case "m.text", "m.notice", "m.emote", "m.image", "m.file", "m.audio", "m.video":
	default:
		return errf(http.StatusBadRequest, "msgtype: unknown %q", m.MsgType)
	}
	for _, ref := range []string{m.ReplyTo, m.ThreadRoot} {
		if ref == "" {
			continue
		}
		if _, err := n.messageLocked(c, ref); err != nil {
			return errf(http.StatusBadRequest, "reply_to/thread_root: %v", err)
		}
	}
	for _, u := range m.Mentions {
		if n.users[u] == nil {
			return errf(http.StatusBadRequest, "mentions: no user %q", u)
		}
	}
	if a := m.Attachment; a != nil && a.Name == "" {
		return errf(http.StatusBadRequest, "attachment.name: empty")
	}
	return nil
}

// postLocked stores a message from sender (through via; nil for the driver)
// and emits its event. A non-empty key makes it idempotent per sender.
func (n *Network) postLocked(c *chat, sender string, via *wireVia, m wireMessage, key string) (string, error) {
	if key != "" {
		if id, ok := n.idem[idemKey{sender, key}]; ok {
			return id, nil
		}
	}
	if err := n.validateMessageLocked(c, &m); err != nil {
		return "", err
	}
	if sender != string(BotUser) && !c.members[sender] {
		if !c.public && via != nil {
			return "", errf(http.StatusForbidden, "%s is not in private chat %q", sender, c.id)
		}
		n.joinLocked(c, sender, via)
	}
	m.Mentions = slices.Clone(m.Mentions)
	msg := &message{
		id:       n.nextIDLocked('m'),
		chat:     c.id,
		sender:   sender,
		via:      via,
		time:     time.Now().UTC(),
		original: m,
		content:  m,
		key:      key,
	}
	n.messages[msg.id] = msg
	c.messages = append(c.messages, msg.id)
	if key != "" {
		n.idem[idemKey{sender, key}] = msg.id
	}
	content := m
	n.emitLocked(wireEvent{Type: evMessage, Time: msg.time, Chat: c.id, User: sender, Via: via, ID: msg.id, Message: &content})
	return msg.id, nil
}

// editLocked replaces message id's content, as actor (who must have sent
// it).
func (n *Network) editLocked(c *chat, id, actor string, via *wireVia, m wireMessage) (string, error) {
	msg, err := n.messageLocked(c, id)
	if err != nil {
		return "", err
	}
	if msg.deleted {
		return "", errf(http.StatusNotFound, "message %q was deleted", id)
	}
	if msg.sender != actor {
		return "", errf(http.StatusForbidden, "only %s may edit %s", msg.sender, id)
	}
	m.RelayedFor = msg.content.RelayedFor
	if err := n.validateMessageLocked(c, &m); err != nil {
		return "", err
	}
	editID := n.nextIDLocked('e')
	msg.content = m
	msg.edits = append(msg.edits, Edit{ID: connectors.MessageID(editID), Body: m.Body, HTML: m.HTML})
	content := m
	n.emitLocked(wireEvent{Type: evEdit, Chat: c.id, User: actor, Via: via, ID: editID, Target: id, Message: &content})
	return editID, nil
}

// deleteLocked deletes message id, as actor (its sender, or the bot). A
// second delete succeeds and changes nothing.
func (n *Network) deleteLocked(c *chat, id, actor string, via *wireVia) error {
	msg, err := n.messageLocked(c, id)
	if err != nil {
		return err
	}
	if msg.sender != actor && actor != string(BotUser) {
		return errf(http.StatusForbidden, "only %s may delete %s", msg.sender, id)
	}
	if msg.deleted {
		return nil
	}
	msg.deleted = true
	n.emitLocked(wireEvent{Type: evDelete, Chat: c.id, User: actor, Via: via, Target: id})
	return nil
}

// reactLocked adds actor's reaction key to message id and returns the
// reaction's id; reacting twice with one key returns the first id.
func (n *Network) reactLocked(c *chat, id, actor string, via *wireVia, key string) (string, error) {
	msg, err := n.messageLocked(c, id)
	if err != nil {
		return "", err
	}
	if key == "" || len(key) > 256 {
		return "", errf(http.StatusBadRequest, "reaction key: want 1 to 256 bytes")
	}
	for _, r := range msg.reactions {
		if r.user == actor && r.key == key {
			return r.id, nil
		}
	}
	r := &reaction{id: n.nextIDLocked('r'), user: actor, key: key, via: via}
	msg.reactions = append(msg.reactions, r)
	n.emitLocked(wireEvent{Type: evReaction, Chat: c.id, User: actor, Via: via, ID: r.id, Target: id, Key: key})
	return r.id, nil
}

// unreactLocked takes actor's reaction key off message id; taking back a
// reaction that is not there succeeds and changes nothing.
func (n *Network) unreactLocked(c *chat, id, actor string, via *wireVia, key string) error {
	msg, err := n.messageLocked(c, id)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(msg.reactions, func(r *reaction) bool { return r.user == actor && r.key == key })
	if i < 0 {
		return nil
	}
	r := msg.reactions[i]
	msg.reactions = slices.Delete(msg.reactions, i, i+1)
	n.emitLocked(wireEvent{Type: evUnreaction, Chat: c.id, User: actor, Via: via, ID: r.id, Target: id, Key: key})
	return nil
}

func (n *Network) typingLocked(c *chat, actor string, via *wireVia, typing bool, timeout time.Duration) {
	if typing {
		if timeout <= 0 || timeout > 5*time.Minute {
			timeout = 30 * time.Second
		}
		c.typing[actor] = time.Now().Add(timeout)
	} else {
		delete(c.typing, actor)
	}
	n.emitLocked(wireEvent{Type: evTyping, Chat: c.id, User: actor, Via: via, Typing: typing})
}

func (n *Network) readLocked(c *chat, actor string, via *wireVia, upTo string) error {
	if _, err := n.messageLocked(c, upTo); err != nil {
		return err
	}
	c.reads[actor] = upTo
	n.emitLocked(wireEvent{Type: evRead, Chat: c.id, User: actor, Via: via, Target: upTo})
	return nil
}

func (n *Network) topicLocked(c *chat, actor string, via *wireVia, topic string) error {
	if len(topic) > MaxBodyBytes {
		return errf(http.StatusRequestEntityTooLarge, "topic over %d bytes", MaxBodyBytes)
	}
	c.topic = topic
	n.emitLocked(wireEvent{Type: evTopic, Chat: c.id, User: actor, Via: via, Text: topic})
	return nil
}

// joinLocked adds actor to c; joining twice changes nothing.
func (n *Network) joinLocked(c *chat, actor string, via *wireVia) {
	if c.members[actor] {
		return
	}
	c.members[actor] = true
	n.emitLocked(wireEvent{Type: evJoin, Chat: c.id, User: actor, Via: via})
}

// leaveLocked removes actor from c (kicked by kicker, when set); leaving a
// chat one is not in changes nothing.
func (n *Network) leaveLocked(c *chat, actor string, via *wireVia, kicker, reason string) {
	if !c.members[actor] {
		return
	}
	delete(c.members, actor)
	delete(c.typing, actor)
	n.emitLocked(wireEvent{Type: evLeave, Chat: c.id, User: actor, Via: via, Kicker: kicker, Reason: reason})
}
