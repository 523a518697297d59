package ircfmt

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxCorrectionPart is the longest old or new part, in bytes, that
// Correction still writes as a substitution.
const maxCorrectionPart = 20

// Correction is what to send to IRC when a Matrix message is edited from
// before to after (plain bodies): a sed-style "s/old/new/" when the change
// is one small replacement (old part and new part each ≤ 20 bytes, the old
// part non-empty and occurring exactly once in before, neither containing
// '/'; extend the changed span to word boundaries so it reads naturally),
// otherwise "* " + after.
//
// Neither part may hold a line break either: a substitution is one line.
// The result is not cleaned or split; Split does that.
func Correction(before, after string) string {
	if old, replacement, ok := substitution(before, after); ok {
		return "s/" + old + "/" + replacement + "/"
	}
	return "* " + after
}

// substitution finds the one changed span between before and after,
// widened to whole words, and reports whether it makes a good s/old/new/.
func substitution(before, after string) (old, replacement string, ok bool) {
	if before == after {
		return "", "", false
	}
	start, endBefore, endAfter := changedSpan(before, after)
	start, endBefore, endAfter = widenToWords(before, after, start, endBefore, endAfter)
	old, replacement = before[start:endBefore], after[start:endAfter]
	ok = old != "" &&
		len(old) <= maxCorrectionPart && len(replacement) <= maxCorrectionPart &&
		!strings.ContainsAny(old, "/\r\n") && !strings.ContainsAny(replacement, "/\r\n") &&
		strings.Index(before, old) == strings.LastIndex(before, old)
	return old, replacement, ok
}

// changedSpan returns where before and after start to differ and where
// their common suffix starts in each, on rune boundaries.
func changedSpan(before, after string) (start, endBefore, endAfter int) {
	for start < len(before) && start < len(after) && before[start] == after[start] {
		start++
	}
	for start > 0 && (midRune(before, start) || midRune(after, start)) {
		start--
	}
	endBefore, endAfter = len(before), len(after)
	for endBefore > start && endAfter > start && before[endBefore-1] == after[endAfter-1] {
		endBefore--
		endAfter--
	}
	for endBefore < len(before) && midRune(before, endBefore) {
		endBefore++
		endAfter++
	}
	return start, endBefore, endAfter
}

// midRune reports whether s[i] continues a multi-byte rune.
func midRune(s string, i int) bool { return i < len(s) && !utf8.RuneStart(s[i]) }

// widenToWords moves the span's edges outwards while they cut a word in
// two, in before or in after. The text outside the span is the same in both,
// so the edges move together.
func widenToWords(before, after string, start, endBefore, endAfter int) (int, int, int) {
	for start > 0 && (midWord(before, start) || midWord(after, start)) {
		_, size := utf8.DecodeLastRuneInString(before[:start])
		start -= size
	}
	for endBefore < len(before) && (midWord(before, endBefore) || midWord(after, endAfter)) {
		_, size := utf8.DecodeRuneInString(before[endBefore:])
		endBefore += size
		endAfter += size
	}
	return start, endBefore, endAfter
}

// midWord reports whether the runes on both sides of s[i] belong to words.
func midWord(s string, i int) bool {
	if i <= 0 || i >= len(s) {
		return false
	}
	left, _ := utf8.DecodeLastRuneInString(s[:i])
	right, _ := utf8.DecodeRuneInString(s[i:])
	return isWordRune(left) && isWordRune(right)
}

func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}
