package ircfmt

import (
	"strings"
	"unicode/utf8"
)

// Split cuts text into IRC message payloads of at most max bytes each:
// first at '\n', then at the last space that fits, else at a UTF-8 rune
// boundary (never inside a multi-byte rune, never inside a formatting code
// such as "\x0304,12"). Formatting state (bold/italic/underline/strike/
// monospace/colour) active at a cut is re-opened at the start of the next
// piece. Lines that are empty or only whitespace/codes are dropped. CR, LF,
// NUL and \x01 never appear in the output; other C0 control characters
// except the formatting codes are removed; tabs become spaces. Invalid UTF-8
// bytes are replaced by U+FFFD.
//
// A CR ends a line like LF does, so "hi\r\nQUIT :bye" is two payloads of
// text. Formatting ends with a line, as on IRC: it is carried across the
// cuts Split makes inside a line, not from one line to the next. Each piece
// is written afresh with the fewest codes that give its text the same
// formatting, so codes that format nothing disappear and a cut never leaves
// dangling codes. Leading spaces of a continuation piece are dropped, the
// space at a cut too. When max is too small for the codes a piece would
// start with, its text goes unformatted; a character longer than max bytes
// (max < 4) is dropped. max <= 0 gives nil.
func Split(text string, max int) []string {
	if max <= 0 {
		return nil
	}
	var pieces []string
	for text != "" {
		var line string
		line, text = cutLine(text)
		pieces = splitLine(parseRuns(line), max, pieces)
	}
	return pieces
}

// cutLine returns the text up to the first CR or LF, and what follows it.
func cutLine(s string) (line, rest string) {
	i := strings.IndexAny(s, "\r\n")
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i+1:]
}

// run is text in one style, cleaned for sending.
type run struct {
	st   style
	text string
}

// parseRuns reads one line's codes and text into runs. Runs whose text
// cleans to nothing are left out, so codes that format nothing vanish.
func parseRuns(line string) []run {
	var runs []run
	var st style
	for i := 0; i < len(line); {
		if isFormatCode(line[i]) {
			i = applyCode(line, i, &st)
			continue
		}
		end := i + 1
		for end < len(line) && !isFormatCode(line[end]) {
			end++
		}
		if text := sendableText(line[i:end]); text != "" {
			runs = append(runs, run{st: st, text: text})
		}
		i = end
	}
	return runs
}

// sendableText returns s as valid UTF-8 without control characters, tabs
// turned into spaces.
func sendableText(s string) string {
	if isCleanASCII(s) && !strings.Contains(s, "\t") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\t':
			b.WriteByte(' ')
		case r < 0x20:
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// cursor is a position in a line's runs.
type cursor struct{ run, off int }

func (at cursor) atEnd(runs []run) bool { return at.run >= len(runs) }

func (at cursor) advance(runs []run, size int) cursor {
	at.off += size
	if at.off >= len(runs[at.run].text) {
		return cursor{run: at.run + 1}
	}
	return at
}

func skipSpaces(runs []run, at cursor) cursor {
	for !at.atEnd(runs) && runs[at.run].text[at.off] == ' ' {
		at = at.advance(runs, 1)
	}
	return at
}

// splitLine appends the pieces of one line.
func splitLine(runs []run, max int, pieces []string) []string {
	at := cursor{}
	for !at.atEnd(runs) {
		piece, hasText, next := fillPiece(runs, at, max)
		if hasText {
			pieces = append(pieces, piece)
		}
		at = skipSpaces(runs, next)
	}
	return pieces
}

// fillPiece writes as much of the line from start as fits in max bytes and
// returns it, whether it holds anything but spaces, and where the next piece
// starts. Every call moves on by at least one character, and a character is
// read at most twice over all calls (once more only after a cut at a space),
// so splitting stays linear.
func fillPiece(runs []run, start cursor, max int) (piece string, hasText bool, next cursor) {
	b := make([]byte, 0, min(max, 512))
	var emitted style
	breakLen, breakAt := 0, cursor{}
	prevSpace := false
	unformatted := false // the formatting did not fit: this piece goes plain
	at := start
	for !at.atEnd(runs) {
		r := runs[at.run]
		c, size := utf8.DecodeRuneInString(r.text[at.off:])
		if c == ' ' && !prevSpace && hasText {
			breakLen, breakAt = len(b), at
		}
		codes, now := "", emitted
		if !unformatted && r.st != emitted {
			codes, now = transition(emitted, r.st, r.text[at.off])
		}
		if len(b)+len(codes)+size > max {
			switch {
			case breakLen > 0:
				return string(b[:breakLen]), true, breakAt
			case len(b) > 0:
				return string(b), hasText, at
			case size > max:
				at = at.advance(runs, size) // cannot be sent at all
				continue
			default:
				codes, now, unformatted = "", emitted, true
			}
		}
		b = append(b, codes...)
		emitted = now
		b = append(b, r.text[at.off:at.off+size]...)
		prevSpace = c == ' '
		hasText = hasText || !prevSpace
		at = at.advance(runs, size)
	}
	return string(b), hasText, at
}

// Clean makes s safe as one IRC parameter or trailing text (a topic, a kick
// reason, a real name): CR, LF, NUL and \x01 removed (CR/LF replaced by a
// space), invalid UTF-8 replaced by U+FFFD. A CR LF pair becomes one space.
// Formatting codes stay: topics and reasons may be formatted.
func Clean(s string) string {
	if utf8.ValidString(s) && !strings.ContainsAny(s, "\r\n\x00\x01") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		switch r {
		case '\r':
			b.WriteByte(' ')
		case '\n':
			if i == 0 || s[i-1] != '\r' {
				b.WriteByte(' ')
			}
		case 0, 1:
		default:
			b.WriteRune(r) // U+FFFD for an invalid byte
		}
	}
	return b.String()
}
