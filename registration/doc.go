// Package registration reads, writes and checks application service
// registration files: the YAML a homeserver is given for each appservice
// (the format Synapse, Dendrite and conduwuit load), and the one a Switchboard
// bridge generates for itself.
//
// Both halves of Switchboard use it. The built-in homeserver loads third-party
// files with [Load], checks them with [Registration.Validate], gathers them in
// a [Set] (which refuses shared ids and tokens), finds the appservice behind a
// request with [Set.ByASToken] and enforces namespace exclusivity with
// [Set.ExclusiveOwnerOfUser] and [Set.ExclusiveOwnerOfAlias]. The bridge side
// makes its own registration with [Generate] and writes it with
// [Registration.Save], or keeps one across restarts with [LoadOrGenerate]
// (same tokens, settings from the configuration). The registrations of the
// bridges that run inside `switchboard serve` reach the built-in homeserver
// in memory, which takes a [Registration.Clone] of each.
//
// [Registration] wraps mautrix-go's appservice.Registration, so a value can be
// handed to mautrix (as &r.Registration) unchanged, and adds what mautrix does
// not have: type-checked parsing with errors that name the file and key, the
// difference between a missing url and url: null, and compiled namespaces.
//
// # Namespace matching
//
// The spec calls namespace regexes "POSIX regular expressions" and says
// nothing about anchoring. Implementations differ: Synapse uses Python's
// re.match, which anchors at the start only; Dendrite and conduwuit search
// anywhere in the string. Registrations are written and tested against
// Synapse, so this package follows it: every regex is compiled as
// ^(?:regex), anchored at the start and not at the end. So "@irc_.*" matches
// "@irc_alice:example.org" but "irc_.*" does not, and "@irc_.*:example\.org"
// also matches "@irc_alice:example.org.evil" unless the regex ends in $.
// [Generate] writes regexes anchored at both ends, which mean the same thing
// on every homeserver.
//
// Regexes use Go's RE2 syntax, which covers what real registrations use; a
// regex relying on lookaround or backreferences is reported by Validate.
//
// An id is exclusively owned when any exclusive namespace matches it. (Synapse
// looks only at the first matching namespace, so a non-exclusive namespace
// listed before an exclusive one hides it; that ordering accident is not
// reproduced.) The sender_localpart user is always interested and exclusive,
// as in Synapse.
//
// This package must not import any other Switchboard package.
package registration
