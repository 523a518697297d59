package registration

import (
	"testing"
)

// Matching against namespaces taken from real registrations. Regexes are
// anchored at the start only, as Synapse's re.match does.
func TestUserNamespaces(t *testing.T) {
	tests := []struct {
		file       string
		userID     string
		interested bool
		exclusive  bool
		owns       bool
	}{
		// mautrix-go: ^...$ on both ends, random mixed-case sender, bot in the namespace.
		{"mautrix-whatsapp.yaml", "@whatsapp_4915112345678:example.org", true, true, true},
		{"mautrix-whatsapp.yaml", "@whatsappbot:example.org", true, true, true},
		{"mautrix-whatsapp.yaml", "@6zqnlwdfXBe48lqHOvFgrVgoRgYImWwj:example.org", true, true, true}, // sender_localpart
		{"mautrix-whatsapp.yaml", "@6zqnlwdfXBe48lqHOvFgrVgoRgYImWwj:other.org", false, false, false},
		{"mautrix-whatsapp.yaml", "@whatsapp_x:example.org.evil", false, false, false}, // $ holds
		{"mautrix-whatsapp.yaml", "@alice:example.org", false, false, false},
		{"mautrix-whatsapp.yaml", "@x@whatsapp_y:example.org", false, false, false},
		// mautrix-python: no anchors written; start anchoring still applies.
		{"mautrix-telegram.yaml", "@telegram_123456:example.org", true, true, true},
		{"mautrix-telegram.yaml", "@telegrambot:example.org", true, true, true},
		{"mautrix-telegram.yaml", "@telegram_1:example.org.evil", true, true, false}, // no $: Synapse matches too; not local, so not owned
		{"mautrix-telegram.yaml", "@x_telegram_1:example.org", false, false, false},  // start anchor: Dendrite would match
		{"mautrix-telegram.yaml", "@telegram_1:other.org", false, false, false},
		// heisenbridge: "@irc_.*" names no server at all.
		{"heisenbridge.yaml", "@irc_alice:example.org", true, true, true},
		{"heisenbridge.yaml", "@irc_alice:remote.org", true, true, false}, // interested by regex, but not ours to act as
		{"heisenbridge.yaml", "@heisenbridge:example.org", true, true, true},
		{"heisenbridge.yaml", "@heisenbridge:remote.org", false, false, false},
		{"heisenbridge.yaml", "@bob_irc_alice:example.org", false, false, false},
		{"heisenbridge.yaml", "irc_alice", false, false, false},
		// matrix-appservice-irc
		{"appservice-irc.yaml", "@irc_libera_alice:example.org", true, true, true},
		{"appservice-irc.yaml", "@irc_oftc_alice:example.org", false, false, false},
		{"appservice-irc.yaml", "@appservice-irc:example.org", true, true, true},
		// non-exclusive namespace: interested, may act, not exclusive.
		{"extras.yaml", "@alice:example.org", true, false, true},
		{"extras.yaml", "@alice:remote.org", false, false, false},
		{"extras.yaml", "@_logger:example.org", true, true, true},
		{"extras.yaml", "", false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.file+" "+tt.userID, func(t *testing.T) {
			r := loadValid(t, tt.file)
			if got := r.IsInterestedInUser(tt.userID); got != tt.interested {
				t.Errorf("IsInterestedInUser = %v, want %v", got, tt.interested)
			}
			if got := r.IsExclusiveUser(tt.userID); got != tt.exclusive {
				t.Errorf("IsExclusiveUser = %v, want %v", got, tt.exclusive)
			}
			if got := r.OwnsUser(tt.userID); got != tt.owns {
				t.Errorf("OwnsUser = %v, want %v", got, tt.owns)
			}
		})
	}
}

func TestAliasAndRoomNamespaces(t *testing.T) {
	tests := []struct {
		file       string
		alias      string
		roomID     string
		interested bool
		exclusive  bool
	}{
		{file: "appservice-irc.yaml", alias: "#irc_libera_#chan:example.org", interested: true, exclusive: true},
		{file: "appservice-irc.yaml", alias: "#irc_libera_#matrix-dev:example.org", interested: true, exclusive: true},
		{file: "appservice-irc.yaml", alias: "#irc_oftc_#chan:example.org", interested: false},
		{file: "appservice-irc.yaml", alias: "#chan:example.org", interested: false},
		{file: "appservice-irc.yaml", roomID: "!hQwXcYzLmNpRsTuV:example.org", interested: true, exclusive: false},
		{file: "appservice-irc.yaml", roomID: "!other:example.org", interested: false},
		{file: "mautrix-telegram.yaml", alias: "#telegram_-100123:example.org", interested: true, exclusive: true}, // regex written \#telegram_...
		{file: "mautrix-telegram.yaml", alias: "#x:example.org", interested: false},
		{file: "mautrix-whatsapp.yaml", alias: "#whatsapp_x:example.org", interested: false}, // no alias namespace
		{file: "extras.yaml", alias: "#anything:example.org", interested: true, exclusive: false},
		{file: "heisenbridge.yaml", roomID: "!abc:example.org", interested: false},
	}
	for _, tt := range tests {
		t.Run(tt.file+" "+tt.alias+tt.roomID, func(t *testing.T) {
			r := loadValid(t, tt.file)
			var interested, exclusive bool
			if tt.alias != "" {
				interested, exclusive = r.IsInterestedInAlias(tt.alias), r.IsExclusiveAlias(tt.alias)
			} else {
				interested, exclusive = r.IsInterestedInRoom(tt.roomID), r.IsExclusiveRoom(tt.roomID)
			}
			if interested != tt.interested || exclusive != tt.exclusive {
				t.Errorf("interested, exclusive = %v, %v; want %v, %v", interested, exclusive, tt.interested, tt.exclusive)
			}
		})
	}
}

// Anchoring semantics on their own: start anchored, end open, alternation
// anchored as a whole, flags kept.
func TestAnchoring(t *testing.T) {
	tests := []struct {
		regex string
		input string
		want  bool
	}{
		{`@irc_.*`, "@irc_a:example.org", true},
		{`irc_.*`, "@irc_a:example.org", false}, // re.match("irc_.*", "@irc_a") is None
		{`.*irc_.*`, "@irc_a:example.org", true},
		{`@irc_`, "@irc_a:example.org", true}, // end is open
		{`@irc_$`, "@irc_a:example.org", false},
		{`^@irc_.*:example\.org$`, "@irc_a:example.org", true},
		{`@a_.*|@b_.*`, "@b_x:example.org", true},
		{`@a_.*|@b_.*`, "x@b_x:example.org", false}, // the group anchors both branches
		{`(?i)@IRC_.*`, "@irc_a:example.org", true},
		{`\#irc_.*`, "#irc_a:example.org", true},
		{`@irc_\d+:example\.org`, "@irc_42:example.org", true},
		{`!hQwXcYzLmNpRsTuV:example.org`, "!hQwXcYzLmNpRsTuV:exampleXorg", true}, // unescaped dot, as written by the IRC bridge
	}
	for _, tt := range tests {
		t.Run(tt.regex+" "+tt.input, func(t *testing.T) {
			re, err := compileRegex(tt.regex)
			if err != nil {
				t.Fatal(err)
			}
			if got := re.MatchString(tt.input); got != tt.want {
				t.Errorf("match = %v, want %v", got, tt.want)
			}
		})
	}
}

// A later exclusive namespace counts even when an earlier non-exclusive one
// also matches (Synapse would stop at the first).
func TestExclusiveAnyMatch(t *testing.T) {
	r, err := Parse([]byte(`id: x
url: null
as_token: a
hs_token: b
sender_localpart: xbot
namespaces:
  users:
    - {regex: '@.*', exclusive: false}
    - {regex: '@x_.*', exclusive: true}
`), "inline")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Validate(serverName); err != nil {
		t.Fatal(err)
	}
	if !r.IsExclusiveUser("@x_1:example.org") || r.IsExclusiveUser("@y_1:example.org") || !r.IsInterestedInUser("@y_1:example.org") {
		t.Error("exclusivity not decided by any matching namespace")
	}
}

// Before Validate the server name is unknown: the bot is not recognised and
// OwnsUser refuses everything rather than guess.
func TestMatchingBeforeValidate(t *testing.T) {
	r, err := Load("testdata/heisenbridge.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !r.IsInterestedInUser("@irc_a:example.org") {
		t.Error("namespace not compiled by Parse")
	}
	if r.IsInterestedInUser("@heisenbridge:example.org") || r.OwnsUser("@irc_a:example.org") || r.BotUserID() != "" {
		t.Error("server name assumed before Validate")
	}
}
