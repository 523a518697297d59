package registration

import (
	"crypto/rand"
	"encoding/hex"
	"regexp"

	"maunium.net/go/mautrix/appservice"
)

// GenerateOptions describe the registration a Switchboard bridge writes for
// its homeserver.
type GenerateOptions struct {
	// ID is the registration id. It must never change once the homeserver
	// has seen it, e.g. "irc".
	ID string
	// URL is where the homeserver pushes transactions, e.g.
	// "http://127.0.0.1:29330". Empty means no push (written as url: null).
	URL string
	// ServerName is the homeserver's server name, e.g. "example.org".
	ServerName string
	// SenderLocalpart is the bridge bot's localpart, e.g. "ircbot".
	SenderLocalpart string
	// Prefix starts every puppet localpart and alias the bridge creates,
	// e.g. "irc_" for @irc_alice:example.org and #irc_libera_#chan:example.org.
	// Empty claims no namespace besides the bot, rather than every user.
	Prefix string
	// Protocols are the third-party protocols offered, e.g. []string{"irc"}.
	Protocols []string
}

// Generate makes a new registration with fresh random tokens (64 hex
// characters each, from crypto/rand), rate limiting off, receive_ephemeral
// on, and exclusive namespaces for the bot and, when Prefix is set, for
// @<Prefix>.*:<server> users and #<Prefix>.*:<server> aliases.
//
// The regexes are anchored at both ends (^...$) with the server name quoted,
// so they mean the same on homeservers that anchor (Synapse) and those that
// search (Dendrite, conduwuit). The unstable MSC2409 key is written as well
// as receive_ephemeral, as mautrix bridges do, for homeservers that predate
// Matrix 1.13. Call Validate before relying on the result: Generate does not
// check the options.
func Generate(opts GenerateOptions) *Registration {
	rateLimited := false
	reg := appservice.Registration{
		ID:                  opts.ID,
		URL:                 opts.URL,
		AppToken:            newToken(),
		ServerToken:         newToken(),
		SenderLocalpart:     opts.SenderLocalpart,
		RateLimited:         &rateLimited,
		Protocols:           append([]string(nil), opts.Protocols...),
		EphemeralEvents:     true,
		SoruEphemeralEvents: true,
	}
	server := regexp.QuoteMeta(opts.ServerName)
	if opts.SenderLocalpart != "" {
		reg.Namespaces.UserIDs = append(reg.Namespaces.UserIDs, appservice.Namespace{
			Regex:     "^@" + regexp.QuoteMeta(opts.SenderLocalpart) + ":" + server + "$",
			Exclusive: true,
		})
	}
	if opts.Prefix != "" {
		prefix := regexp.QuoteMeta(opts.Prefix)
		reg.Namespaces.UserIDs = append(reg.Namespaces.UserIDs, appservice.Namespace{
			Regex:     "^@" + prefix + ".*:" + server + "$",
			Exclusive: true,
		})
		reg.Namespaces.RoomAliases = append(reg.Namespaces.RoomAliases, appservice.Namespace{
			Regex:     "^#" + prefix + ".*:" + server + "$",
			Exclusive: true,
		})
	}
	r := &Registration{Registration: reg, source: "generated", urlSet: true, nsSet: true}
	_ = r.compile()
	if opts.ServerName != "" {
		r.setServerName(opts.ServerName)
	}
	return r
}

// newToken returns 256 random bits as 64 hex characters. crypto/rand.Read
// never fails (the program aborts if the system's generator is unusable).
func newToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
