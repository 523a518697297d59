package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"switchboard/connectors"
	"switchboard/internal/config"
)

// builtin is one network whose connector is built into this binary.
type builtin struct {
	// newSection returns a pointer to the network's zero config section
	// (bridges.<network>), which embeds connectors.Settings inline.
	newSection func() connectors.Sectioned
	// build makes the connector a decoded, validated section describes.
	build func(section connectors.Sectioned) (connectors.Connector, error)
}

// builtinConnectors maps each network name to its connector: each
// connectors_<network>.go registers one. connectors_testnet.go adds the
// test network to binaries built with -tags testnet (the tests' binary,
// never `make build`).
var builtinConnectors = map[string]builtin{}

// registerConnector adds a network to builtinConnectors, at init. A name
// registered twice is a programmer's error.
func registerConnector(name string, c builtin) {
	if _, dup := builtinConnectors[name]; dup {
		panic("connector " + name + " registered twice")
	}
	builtinConnectors[name] = c
}

// connectorSections is what config.Options.Bridges wants: each built-in
// network mapped to a constructor of its zero section.
func connectorSections() map[string]func() any {
	out := make(map[string]func() any, len(builtinConnectors))
	for name, c := range builtinConnectors {
		out[name] = func() any { return c.newSection() }
	}
	return out
}

// knownNetworks lists the built-in networks, sorted.
func knownNetworks() []string {
	return slices.Sorted(maps.Keys(builtinConnectors))
}

// requireConnector returns network's connector, or an error saying which
// networks this binary can bridge.
func requireConnector(network string) (builtin, error) {
	if c, ok := builtinConnectors[network]; ok {
		return c, nil
	}
	if len(builtinConnectors) == 0 {
		return builtin{}, fmt.Errorf("--network %s: no connector for this network is built into Switchboard yet", network)
	}
	return builtin{}, fmt.Errorf("--network %s: unknown network; use one of %s", network, strings.Join(knownNetworks(), ", "))
}

// section decodes bridges.<network> from cfg (already checked against the
// section's schema and validated when cfg was loaded).
func (c builtin) section(cfg *config.Config, network string) (connectors.Sectioned, error) {
	s := c.newSection()
	if err := cfg.Bridge(network, s); err != nil {
		return nil, err
	}
	return s, nil
}
