package ircfmt

import (
	"fmt"
	"html"
	"strings"
	"unicode/utf8"
)

// ToMatrix converts the text of an IRC PRIVMSG/NOTICE/ACTION (may hold mIRC
// codes) to a Matrix plain body (all codes removed) and HTML (html == "" when
// the text has no formatting at all).
//
// Bold, italic, underline, strikethrough and monospace become <b>, <i>, <u>,
// <del> and <code>; colours become <font data-mx-color data-mx-bg-color>
// with the palette's RGB values. Reverse (\x16) is ignored: Matrix HTML has
// no way to say "swap the reader's default colours", and swapping only
// explicit colours would render reverse-on-default-colours wrong anyway.
// Formatting that covers no text produces no tag, and a '\n' (a line of a
// multi-line message) ends all formatting, as it would on IRC. Control
// characters other than tab and newline are removed; invalid UTF-8 becomes
// U+FFFD.
func ToMatrix(text string) (body, html string) {
	var plain strings.Builder
	w := htmlWriter{}
	formatted := false
	var st style
	for i := 0; i < len(text); {
		switch c := text[i]; {
		case isFormatCode(c):
			i = applyCode(text, i, &st)
		case c == '\n':
			st = style{}
			plain.WriteByte('\n')
			w.lineBreak()
			i++
		default:
			end := nextSpecial(text, i)
			segment := cleanText(text[i:end])
			i = end
			if segment == "" {
				continue
			}
			visible := htmlStyle(st)
			formatted = formatted || !visible.isPlain()
			plain.WriteString(segment)
			w.write(visible, segment)
		}
	}
	if !formatted {
		return plain.String(), ""
	}
	return plain.String(), w.finish()
}

// htmlStyle is the part of st that HTML shows: everything but reverse.
func htmlStyle(st style) style {
	st.reverse = false
	return st
}

// nextSpecial returns the index of the first formatting code or newline at
// or after i, or len(text).
func nextSpecial(text string, i int) int {
	for ; i < len(text); i++ {
		if text[i] == '\n' || isFormatCode(text[i]) {
			return i
		}
	}
	return i
}

// cleanText returns s as valid UTF-8 (each invalid byte becomes U+FFFD)
// without C0 control characters other than tab.
func cleanText(s string) string {
	if isCleanASCII(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s { // ranging yields U+FFFD for each invalid byte
		if r < 0x20 && r != '\t' {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isCleanASCII reports whether s is printable ASCII and tabs only, the
// common case that needs no copy.
func isCleanASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || (c < 0x20 && c != '\t') {
			return false
		}
	}
	return true
}

// tag is one HTML element ToMatrix opens. Its order in tagOrder is the order
// tags are opened when several start at once: colours outermost.
type tag uint8

const (
	tagFont tag = iota
	tagBold
	tagItalic
	tagUnderline
	tagStrike
	tagCode
)

var tagOrder = []tag{tagFont, tagBold, tagItalic, tagUnderline, tagStrike, tagCode}

var tagNames = [...]string{tagFont: "font", tagBold: "b", tagItalic: "i", tagUnderline: "u", tagStrike: "del", tagCode: "code"}

// openTag is a tag on the writer's stack with the colours it set (for font).
type openTag struct {
	tag    tag
	fg, bg color
}

// htmlWriter writes text in styles as properly nested HTML. It opens tags
// only right before text, so formatting that covers no text costs nothing,
// and it keeps every still-wanted tag open, so consecutive runs in the same
// style share tags. The stack holds at most one tag of each kind, so each
// change of style costs constant time.
type htmlWriter struct {
	out  strings.Builder
	open []openTag
}

// write writes text (not yet escaped) in style st.
func (w *htmlWriter) write(st style, text string) {
	w.setStyle(st)
	w.out.WriteString(html.EscapeString(text))
}

// lineBreak closes every tag and writes <br>.
func (w *htmlWriter) lineBreak() {
	w.setStyle(style{})
	w.out.WriteString("<br>")
}

// finish closes every tag and returns the HTML.
func (w *htmlWriter) finish() string {
	w.setStyle(style{})
	return w.out.String()
}

// setStyle closes the tags st no longer wants, from the innermost out to
// the first unwanted one (tags opened after it must close first to nest
// properly), then opens what st wants and is missing.
func (w *htmlWriter) setStyle(st style) {
	keep := 0
	for keep < len(w.open) && wants(st, w.open[keep]) {
		keep++
	}
	for i := len(w.open) - 1; i >= keep; i-- {
		w.out.WriteString("</" + tagNames[w.open[i].tag] + ">")
	}
	w.open = w.open[:keep]
	for _, t := range tagOrder {
		if wants(st, openTag{tag: t, fg: st.fg, bg: st.bg}) && !w.isOpen(t) {
			w.push(t, st)
		}
	}
}

func (w *htmlWriter) isOpen(t tag) bool {
	for _, o := range w.open {
		if o.tag == t {
			return true
		}
	}
	return false
}

func (w *htmlWriter) push(t tag, st style) {
	w.open = append(w.open, openTag{tag: t, fg: st.fg, bg: st.bg})
	if t != tagFont {
		w.out.WriteString("<" + tagNames[t] + ">")
		return
	}
	w.out.WriteString("<font")
	if rgb, ok := st.fg.rgb(); ok {
		fmt.Fprintf(&w.out, ` data-mx-color="#%06x"`, rgb)
	}
	if rgb, ok := st.bg.rgb(); ok {
		fmt.Fprintf(&w.out, ` data-mx-bg-color="#%06x"`, rgb)
	}
	w.out.WriteString(">")
}

// wants reports whether style st is shown by tag o (for a font, with
// exactly o's colours).
func wants(st style, o openTag) bool {
	switch o.tag {
	case tagFont:
		return (st.fg.isSet() || st.bg.isSet()) && sameRGB(st.fg, o.fg) && sameRGB(st.bg, o.bg)
	case tagBold:
		return st.bold
	case tagItalic:
		return st.italic
	case tagUnderline:
		return st.underline
	case tagStrike:
		return st.strike
	case tagCode:
		return st.mono
	}
	return false
}

// sameRGB reports whether a and b look the same: palette 4 and \x04ff0000
// are one colour in HTML.
func sameRGB(a, b color) bool {
	ra, okA := a.rgb()
	rb, okB := b.rgb()
	return okA == okB && ra == rb
}
