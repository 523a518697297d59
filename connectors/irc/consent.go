package irc

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/lrstanley/girc"
	"maunium.net/go/mautrix/id"

	"switchboard/connectors"
	"switchboard/connectors/irc/ircfmt"
)

// consentWindow is how long the channel's operators have to answer.
const consentWindow = 5 * time.Minute

// consentAsk is one link waiting for an operator's answer.
type consentAsk struct {
	channel string
	ops     map[string]bool // folded nicks asked
	answer  chan consentAnswer
}

type consentAnswer struct {
	nick string
	yes  bool
}

// ApproveLink asks the channel's operators, in private messages from the
// bot, whether a Matrix room may be linked to their channel. The first yes
// links; a no, or silence for five minutes, refuses.
func (c *Connector) ApproveLink(ctx context.Context, chat connectors.PortalID, user *connectors.MatrixUser, room id.RoomID) error {
	n, ref, err := c.networkOf(chat)
	if err != nil {
		return err
	}
	if ref.channel == "" {
		return fmt.Errorf("only channels can be linked")
	}
	if n.cfg.LinkConsent == "none" {
		return nil
	}
	if err := n.bot.join(ctx, ref.channel, true); err != nil {
		return fmt.Errorf("the bot could not join %s: %v", ref.channel, err)
	}
	ops := n.operators(ref.channel)
	if len(ops) == 0 {
		return fmt.Errorf("%s has no operators to ask for consent; ask someone to op a user there, then try again", ref.channel)
	}
	ask := &consentAsk{channel: ref.channel, ops: map[string]bool{}, answer: make(chan consentAnswer, len(ops))}
	for _, op := range ops {
		ask.ops[fold(op)] = true
	}
	n.mu.Lock()
	n.consents = append(n.consents, ask)
	n.mu.Unlock()
	defer n.dropConsent(ask)
	who := string(user.ID)
	if user.DisplayName != "" {
		who = user.DisplayName + " (" + string(user.ID) + ")"
	}
	question := ircfmt.Clean(fmt.Sprintf("%s wants to bridge %s to the Matrix room %s. Reply yes to allow it or no to refuse (within %d minutes).",
		who, ref.channel, room, int(consentWindow/time.Minute)))
	for _, op := range ops {
		if err := n.bot.sendLine(ctx, &girc.Event{Command: girc.PRIVMSG, Params: []string{op, question}}); err != nil {
			return fmt.Errorf("could not ask the operators of %s: %v", ref.channel, err)
		}
	}
	n.log.Info("asked channel operators to consent to a link", slog.String("channel", ref.channel), slog.Int("operators", len(ops)))
	t := time.NewTimer(consentWindow)
	defer t.Stop()
	select {
	case a := <-ask.answer:
		if !a.yes {
			return fmt.Errorf("%s, an operator of %s, refused", a.nick, ref.channel)
		}
		return nil
	case <-t.C:
		return fmt.Errorf("no operator of %s answered within %d minutes", ref.channel, int(consentWindow/time.Minute))
	case <-ctx.Done():
		return ctx.Err()
	}
}

// operators are the channel's ops, other than the bridge's connections.
func (n *network) operators(channel string) []string {
	ch := n.bot.client.LookupChannel(channel)
	if ch == nil {
		return nil
	}
	var out []string
	for _, u := range ch.Admins(n.bot.client) {
		if _, own := n.isOwn(u.Nick); !own {
			out = append(out, u.Nick)
		}
	}
	return out
}

// answerConsent takes a private "yes" or "no" to the bot from an operator
// who was asked.
func (n *network) answerConsent(nick, text string) {
	word := strings.ToLower(strings.Trim(strings.TrimSpace(text), ".!"))
	if word != "yes" && word != "no" {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, ask := range n.consents {
		if ask.ops[fold(nick)] {
			select {
			case ask.answer <- consentAnswer{nick: nick, yes: word == "yes"}:
			default:
			}
			return
		}
	}
}

func (n *network) dropConsent(ask *consentAsk) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for i, a := range n.consents {
		if a == ask {
			n.consents = append(n.consents[:i], n.consents[i+1:]...)
			return
		}
	}
}
