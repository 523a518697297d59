// Package appservices is the built-in homeserver's side of the Matrix
// Application Service API: it loads the registration files listed in the
// config and the registrations handed over in memory (the bridges of
// `switchboard serve`), authenticates appservices by as_token (with user_id masquerading
// inside their namespaces), keeps exclusive namespaces to their owners,
// answers /appservice/{id}/ping, asks appservices about unknown users and
// aliases in their namespaces, and pushes every event they are interested in
// as transactions.
//
// Delivery is at least once and in order: the event stream is already
// persisted, and each appservice's position in it and its transaction in
// flight (id and events) are stored, so a transaction is retried with the
// same id and events until the appservice answers 2xx, across outages and
// restarts.
//
// It may import registration/, internal/ and other homeserver packages. It
// must not import bridge/, portal/, puppet/, appservice/ or connectors/.
package appservices
