// Package homeserver is Switchboard's built-in Matrix homeserver. It wires
// its parts together and serves what belongs to the server as a whole:
// /_matrix/client/versions, /.well-known/matrix/client, the signed server key
// at /_matrix/key/v2/server, and M_UNRECOGNIZED for Matrix paths it does not
// offer.
//
// The parts live in subpackages: accounts (users, devices, tokens, profiles,
// account data, filters, push rules), rooms (the room engine: PDUs, auth,
// state, sync), media (the media repository), appservices (the Application
// Service API), mxhttp (what every handler shares) and ratelimit. Federation
// is not built yet.
//
// It may import registration/ and internal/. It must not import bridge/,
// portal/, puppet/, appservice/ or connectors/.
package homeserver
