package irc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lrstanley/girc"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/connectors"
	"switchboard/connectors/irc/ircfmt"
)

// userClient speaks for one Matrix user, through their own connection on
// each network (opened on first use), or through the bot on a network that
// relays everyone.
type userClient struct {
	c    *Connector
	user *connectors.MatrixUser
}

var (
	_ connectors.Client       = (*userClient)(nil)
	_ connectors.Editor       = (*userClient)(nil)
	_ connectors.Deleter      = (*userClient)(nil)
	_ connectors.Reactor      = (*userClient)(nil)
	_ connectors.Typer        = (*userClient)(nil)
	_ connectors.TopicSetter  = (*userClient)(nil)
	_ connectors.MemberSyncer = (*userClient)(nil)
)

// route finds the connection to use in chat: the user's own, or the bot
// with the user named as the sender when the network relays.
func (u *userClient) route(ctx context.Context, chat connectors.PortalID) (*network, chatRef, *conn, *connectors.Sender, error) {
	n, ref, err := u.c.networkOf(chat)
	if err != nil {
		return nil, ref, nil, nil, err
	}
	uc, err := n.userConn(ctx, u.user)
	if errors.Is(err, connectors.ErrNoIdentity) {
		if ref.channel == "" {
			return nil, ref, nil, nil, fmt.Errorf("private messages need a connection of your own, and %s relays everyone: %w", n.cfg.Name, connectors.ErrNotSupported)
		}
		return n, ref, n.bot, &connectors.Sender{ID: u.user.ID, DisplayName: u.user.DisplayName}, nil
	}
	if err != nil {
		return nil, ref, nil, nil, err
	}
	if err := uc.waitRegistered(ctx, 30*time.Second); err != nil {
		return nil, ref, nil, nil, err
	}
	if ref.channel != "" && !uc.isJoined(ref.channel) {
		// Channels are usually +n: only members may speak.
		if err := uc.join(ctx, ref.channel, true); err != nil {
			return nil, ref, nil, nil, err
		}
		n.saveLogin(ctx, uc)
	}
	return n, ref, uc, nil, nil
}

func (u *userClient) SendMessage(ctx context.Context, chat connectors.PortalID, msg *connectors.Message) (connectors.MessageID, error) {
	n, ref, c, relayed, err := u.route(ctx, chat)
	if err != nil {
		return "", err
	}
	if relayed != nil && msg.Relayed == nil {
		msg.Relayed = relayed
	}
	return n.send(ctx, c, ref.target(), msg)
}

func (u *userClient) EditMessage(ctx context.Context, chat connectors.PortalID, target connectors.MessageID, msg *connectors.Message) (connectors.MessageID, error) {
	n, ref, c, relayed, err := u.route(ctx, chat)
	if err != nil {
		return "", err
	}
	if relayed != nil {
		msg.Relayed = relayed
	}
	return n.sendEdit(ctx, c, ref.target(), target, msg)
}

func (u *userClient) DeleteMessage(ctx context.Context, chat connectors.PortalID, target connectors.MessageID) error {
	_, ref, c, relayed, err := u.route(ctx, chat)
	if err != nil || relayed != nil {
		return err
	}
	return c.redact(ctx, ref.target(), target)
}

func (u *userClient) React(ctx context.Context, chat connectors.PortalID, target connectors.MessageID, key string) (connectors.MessageID, error) {
	n, ref, c, relayed, err := u.route(ctx, chat)
	if err != nil {
		return "", err
	}
	return n.react(ctx, c, ref.target(), target, key, relayed)
}

func (u *userClient) Unreact(context.Context, connectors.PortalID, connectors.MessageID, connectors.MessageID, string) error {
	return nil // IRC has no way to take a reaction back
}

func (u *userClient) SetTyping(ctx context.Context, chat connectors.PortalID, typing bool, _ time.Duration) error {
	_, ref, c, relayed, err := u.route(ctx, chat)
	if err != nil || relayed != nil {
		return err
	}
	return c.typing(ctx, ref.target(), typing)
}

func (u *userClient) SetTopic(ctx context.Context, chat connectors.PortalID, topic string) error {
	_, ref, c, _, err := u.route(ctx, chat)
	if err != nil || ref.channel == "" {
		return err
	}
	return c.sendLine(ctx, &girc.Event{Command: girc.TOPIC, Params: []string{ref.channel, ircfmt.Clean(topic)}})
}

// JoinChat joins the user's connection to the channel as they join its
// room, so they appear on IRC at once.
func (u *userClient) JoinChat(ctx context.Context, chat connectors.PortalID) error {
	n, ref, err := u.c.networkOf(chat)
	if err != nil || ref.channel == "" || !*n.cfg.MembershipSync {
		return nil
	}
	uc, err := n.userConn(ctx, u.user)
	if errors.Is(err, connectors.ErrNoIdentity) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := uc.join(ctx, ref.channel, false); err != nil && !retryable(err) {
		return err
	}
	n.saveLogin(ctx, uc)
	return nil
}

// LeaveChat parts the channel as the user leaves its room.
func (u *userClient) LeaveChat(ctx context.Context, chat connectors.PortalID, reason string) error {
	n, ref, err := u.c.networkOf(chat)
	if err != nil || ref.channel == "" || !*n.cfg.MembershipSync {
		return nil
	}
	n.mu.Lock()
	uc := n.users[u.user.ID]
	n.mu.Unlock()
	if uc == nil {
		return nil
	}
	if err := uc.part(ctx, ref.channel, reason); err != nil && !retryable(err) {
		return err
	}
	n.saveLogin(ctx, uc)
	return nil
}

// relayClient is the bots: it sends for Matrix users without a connection
// of their own, naming them.
type relayClient struct{ c *Connector }

var (
	_ connectors.Client      = (*relayClient)(nil)
	_ connectors.Editor      = (*relayClient)(nil)
	_ connectors.Reactor     = (*relayClient)(nil)
	_ connectors.TopicSetter = (*relayClient)(nil)
)

func (r *relayClient) route(chat connectors.PortalID) (*network, chatRef, error) {
	n, ref, err := r.c.networkOf(chat)
	if err != nil {
		return nil, ref, err
	}
	if ref.channel == "" {
		return nil, ref, fmt.Errorf("the bot does not relay private messages: %w", connectors.ErrNotSupported)
	}
	return n, ref, nil
}

func (r *relayClient) SendMessage(ctx context.Context, chat connectors.PortalID, msg *connectors.Message) (connectors.MessageID, error) {
	n, ref, err := r.route(chat)
	if err != nil {
		return "", err
	}
	return n.send(ctx, n.bot, ref.channel, msg)
}

func (r *relayClient) EditMessage(ctx context.Context, chat connectors.PortalID, target connectors.MessageID, msg *connectors.Message) (connectors.MessageID, error) {
	n, ref, err := r.route(chat)
	if err != nil {
		return "", err
	}
	return n.sendEdit(ctx, n.bot, ref.channel, target, msg)
}

func (r *relayClient) React(ctx context.Context, chat connectors.PortalID, target connectors.MessageID, key string) (connectors.MessageID, error) {
	n, ref, err := r.route(chat)
	if err != nil {
		return "", err
	}
	return n.react(ctx, n.bot, ref.channel, target, key, &connectors.Sender{})
}

func (r *relayClient) Unreact(context.Context, connectors.PortalID, connectors.MessageID, connectors.MessageID, string) error {
	return nil
}

func (r *relayClient) SetTopic(ctx context.Context, chat connectors.PortalID, topic string) error {
	n, ref, err := r.route(chat)
	if err != nil {
		return err
	}
	return n.bot.sendLine(ctx, &girc.Event{Command: girc.TOPIC, Params: []string{ref.channel, ircfmt.Clean(topic)}})
}

// target is where a chat's lines go: the channel, or the nick.
func (r chatRef) target() string {
	if r.channel != "" {
		return r.channel
	}
	return r.nick
}

// send converts a Matrix message to IRC lines and sends them.
func (n *network) send(ctx context.Context, c *conn, target string, msg *connectors.Message) (connectors.MessageID, error) {
	text := n.ircText(msg)
	relayPrefix := ""
	action := msg.MsgType == event.MsgEmote
	if msg.Relayed != nil {
		name := n.nickFor(msg.Relayed.DisplayName, msg.Relayed.ID.Localpart())
		relayPrefix = "<" + name + "> "
		if action {
			relayPrefix, action = "* "+name+" ", false
		}
	}
	command := girc.PRIVMSG
	if msg.MsgType == event.MsgNotice {
		command = girc.NOTICE
	}
	budget := lineBudget(c, command, target, action) - len(relayPrefix)
	lines := ircfmt.Split(text, budget)
	if len(lines) > n.cfg.MaxLines {
		short, err := n.longMessage(ctx, msg, budget)
		if err != nil {
			return "", err
		}
		lines = short
	}
	if len(lines) == 0 {
		return "", nil
	}
	for i := range lines {
		lines[i] = relayPrefix + lines[i]
	}
	tags := girc.Tags{}
	if msg.ReplyTo != "" {
		setTag(tags, "+draft/reply", string(msg.ReplyTo))
	}
	msgid, err := c.sendText(ctx, target, command, lines, action, tags)
	if err != nil {
		return "", err
	}
	n.recent.put(msgid, c.nick(), msg.Body)
	return connectors.MessageID(msgid), nil
}

// ircText is a Matrix message as IRC text: formatting as mIRC codes, pills
// as nicks, a reply as "nick: ", a file as its link.
func (n *network) ircText(msg *connectors.Message) string {
	text := ircfmt.FromMatrix(msg.Body, msg.HTML, n.pillNick)
	if a := msg.Attachment; a != nil {
		link := a.PublicURL
		if link == "" {
			link = string(a.MatrixURL)
		}
		if strings.TrimSpace(msg.Body) == "" || msg.Body == a.Name {
			text = a.Name + " " + link
		} else {
			text = text + " " + link
		}
	}
	if msg.ReplyTo != "" {
		if orig, ok := n.recent.get(string(msg.ReplyTo)); ok && orig.nick != "" {
			prefix := orig.nick + ": "
			if !strings.HasPrefix(text, prefix) {
				text = prefix + text
			}
		}
	}
	return text
}

// pillNick writes a mentioned Matrix user as IRC knows them: a puppet as
// its nick, a user with a connection as theirs, anyone else by name.
func (n *network) pillNick(userID, text string) string {
	uid := id.UserID(userID)
	if uid.Homeserver() == n.c.host.ServerName() {
		if remote, ok := n.c.ParsePuppetLocalpart(uid.Localpart()); ok {
			if network, nick, ok := parseRemoteUser(remote); ok && network == n.cfg.ID {
				return n.displayNick(nick)
			}
		}
	}
	n.mu.Lock()
	uc := n.users[uid]
	n.mu.Unlock()
	if uc != nil {
		return uc.nick()
	}
	return text
}

// lineBudget is how many bytes of text fit in one line to target, as
// other clients receive it: the server's LINELEN (512 by default) less the
// CR LF, the ":nick!user@host " prefix it adds, the command and target.
// girc's own MaxEventLength cannot be used: it takes a server's LINELEN as
// 4096.
func lineBudget(c *conn, command, target string, action bool) int {
	lineLen := 512
	if n, ok := c.client.GetServerOptionInt("LINELEN"); ok && n >= 512 {
		lineLen = n
	}
	host := c.client.GetHost()
	hostLen := len(host)
	if host == "" {
		hostLen = 63
		if n, ok := c.client.GetServerOptionInt("HOSTLEN"); ok && n > 0 {
			hostLen = n
		}
	}
	userLen := len(c.client.Config.User) + 1 // servers may add '~'
	prefix := 1 + len(c.nick()) + 1 + userLen + 1 + hostLen + 1
	budget := lineLen - 2 - prefix - len(command) - len(target) - 3 // "CMD target :"
	if action {
		budget -= len("\x01ACTION \x01")
	}
	return max(budget, 60)
}

// longMessage uploads a message too long for max_lines as a text file and
// returns the line that links to it, opening with as much of the message's
// first line as fits.
func (n *network) longMessage(ctx context.Context, msg *connectors.Message, budget int) ([]string, error) {
	link, err := n.c.host.UploadMedia(ctx, &connectors.Attachment{Name: "message.txt", MimeType: "text/plain; charset=utf-8",
		Data: []byte(msg.Body), Size: int64(len(msg.Body))})
	if err != nil {
		return nil, connectors.Unavailable(fmt.Errorf("upload long message: %w", err))
	}
	suffix := "… (full message: " + link + ")"
	opening := ""
	if lines := ircfmt.Split(strings.SplitN(msg.Body, "\n", 2)[0], budget-len(suffix)); len(lines) > 0 {
		opening = lines[0]
	}
	return ircfmt.Split(opening+suffix, budget), nil
}

// sendEdit sends an edit as a correction line.
func (n *network) sendEdit(ctx context.Context, c *conn, target string, original connectors.MessageID, msg *connectors.Message) (connectors.MessageID, error) {
	after := ircfmt.FromMatrix(msg.Body, msg.HTML, n.pillNick)
	line := "* " + after
	if orig, ok := n.recent.get(string(original)); ok && n.cfg.Edits == "diff" {
		line = ircfmt.Correction(orig.text, msg.Body)
	}
	edit := *msg
	edit.Body, edit.HTML, edit.ReplyTo, edit.MsgType = line, "", "", event.MsgText
	id, err := n.send(ctx, c, target, &edit)
	if err == nil {
		n.recent.put(string(original), c.nick(), msg.Body)
	}
	return id, err
}

// react sends a reaction as a client tag, or as an action line (or not at
// all) where the server has no client tags.
func (n *network) react(ctx context.Context, c *conn, target string, to connectors.MessageID, key string, relayed *connectors.Sender) (connectors.MessageID, error) {
	if c.hasCap("message-tags") && relayed == nil {
		tags := girc.Tags{}
		setTag(tags, "+draft/react", key)
		setTag(tags, "+draft/reply", string(to))
		return "", c.sendLine(ctx, &girc.Event{Command: girc.CAP_TAGMSG, Params: []string{target}, Tags: tags})
	}
	if n.cfg.Reactions == "drop" {
		return "", nil
	}
	text := "reacted with " + key
	if orig, ok := n.recent.get(string(to)); ok && orig.nick != "" {
		text += " to " + orig.nick
	}
	if relayed != nil {
		name := "someone"
		if relayed.ID != "" {
			name = n.nickFor(relayed.DisplayName, relayed.ID.Localpart())
		}
		_, err := c.sendText(ctx, target, girc.PRIVMSG, []string{"* " + name + " " + ircfmt.Clean(text)}, false, nil)
		return "", err
	}
	_, err := c.sendText(ctx, target, girc.PRIVMSG, []string{ircfmt.Clean(text)}, true, nil)
	return "", err
}

// redact deletes a message where the server supports it; IRC otherwise
// cannot take a line back, so there is nothing to do.
func (c *conn) redact(ctx context.Context, target string, msgid connectors.MessageID) error {
	if !c.hasCap("draft/message-redaction") || strings.HasPrefix(string(msgid), "sb-") {
		return nil
	}
	return c.sendLine(ctx, &girc.Event{Command: "REDACT", Params: []string{target, string(msgid)}})
}

// typing sends a typing notification where client tags are allowed, and
// only when the flood budget has room for it.
func (c *conn) typing(_ context.Context, target string, typing bool) error {
	if !c.hasCap("message-tags") || c.limiter != nil && !c.limiter.Allow() {
		return nil
	}
	state := "done"
	if typing {
		state = "active"
	}
	tags := girc.Tags{}
	setTag(tags, "+typing", state)
	c.client.Send(&girc.Event{Command: girc.CAP_TAGMSG, Params: []string{target}, Tags: tags})
	return nil
}
