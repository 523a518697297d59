package ircfmt

import (
	"strings"
	"testing"
)

// benchLine is a typical formatted IRC line.
const benchLine = "\x02alice\x02: have a look at \x0304,01this\x03 and \x1dthat\x1d — it's \x1fimportant\x1f, see https://example.org/x?y=1 <3"

func BenchmarkToMatrix(b *testing.B) {
	for _, bc := range []struct{ name, text string }{
		{"plain", "just a plain line of chat without any formatting in it, as most lines are"},
		{"formatted", benchLine},
		{"code bomb", strings.Repeat("\x0304,05x\x02", 10000)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.text)))
			for b.Loop() {
				ToMatrix(bc.text)
			}
		})
	}
}

func BenchmarkFromMatrix(b *testing.B) {
	html := `<mx-reply><blockquote>quoted</blockquote></mx-reply><p><a href="https://matrix.to/#/@alice:example.org">Alice</a>: ` +
		`have a look at <font data-mx-color="#ff0000">this</font> and <em>that</em></p><ul><li>one</li><li>two</li></ul><pre><code>x := 1
y := 2</code></pre>`
	pill := func(userID, text string) string { return "alice" }
	b.SetBytes(int64(len(html)))
	for b.Loop() {
		FromMatrix("", html, pill)
	}
}

func BenchmarkSplit(b *testing.B) {
	for _, bc := range []struct {
		name string
		text string
		max  int
	}{
		{"short", benchLine, 400},
		{"10KB words", strings.Repeat("lorem \x02ipsum\x02 dolor sit amet, ", 350), 400},
		{"10KB CJK", strings.Repeat("日本語のテキスト", 430), 400},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.text)))
			for b.Loop() {
				Split(bc.text, bc.max)
			}
		})
	}
}
