package ircfmt

import (
	"bytes"
	"unicode/utf8"
)

// ircWriter builds the IRC text FromMatrix returns: lines of text with mIRC
// codes, written lazily so codes only ever precede text. It follows HTML's
// whitespace rules for ordinary text (runs collapse to one space, none at a
// line's start or end) and keeps whitespace for preformatted text. A line
// that ends up blank or whitespace-only is dropped, except one blank line
// between paragraphs; the result never starts or ends with a newline.
type ircWriter struct {
	out bytes.Buffer
	// prefix starts every line that gets content (the "> " of quotes).
	prefix string
	// emitted is the formatting in effect at the end of out on this line;
	// a new line starts plain, as it does on IRC.
	emitted style
	// lineStart is where the current line begins in out.
	lineStart int
	// contentEnd is where out ends without the line's trailing whitespace,
	// and contentStyle the formatting in effect there.
	contentEnd   int
	contentStyle style
	// pendingSpace is collapsed whitespace not written yet: it is written
	// only if more text follows on the same line.
	pendingSpace bool
	pendingStyle style
	lastSpace    bool // the last character written was whitespace
	blankLine    bool // the previous line was left blank
}

// text writes s in style st with HTML whitespace collapsing.
func (w *ircWriter) text(s string, st style) {
	for _, r := range s {
		switch {
		case isHTMLSpace(r):
			w.askSpace(st)
		case r < 0x20:
			// control characters, mIRC codes among them: text from Matrix
			// never turns into IRC formatting
		default:
			w.put(r, st)
		}
	}
}

// preformatted writes s in style st keeping spaces, tabs and line breaks.
func (w *ircWriter) preformatted(s string, st style) {
	for i, r := range s {
		switch {
		case r == '\n':
			w.hardBreak()
		case r == '\r':
			if i+1 == len(s) || s[i+1] != '\n' {
				w.hardBreak()
			}
		case r == '\f':
			w.put(' ', st)
		case r < 0x20 && r != '\t':
			// dropped, as in text
		default:
			w.put(r, st)
		}
	}
}

// literal writes s as it is, in the formatting already in effect: list
// markers and rules, which are not the author's text.
func (w *ircWriter) literal(s string) {
	for _, r := range s {
		w.put(r, w.emitted)
	}
}

// space asks for a space before more text on this line (between table cells).
func (w *ircWriter) space() { w.askSpace(w.emitted) }

// askSpace records collapsed whitespace in style st, unless the line is
// empty or already ends in whitespace.
func (w *ircWriter) askSpace(st style) {
	if w.out.Len() > w.lineStart && !w.lastSpace && !w.pendingSpace {
		w.pendingSpace, w.pendingStyle = true, st
	}
}

// put writes one character in style st, preceded by the line prefix (at
// the start of a line) or a pending space (elsewhere) and the codes that
// switch to st.
func (w *ircWriter) put(r rune, st style) {
	if w.out.Len() == w.lineStart {
		w.out.WriteString(w.prefix)
	} else if w.pendingSpace {
		w.writePendingSpace(st)
	}
	w.pendingSpace = false
	w.switchTo(st, leadByte(r))
	w.out.WriteRune(r)
	w.lastSpace = r == ' ' || r == '\t'
	if !w.lastSpace {
		w.contentEnd, w.contentStyle = w.out.Len(), st
	}
}

// switchTo writes the codes from the formatting in effect to st.
func (w *ircWriter) switchTo(st style, next byte) {
	codes, now := transition(w.emitted, st, next)
	w.out.WriteString(codes)
	w.emitted = now
}

// writePendingSpace writes the pending space so that it looks as it did in
// HTML, next to text in style next, with the fewest codes: a space only
// shows underline, strikethrough, background and reverse, so it goes
// before or after the switch to next when one of them looks right, and in
// a style of its own only when neither does.
func (w *ircWriter) writePendingSpace(next style) {
	switch looks := spaceLook(w.pendingStyle); looks {
	case spaceLook(w.emitted):
	case spaceLook(next):
		w.switchTo(next, ' ')
	default:
		w.switchTo(w.pendingStyle, ' ')
	}
	w.out.WriteByte(' ')
}

// spaceLook is the part of a style that shows on a space.
func spaceLook(st style) style {
	return style{underline: st.underline, strike: st.strike, reverse: st.reverse, bg: st.bg}
}

// leadByte is the first byte r encodes to, for transition's look-ahead.
func leadByte(r rune) byte {
	if r < utf8.RuneSelf {
		return byte(r)
	}
	return utf8.RuneSelf // not a digit or comma: all transition needs to know
}

// trimLine drops the current line's trailing whitespace.
func (w *ircWriter) trimLine() {
	w.out.Truncate(w.contentEnd)
	w.emitted = w.contentStyle
	w.pendingSpace, w.lastSpace = false, false
}

// hardBreak ends the current line (a <br>, or a newline in preformatted
// text). An empty line is kept only as the first blank line after text.
func (w *ircWriter) hardBreak() {
	w.trimLine()
	if w.out.Len() == w.lineStart {
		if w.lineStart == 0 || w.blankLine {
			return
		}
		w.blankLine = true
	} else {
		w.blankLine = false
	}
	w.out.WriteByte('\n')
	w.lineStart, w.contentEnd = w.out.Len(), w.out.Len()
	w.emitted, w.contentStyle = style{}, style{}
}

// softBreak makes sure what follows starts a line (block elements).
func (w *ircWriter) softBreak() {
	w.trimLine()
	if w.out.Len() > w.lineStart {
		w.hardBreak()
	}
}

// String returns the text without trailing whitespace or newlines.
func (w *ircWriter) String() string {
	w.trimLine()
	return string(bytes.TrimRight(w.out.Bytes(), "\n"))
}

func isHTMLSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f'
}
