package irc

import (
	"strings"
	"testing"
)

func validSection() *Section {
	s := NewSection()
	s.Enabled = true
	s.Networks = []NetworkConfig{{ID: "libera", Server: "irc.libera.chat:6697", TLS: true, BotNick: "switchboard", Channels: []string{"#chat"}}}
	return s
}

func TestSectionDefaults(t *testing.T) {
	s := validSection()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	n := s.Networks[0]
	if n.Name != "libera" || n.NickTemplate != "{displayname}[m]" || !*n.PerUserConnections || !*n.MembershipSync ||
		n.MaxConnections != 5000 || n.MaxLines != 10 || n.LinkConsent != "ops" || n.Flood != (Flood{LinesPerSecond: 2, Burst: 5}) {
		t.Errorf("defaults: %+v", n)
	}
}

func TestSectionErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Section)
		want   string
	}{
		{"no networks", func(s *Section) { s.Networks = nil }, "networks: empty"},
		{"bad id", func(s *Section) { s.Networks[0].ID = "Libera.Chat" }, "networks[0].id:"},
		{"no port", func(s *Section) { s.Networks[0].Server = "irc.libera.chat" }, "networks[0].server:"},
		{"bad port", func(s *Section) { s.Networks[0].Server = "irc.libera.chat:99999" }, "networks[0].server: port"},
		{"bad bot nick", func(s *Section) { s.Networks[0].BotNick = "9bot" }, "networks[0].bot_nick:"},
		{"channel without #", func(s *Section) { s.Networks[0].Channels = []string{"chat"} }, "networks[0].channels[0]:"},
		{"channel with colon", func(s *Section) { s.Networks[0].Channels = []string{"#a:b"} }, "networks[0].channels[0]:"},
		{"template without name", func(s *Section) { s.Networks[0].NickTemplate = "matrixuser" }, "networks[0].nick_template:"},
		{"consent", func(s *Section) { s.Networks[0].LinkConsent = "maybe" }, "networks[0].link_consent:"},
		{"flood", func(s *Section) { s.Networks[0].Flood = Flood{LinesPerSecond: -1} }, "networks[0].flood:"},
		{"edits", func(s *Section) { s.Networks[0].Edits = "sed" }, "networks[0].edits:"},
		{"sasl", func(s *Section) { s.Networks[0].SASL = &SASL{Mechanism: "PLAIN"} }, "networks[0].sasl:"},
		{"sasl mechanism", func(s *Section) { s.Networks[0].SASL = &SASL{Mechanism: "SCRAM"} }, "networks[0].sasl.mechanism:"},
		{"duplicate", func(s *Section) { s.Networks = append(s.Networks, s.Networks[0]) }, "networks[1].id:"},
		{"identd", func(s *Section) { s.Identd = Identd{Enabled: true, Listen: "113"} }, "identd.listen:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := validSection()
			tc.mutate(s)
			err := s.Validate()
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("got %v, want an error starting %q", err, tc.want)
			}
		})
	}
}

func TestNickFor(t *testing.T) {
	s := validSection()
	c, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	n := c.networks["libera"]
	tests := []struct{ display, localpart, want string }{
		{"alice", "alice", "alice[m]"},
		{"Alice Liddell", "alice", "Alice_Liddell[m]"},
		{"", "bob", "bob[m]"},
		{"42 is the answer", "x", "_is_the_answer[m]"},
		{"émile 🎉", "emile", "mile_[m]"},
		{"a\r\nQUIT :bye", "evil", "aQUIT_bye[m]"},
		{strings.Repeat("long", 20), "l", "longlonglonglonglonglonglonglo"},
	}
	for _, tc := range tests {
		if got := n.nickFor(tc.display, tc.localpart); got != tc.want {
			t.Errorf("nickFor(%q, %q) = %q, want %q", tc.display, tc.localpart, got, tc.want)
		}
		if got := n.nickFor(tc.display, tc.localpart); !nickPattern.MatchString(got) {
			t.Errorf("nickFor(%q) = %q is not a valid nick", tc.display, got)
		}
	}
}

func TestMassQuit(t *testing.T) {
	for reason, want := range map[string]bool{
		"hub.example.net leaf.example.net": true,
		"*.net *.split":                    true,
		"Server shutting down":             true,
		"ERROR: Server going down":         true,
		"Quit: bye":                        false,
		"Ping timeout: 240 seconds":        false,
		"see you at example.org":           false,
	} {
		if got := massQuit(reason); got != want {
			t.Errorf("massQuit(%q) = %v, want %v", reason, got, want)
		}
	}
}
