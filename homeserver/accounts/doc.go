// Package accounts is the built-in homeserver's account layer: users and
// their passwords, devices and access tokens, and the account-level parts of
// the Client-Server API that hang off a user rather than a room — login,
// logout and registration with User-Interactive Authentication, whoami,
// password change, devices, capabilities, profiles, account data, filters
// and push rules.
//
// Every other part of the homeserver authenticates requests through
// Accounts.Authenticate (or the RequireAuth middleware), which answers from
// an in-memory cache of token hashes so that the common request touches no
// database. Access tokens exist in plain text only in the response that
// hands them out: the database stores their SHA-256, and they are never
// logged. Passwords are stored as bcrypt hashes.
//
// Account data is a stream with one position counter for the whole server;
// the sync API reads it with AccountDataSince and is woken by the function
// given to SetNotifier. Push rule changes appear in that stream as the
// m.push_rules event, as the spec asks.
//
// It may import homeserver/mxhttp, homeserver/ratelimit and internal/. It
// must not import the homeserver package itself, bridge/, portal/, puppet/,
// appservice/ or connectors/.
package accounts
