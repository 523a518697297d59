// Package appservice is the bridge's side of the Matrix Application Service
// API. Everything the bridge does on Matrix, and everything Matrix tells the
// bridge, passes through it.
//
// # Acting on Matrix
//
// [Matrix] is a homeserver as one appservice sees it, and [Intent] is one
// user of that appservice (the bot or a puppet) acting on it: send messages
// and state, create rooms, join, invite, upload and download media, set a
// profile, read state. The engine, portals and puppets use only these two
// interfaces, so the same code runs against any homeserver.
//
// [NewHTTP] implements them over the Client-Server API with the as_token and
// ?user_id= masquerading, on top of mautrix-go's appservice package. It adds
// what mautrix leaves out:
//
//   - Namespace checks: an intent for a user the registration does not cover
//     fails every call with [ErrNotInNamespace] instead of letting the
//     homeserver refuse it later.
//   - Rate limits: a 429 or M_LIMIT_EXCEEDED answer is waited out (the
//     server's retry_after_ms or Retry-After, 1s if it gives neither, at most
//     60s per wait) and the call is repeated until it succeeds or its context
//     ends. Nothing is dropped. Network errors and every other error status
//     are returned at once: the engine's delivery queue owns retries, so
//     that it can keep order and report what cannot be delivered.
//   - Race-free registration and join caching: each intent registers its
//     user once, joins a room before acting in it (asking the bot to invite
//     it when the join is refused), and rejoins once when the cache turns
//     out stale (a kicked puppet).
//   - Errors that callers can branch on: [ErrNotFound], [ErrAliasTaken],
//     [ErrTooLarge], [IsForbidden], all wrapping the mautrix.HTTPError.
//
// The built-in homeserver will provide an in-process implementation of the
// same interfaces; nothing outside this package may depend on which one it
// has.
//
// # Receiving from Matrix
//
// [NewReceiver] serves the endpoints a homeserver calls: transactions, user
// and alias queries, and ping, on the /_matrix/app/v1 paths and the legacy
// unprefixed ones. It checks the hs_token in constant time, bounds and
// validates bodies, and hands each transaction to a [Handler], which stores
// its events and deduplicates it by id in one database transaction before
// the homeserver gets its 200. The receiver never runs the handler twice at
// once for one transaction id. It replaces mautrix's receiver; see
// receiver.go for why.
//
// # Imports
//
// This package may import registration/ and internal/. It must not import
// homeserver/, bridge/, portal/, puppet/ or connectors/: the bridge reaches
// every homeserver, the built-in one included, through this API only.
package appservice
