// Package connectors is the contract between the bridge engine and a chat
// network. A network implements [Connector] (small and required) and any of
// the optional capability interfaces ([Editor], [Deleter], [Reactor],
// [Typer], [ReadMarker], [MemberSyncer], [TopicSetter], [Watcher], [LoginHandler],
// [Commander], [ChatRefParser], [IDMapper]); the bridge finds those by type
// assertion, so a connector pins what it implements with lines such as
//
//	var _ connectors.Editor = (*client)(nil)
//
// Remote events reach the bridge through the narrow [Host] the bridge hands
// to [Connector.Start]. Messages cross the boundary in one neutral form,
// [Message]: Matrix's own content model (a plain body, a sanitised HTML
// subset, a msgtype, mentions, relations and an attachment), so a connector
// only converts between its network and that form. Ids are typed
// ([PortalID], [RemoteUserID], [MessageID], [LoginID]); only the connector
// that made an id parses it, and a stored id keeps its format forever.
//
// The conformance suite every connector runs against itself lives in
// connectors/connectortest, with an in-memory network that exercises the
// engine.
//
// This package imports mautrix-go's id and event types only. It must not
// import bridge/, portal/, puppet/, appservice/ or homeserver/; each
// network's folder below imports this package and its own network library.
package connectors
