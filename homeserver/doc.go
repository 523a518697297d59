// Package homeserver is Switchboard's built-in Matrix homeserver: the
// Client-Server API that ordinary Matrix clients use, later the Server-Server
// API and the Application Service API that hosts the bridges.
//
// So far it owns its database schema (the hs_version table and hs_* tables,
// apart from the bridge's), binds the database to one server_name, generates
// the server's ed25519 signing key on first start, and answers
// GET /_matrix/client/versions so clients can find it. Every other Matrix
// path answers 404 M_UNRECOGNIZED until it is built.
//
// It may import registration/ and internal/. It must not import bridge/,
// portal/, puppet/, appservice/ or connectors/.
package homeserver
