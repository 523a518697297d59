package ircfmt

import (
	"net/url"
	"strings"
)

// matrixID returns the Matrix identifier a link points at ("@user:server",
// "#alias:server", "!room:server"), or "" when href is not a matrix.to link
// or a matrix: URI (MSC2312) to one.
func matrixID(href string) string {
	if rest, ok := cutPrefixFold(href, "https://matrix.to/#/"); ok {
		return matrixToID(rest)
	}
	if rest, ok := cutPrefixFold(href, "http://matrix.to/#/"); ok {
		return matrixToID(rest)
	}
	if rest, ok := cutPrefixFold(href, "matrix:"); ok {
		return matrixURIID(rest)
	}
	return ""
}

// matrixToID reads the first segment of a matrix.to fragment:
// "%40alice%3Aexample.org?via=x" or "!room:x/$event".
func matrixToID(fragment string) string {
	fragment, _, _ = strings.Cut(fragment, "?")
	segment, _, _ := strings.Cut(fragment, "/")
	id, err := url.PathUnescape(segment)
	if err != nil || !validID(id) {
		return ""
	}
	return id
}

// matrixURIID reads "u/alice:example.org", "r/alias:x" or "roomid/room:x"
// (after the "matrix:" scheme), ignoring any query or event part.
func matrixURIID(rest string) string {
	rest, _, _ = strings.Cut(rest, "?")
	kind, rest, _ := strings.Cut(rest, "/")
	segment, _, _ := strings.Cut(rest, "/")
	name, err := url.PathUnescape(segment)
	if err != nil {
		return ""
	}
	var sigil string
	switch kind {
	case "u":
		sigil = "@"
	case "r":
		sigil = "#"
	case "roomid":
		sigil = "!"
	default:
		return ""
	}
	if id := sigil + name; validID(id) {
		return id
	}
	return ""
}

// validID is a loose check: a sigil, a localpart and a server name. The
// homeserver validates ids; this only keeps nonsense out of pill calls.
func validID(id string) bool {
	if len(id) < 4 || !strings.ContainsRune("@#!", rune(id[0])) {
		return false
	}
	local, server, ok := strings.Cut(id[1:], ":")
	return ok && local != "" && server != "" && !strings.ContainsAny(id, " \t\r\n")
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}
