package ircfmt

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// The fuzz targets start from the golden inputs and check the invariants
// in invariants_test.go. Crashers the fuzzer finds stay in testdata/fuzz as
// regression seeds, run by every plain `go test`.

// maxSeed leaves the big golden inputs (the code bomb) out of the seeds:
// the fuzzer minimises every new interesting input, which for a 12 KB one
// takes longer than a whole fuzzing run. The golden tests cover them.
const maxSeed = 1024

// seeds returns the golden inputs under testdata/dir, tokens expanded, up
// to maxSeed bytes each.
func seeds(f *testing.F, dir, ext string) []string {
	var out []string
	for _, in := range goldenInputs(f, dir, ext) {
		if text := expandTokens(in.input); len(text) <= maxSeed {
			out = append(out, text)
		}
	}
	return out
}

// FuzzToMatrix: no panic, a clean body, and HTML that is empty or
// well-formed, minimal and saying exactly the body.
func FuzzToMatrix(f *testing.F) {
	for _, text := range seeds(f, "tomatrix", ".irc") {
		f.Add(text)
	}
	f.Add("\x02\x1d\x1f\x1e\x11\x16\x0f\x03\x04")
	f.Add("\x0399,99x\x04ffffff,\x03,")
	f.Fuzz(func(t *testing.T, text string) {
		body, html := ToMatrix(text)
		checkToMatrix(t, text, body, html)
	})
}

// FuzzFromMatrix: no panic, well-shaped lines, pills called with user ids,
// and the result splits cleanly.
func FuzzFromMatrix(f *testing.F) {
	for _, html := range seeds(f, "frommatrix", ".html") {
		f.Add("", html)
	}
	f.Add("body\r\nline\x02two", "")
	f.Add("", "<pre>\n\n<b>x</pre></b><a href='matrix:u/a:b'><a href='https://matrix.to/#/@c:d'>y")
	f.Fuzz(func(t *testing.T, body, html string) {
		out := FromMatrix(body, html, testPill(t))
		checkFromMatrix(t, out)
		checkSplit(t, out, 400, Split(out, 400))
	})
}

// FuzzSplit: no panic, pieces that fit, valid UTF-8, no CR/LF/NUL/\x01,
// and, when max leaves room for the longest codes a piece can start with,
// every non-space character in the formatting it had.
func FuzzSplit(f *testing.F) {
	for _, text := range seeds(f, "tomatrix", ".irc") {
		f.Add(text, 20)
		f.Add(text, 400)
	}
	f.Add("hi\r\nQUIT :bye", 20)
	f.Add("日本語😀 \x0304,12x\x04ff0000,00ff00y", 7)
	f.Add("\x04123456,abcdefx \x0399y \x0304z", 26) // default foreground on a hex background
	f.Fuzz(func(t *testing.T, text string, max int) {
		max = max%600 + 1 // 1…600; Split(…, <=0) is nil, tested elsewhere
		if max <= 0 {
			max += 600
		}
		pieces := Split(text, max)
		checkSplit(t, text, max, pieces)
		for _, p := range pieces {
			if strings.ContainsAny(p, "\r\n\x00\x01") || !utf8.ValidString(p) {
				t.Fatalf("Split(%q, %d): unsafe piece %q", text, max, p)
			}
		}
		if max >= maxOpening+utf8.UTFMax {
			if i := firstDifference(styledText(text), styledText(strings.Join(pieces, "\n"))); i >= 0 {
				t.Fatalf("Split(%q, %d) = %q: character %d changed", text, max, pieces, i)
			}
		}
	})
}

// maxOpening is the longest code sequence that can open a piece: reset is
// never needed from the plain state, so a hex colour pair
// "\x04rrggbb,rrggbb", six toggles, and the two-byte separator before a
// comma.
const maxOpening = 14 + 6 + 2
