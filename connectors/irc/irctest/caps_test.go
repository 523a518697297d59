package irctest

import (
	"slices"
	"strings"
	"testing"
)

// inspircdCaps are the capabilities the InspIRCd configuration is meant to
// offer. msgid is not among them: it is a tag, sent with message-tags.
var inspircdCaps = []string{
	"message-tags", "echo-message", "server-time", "batch",
	"labeled-response", "account-tag", "chghost",
}

func TestInspIRCdOffersIRCv3(t *testing.T) {
	t.Parallel()
	s := Start(t, Options{Kind: InspIRCd})
	alice := Dial(t, s.Addr, "alice", inspircdCaps...)
	t.Logf("InspIRCd offers: %s", capNames(alice.Caps()))
	for _, name := range inspircdCaps {
		if _, offered := alice.Caps()[name]; !offered {
			t.Errorf("CAP LS lacks %s", name)
		}
		if !alice.Enabled(name) {
			t.Errorf("CAP REQ %s was not acknowledged", name)
		}
	}
	if _, offered := alice.Caps()["sasl"]; offered {
		t.Errorf("CAP LS offers sasl, but no services server is linked")
	}
}

func TestInspIRCdClientTagsEchoAndLabels(t *testing.T) {
	t.Parallel()
	s := Start(t, Options{Kind: InspIRCd})
	// InspIRCd 3 labels replies only for clients that also enabled batch.
	alice := Dial(t, s.Addr, "alice", "message-tags", "echo-message", "server-time", "labeled-response", "batch")
	bob := Dial(t, s.Addr, "bob", "message-tags", "server-time")
	alice.Join("#tags")
	bob.Join("#tags")
	alice.Expect(wait, "bob's JOIN", Joined("bob", "#tags"))

	t.Run("client tag on TAGMSG", func(t *testing.T) {
		alice.Send("@+draft/reply=abc123 TAGMSG #tags")
		m := bob.Expect(wait, "alice's TAGMSG", Tagmsg("alice", "#tags"))
		if got, _ := m.Tag("+draft/reply"); got != "abc123" {
			t.Errorf("+draft/reply = %q, want abc123 (line %q)", got, m.Raw)
		}
	})

	t.Run("escaped client tag on PRIVMSG, echoed with the same msgid", func(t *testing.T) {
		value := `a b;c\d`
		alice.Send("@+draft/reply=" + EscapeTagValue(value) + " PRIVMSG #tags :a reply")
		got := bob.Expect(wait, "alice's tagged PRIVMSG", Privmsg("alice", "#tags", "a reply"))
		if reply, _ := got.Tag("+draft/reply"); reply != value {
			t.Errorf("+draft/reply arrived as %q, want %q (line %q)", reply, value, got.Raw)
		}
		echo := alice.Expect(wait, "the echo of alice's PRIVMSG", Privmsg("alice", "#tags", "a reply"))
		echoID, echoHas := echo.Tag("msgid")
		gotID, gotHas := got.Tag("msgid")
		if !echoHas || !gotHas || echoID != gotID {
			t.Errorf("msgid of the echo %q and of bob's copy %q should be present and equal", echo.Raw, got.Raw)
		}
		if _, ok := got.Tag("time"); !ok {
			t.Errorf("bob's copy has no server-time tag: %q", got.Raw)
		}
	})

	t.Run("label on the echo", func(t *testing.T) {
		alice.Send("@label=l1 PRIVMSG #tags :labelled")
		echo := alice.Expect(wait, "the labelled echo", Privmsg("alice", "#tags", "labelled"))
		if label, _ := echo.Tag("label"); label != "l1" {
			t.Errorf("echo label = %q, want l1 (line %q)", label, echo.Raw)
		}
	})
}

func TestNgircdOffersOnlyMultiPrefix(t *testing.T) {
	t.Parallel()
	s := Start(t, Options{Kind: Ngircd})
	c := Dial(t, s.Addr, "alice", "message-tags", "echo-message", "multi-prefix")
	t.Logf("ngIRCd offers: %s", capNames(c.Caps()))
	if !c.Enabled("multi-prefix") {
		t.Errorf("multi-prefix not acknowledged; offered %s", capNames(c.Caps()))
	}
	for _, name := range []string{"message-tags", "echo-message"} {
		if c.Enabled(name) {
			t.Errorf("%s acknowledged, but ngIRCd 26 does not implement it", name)
		}
	}
}

// capNames lists offered capabilities with their values, sorted.
func capNames(caps map[string]string) string {
	var names []string
	for name, value := range caps {
		if value != "" {
			name += "=" + value
		}
		names = append(names, name)
	}
	slices.Sort(names)
	return strings.Join(names, " ")
}
