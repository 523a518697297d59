package registration

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"maunium.net/go/mautrix/id"
)

// Validate checks the registration against the spec and what Synapse
// enforces, compiles its namespaces, and fixes serverName as the server the
// sender_localpart user lives on. It returns the first problem as an
// [*Error] (one line, naming the file, the key and the fix) wrapping
// ErrMissing or ErrInvalid.
//
// Rules: id, as_token, hs_token and sender_localpart present; id without '|'
// (Synapse refuses it); tokens of printable ASCII (they travel in an
// Authorization header) and different from each other; sender_localpart in
// the user id grammar (or Synapse's URL-safe set, which adds upper case and
// '~', as mautrix bridges use); url present, either null/""
// or an http(s) URL with a host; namespaces present; every regex non-empty
// and compiling.
func (r *Registration) Validate(serverName string) error {
	if serverName == "" {
		return &Error{Source: r.source, Problem: "no server name to validate against", Fix: "pass the homeserver's server name", Kind: ErrInvalid}
	}
	checks := []func(string) error{
		r.validateID,
		r.validateURL,
		r.validateTokens,
		r.validateSender,
		r.validateStrings,
		r.validateNamespaces,
	}
	for _, check := range checks {
		if err := check(serverName); err != nil {
			r.validated = false
			return err
		}
	}
	r.setServerName(serverName)
	r.validated = true
	return nil
}

func (r *Registration) setServerName(serverName string) {
	r.serverName = serverName
	r.botUserID = ""
	if r.SenderLocalpart != "" {
		r.botUserID = "@" + r.SenderLocalpart + ":" + serverName
	}
}

func (r *Registration) fail(field string, kind error, problem, fix string) error {
	return &Error{Source: r.source, Field: field, Problem: problem, Fix: fix, Kind: kind}
}

func (r *Registration) validateID(string) error {
	switch {
	case r.ID == "":
		return r.fail("id", ErrMissing, "missing", `add a unique id that never changes, such as "irc"`)
	case strings.Contains(r.ID, "|"):
		return r.fail("id", ErrInvalid, fmt.Sprintf("%q contains '|'", r.ID), "remove the '|' (Synapse refuses it too)")
	}
	return nil
}

func (r *Registration) validateURL(string) error {
	if !r.urlSet {
		return r.fail("url", ErrMissing, "missing", "set the address the homeserver pushes events to (http://host:port), or url: null if it should push nothing")
	}
	if r.URL == "" {
		return nil
	}
	u, err := url.Parse(r.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return r.fail("url", ErrInvalid, fmt.Sprintf("%q is not an http(s) URL", r.URL), "use http://host:port or https://host, or url: null for no push")
	}
	return nil
}

func (r *Registration) validateTokens(string) error {
	for _, t := range []struct{ field, value string }{{"as_token", r.AppToken}, {"hs_token", r.ServerToken}} {
		if t.value == "" {
			return r.fail(t.field, ErrMissing, "missing", "set a long random token (Switchboard generates 64 hex characters)")
		}
		if !printableASCII(t.value) {
			return r.fail(t.field, ErrInvalid, "contains spaces, control or non-ASCII characters", "use a random token of letters and digits")
		}
	}
	if TokenEqual(r.AppToken, r.ServerToken) {
		return r.fail("hs_token", ErrInvalid, "same as as_token", "generate two different random tokens; each side must not be able to pose as the other")
	}
	return nil
}

func (r *Registration) validateSender(serverName string) error {
	lp := r.SenderLocalpart
	if lp == "" {
		return r.fail("sender_localpart", ErrMissing, "missing", `set the localpart of the appservice's bot user, such as "ircbot"`)
	}
	// mautrix bridges write a random mixed-case sender_localpart. The current
	// grammar forbids upper case; Synapse accepts any localpart that needs no
	// URL escaping. Accept either; refuse what both refuse.
	if id.ValidateUserLocalpart(lp) != nil && !urlSafeLocalpart(lp) {
		return r.fail("sender_localpart", ErrInvalid, fmt.Sprintf("%q is not a user id localpart", lp), "use only a-z, 0-9 and . _ = - / +")
	}
	if n := len("@" + lp + ":" + serverName); n > id.UserIDMaxLength {
		return r.fail("sender_localpart", ErrInvalid, fmt.Sprintf("the user id would be %d bytes, over the limit of %d", n, id.UserIDMaxLength), "use a shorter localpart")
	}
	return nil
}

func (r *Registration) validateStrings(string) error {
	if !utf8.ValidString(r.ID) || strings.ContainsFunc(r.ID, unicode.IsControl) {
		return r.fail("id", ErrInvalid, "contains control characters or invalid UTF-8", "use plain text")
	}
	for i, p := range r.Protocols {
		if p == "" || !utf8.ValidString(p) || strings.ContainsFunc(p, unicode.IsControl) {
			return r.fail(fmt.Sprintf("protocols[%d]", i), ErrInvalid, fmt.Sprintf("%q is not a protocol name", p), `use a short name such as "irc"`)
		}
	}
	return nil
}

func (r *Registration) validateNamespaces(string) error {
	if !r.nsSet {
		return r.fail("namespaces", ErrMissing, "missing", "add namespaces: with users, aliases and rooms lists (namespaces: {} claims nothing)")
	}
	return r.compile()
}

// urlSafeLocalpart reports whether lp is what Synapse accepts as a
// sender_localpart: characters Python's urllib.parse.quote leaves alone
// (ASCII letters, digits, "_.-~" and "/").
func urlSafeLocalpart(lp string) bool {
	if lp == "" {
		return false
	}
	for i := 0; i < len(lp); i++ {
		c := lp[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '_' || c == '.' || c == '-' || c == '~' || c == '/':
		default:
			return false
		}
	}
	return true
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
