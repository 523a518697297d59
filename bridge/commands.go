package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/appservice"
	"switchboard/connectors"
	"switchboard/portal"
	"switchboard/puppet"
)

// command is one of the bridge's own bot commands.
type command struct {
	name, args, help string
	// need is the least permission level that may run it.
	need level
	run  func(ctx context.Context, c *commandCall) (string, error)
}

// commandCall is one command being run.
type commandCall struct {
	evt     *event.Event
	user    id.UserID
	level   level
	args    []string
	room    id.RoomID
	manage  bool // in the user's management room
	portals []*portal.Portal
}

func (b *Bridge) commands() []command {
	return []command{
		{name: "help", help: "list the commands", need: levelRelay, run: b.cmdHelp},
		{name: "list", help: "list the bridged chats", need: levelUser, run: b.cmdList},
		{name: "link", args: "<chat>", help: "bridge this room to a chat (power level 50 needed)", need: levelUser, run: b.cmdLink},
		{name: "unlink", args: "[chat]", help: "stop bridging this room to a chat (power level 50 needed)", need: levelUser, run: b.cmdUnlink},
		{name: "relay", args: "on|off", help: "relay Matrix users without a login in this room (power level 50 needed)", need: levelUser, run: b.cmdRelay},
		{name: "login", args: "<credentials>", help: "log in to the network as yourself", need: levelUser, run: b.cmdLogin},
		{name: "logout", help: "log out of the network", need: levelUser, run: b.cmdLogout},
		{name: "ping", help: "check your connection to the network", need: levelRelay, run: b.cmdStatus},
		{name: "status", help: "show the bridge's and your connections", need: levelRelay, run: b.cmdStatus},
	}
}

// isCommand runs msg as a command when it is one: any text in the sender's
// management room, or text starting with the prefix (!<network>) in any
// room the bot is in. It reports whether msg was a command.
func (b *Bridge) isCommand(ctx context.Context, evt *event.Event, msg *event.MessageEventContent) bool {
	if msg == nil || msg.MsgType != event.MsgText || b.eventOrigin(evt) != nil {
		return false
	}
	if _, own := b.ids.parsePuppet(evt.Sender); own || evt.Sender == b.botUserID() {
		return false
	}
	body := strings.TrimSpace(msg.Body)
	manage := false
	// A linked room is never a management room: skip the lookup on the
	// path every bridged message takes.
	if !b.linked(evt.RoomID) {
		u, err := b.puppets.UserByManagementRoom(ctx, b.network, evt.RoomID)
		manage = err == nil && u != nil && u.UserID == evt.Sender
	}
	switch {
	case hasPrefixWord(body, b.prefix):
		body = strings.TrimSpace(body[len(b.prefix):])
	case manage:
	default:
		return false
	}
	words := strings.Fields(body)
	if len(words) == 0 {
		words = []string{"help"}
	}
	call := &commandCall{evt: evt, user: evt.Sender, level: b.perms.of(evt.Sender), args: words[1:], room: evt.RoomID, manage: manage}
	reply := b.runCommand(ctx, strings.ToLower(words[0]), call)
	b.reply(ctx, evt, reply)
	return true
}

// hasPrefixWord reports whether body starts with prefix as a whole word.
func hasPrefixWord(body, prefix string) bool {
	if !strings.HasPrefix(strings.ToLower(body), strings.ToLower(prefix)) {
		return false
	}
	rest := body[len(prefix):]
	return rest == "" || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\n'
}

// runCommand finds and runs a command and returns the reply: its answer, or
// a reason it did not run. Every command answers.
func (b *Bridge) runCommand(ctx context.Context, name string, call *commandCall) string {
	log := b.log.With(slog.String("command", name), slog.String("user_id", string(call.user)))
	if call.level < levelRelay {
		return "You are not allowed to use this bridge."
	}
	var err error
	if call.portals, err = b.portals.ByRoom(ctx, b.network, call.room); err != nil {
		log.Error("look up portals", slog.Any("error", err))
		return "Something went wrong; try again later."
	}
	for _, c := range b.commands() {
		if c.name != name {
			continue
		}
		if call.level < c.need {
			return fmt.Sprintf("`%s` needs the %s permission; you have %s.", name, c.need, call.level)
		}
		reply, err := c.run(ctx, call)
		if err != nil {
			log.Info("command failed", slog.Any("error", err))
			return err.Error()
		}
		return reply
	}
	if cmdr, ok := b.conn.(connectors.Commander); ok {
		for _, c := range cmdr.Commands() {
			if c.Name != name {
				continue
			}
			if call.level < levelUser {
				return fmt.Sprintf("`%s` needs the user permission.", name)
			}
			if c.Sensitive {
				// The arguments are secrets: take them out of the room's history.
				_, _ = b.bot.Redact(ctx, call.room, call.evt.ID, "credentials", appservice.SendOptions{})
				if !call.manage {
					return fmt.Sprintf("send `%s` in your management room (a direct chat with me), never in a shared room; change that password now if it was real", name)
				}
			}
			user, err := b.matrixUser(ctx, call.user, call.room)
			if err != nil {
				return "Something went wrong; try again later."
			}
			cc := &connectors.CommandCall{User: user, Args: call.args, Room: call.room, Admin: call.level >= levelAdmin}
			if len(call.portals) == 1 {
				cc.Chat = connectors.PortalID(call.portals[0].RemoteID)
			}
			reply, err := c.Run(ctx, cc)
			if err != nil {
				return err.Error()
			}
			return reply
		}
	}
	return fmt.Sprintf("Unknown command `%s`. Send `%s help` for the list.", name, b.prefix)
}

func (b *Bridge) cmdHelp(_ context.Context, call *commandCall) (string, error) {
	var lines []string
	prefix := b.prefix + " "
	if call.manage {
		prefix = ""
	}
	add := func(name, args, help string) {
		use := strings.TrimSpace(prefix + name + " " + args)
		lines = append(lines, fmt.Sprintf("- `%s`: %s", use, help))
	}
	for _, c := range b.commands() {
		if c.name == "login" || c.name == "logout" {
			if _, ok := b.conn.(connectors.LoginHandler); !ok {
				continue
			}
		}
		add(c.name, c.args, c.help)
	}
	if cmdr, ok := b.conn.(connectors.Commander); ok {
		for _, c := range cmdr.Commands() {
			add(c.Name, c.Args, c.Help)
		}
	}
	return fmt.Sprintf("%s bridge commands:\n%s", b.display, strings.Join(lines, "\n")), nil
}

func (b *Bridge) cmdList(ctx context.Context, _ *commandCall) (string, error) {
	all, err := b.portals.All(ctx, b.network)
	if err != nil {
		return "", errors.New("could not read the bridged chats; try again later")
	}
	if len(all) == 0 {
		return "No chats are bridged yet.", nil
	}
	lines := make([]string, 0, len(all))
	for _, p := range all {
		kind := "portal"
		if p.Plumbed {
			kind = "linked room"
		}
		lines = append(lines, fmt.Sprintf("- %s → %s (%s)", p.RemoteID, p.RoomID, kind))
	}
	sort.Strings(lines)
	return fmt.Sprintf("%d bridged chats:\n%s", len(all), strings.Join(lines, "\n")), nil
}

// requireRoomPower checks that the caller may change the room's bridging:
// power level 50 in the room, or the bridge's admin permission.
func (b *Bridge) requireRoomPower(ctx context.Context, call *commandCall) error {
	if call.level >= levelAdmin {
		return nil
	}
	pl, err := b.bot.PowerLevels(ctx, call.room)
	if err != nil {
		return errors.New("could not read this room's power levels; try again later")
	}
	if pl.GetUserLevel(call.user) < 50 {
		return errors.New("you need power level 50 in this room to change its bridging")
	}
	return nil
}

func (b *Bridge) parseChat(args []string) (connectors.PortalID, error) {
	if p, ok := b.conn.(connectors.ChatRefParser); ok {
		return p.ParseChatRef(args)
	}
	if len(args) != 1 {
		return "", fmt.Errorf("give exactly one chat: `%s link <chat>`", b.prefix)
	}
	return connectors.PortalID(args[0]), nil
}

func (b *Bridge) cmdLink(ctx context.Context, call *commandCall) (string, error) {
	if call.manage {
		return "", errors.New("link works in the room to bridge: invite me there and send the command in it")
	}
	if len(call.args) == 0 {
		return "", fmt.Errorf("which chat? `%s link <chat>`", b.prefix)
	}
	if err := b.requireRoomPower(ctx, call); err != nil {
		return "", err
	}
	chat, err := b.parseChat(call.args)
	if err != nil {
		return "", err
	}
	info, err := b.conn.ChatInfo(ctx, chat)
	if errors.Is(err, connectors.ErrNotFound) {
		return "", fmt.Errorf("no chat %s on %s", chat, b.display)
	}
	if err != nil {
		return "", fmt.Errorf("could not look up %s: %v", chat, err)
	}
	if approver, ok := b.conn.(connectors.LinkApprover); ok {
		if p, err := b.portals.Get(ctx, b.network, string(chat)); err == nil && p != nil {
			return "", linkExistsError(chat, &portal.ExistsError{RoomID: p.RoomID}, call.room)
		}
		user, err := b.matrixUser(ctx, call.user, call.room)
		if err != nil {
			return "", errors.New("something went wrong; try again later")
		}
		b.background.Go(func() { b.linkWithConsent(approver, call, chat, info, user) })
		return fmt.Sprintf("Checking with %s whether this room may be bridged to %s (its people may need to consent); I will answer here.", b.display, chat), nil
	}
	return b.finishLink(ctx, call.room, chat, info)
}

// consentTimeout bounds the wait for a network's consent to a link.
const consentTimeout = 6 * time.Minute

// linkWithConsent waits for the network to approve a link, off the room's
// lane, then links and reports the result in reply to the command.
func (b *Bridge) linkWithConsent(approver connectors.LinkApprover, call *commandCall, chat connectors.PortalID, info *connectors.ChatInfo, user *connectors.MatrixUser) {
	ctx, cancel := context.WithTimeout(b.ctx, consentTimeout)
	defer cancel()
	answer := ""
	if err := approver.ApproveLink(ctx, chat, user, call.room); err != nil {
		if b.ctx.Err() != nil {
			return
		}
		answer = fmt.Sprintf("Not bridged to %s: %v", chat, err)
	} else if reply, err := b.finishLink(ctx, call.room, chat, info); err != nil {
		answer = err.Error()
	} else {
		answer = reply
	}
	b.reply(b.ctx, call.evt, answer)
}

// finishLink links room to chat and says how it went.
func (b *Bridge) finishLink(ctx context.Context, room id.RoomID, chat connectors.PortalID, info *connectors.ChatInfo) (string, error) {
	_, err := b.linkRoom(ctx, room, chat, info)
	if errors.Is(err, errNoStatePower) {
		return fmt.Sprintf("This room is now bridged to %s on %s. Note: %v.", chat, b.display, err), nil
	}
	if err != nil {
		var exists *portal.ExistsError
		if errors.As(err, &exists) {
			return "", linkExistsError(chat, exists, room)
		}
		return "", fmt.Errorf("could not link %s: %v", chat, err)
	}
	return fmt.Sprintf("This room is now bridged to %s on %s.", chat, b.display), nil
}

// linkExistsError explains why a chat that already has a portal cannot be
// linked to room.
func linkExistsError(chat connectors.PortalID, exists *portal.ExistsError, room id.RoomID) error {
	if exists.RoomID == room {
		return fmt.Errorf("this room is already bridged to %s", chat)
	}
	return fmt.Errorf("%s is already bridged to another room, %s; unlink it there first", chat, exists.RoomID)
}

func (b *Bridge) cmdUnlink(ctx context.Context, call *commandCall) (string, error) {
	if len(call.portals) == 0 {
		return "", errors.New("this room is not bridged")
	}
	if err := b.requireRoomPower(ctx, call); err != nil {
		return "", err
	}
	p := call.portals[0]
	if len(call.portals) > 1 || len(call.args) > 0 {
		chat, err := b.parseChat(call.args)
		if err != nil {
			return "", fmt.Errorf("this room is bridged to several chats; say which: %v", err)
		}
		p = nil
		for _, q := range call.portals {
			if q.RemoteID == string(chat) {
				p = q
			}
		}
		if p == nil {
			return "", fmt.Errorf("this room is not bridged to %s", chat)
		}
	}
	if err := b.unlinkRoom(ctx, p); err != nil {
		return "", fmt.Errorf("could not unlink %s: %v", p.RemoteID, err)
	}
	return fmt.Sprintf("This room is no longer bridged to %s.", p.RemoteID), nil
}

func (b *Bridge) cmdRelay(ctx context.Context, call *commandCall) (string, error) {
	if len(call.portals) == 0 {
		return "", errors.New("this room is not bridged")
	}
	if len(call.args) != 1 || (call.args[0] != "on" && call.args[0] != "off") {
		return "", fmt.Errorf("say `%s relay on` or `%s relay off`", b.prefix, b.prefix)
	}
	if err := b.requireRoomPower(ctx, call); err != nil {
		return "", err
	}
	on := call.args[0] == "on"
	for _, p := range call.portals {
		p.Relay = on
		if err := b.portals.Update(ctx, p); err != nil {
			return "", fmt.Errorf("could not change relaying: %v", err)
		}
	}
	if on {
		return "Relaying is on: messages of Matrix users without a login are sent by the bridge with their name.", nil
	}
	return "Relaying is off: only logged-in Matrix users reach the network.", nil
}

func (b *Bridge) cmdLogin(ctx context.Context, call *commandCall) (string, error) {
	lh, ok := b.conn.(connectors.LoginHandler)
	if !ok {
		return "", fmt.Errorf("%s has no logins: your identity there is set up for you", b.display)
	}
	if !call.manage {
		// The credentials are in the room's history: take them out.
		_, _ = b.bot.Redact(ctx, call.room, call.evt.ID, "credentials", appservice.SendOptions{})
		return "", errors.New("send `login` in your management room (a direct chat with me), never in a shared room; change that password now if it was real")
	}
	user, err := b.matrixUser(ctx, call.user, call.room)
	if err != nil {
		return "", errors.New("something went wrong; try again later")
	}
	login, err := lh.Login(ctx, user, call.args)
	// The message holds credentials: redact it whatever the outcome.
	_, _ = b.bot.Redact(ctx, call.room, call.evt.ID, "credentials", appservice.SendOptions{})
	if err != nil {
		return "", fmt.Errorf("login failed: %v", err)
	}
	login.UserID = call.user
	if err := (*host)(b).SaveLogin(ctx, login); err != nil {
		return "", errors.New("logged in, but the login could not be stored; try again")
	}
	name := login.Name
	if name == "" {
		name = string(login.ID)
	}
	return fmt.Sprintf("Logged in to %s as %s.", b.display, name), nil
}

func (b *Bridge) cmdLogout(ctx context.Context, call *commandCall) (string, error) {
	lh, ok := b.conn.(connectors.LoginHandler)
	if !ok {
		return "", fmt.Errorf("%s has no logins", b.display)
	}
	ls, err := b.puppets.UserLogins(ctx, b.network, call.user)
	if err != nil {
		return "", errors.New("something went wrong; try again later")
	}
	if len(ls) == 0 {
		return "You are not logged in.", nil
	}
	for _, l := range toConnectorLogins(ls) {
		if err := lh.Logout(ctx, l); err != nil {
			b.log.Info("network logout", slog.Any("error", err))
		}
		if err := b.puppets.DeleteLogin(ctx, b.network, call.user, string(l.ID)); err != nil {
			return "", errors.New("could not forget the login; try again")
		}
	}
	return fmt.Sprintf("Logged out of %s.", b.display), nil
}

func (b *Bridge) cmdStatus(ctx context.Context, call *commandCall) (string, error) {
	st := b.Status(ctx)
	bridgeState := "running"
	for _, c := range st.Connections {
		if c.User == "" {
			bridgeState = describeState(connectors.State{Event: connectors.StateEvent(c.State), Message: c.Message})
		}
	}
	lines := []string{fmt.Sprintf("%s bridge: %s; %d bridged chats; %d events waiting for the network, %d for Matrix.",
		b.display, bridgeState, st.Portals, st.QueuedFromMatrix, st.QueuedFromNetwork)}
	mine := b.states.userStates(call.user)
	ls, _ := b.puppets.UserLogins(ctx, b.network, call.user)
	switch {
	case len(mine) > 0:
		for _, c := range mine {
			lines = append(lines, fmt.Sprintf("Your login %s: %s", c.Login,
				describeState(connectors.State{Event: connectors.StateEvent(c.State), Message: c.Message})))
		}
	case len(ls) > 0:
		for _, l := range ls {
			lines = append(lines, fmt.Sprintf("Your login %s: %s", l.LoginID, loginStateText(l)))
		}
	default:
		lines = append(lines, "You have no login on this network.")
	}
	return strings.Join(lines, "\n"), nil
}

func loginStateText(l *puppet.Login) string {
	if l.State == "" {
		return "not connected yet"
	}
	return describeState(connectors.State{Event: connectors.StateEvent(l.State), Message: l.StateMessage})
}

// notice posts a notice from the bot in room.
func (b *Bridge) notice(ctx context.Context, room id.RoomID, text string) {
	content := &event.MessageEventContent{MsgType: event.MsgNotice, Body: text, Mentions: &event.Mentions{}}
	if _, err := b.bot.SendMessage(ctx, room, event.EventMessage, content, appservice.SendOptions{}); err != nil {
		b.log.Warn("send notice", slog.String("room_id", string(room)), slog.Any("error", err))
	}
}

// reply answers a command with a notice in reply to it, so the answer is
// found next to the question even in a busy room.
func (b *Bridge) reply(ctx context.Context, to *event.Event, text string) {
	content := &event.MessageEventContent{MsgType: event.MsgNotice, Body: text, Mentions: &event.Mentions{}}
	content.RelatesTo = (&event.RelatesTo{}).SetReplyTo(to.ID)
	if _, err := b.bot.SendMessage(ctx, to.RoomID, event.EventMessage, content, appservice.SendOptions{}); err != nil {
		b.log.Warn("send command reply", slog.String("room_id", string(to.RoomID)), slog.Any("error", err))
	}
}

// noticeOnce posts a notice about user in room once per bridge run, so a
// user who keeps talking is told once, not at every message.
func (b *Bridge) noticeOnce(ctx context.Context, room id.RoomID, user id.UserID, text string) {
	key := string(room) + "\x00" + string(user)
	b.noticeMu.Lock()
	seen := b.noticedUser[key]
	b.noticedUser[key] = true
	b.noticeMu.Unlock()
	if !seen {
		b.notice(ctx, room, text)
	}
}

// notifyUser posts a notice in user's management room, if they have one.
func (b *Bridge) notifyUser(ctx context.Context, user id.UserID, text string) {
	u, err := b.puppets.User(ctx, b.network, user)
	if err != nil || u == nil || u.ManagementRoom == "" {
		return
	}
	b.notice(ctx, u.ManagementRoom, text)
}

func (b *Bridge) setManagementRoom(ctx context.Context, user id.UserID, room id.RoomID) {
	if err := b.puppets.PutUser(ctx, &puppet.User{Network: b.network, UserID: user, ManagementRoom: room}); err != nil {
		b.log.Warn("store management room", slog.Any("error", err))
	}
}
