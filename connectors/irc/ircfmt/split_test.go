package ircfmt

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		name string
		text string
		max  int
		want []string
	}{
		{"empty", "", 20, nil},
		{"fits", "hello world", 20, []string{"hello world"}},
		{"exactly max", "12345678901234567890", 20, []string{"12345678901234567890"}},
		{"newlines", "one\ntwo\n\nthree\n", 400, []string{"one", "two", "three"}},
		{"CRLF injection is text", "hi\r\nQUIT :bye", 400, []string{"hi", "QUIT :bye"}},
		{"lone CR injection", "hi\rPRIVMSG #x :pwned", 400, []string{"hi", "PRIVMSG #x :pwned"}},
		{"NUL and CTCP removed", "a\x00b\x01ACTION c\x01", 400, []string{"abACTION c"}},
		{"other controls removed", "bell\x07 esc\x1b[31m", 400, []string{"bell esc[31m"}},
		{"tab becomes space", "a\tb", 400, []string{"a b"}},
		{"invalid UTF-8 replaced", "a\xffb", 400, []string{"a\uFFFDb"}},
		{"whitespace-only lines dropped", "  \n\t\nx\n \x02\x02 \n", 400, []string{"x"}},
		{"codes-only line dropped", "\x02\x0304,05\x0f", 400, nil},
		{"leading spaces kept", "  indented", 400, []string{"  indented"}},
		{"cut at last space", "the quick brown fox jumps over the lazy dog", 20,
			[]string{"the quick brown fox", "jumps over the lazy", "dog"}},
		{"space runs dropped at cut", "aaaa     bbbb", 6, []string{"aaaa", "bbbb"}},
		{"no space: cut between runes", strings.Repeat("x", 45), 20,
			[]string{strings.Repeat("x", 20), strings.Repeat("x", 20), strings.Repeat("x", 5)}},
		// 日 and 本 are 3 bytes each: 6 of them fill 18 bytes, a 7th would not fit in 20.
		{"CJK at boundary", "日本日本日本日本", 20, []string{"日本日本日本", "日本"}},
		// 😀 is 4 bytes: "ab" + 4 emoji = 18 bytes, the 5th would make 22.
		{"emoji at boundary", "ab😀😀😀😀😀😀", 20, []string{"ab😀😀😀😀", "😀😀"}},
		{"emoji exactly fills", "😀😀😀😀😀", 20, []string{"😀😀😀😀😀"}},
		{"bold carried over", "\x02bold text that is long", 20,
			[]string{"\x02bold text that is", "\x02long"}},
		{"colour with background carried over", "\x0304,12red on blue text here", 20,
			[]string{"\x0304,12red on blue", "\x0304,12text here"}},
		// Codes only ever come right before text, so a piece never ends in codes.
		{"state at cut, not at start", "ab \x02cd\x02 \x1def gh", 8, []string{"ab \x02cd", "\x1def gh"}},
		{"reset ends carry-over", "\x02bold\x0f plain words here", 12, []string{"\x02bold\x0f plain", "words here"}},
		// "\x0304,b" would read as a background colour: the comma is kept apart.
		{"carried colour before comma", "\x0304aaaaaaa,b", 10, []string{"\x0304aaaaaaa", "\x0304\x02\x02,b"}},
		{"short colour code normalised", "\x034red", 400, []string{"\x0304red"}},
		{"code bomb collapses", strings.Repeat("\x02\x02\x0304\x03", 2000) + "x", 20, []string{"x"}},
		{"formatting dropped when it cannot fit", "\x02\x1d\x1f\x1e\x11\x16\x04ff0000,00ff00abc", 20, []string{"abc"}},
		{"rune wider than max dropped", "a😀b", 3, []string{"a", "b"}},
		{"max one", "ab c", 1, []string{"a", "b", "c"}},
		{"max zero", "abc", 0, nil},
		{"max negative", "abc", -5, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Split(tc.text, tc.max)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Split(%q, %d)\n got: %q\nwant: %q", tc.text, tc.max, got, tc.want)
			}
			if tc.max > 0 {
				checkSplit(t, tc.text, tc.max, got)
			}
		})
	}
}

// TestSplitLongLine splits a 10 KB line of words at both sizes the
// connector uses and checks that nothing but the cut spaces goes missing.
func TestSplitLongLine(t *testing.T) {
	words := []string{"lorem", "ipsum", "\x02dolor\x02", "sit", "\x0304,12amet\x03", "日本語", "😀", "consectetur"}
	var b strings.Builder
	for i := 0; b.Len() < 10*1024; i++ {
		b.WriteString(words[i%len(words)] + " ")
	}
	text := b.String()
	for _, max := range []int{20, 400} {
		pieces := Split(text, max)
		checkSplit(t, text, max, pieces)
		if i := firstDifference(styledText(text), styledText(strings.Join(pieces, "\n"))); i >= 0 {
			t.Fatalf("max %d: the text or its formatting changed at character %d", max, i)
		}
		for _, p := range pieces[:len(pieces)-1] {
			if len(p) < max/2 {
				t.Errorf("max %d: piece %q is shorter than half the room", max, p)
			}
		}
	}
}

// TestSplitKeepsFormatting cuts formatted text at every size that leaves
// room for codes and checks each character keeps its formatting.
func TestSplitKeepsFormatting(t *testing.T) {
	text := "plain \x02bold \x1dbold-italic\x02 italic\x1d \x0304red \x0312,01blue-on-black \x0399still-black-bg\x03 " +
		"\x04ff8800hex-orange \x04123456,abcdefhex-pair \x0399default-on-hex \x0304red-on-hex\x03 \x1funder\x1f \x1estrike\x1e \x11mono\x11 \x16reverse\x16 \x0399,52bg-only 日本語😀 end"
	want := styledText(text)
	for max := 32; max <= 120; max++ {
		pieces := Split(text, max)
		checkSplit(t, text, max, pieces)
		got := styledText(strings.Join(pieces, "\n"))
		if i := firstDifference(want, got); i >= 0 {
			t.Fatalf("max %d: character %d changed: pieces %q", max, i, pieces)
		}
	}
}

func TestClean(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "a topic", "a topic"},
		{"empty", "", ""},
		{"CRLF is one space", "line one\r\nline two", "line one line two"},
		{"LF", "a\nb", "a b"},
		{"CR", "a\rb", "a b"},
		{"LF CR is two", "a\n\rb", "a  b"},
		{"injection", "reason\r\nKILL me", "reason KILL me"},
		{"NUL and CTCP removed", "a\x00b\x01c", "abc"},
		{"formatting kept", "\x02bold\x02 \x0304red", "\x02bold\x02 \x0304red"},
		{"invalid UTF-8", "caf\xe9", "caf\uFFFD"},
		{"valid UTF-8 kept", "café 日本 😀", "café 日本 😀"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Clean(tc.in)
			if got != tc.want {
				t.Errorf("Clean(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if !utf8.ValidString(got) || strings.ContainsAny(got, "\r\n\x00\x01") {
				t.Errorf("Clean(%q) = %q is not safe", tc.in, got)
			}
		})
	}
}
