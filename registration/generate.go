package registration

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
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

// LoadOrGenerate returns the registration kept at path, made to say what
// Generate(opts) would write, and whether it wrote path.
//
// A file at path keeps its id, as_token and hs_token (any of them missing
// is generated): the homeserver has seen them, and a bridge that changed
// them would be locked out. Everything else (url, sender_localpart,
// namespaces, protocols, rate_limited, receive_ephemeral and the unstable
// keys) is replaced with what Generate(opts) writes, so changing the
// configuration updates the file; keys Switchboard does not know are
// dropped. Without a file at path, it is Generate(opts). Either way the
// result is validated against opts.ServerName and then saved with
// [Registration.Save] (atomically, mode 0600) if the file's content would
// change; an unchanged file is left alone, mode included. path's directory
// must exist.
//
// A file that cannot be parsed is an error naming it, which says to delete
// it to get a new registration with new tokens (which the homeserver must
// then be given). Note that the result's ID may differ from opts.ID: the
// file's id wins.
func LoadOrGenerate(path string, opts GenerateOptions) (*Registration, bool, error) {
	r := Generate(opts)
	r.source = path
	data, err := os.ReadFile(path)
	exists := err == nil
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, false, fmt.Errorf("registration %s: %w", path, unwrapPath(err))
	default:
		old, err := Parse(data, path)
		if err != nil {
			return nil, false, deleteToRegenerate(err)
		}
		if old.ID != "" {
			r.ID = old.ID
		}
		if old.AppToken != "" {
			r.AppToken = old.AppToken
		}
		if old.ServerToken != "" {
			r.ServerToken = old.ServerToken
		}
	}
	if err := r.Validate(opts.ServerName); err != nil {
		return nil, false, err
	}
	out, err := r.YAML()
	if err != nil {
		return nil, false, err
	}
	if exists && bytes.Equal(out, data) {
		return r, false, nil
	}
	if err := r.Save(path); err != nil {
		return nil, false, err
	}
	return r, true, nil
}

// deleteToRegenerate adds to a parse error that deleting the file is a way
// out.
func deleteToRegenerate(err error) error {
	const hint = "delete the file to generate a new registration with new tokens"
	var e *Error
	if !errors.As(err, &e) {
		return fmt.Errorf("%w; or %s", err, hint)
	}
	c := *e
	if c.Fix == "" {
		c.Fix = hint
	} else {
		c.Fix += ", or " + hint
	}
	return &c
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// newToken returns 256 random bits as 64 hex characters. crypto/rand.Read
// never fails (the program aborts if the system's generator is unusable).
func newToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
