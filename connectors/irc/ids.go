package irc

import (
	"strings"

	"github.com/lrstanley/girc"
	"maunium.net/go/mautrix/id"

	"switchboard/connectors"
)

// Ids. A channel's PortalID is "<network>/<#channel>"; a private chat's is
// "<network>/<nick>/<Matrix user id>", the IRC user and the Matrix user it
// is with. A RemoteUserID is "<network>/<nick>". Nicks and channels are
// folded: IRC compares them without case.

// fold is IRC's own lower case (RFC 1459 case mapping, as girc and most
// servers use): "Bob[m]" and "bob{m}" are one nick.
func fold(s string) string { return girc.ToRFC1459(s) }

func channelChat(network, channel string) connectors.PortalID {
	return connectors.PortalID(network + "/" + fold(channel))
}

func directChat(network, nick string, user id.UserID) connectors.PortalID {
	return connectors.PortalID(network + "/" + fold(nick) + "/" + string(user))
}

func remoteUser(network, nick string) connectors.RemoteUserID {
	return connectors.RemoteUserID(network + "/" + fold(nick))
}

// chatRef is a parsed PortalID.
type chatRef struct {
	network string
	channel string    // set for a channel
	nick    string    // set for a private chat
	user    id.UserID // the Matrix side of a private chat
}

func parseChat(chat connectors.PortalID) (chatRef, bool) {
	network, rest, ok := strings.Cut(string(chat), "/")
	if !ok || rest == "" {
		return chatRef{}, false
	}
	if isChannelPrefix(rest[0]) {
		return chatRef{network: network, channel: rest}, validChannel(rest)
	}
	nick, user, ok := strings.Cut(rest, "/")
	if !ok || !foldedNickPattern.MatchString(nick) || !strings.HasPrefix(user, "@") {
		return chatRef{}, false
	}
	return chatRef{network: network, nick: nick, user: id.UserID(user)}, true
}

func parseRemoteUser(u connectors.RemoteUserID) (network, nick string, ok bool) {
	network, nick, ok = strings.Cut(string(u), "/")
	return network, nick, ok && foldedNickPattern.MatchString(nick)
}

// PuppetLocalpart is irc_<network>_<nick>, the nick escaped.
func (c *Connector) PuppetLocalpart(user connectors.RemoteUserID) string {
	network, nick, _ := strings.Cut(string(user), "/")
	return "irc_" + network + "_" + connectors.EscapeLocalpart(nick)
}

// ParsePuppetLocalpart reverses PuppetLocalpart.
func (c *Connector) ParsePuppetLocalpart(localpart string) (connectors.RemoteUserID, bool) {
	network, escaped, ok := c.cutPrefix(localpart)
	if !ok {
		return "", false
	}
	nick, ok := connectors.UnescapeLocalpart(escaped)
	if !ok || connectors.EscapeLocalpart(nick) != escaped || !foldedNickPattern.MatchString(nick) || fold(nick) != nick {
		return "", false
	}
	return remoteUser(network, nick), true
}

// AliasLocalpart is irc_<network>_<#channel>, the channel's # kept.
func (c *Connector) AliasLocalpart(chat connectors.PortalID) string {
	ref, _ := parseChat(chat)
	return "irc_" + ref.network + "_" + fold(ref.channel)
}

// ParseAliasLocalpart reverses AliasLocalpart.
func (c *Connector) ParseAliasLocalpart(localpart string) (connectors.PortalID, bool) {
	network, channel, ok := c.cutPrefix(localpart)
	if !ok || !validChannel(channel) || channel != fold(channel) {
		return "", false
	}
	return channelChat(network, channel), true
}

// cutPrefix splits "irc_<network>_<rest>" for a configured network.
func (c *Connector) cutPrefix(localpart string) (network, rest string, ok bool) {
	after, ok := strings.CutPrefix(localpart, "irc_")
	if !ok {
		return "", "", false
	}
	network, rest, ok = strings.Cut(after, "_")
	if !ok || c.networks[network] == nil || rest == "" {
		return "", "", false
	}
	return network, rest, true
}
