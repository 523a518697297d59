// Package irctest runs real IRC servers for the tests of Switchboard's IRC
// connector and gives those tests a raw IRC client to watch them with.
//
// Start runs InspIRCd 3 (Debian package inspircd) or ngIRCd 26 (ngircd) as
// a foreground child process on a free 127.0.0.1 port, with its
// configuration, log and pid file in the test's temporary directory, and
// waits until it registers a client. The server is killed at test cleanup;
// on Linux the kernel also kills it should the test binary die first
// (a timeout, a panic), except for ngIRCd started as root, which switches
// to user "nobody" and so loses that protection. A missing binary skips the
// test with the command that installs it, or fails it when CI=true.
//
// Dial connects a Client: it negotiates the IRCv3 capabilities asked for,
// registers, answers PING by itself and buffers every line, so a test
// states what it expects with Expect and a matcher (Privmsg, Joined,
// Command, ...) instead of sleeping. ParseLine parses IRC lines, tags
// included.
//
// # What the servers do here
//
// Found by running them on Debian 12 (InspIRCd 3.15.0, ngIRCd 26.1) with
// the configurations this package writes, and by reading their sources:
//
// InspIRCd offers in CAP LS: account-notify account-tag away-notify batch
// chghost echo-message extended-join inspircd.org/poison
// inspircd.org/standard-replies labeled-response message-tags server-time.
// msgid is not a capability: with message-tags every message carries a
// msgid tag, and the echo of a PRIVMSG has the same msgid as the copies the
// others get, plus an inspircd.org/echo tag. Labels (labeled-response) are
// only sent to clients that also enabled batch. Requesting
// inspircd.org/poison disconnects the client, a trap for clients that
// request everything offered. The sasl module refuses to load without a
// services server to forward to, so there is no SASL. Client-only tags
// (+draft/reply, ...) on PRIVMSG and TAGMSG reach clients with
// message-tags. NICKLEN=30, CASEMAPPING=rfc1459, PREFIX=(ov)@+.
//
// InspIRCd completes a registration only on its once-a-second housekeeping
// tick, so Dial takes up to a second against it (and about one second for
// any number of clients dialled at once). Its flood control is fakelag
// plus a penalty threshold; both are out of reach without Options.Fakelag.
// A separate limit remains: it reads client sockets edge-triggered and
// retries after a full read only on a later pass of its loop, which can
// wait up to a second when nothing else happens. So a burst larger than two
// reads, written at once, may stall: 20000 PRIVMSGs (900 KB) in one write
// took 1 s when the sender was the only active client, 43 ms while another
// client was reading them. Reads are 64 KiB here, the most it allows; with
// its default of 10 KiB, 2000 PRIVMSGs took 6 seconds.
//
// ngIRCd offers only multi-prefix in CAP LS: no message tags, no
// echo-message, so it is the server for testing fallbacks. Its flood
// control lets a client run 3 commands a second and adds a 1-second
// penalty beyond that. Unlike what is commonly assumed, it can be turned
// off: [Limits] MaxPenaltyTime = 0, used here without Options.Fakelag, caps
// every penalty under 10 seconds at zero (the 10-second penalties for
// password guessing stay). User mode +F, which only opers can set, also
// relaxes it for one client.
// With it, 5000 PRIVMSGs sent at once are relayed in about 10 ms. ngIRCd
// listens with a hard-coded backlog of 10: open many connections at once
// and some are reset (see Server.ListenBacklog). Its source limits a
// client's unsent output to 32 KiB before dropping it ("Write buffer space
// exhausted"), so a test client must keep reading. Users without ident
// get a "~" before their user name. NICKLEN=30 (configured),
// CASEMAPPING=ascii, PREFIX=(qaohv)~&@%+.
//
// On both, the first user to join a channel becomes its operator, and
// neither does any DNS or ident lookup.
//
// This package must not import other Switchboard packages: it is a
// standard-library-only test peer that the connector's tests, the bridge's
// end-to-end tests and benchmarks can all use.
package irctest
