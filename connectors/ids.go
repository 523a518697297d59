package connectors

import (
	"strings"
	"unicode/utf8"
)

// PortalID identifies a remote chat within its network, as the connector
// writes it ("libera/#go-nuts", "chat@conference.example.org"). Only the
// connector parses it.
type PortalID string

// RemoteUserID identifies a user within their network ("libera/alice",
// "alice@example.org").
type RemoteUserID string

// MessageID identifies a message (or edit, or reaction) within its chat.
type MessageID string

// LoginID tells one of a Matrix user's identities on a network from another.
type LoginID string

// EscapeLocalpart makes s usable in a Matrix localpart the way bridges have
// long done it: lower-cased, and every byte outside [a-z0-9._/-] written as =xx
// (lower-case hex); '=' itself becomes =3d so the escape can be undone. "{Hoshi}" becomes "=7bhoshi=7d". Because upper case
// is folded, two ids that differ only in case meet; networks whose ids are
// case-insensitive (IRC nicks, JIDs) want exactly that.
func EscapeLocalpart(s string) string {
	s = lowerValid(s)
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if localpartSafe(c) && c != '=' {
			b.WriteByte(c)
			continue
		}
		const hex = "0123456789abcdef"
		b.WriteByte('=')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xf])
	}
	return b.String()
}

// UnescapeLocalpart reverses EscapeLocalpart (up to case). ok is false when
// s holds a character EscapeLocalpart never writes or a broken =xx.
func UnescapeLocalpart(s string) (string, bool) {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '=' {
			if !localpartSafe(c) {
				return "", false
			}
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		hi, ok1 := unhex(s[i+1])
		lo, ok2 := unhex(s[i+2])
		if !ok1 || !ok2 {
			return "", false
		}
		b.WriteByte(hi<<4 | lo)
		i += 2
	}
	return b.String(), true
}

func localpartSafe(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '=' || c == '/' || c == '-'
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// lowerValid lower-cases the valid UTF-8 in s and keeps every invalid byte
// as it is (strings.ToLower would turn each into U+FFFD, so ids differing
// only there, such as Latin-1 channel names, would meet).
func lowerValid(s string) string {
	if utf8.ValidString(s) {
		return strings.ToLower(s)
	}
	var b strings.Builder
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		if r == utf8.RuneError && size == 1 {
			b.WriteByte(s[0])
		} else {
			b.WriteString(strings.ToLower(s[:size]))
		}
		s = s[size:]
	}
	return b.String()
}
