// Package mxhttp holds what every HTTP handler of the built-in homeserver
// shares: Matrix error responses (M_* codes via mautrix's RespError), bounded
// JSON request bodies that tell M_NOT_JSON from M_BAD_JSON and M_TOO_LARGE,
// the authenticated identity a request carries in its context, access-token
// extraction, and the CORS headers the spec requires.
//
// It must not import other homeserver packages, bridge/, portal/, puppet/,
// appservice/ or connectors/.
package mxhttp
