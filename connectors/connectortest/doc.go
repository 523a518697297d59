// Package connectortest is test support for connectors and for the bridge
// engine: a small but real chat network, the connector that speaks to it,
// the conformance suite every connector runs against itself, and an
// in-memory [connectors.Host].
//
//   - [Network] is an in-process HTTP+JSON chat server: chats, users, logins,
//     messages with ids, edits, deletions, reactions, typing, read markers,
//     topics and membership, an event stream with server-side acks
//     (at-least-once delivery that resumes after the last ack), idempotency
//     keys, rate limits and simulated outages. Tests drive its remote side
//     with Go methods (Post, Edit, React, SetDown...) and observe what
//     arrived (Messages, WaitMessage...).
//   - [Connector] implements [connectors.Connector] and every optional
//     capability except IDMapper, speaking to a Network over loopback HTTP
//     only, so a bridge in a child process can use it as well as one in the
//     test process.
//   - [RunSuite] is the conformance suite: a connector for IRC, XMPP, Slack
//     or Discord passes a [Harness] with its own [Remote] and gets the same
//     checks as the test network.
//   - [FakeHost] records what a connector hands the bridge, deduplicating
//     events the way the bridge does.
//
// It is test support: everything lives in memory, nothing is tuned for
// speed, and a production build should not offer it (a test's child process
// may). Like every connector it imports the contract in connectors/
// and never bridge/, portal/, puppet/, appservice/ or homeserver/: the engine
// tests import this package, not the reverse.
package connectortest
