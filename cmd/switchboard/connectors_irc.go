package main

import (
	"switchboard/connectors"
	"switchboard/connectors/irc"
)

// IRC (connectors/irc), configured under bridges.irc.
func init() {
	registerConnector("irc", builtin{
		newSection: func() connectors.Sectioned { return irc.NewSection() },
		build: func(s connectors.Sectioned) (connectors.Connector, error) {
			return irc.New(s.(*irc.Section))
		},
	})
}
