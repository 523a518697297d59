package media

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"maunium.net/go/mautrix/id"
)

// mediaIDBytes is how much randomness a media id carries: 18 bytes are 144
// bits, 24 characters of URL-safe base64, so ids are unguessable and never
// collide in practice.
const mediaIDBytes = 18

// maxMediaIDLength bounds ids accepted from outside. Ours are 24
// characters; a longer limit leaves room for ids of other servers.
const maxMediaIDLength = 255

// MaxFileNameBytes bounds the file name an upload may carry.
const MaxFileNameBytes = 1024

// newMediaID returns a random media id made of A-Z a-z 0-9 _ - only.
func newMediaID() string {
	b := make([]byte, mediaIDBytes)
	_, _ = rand.Read(b) // never fails (crypto/rand panics rather than return short)
	return base64.RawURLEncoding.EncodeToString(b)
}

// validMediaID reports whether s may be a media id: the spec allows only
// A-Z a-z 0-9 _ -, which also keeps ids from ever naming a path.
func validMediaID(s string) bool {
	if s == "" || len(s) > maxMediaIDLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// checkURI checks both halves of an mxc:// URI before anything is looked
// up with them.
func checkURI(serverName, mediaID string) error {
	if !id.ValidateServerName(serverName) {
		return fmt.Errorf("%w: server name %q", ErrInvalidID, truncate(serverName, 64))
	}
	if !validMediaID(mediaID) {
		return fmt.Errorf("%w: media id %q", ErrInvalidID, truncate(mediaID, 64))
	}
	return nil
}

// checkFileName accepts a file name that can be stored and later quoted in
// a Content-Disposition header unchanged, as the spec requires.
func checkFileName(name string) error {
	if len(name) > MaxFileNameBytes {
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidFileName, MaxFileNameBytes)
	}
	if !utf8.ValidString(name) {
		return fmt.Errorf("%w: not UTF-8", ErrInvalidFileName)
	}
	if strings.ContainsFunc(name, unicode.IsControl) {
		return fmt.Errorf("%w: contains control characters", ErrInvalidFileName)
	}
	return nil
}

// fileNameProblem returns what checkFileName found wrong, without the
// sentinel's own text.
func fileNameProblem(err error) string {
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, ErrInvalidFileName.Error()+": "); ok {
		return rest
	}
	return msg
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
