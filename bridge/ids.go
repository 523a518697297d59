package bridge

import (
	"strings"

	"maunium.net/go/mautrix/id"

	"switchboard/connectors"
)

// idMapper turns remote ids into Matrix ids and back: the connector's own
// shapes when it implements connectors.IDMapper, else
// @<network>_<escaped remote user> and #<network>_<escaped chat>.
type idMapper struct {
	prefix     string // "<network>_"
	serverName string
	custom     connectors.IDMapper
}

func newIDMapper(network, serverName string, conn connectors.Connector) idMapper {
	m := idMapper{prefix: network + "_", serverName: serverName}
	m.custom, _ = conn.(connectors.IDMapper)
	return m
}

func (m idMapper) puppetLocalpart(user connectors.RemoteUserID) string {
	if m.custom != nil {
		return m.custom.PuppetLocalpart(user)
	}
	return m.prefix + connectors.EscapeLocalpart(string(user))
}

func (m idMapper) puppetUserID(user connectors.RemoteUserID) id.UserID {
	return id.NewUserID(m.puppetLocalpart(user), m.serverName)
}

// parsePuppet returns the remote user behind one of this network's puppets.
func (m idMapper) parsePuppet(userID id.UserID) (connectors.RemoteUserID, bool) {
	localpart, server, err := userID.Parse()
	if err != nil || server != m.serverName || !strings.HasPrefix(localpart, m.prefix) {
		return "", false
	}
	if m.custom != nil {
		return m.custom.ParsePuppetLocalpart(localpart)
	}
	raw, ok := canonical(localpart[len(m.prefix):])
	if !ok {
		return "", false
	}
	return connectors.RemoteUserID(raw), true
}

func (m idMapper) aliasLocalpart(chat connectors.PortalID) string {
	if m.custom != nil {
		return m.custom.AliasLocalpart(chat)
	}
	return m.prefix + connectors.EscapeLocalpart(string(chat))
}

func (m idMapper) alias(chat connectors.PortalID) id.RoomAlias {
	return id.NewRoomAlias(m.aliasLocalpart(chat), m.serverName)
}

// parseAlias returns the chat a portal alias names.
func (m idMapper) parseAlias(alias id.RoomAlias) (connectors.PortalID, bool) {
	s, suffix := string(alias), ":"+m.serverName
	if !strings.HasPrefix(s, "#") || !strings.HasSuffix(s, suffix) {
		return "", false
	}
	localpart := s[1 : len(s)-len(suffix)]
	if !strings.HasPrefix(localpart, m.prefix) {
		return "", false
	}
	if m.custom != nil {
		return m.custom.ParseAliasLocalpart(localpart)
	}
	raw, ok := canonical(localpart[len(m.prefix):])
	if !ok {
		return "", false
	}
	return connectors.PortalID(raw), true
}

// canonical unescapes an escaped id, accepting only the one form
// EscapeLocalpart writes: otherwise many Matrix ids (=61lice, alice) would
// name one remote id, and an alias query could hang any number of variant
// aliases on one portal.
func canonical(escaped string) (string, bool) {
	raw, ok := connectors.UnescapeLocalpart(escaped)
	if !ok || raw == "" || connectors.EscapeLocalpart(raw) != escaped {
		return "", false
	}
	return raw, true
}
