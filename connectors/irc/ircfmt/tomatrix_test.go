package ircfmt

import (
	"strings"
	"testing"
)

// TestToMatrix pins single behaviours, one line each, so a failure names
// the rule that broke without reading a golden diff.
func TestToMatrix(t *testing.T) {
	for _, tc := range []struct {
		name, in, body, html string
	}{
		{"empty", "", "", ""},
		{"plain", "hi", "hi", ""},
		{"bold", "\x02b\x02", "b", "<b>b</b>"},
		{"italic", "\x1di", "i", "<i>i</i>"},
		{"underline", "\x1fu", "u", "<u>u</u>"},
		{"strike", "\x1es", "s", "<del>s</del>"},
		{"monospace", "\x11m", "m", "<code>m</code>"},
		{"reverse ignored", "\x16r", "r", ""},
		{"reset", "\x02\x1db\x0fp", "bp", "<b><i>b</i></b>p"},
		{"palette fg", "\x0313x", "x", `<font data-mx-color="#ff00ff">x</font>`},
		{"palette fg and bg", "\x0300,01x", "x", `<font data-mx-color="#ffffff" data-mx-bg-color="#000000">x</font>`},
		{"extended palette", "\x0340x\x0398y", "xy", `<font data-mx-color="#b50000">x</font><font data-mx-color="#ffffff">y</font>`},
		{"colour 99 is default", "\x0399x", "x", ""},
		{"two digits at most", "\x031234", "34", `<font data-mx-color="#0000fc">34</font>`},
		{"bare colour resets", "\x034,5a\x03b", "ab", `<font data-mx-color="#ff0000" data-mx-bg-color="#7f0000">a</font>b`},
		{"comma without digit is text", "\x034,x", ",x", `<font data-mx-color="#ff0000">,x</font>`},
		{"hex colour", "\x04A0B1C2x", "x", `<font data-mx-color="#a0b1c2">x</font>`},
		{"hex background", "\x04000000,ffffffx", "x", `<font data-mx-color="#000000" data-mx-bg-color="#ffffff">x</font>`},
		{"short hex resets", "\x034a\x04abcb", "aabcb", `<font data-mx-color="#ff0000">a</font>abcb`},
		{"escaping", "\x02<&>\"'", `<&>"'`, "<b>&lt;&amp;&gt;&#34;&#39;</b>"},
		{"tags nest when codes overlap", "\x02a\x1db\x02c", "abc", "<b>a<i>b</i></b><i>c</i>"},
		{"same state merges", "\x034a\x0304b\x04ff0000c", "abc", `<font data-mx-color="#ff0000">abc</font>`},
		{"empty span dropped", "\x02\x02\x1d\x1da", "a", ""},
		{"codes alone", "\x02\x03\x04\x0f\x11", "", ""},
		{"newline ends formatting", "\x02a\nb", "a\nb", "<b>a</b><br>b"},
		{"control removed", "a\x07b\x00c", "abc", ""},
		{"invalid UTF-8", "\xff", "\uFFFD", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, html := ToMatrix(tc.in)
			if body != tc.body || html != tc.html {
				t.Errorf("ToMatrix(%q)\n got: %q, %q\nwant: %q, %q", tc.in, body, html, tc.body, tc.html)
			}
			checkToMatrix(t, tc.in, body, html)
		})
	}
}

// TestToMatrixCodeBomb feeds ToMatrix 200 000 codes: the HTML must stay
// proportional to the text it formats, not to the codes.
func TestToMatrixCodeBomb(t *testing.T) {
	for _, tc := range []struct {
		name     string
		text     string
		maxBytes int
	}{
		{"codes without text", strings.Repeat("\x02\x1d\x0304,05\x04ff00ff\x16\x0f", 40000), 0},
		{"codes around one letter", strings.Repeat("\x0304,05\x02\x02\x03", 40000) + "x" + strings.Repeat("\x0312", 40000), 70},
		{"one colour repeated", strings.Repeat("\x0304x", 40000), 40000 + 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, html := ToMatrix(tc.text)
			checkToMatrix(t, tc.text, body, html)
			if len(html) > tc.maxBytes {
				t.Errorf("%d bytes of HTML, want at most %d: %.200q", len(html), tc.maxBytes, html)
			}
		})
	}
}
