package ircfmt

import (
	"strings"
	"testing"
)

func TestLeadingMention(t *testing.T) {
	long := strings.Repeat("n", maxNickLen)
	for _, tc := range []struct {
		name, text, nick, rest string
		ok                     bool
	}{
		{"colon", "alice: hi there", "alice", "hi there", true},
		{"comma", "alice, hi", "alice", "hi", true},
		{"end of text", "alice:", "alice", "", true},
		{"extra spaces", "alice:   hi", "alice", "hi", true},
		{"special characters", `[b]ob\_^{|}-1: x`, `[b]ob\_^{|}-1`, "x", true},
		{"starts with special", "`x: y", "`x", "y", true},
		{"64 bytes", long + ": x", long, "x", true},
		{"65 bytes", long + "n: x", "", long + "n: x", false},
		{"starts with digit", "1alice: hi", "", "1alice: hi", false},
		{"starts with dash", "-alice: hi", "", "-alice: hi", false},
		{"no space after colon", "http://example.org", "", "http://example.org", false},
		{"no space after comma", "a,b", "", "a,b", false},
		{"space before colon", "alice : hi", "", "alice : hi", false},
		{"no separator", "alice hi", "", "alice hi", false},
		{"just a nick", "alice", "", "alice", false},
		{"empty", "", "", "", false},
		{"separator only", ": hi", "", ": hi", false},
		{"non-ASCII nick", "élise: hi", "", "élise: hi", false},
		{"dot in nick", "a.b: hi", "", "a.b: hi", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nick, rest, ok := LeadingMention(tc.text)
			if nick != tc.nick || rest != tc.rest || ok != tc.ok {
				t.Errorf("LeadingMention(%q) = %q, %q, %v; want %q, %q, %v", tc.text, nick, rest, ok, tc.nick, tc.rest, tc.ok)
			}
		})
	}
}
