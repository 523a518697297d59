// Package connectors will hold the contract every network implements (a small
// required Connector interface plus optional capabilities found by type
// assertion) and the Host interface through which a connector hands remote
// events to the bridge.
//
// Not yet: the interface is defined by the bridge core. Until then no network
// can be bridged.
//
// It must not import bridge/, portal/, puppet/ or homeserver/; each network's
// folder below imports this package and its own network library only.
package connectors
