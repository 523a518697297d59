//go:build testnet

package main

import (
	"switchboard/connectors"
	"switchboard/connectors/connectortest"
)

// The test chat network (connectors/connectortest), under three names so a
// test can run several networks side by side. Only binaries built with
// -tags testnet have it: the CLI tests build one; `make build` does not.
func init() {
	for _, name := range []string{"testnet", "testa", "testb"} {
		registerConnector(name, builtin{
			newSection: func() connectors.Sectioned { return &connectortest.Section{} },
			build: func(s connectors.Sectioned) (connectors.Connector, error) {
				return connectortest.FromSection(name, s.(*connectortest.Section)), nil
			},
		})
	}
}
