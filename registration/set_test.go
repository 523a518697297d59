package registration

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func loadAll(t *testing.T) []*Registration {
	t.Helper()
	var regs []*Registration
	for _, f := range []string{"mautrix-whatsapp.yaml", "mautrix-telegram.yaml", "heisenbridge.yaml", "appservice-irc.yaml", "extras.yaml"} {
		regs = append(regs, loadValid(t, f))
	}
	return regs
}

// clone parses r's YAML again under another source name, so tests can edit
// the copy without touching r.
func clone(t *testing.T, r *Registration, source string, edit func(*Registration)) *Registration {
	t.Helper()
	data, err := r.YAML()
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(data, source)
	if err != nil {
		t.Fatal(err)
	}
	edit(c)
	if err := c.Validate(serverName); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewSetDuplicates(t *testing.T) {
	wa := loadValid(t, "mautrix-whatsapp.yaml")
	hb := loadValid(t, "heisenbridge.yaml")
	fresh := func(r *Registration) {
		g := Generate(GenerateOptions{})
		r.ID, r.AppToken, r.ServerToken = "copy", g.AppToken, g.ServerToken
	}
	tests := []struct {
		name  string
		other *Registration
		key   string
		want  []string
	}{
		{
			name:  "same id",
			other: clone(t, hb, "/etc/sb/copy.yaml", func(r *Registration) { fresh(r); r.ID = "whatsapp" }),
			key:   "id",
			want:  []string{`id "whatsapp" is used by both testdata/mautrix-whatsapp.yaml and /etc/sb/copy.yaml`, "its own id"},
		},
		{
			name:  "same as_token",
			other: clone(t, hb, "/etc/sb/copy.yaml", func(r *Registration) { fresh(r); r.AppToken = wa.AppToken }),
			key:   "as_token",
			want:  []string{"testdata/mautrix-whatsapp.yaml and /etc/sb/copy.yaml have the same as_token", "generate a new random as_token"},
		},
		{
			name:  "same hs_token",
			other: clone(t, hb, "/etc/sb/copy.yaml", func(r *Registration) { fresh(r); r.ServerToken = wa.ServerToken }),
			key:   "hs_token",
			want:  []string{"have the same hs_token"},
		},
		{
			name:  "as_token is another's hs_token",
			other: clone(t, hb, "/etc/sb/copy.yaml", func(r *Registration) { fresh(r); r.AppToken = wa.ServerToken }),
			key:   "as_token/hs_token",
			want:  []string{"the as_token of /etc/sb/copy.yaml is the hs_token of testdata/mautrix-whatsapp.yaml"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewSet(wa, hb, tt.other)
			if err == nil {
				t.Fatalf("NewSet accepted the duplicate: %d entries", s.Len())
			}
			var de *DuplicateError
			if !errors.Is(err, ErrDuplicate) || !errors.As(err, &de) || de.Key != tt.key {
				t.Fatalf("error %#v, want a DuplicateError for %s", err, tt.key)
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
			for _, r := range []*Registration{wa, hb, tt.other} {
				if strings.Contains(msg, r.AppToken) || strings.Contains(msg, r.ServerToken) {
					t.Errorf("message shows a token: %q", msg)
				}
			}
		})
	}
}

func TestNewSetRefusesUnvalidated(t *testing.T) {
	r, err := Load("testdata/heisenbridge.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewSet(r); !errors.Is(err, ErrNotValidated) || !strings.Contains(err.Error(), "heisenbridge.yaml") {
		t.Errorf("NewSet(unvalidated) = %v", err)
	}
	if _, err := NewSet(nil); err == nil {
		t.Error("NewSet(nil) accepted")
	}
	r.Namespaces.UserIDs[0].Regex = "(("
	if r.Validate(serverName) == nil {
		t.Fatal("bad regex validated")
	}
	if _, err := NewSet(r); !errors.Is(err, ErrNotValidated) {
		t.Errorf("NewSet after failed Validate = %v", err)
	}
}

func TestByASToken(t *testing.T) {
	regs := loadAll(t)
	s, err := NewSet(regs...)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != len(regs) || len(s.All()) != len(regs) {
		t.Fatalf("Len = %d, All = %d", s.Len(), len(s.All()))
	}
	for _, r := range regs {
		t.Run(r.ID, func(t *testing.T) {
			if got := s.ByASToken(r.AppToken); got != r {
				t.Errorf("ByASToken = %v, want %s", got, r.Source())
			}
			if got := s.ByID(r.ID); got != r {
				t.Errorf("ByID = %v", got)
			}
		})
	}
	wrong := []string{"", "x", regs[0].AppToken + "x", regs[0].AppToken[:63], strings.ToUpper(regs[3].AppToken), regs[0].ServerToken, " " + regs[1].AppToken}
	for i, tok := range wrong {
		t.Run(fmt.Sprintf("wrong %d", i), func(t *testing.T) {
			if got := s.ByASToken(tok); got != nil {
				t.Errorf("ByASToken(wrong) = %s", got.Source())
			}
		})
	}
	if s.ByID("nope") != nil {
		t.Error("ByID(nope) found something")
	}
}

func TestNilAndEmptySet(t *testing.T) {
	var nilSet *Set
	empty, err := NewSet()
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*Set{"nil": nilSet, "empty": empty} {
		t.Run(name, func(t *testing.T) {
			if s.ByASToken("x") != nil || s.ByID("x") != nil || s.Len() != 0 || len(s.All()) != 0 ||
				s.ExclusiveOwnerOfUser("@x:y") != nil || s.ExclusiveOwnerOfAlias("#x:y") != nil || s.ExclusiveOwnerOfRoom("!x:y") != nil {
				t.Error("empty set found something")
			}
		})
	}
}

func TestExclusiveOwners(t *testing.T) {
	s, err := NewSet(loadAll(t)...)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		kind string
		id   string
		want string // registration id; "" for none
	}{
		{"user", "@whatsapp_123:example.org", "whatsapp"},
		{"user", "@telegrambot:example.org", "telegram"},
		{"user", "@HcT0x2mNp8RqVw4Lz6YbKe1JsFdGa9Uo:example.org", "telegram"}, // sender_localpart user
		{"user", "@irc_libera_alice:example.org", "heisenbridge"},             // both IRC bridges claim it; first wins
		{"user", "@heisenbridge:example.org", "heisenbridge"},
		{"user", "@appservice-irc:example.org", "7ce16e8a0d1b35a0a1b2c9e4f3d87a6b51f0c2e9d8b7a6f5e4d3c2b1a0f9e8d7"},
		{"user", "@alice:example.org", ""}, // the logger is interested but not exclusive
		{"user", "@_logger:example.org", "logger"},
		{"alias", "#irc_libera_#chan:example.org", "7ce16e8a0d1b35a0a1b2c9e4f3d87a6b51f0c2e9d8b7a6f5e4d3c2b1a0f9e8d7"},
		{"alias", "#telegram_-100123:example.org", "telegram"},
		{"alias", "#general:example.org", ""},
		{"room", "!hQwXcYzLmNpRsTuV:example.org", ""}, // non-exclusive rooms namespace
	}
	for _, tt := range tests {
		t.Run(tt.kind+" "+tt.id, func(t *testing.T) {
			var got *Registration
			switch tt.kind {
			case "user":
				got = s.ExclusiveOwnerOfUser(tt.id)
			case "alias":
				got = s.ExclusiveOwnerOfAlias(tt.id)
			case "room":
				got = s.ExclusiveOwnerOfRoom(tt.id)
			}
			gotID := ""
			if got != nil {
				gotID = got.ID
			}
			if gotID != tt.want {
				t.Errorf("owner = %q, want %q", gotID, tt.want)
			}
		})
	}
}

func TestTokenEqual(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"", "", true},
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"abc", "abcd", false},
		{"abc", "", false},
		{strings.Repeat("x", 64), strings.Repeat("x", 64), true},
	}
	for _, tt := range tests {
		if got := TokenEqual(tt.a, tt.b); got != tt.want {
			t.Errorf("TokenEqual(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
}

func BenchmarkByASToken(b *testing.B) {
	var regs []*Registration
	for i := range 50 {
		r := Generate(GenerateOptions{ID: fmt.Sprintf("b%d", i), ServerName: serverName, SenderLocalpart: fmt.Sprintf("bot%d", i)})
		if err := r.Validate(serverName); err != nil {
			b.Fatal(err)
		}
		regs = append(regs, r)
	}
	s, err := NewSet(regs...)
	if err != nil {
		b.Fatal(err)
	}
	tok := regs[25].AppToken
	for b.Loop() {
		if s.ByASToken(tok) == nil {
			b.Fatal("not found")
		}
	}
}
