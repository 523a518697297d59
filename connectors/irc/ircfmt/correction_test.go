package ircfmt

import "testing"

func TestCorrection(t *testing.T) {
	for _, tc := range []struct{ name, before, after, want string }{
		{"word replaced", "I like cats", "I like dogs", "s/cats/dogs/"},
		{"typo widened to the word", "fix teh bug", "fix the bug", "s/teh/the/"},
		{"letter added widens to the word", "I like cat", "I like cats", "s/cat/cats/"},
		{"word deleted", "hello big world", "hello world", "s/big //"},
		{"accent change stays on rune boundary", "café noir", "cafè noir", "s/café/cafè/"},
		{"CJK", "今日は晴れ", "今日は雨", "s/今日は晴れ/今日は雨/"},
		{"apostrophe", "dont go", "don't go", "s/dont/don't/"},
		{"append is not a replacement", "hello", "hello world", "* hello world"},
		{"old part not unique", "the cat and the cat", "the cat and the dog", "* the cat and the dog"},
		{"old part repeated elsewhere", "ab ab", "ab ac", "* ab ac"},
		{"old part too long", "a supercalifragilisticexpialidocious word", "a tiny word", "* a tiny word"},
		{"new part too long", "a tiny word", "a supercalifragilisticexpialidocious word", "* a supercalifragilisticexpialidocious word"},
		{"slash in old part", "use a/b here", "use c here", "* use c here"},
		{"slash in new part", "use c here", "use a/b here", "* use a/b here"},
		{"two changes close together", "one two three", "uno two tres", "s/one two three/uno two tres/"},
		{"two changes far apart", "first, then some words in the middle, last", "1st, then some words in the middle, final",
			"* 1st, then some words in the middle, final"},
		{"no change", "same", "same", "* same"},
		{"everything changed", "hello", "goodbye", "s/hello/goodbye/"},
		{"newline in change", "a b", "a\nb", "* a\nb"},
		{"empty before", "", "new", "* new"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Correction(tc.before, tc.after); got != tc.want {
				t.Errorf("Correction(%q, %q) = %q, want %q", tc.before, tc.after, got, tc.want)
			}
		})
	}
}
