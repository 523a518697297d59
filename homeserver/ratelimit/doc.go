// Package ratelimit is the homeserver's per-client limiter for the endpoints
// that guess passwords or create accounts (/login, /register): a token
// bucket per client address, answered with 429 M_LIMIT_EXCEEDED, a
// retry_after_ms field and a Retry-After header when it runs dry.
//
// The client address is the connection's peer. X-Forwarded-For is believed
// only when the peer is a loopback address (a reverse proxy on the same
// host); anyone else could write any address into it and so escape the
// limit. IPv6 clients are limited per /64, the block one subscriber usually
// holds, so that hopping addresses inside it does not help.
//
// A nil *Limiter allows everything: that is how a disabled limit
// (rate_limits.enabled: false) is passed around.
//
// It may import homeserver/mxhttp. It must not import other homeserver
// packages, bridge/, portal/, puppet/, appservice/ or connectors/.
package ratelimit
