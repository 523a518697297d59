package ircfmt

import "strings"

// maxNickLen is the longest nick LeadingMention accepts, in bytes: far more
// than any server's NICKLEN, to recognise nicks on every network.
const maxNickLen = 64

// LeadingMention recognises a mention at the start of an IRC line, the IRC
// habit "nick: text" or "nick, text": ok is true when text starts with a
// syntactically valid IRC nick (RFC 2812 letters/digits/special []\`_^{|}- ,
// not starting with a digit or '-', at most 64 bytes) followed by ':' or ','
// and a space (or end of text).
//
// rest is the text after the separator and its spaces. When ok is false,
// nick is "" and rest is text unchanged. Whether the nick belongs to anyone
// is for the caller to decide.
func LeadingMention(text string) (nick, rest string, ok bool) {
	n := 0
	for n < len(text) && n <= maxNickLen && isNickByte(text[n], n == 0) {
		n++
	}
	if n == 0 || n > maxNickLen || n == len(text) || (text[n] != ':' && text[n] != ',') {
		return "", text, false
	}
	after := text[n+1:]
	if after != "" && after[0] != ' ' {
		return "", text, false // "http://…", "a,b": not a mention
	}
	return text[:n], strings.TrimLeft(after, " "), true
}

// isNickByte reports whether b may appear in an RFC 2812 nick, at its
// start when first is true.
func isNickByte(b byte, first bool) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z':
		return true
	case strings.IndexByte(`[]\`+"`"+`_^{|}`, b) >= 0:
		return true
	case '0' <= b && b <= '9', b == '-':
		return !first
	}
	return false
}
