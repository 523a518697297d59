package registration

import (
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	const ok = `id: irc
url: http://127.0.0.1:29330
as_token: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
hs_token: bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
sender_localpart: ircbot
namespaces:
  users:
    - {regex: '@irc_.*:example\.org', exclusive: true}
  aliases:
    - {regex: '#irc_.*:example\.org', exclusive: true}
`
	// edit replaces the line starting with key (or appends when absent).
	edit := func(key, line string) string {
		var out []string
		found := false
		for _, l := range strings.Split(strings.TrimSuffix(ok, "\n"), "\n") {
			if strings.HasPrefix(l, key+":") {
				found = true
				if line != "" {
					out = append(out, line)
				}
				continue
			}
			out = append(out, l)
		}
		if !found {
			out = append(out, line)
		}
		return strings.Join(out, "\n") + "\n"
	}
	head := strings.SplitAfter(ok, "ircbot\n")[0] // everything before namespaces
	tests := []struct {
		name   string
		yaml   string
		server string
		kind   error  // nil: valid
		want   string // substring of the message: field and problem
		fix    string // substring of the message: the fix
	}{
		{name: "valid", yaml: ok},
		{name: "url null", yaml: edit("url", "url: null")},
		{name: "url empty", yaml: edit("url", `url: ""`)},
		{name: "url https with path", yaml: edit("url", "url: https://bridge.example.org/irc")},
		{name: "historical mixed-case sender", yaml: edit("sender_localpart", "sender_localpart: 6zqnlwdfXBe48lqHOvFgrVgoRgYImWwj")},
		{name: "sender with = and +", yaml: edit("sender_localpart", "sender_localpart: irc=bot+1")},
		{name: "no server name", yaml: ok, server: "-", kind: ErrInvalid, want: "no server name"},
		{name: "id missing", yaml: edit("id", ""), kind: ErrMissing, want: "id: missing", fix: "unique id"},
		{name: "id empty", yaml: edit("id", `id: ""`), kind: ErrMissing, want: "id: missing"},
		{name: "id with pipe", yaml: edit("id", "id: irc|2"), kind: ErrInvalid, want: `id: "irc|2" contains '|'`, fix: "remove the '|'"},
		{name: "id control char", yaml: edit("id", `id: "irc\t2"`), kind: ErrInvalid, want: "id: contains control characters"},
		{name: "url missing", yaml: edit("url", ""), kind: ErrMissing, want: "url: missing", fix: "url: null"},
		{name: "url ftp", yaml: edit("url", "url: ftp://example.org"), kind: ErrInvalid, want: `url: "ftp://example.org" is not an http(s) URL`, fix: "http://host:port"},
		{name: "url no scheme", yaml: edit("url", "url: localhost:29330"), kind: ErrInvalid, want: "is not an http(s) URL"},
		{name: "url no host", yaml: edit("url", "url: 'http:///path'"), kind: ErrInvalid, want: "is not an http(s) URL"},
		{name: "url unix", yaml: edit("url", "url: unix:/run/sb.sock"), kind: ErrInvalid, want: "is not an http(s) URL"},
		{name: "as_token missing", yaml: edit("as_token", ""), kind: ErrMissing, want: "as_token: missing", fix: "random token"},
		{name: "hs_token missing", yaml: edit("hs_token", ""), kind: ErrMissing, want: "hs_token: missing"},
		{name: "token with space", yaml: edit("as_token", `as_token: "abc def"`), kind: ErrInvalid, want: "as_token: contains spaces"},
		{name: "token non-ascii", yaml: edit("hs_token", "hs_token: jeton-é"), kind: ErrInvalid, want: "hs_token: contains spaces, control or non-ASCII"},
		{name: "same tokens", yaml: edit("hs_token", "hs_token: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), kind: ErrInvalid, want: "hs_token: same as as_token", fix: "two different random tokens"},
		{name: "sender missing", yaml: edit("sender_localpart", ""), kind: ErrMissing, want: "sender_localpart: missing"},
		{name: "sender with colon", yaml: edit("sender_localpart", "sender_localpart: 'irc:bot'"), kind: ErrInvalid, want: `sender_localpart: "irc:bot" is not a user id localpart`, fix: "a-z, 0-9 and . _ = - / +"},
		{name: "sender with space", yaml: edit("sender_localpart", "sender_localpart: irc bot"), kind: ErrInvalid, want: "is not a user id localpart"},
		{name: "sender with hash", yaml: edit("sender_localpart", "sender_localpart: 'irc#bot'"), kind: ErrInvalid, want: "is not a user id localpart"},
		{name: "sender with sigil", yaml: edit("sender_localpart", "sender_localpart: '@ircbot'"), kind: ErrInvalid, want: "is not a user id localpart"},
		{name: "sender too long", yaml: edit("sender_localpart", "sender_localpart: "+strings.Repeat("b", 250)), kind: ErrInvalid, want: "over the limit of 255"},
		{name: "namespaces missing", yaml: head, kind: ErrMissing, want: "namespaces: missing", fix: "namespaces: {}"},
		{name: "namespaces null", yaml: head + "namespaces: null\n", kind: ErrMissing, want: "namespaces: missing"},
		{name: "namespaces empty", yaml: head + "namespaces: {}\n"},
		{name: "regex does not compile", yaml: ok + "  rooms:\n    - {regex: '!a:x', exclusive: false}\n    - {regex: '!(b:x', exclusive: false}\n", kind: ErrInvalid, want: `namespaces.rooms[1].regex: "!(b:x" does not compile: missing closing )`, fix: "fix the regex"},
		{name: "regex lookahead", yaml: head + "namespaces:\n  users:\n    - {regex: '@irc_(?!admin).*', exclusive: true}\n", kind: ErrInvalid, want: "namespaces.users[0].regex", fix: "no lookaround"},
		{name: "regex unbalanced but balanced when wrapped", yaml: head + "namespaces:\n  aliases:\n    - {regex: 'a)|(b', exclusive: true}\n", kind: ErrInvalid, want: "namespaces.aliases[0].regex", fix: "fix the regex"},
		{name: "regex empty", yaml: head + "namespaces:\n  users:\n    - {regex: '', exclusive: true}\n", kind: ErrMissing, want: "namespaces.users[0].regex: empty", fix: ".*"},
		{name: "protocol empty", yaml: ok + "protocols: ['']\n", kind: ErrInvalid, want: "protocols[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse([]byte(tt.yaml), "/etc/sb/irc.yaml")
			if err != nil {
				t.Fatalf("Parse: %v\n%s", err, tt.yaml)
			}
			server := serverName
			if tt.server == "-" {
				server = ""
			}
			err = r.Validate(server)
			if tt.kind == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate passed:\n%s", tt.yaml)
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("%v is not %v", err, tt.kind)
			}
			msg := err.Error()
			for _, want := range []string{"registration /etc/sb/irc.yaml: ", tt.want, tt.fix} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q lacks %q", msg, want)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("message is not one line: %q", msg)
			}
			if strings.Contains(msg, "aaaaaaaa") || strings.Contains(msg, "bbbbbbbb") {
				t.Errorf("message shows a token: %q", msg)
			}
			if r.validated {
				t.Error("failed registration marked validated")
			}
		})
	}
}

// Validate recompiles, so a namespace edited after loading takes effect.
func TestValidateRecompiles(t *testing.T) {
	r := loadValid(t, "heisenbridge.yaml")
	if r.IsInterestedInUser("@hb_x:example.org") {
		t.Fatal("matched before the edit")
	}
	r.Namespaces.UserIDs[0].Regex = "@hb_.*"
	if err := r.Validate(serverName); err != nil {
		t.Fatal(err)
	}
	if !r.IsInterestedInUser("@hb_x:example.org") || r.IsInterestedInUser("@irc_x:example.org") {
		t.Error("Validate did not recompile the namespaces")
	}
	r.Namespaces.UserIDs[0].Regex = "(("
	if err := r.Validate(serverName); err == nil {
		t.Error("bad regex accepted after edit")
	}
}
