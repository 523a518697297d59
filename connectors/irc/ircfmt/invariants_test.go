package ircfmt

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	xhtml "golang.org/x/net/html"
)

// The checks here hold for every input; the golden, table and fuzz tests
// all run them.

var fontColor = regexp.MustCompile(`^#[0-9a-f]{6}$`)

// checkToMatrix checks what ToMatrix returned for text: a clean body, and
// HTML that is empty, or well-formed, minimal and saying the body's text.
func checkToMatrix(t *testing.T, text, body, htm string) {
	t.Helper()
	if !utf8.ValidString(body) {
		t.Fatalf("ToMatrix(%q): body %q is not valid UTF-8", text, body)
	}
	for i := 0; i < len(body); i++ {
		if c := body[i]; c < 0x20 && c != '\t' && c != '\n' {
			t.Fatalf("ToMatrix(%q): body %q holds control byte %#x", text, body, c)
		}
	}
	if htm == "" {
		return
	}
	if limit := 128 * (len(body) + 1); len(htm) > limit {
		t.Fatalf("ToMatrix(%q): %d bytes of HTML for a %d-byte body", text, len(htm), len(body))
	}
	var (
		open      []string
		hasText   []bool
		plain     strings.Builder
		formatted bool
	)
	z := xhtml.NewTokenizer(strings.NewReader(htm))
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			break
		}
		tok := z.Token()
		switch tt {
		case xhtml.TextToken:
			plain.WriteString(tok.Data)
			for i := range hasText {
				hasText[i] = true
			}
		case xhtml.StartTagToken:
			if tok.Data == "br" {
				plain.WriteByte('\n')
				continue
			}
			checkToMatrixTag(t, text, htm, tok)
			formatted = true
			open = append(open, tok.Data)
			hasText = append(hasText, false)
		case xhtml.EndTagToken:
			n := len(open)
			if n == 0 || open[n-1] != tok.Data {
				t.Fatalf("ToMatrix(%q): </%s> does not close the innermost open tag %v in %s", text, tok.Data, open, htm)
			}
			if !hasText[n-1] {
				t.Fatalf("ToMatrix(%q): empty <%s> in %s", text, tok.Data, htm)
			}
			open, hasText = open[:n-1], hasText[:n-1]
		default:
			t.Fatalf("ToMatrix(%q): unexpected %v token in %s", text, tt, htm)
		}
	}
	if len(open) != 0 {
		t.Fatalf("ToMatrix(%q): tags %v left open in %s", text, open, htm)
	}
	if !formatted {
		t.Fatalf("ToMatrix(%q): HTML %q formats nothing; want \"\"", text, htm)
	}
	if plain.String() != body {
		t.Fatalf("ToMatrix(%q): HTML says %q, body %q", text, plain.String(), body)
	}
}

func checkToMatrixTag(t *testing.T, text, htm string, tok xhtml.Token) {
	t.Helper()
	switch tok.Data {
	case "b", "i", "u", "del", "code":
		if len(tok.Attr) != 0 {
			t.Fatalf("ToMatrix(%q): attributes on <%s> in %s", text, tok.Data, htm)
		}
	case "font":
		if len(tok.Attr) == 0 {
			t.Fatalf("ToMatrix(%q): <font> without colours in %s", text, htm)
		}
		for _, a := range tok.Attr {
			if (a.Key != "data-mx-color" && a.Key != "data-mx-bg-color") || !fontColor.MatchString(a.Val) {
				t.Fatalf("ToMatrix(%q): bad font attribute %s=%q in %s", text, a.Key, a.Val, htm)
			}
		}
	default:
		t.Fatalf("ToMatrix(%q): unexpected tag <%s> in %s", text, tok.Data, htm)
	}
}

// checkFromMatrix checks the shape of FromMatrix's result: valid UTF-8,
// lines without CR, NUL, \x01 or stray controls, no trailing whitespace,
// at most one blank line in a row, none at either end.
func checkFromMatrix(t *testing.T, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Fatalf("FromMatrix gave invalid UTF-8: %q", out)
	}
	for i := 0; i < len(out); i++ {
		if c := out[i]; c < 0x20 && c != '\n' && c != '\t' && !isFormatCode(c) {
			t.Fatalf("FromMatrix gave control byte %#x: %q", c, out)
		}
	}
	if strings.HasPrefix(out, "\n") || strings.HasSuffix(out, "\n") || strings.Contains(out, "\n\n\n") {
		t.Fatalf("FromMatrix gave stray blank lines: %q", out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.TrimRight(line, " \t") != line {
			t.Fatalf("FromMatrix gave a line with trailing whitespace: %q in %q", line, out)
		}
		if strings.TrimFunc(line, func(r rune) bool { return r < 0x20 }) == "" && line != "" {
			t.Fatalf("FromMatrix gave a line of codes only: %q in %q", line, out)
		}
	}
}

// checkSplit checks Split's promises about each piece.
func checkSplit(t *testing.T, text string, max int, pieces []string) {
	t.Helper()
	for _, p := range pieces {
		if len(p) > max {
			t.Fatalf("Split(%q, %d): piece %q is %d bytes", text, max, p, len(p))
		}
		if !utf8.ValidString(p) {
			t.Fatalf("Split(%q, %d): piece %q is not valid UTF-8", text, max, p)
		}
		for i := 0; i < len(p); i++ {
			if c := p[i]; c < 0x20 && !isFormatCode(c) {
				t.Fatalf("Split(%q, %d): piece %q holds control byte %#x", text, max, p, c)
			}
		}
		if len(styledText(p)) == 0 {
			t.Fatalf("Split(%q, %d): piece %q has no text", text, max, p)
		}
	}
}

// shownStyle is a style as a reader sees it: colours by RGB, however they
// were written.
type shownStyle struct {
	bold, italic, underline, strike, mono, reverse bool
	fg, bg                                         int32 // -1: default
}

type styledRune struct {
	r  rune
	st shownStyle
}

// styledText is every non-space character of text with the formatting it
// is shown in, lines joined: what must survive Split when max leaves room
// for the codes.
func styledText(text string) []styledRune {
	var out []styledRune
	for text != "" {
		var line string
		line, text = cutLine(text)
		for _, r := range parseRuns(line) {
			for _, c := range r.text {
				if c != ' ' {
					out = append(out, styledRune{c, shown(r.st)})
				}
			}
		}
	}
	return out
}

func shown(st style) shownStyle {
	st = writable(st) // Split's documented approximation
	return shownStyle{
		bold: st.bold, italic: st.italic, underline: st.underline, strike: st.strike,
		mono: st.mono, reverse: st.reverse, fg: shownColor(st.fg), bg: shownColor(st.bg),
	}
}

func shownColor(c color) int32 {
	if rgb, ok := c.rgb(); ok {
		return int32(rgb)
	}
	return -1
}

// firstDifference returns the index where want and got first differ, or -1.
func firstDifference(want, got []styledRune) int {
	for i := range min(len(want), len(got)) {
		if want[i] != got[i] {
			return i
		}
	}
	if len(want) != len(got) {
		return min(len(want), len(got))
	}
	return -1
}
