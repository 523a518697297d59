package registration

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"maunium.net/go/mautrix/appservice"
)

const serverName = "example.org"

// loadValid loads a testdata file and validates it against example.org.
func loadValid(t *testing.T, name string) *Registration {
	t.Helper()
	r, err := Load(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("Load(%s): %v", name, err)
	}
	if err := r.Validate(serverName); err != nil {
		t.Fatalf("Validate(%s): %v", name, err)
	}
	return r
}

func TestLoadTestdata(t *testing.T) {
	f := false
	tests := []struct {
		file        string
		id          string
		url         string
		sender      string
		rateLimited *bool
		users       int
		aliases     int
		rooms       int
		protocols   []string
		ephemeral   bool
		soru        bool
		unknown     []string
	}{
		{file: "mautrix-whatsapp.yaml", id: "whatsapp", url: "http://localhost:29318", sender: "6zqnlwdfXBe48lqHOvFgrVgoRgYImWwj", rateLimited: &f, users: 2, ephemeral: true, soru: true},
		{file: "mautrix-telegram.yaml", id: "telegram", url: "http://localhost:29317", sender: "HcT0x2mNp8RqVw4Lz6YbKe1JsFdGa9Uo", rateLimited: &f, users: 2, aliases: 1, soru: true, unknown: []string{"push_ephemeral"}},
		{file: "heisenbridge.yaml", id: "heisenbridge", url: "http://127.0.0.1:9898", sender: "heisenbridge", rateLimited: &f, users: 1},
		{file: "appservice-irc.yaml", id: "7ce16e8a0d1b35a0a1b2c9e4f3d87a6b51f0c2e9d8b7a6f5e4d3c2b1a0f9e8d7", url: "http://localhost:9999", sender: "appservice-irc", rateLimited: &f, users: 1, aliases: 1, rooms: 1, protocols: []string{"irc"}, soru: true},
		{file: "extras.yaml", id: "logger", url: "", sender: "_logger", rateLimited: &f, users: 1, aliases: 1, ephemeral: true, unknown: []string{"ip_range_whitelist", "io.element.msc4512.proxy_prefix"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r := loadValid(t, tt.file)
			if r.ID != tt.id || r.URL != tt.url || r.SenderLocalpart != tt.sender {
				t.Errorf("id, url, sender = %q, %q, %q; want %q, %q, %q", r.ID, r.URL, r.SenderLocalpart, tt.id, tt.url, tt.sender)
			}
			if len(r.AppToken) != 64 || len(r.ServerToken) != 64 {
				t.Errorf("token lengths %d, %d; want 64", len(r.AppToken), len(r.ServerToken))
			}
			if !reflect.DeepEqual(r.RateLimited, tt.rateLimited) {
				t.Errorf("rate_limited = %v, want %v", r.RateLimited, tt.rateLimited)
			}
			if got := [3]int{len(r.Namespaces.UserIDs), len(r.Namespaces.RoomAliases), len(r.Namespaces.RoomIDs)}; got != [3]int{tt.users, tt.aliases, tt.rooms} {
				t.Errorf("namespace counts %v, want %v", got, [3]int{tt.users, tt.aliases, tt.rooms})
			}
			if !slices.Equal(r.Protocols, tt.protocols) {
				t.Errorf("protocols = %v, want %v", r.Protocols, tt.protocols)
			}
			if r.EphemeralEvents != tt.ephemeral || r.SoruEphemeralEvents != tt.soru {
				t.Errorf("receive_ephemeral, msc2409 = %v, %v; want %v, %v", r.EphemeralEvents, r.SoruEphemeralEvents, tt.ephemeral, tt.soru)
			}
			if !slices.Equal(r.UnknownKeys(), tt.unknown) {
				t.Errorf("UnknownKeys = %v, want %v", r.UnknownKeys(), tt.unknown)
			}
			if r.NoPush() != (tt.url == "") {
				t.Errorf("NoPush = %v", r.NoPush())
			}
			if r.Source() != filepath.Join("testdata", tt.file) {
				t.Errorf("Source = %q", r.Source())
			}
		})
	}
}

// The embedded struct must hold exactly what mautrix's own loader reads, so
// a Registration can stand in for mautrix's anywhere.
func TestParseAgreesWithMautrix(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("glob testdata: %v, %d files", err, len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			ours, err := Load(file)
			if err != nil {
				t.Fatal(err)
			}
			theirs, err := appservice.LoadRegistration(file)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(&ours.Registration, theirs) {
				t.Errorf("decoded differently:\nours   %+v\nmautrix %+v", ours.Registration, *theirs)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	const base = "id: x\nurl: null\nas_token: a\nhs_token: b\nsender_localpart: bot\n"
	tests := []struct {
		name    string
		yaml    string
		kind    error
		field   string // expected in the message
		line    string // "line N" expected in the message, if any
		fixHint string
	}{
		{"empty", "", ErrSyntax, "file is empty", "", "write the registration"},
		{"comment only", "# nothing\n", ErrSyntax, "file is empty", "", ""},
		{"not yaml", "id: [x\n", ErrSyntax, "not valid YAML", "", "fix the syntax"},
		{"top-level list", "- id: x\n", ErrSyntax, "top level is a list", "line 1", ""},
		{"top-level scalar", "hello\n", ErrSyntax, "top level is a string", "line 1", ""},
		{"duplicate key", base + "id: y\n", ErrSyntax, "id: given twice (first on line 1)", "line 6", "keep one"},
		{"duplicate namespace key", "namespaces:\n  users: []\n  users: []\n", ErrSyntax, "namespaces.users: given twice", "line 3", ""},
		{"duplicate entry key", "namespaces:\n  users:\n    - {regex: a, regex: b, exclusive: true}\n", ErrSyntax, "namespaces.users[0].regex: given twice", "", ""},
		{"id list", "id: [x]\n", ErrWrongType, "id: is a list, want a string", "line 1", "write a string"},
		{"token number", "as_token: 12345\n", ErrWrongType, "as_token: is a number, want a string", "line 1", "quote the value"},
		{"token bool", "hs_token: true\n", ErrWrongType, "hs_token: is a boolean", "", "quote the value"},
		{"sender mapping", "sender_localpart: {a: b}\n", ErrWrongType, "sender_localpart: is a mapping", "", ""},
		{"url number", "url: 8080\n", ErrWrongType, "url: is a number", "", ""},
		{"url list", "url: [http://x]\n", ErrWrongType, "url: is a list", "", ""},
		{"rate_limited string", "rate_limited: \"false\"\n", ErrWrongType, "rate_limited: is a string, want true or false", "", "write true or false"},
		{"rate_limited number", "rate_limited: 0\n", ErrWrongType, "rate_limited: is a number", "", ""},
		{"receive_ephemeral tagged", "receive_ephemeral: !!str yes\n", ErrWrongType, "receive_ephemeral", "", ""},
		{"protocols string", "protocols: irc\n", ErrWrongType, "protocols: is a string, want a list of strings", "", ""},
		{"protocols item", "protocols: [irc, 7]\n", ErrWrongType, "protocols[1]: is a number", "", ""},
		{"namespaces list", "namespaces: []\n", ErrWrongType, "namespaces: is a list, want a mapping", "", ""},
		{"users mapping", "namespaces:\n  users: {regex: x}\n", ErrWrongType, "namespaces.users: is a mapping, want a list", "line 2", ""},
		{"users item string", "namespaces:\n  users: ['@x_.*']\n", ErrWrongType, "namespaces.users[0]: is a string", "", ""},
		{"regex number", "namespaces:\n  aliases:\n    - {regex: 5, exclusive: true}\n", ErrWrongType, "namespaces.aliases[0].regex: is a number", "line 3", ""},
		{"exclusive string", "namespaces:\n  rooms:\n    - {regex: '!x', exclusive: 'true'}\n", ErrWrongType, "namespaces.rooms[0].exclusive: is a string", "", ""},
		{"regex missing", "namespaces:\n  users:\n    - exclusive: true\n", ErrMissing, "namespaces.users[0].regex: missing", "line 3", "add regex:"},
		{"exclusive missing", "namespaces:\n  users:\n    - regex: '@x_.*'\n    - regex: '@y_.*'\n      exclusive: true\n", ErrMissing, "namespaces.users[0].exclusive: missing", "", "exclusive: true or exclusive: false"},
		{"exclusive via alias wrong", "x: &n 3\nnamespaces:\n  users:\n    - {regex: '@a', exclusive: *n}\n", ErrWrongType, "namespaces.users[0].exclusive: is a number", "", ""},
		{"custom tag", "as_token: !vault secret/as\n", ErrWrongType, "as_token: is a value tagged !vault", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse([]byte(tt.yaml), "/etc/sb/test.yaml")
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", r)
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("error %v is not %v", err, tt.kind)
			}
			msg := err.Error()
			for _, want := range []string{"registration /etc/sb/test.yaml", tt.field, tt.line, tt.fixHint} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q lacks %q", msg, want)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("message is not one line: %q", msg)
			}
			var e *Error
			if !errors.As(err, &e) || e.Source != "/etc/sb/test.yaml" {
				t.Errorf("not an *Error with the source: %#v", err)
			}
		})
	}
}

func TestParseTolerates(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		check func(t *testing.T, r *Registration)
	}{
		{"unknown keys of any type", "id: x\nfoo: [1, {a: b}]\nbar: 3\n", func(t *testing.T, r *Registration) {
			if !slices.Equal(r.UnknownKeys(), []string{"foo", "bar"}) {
				t.Errorf("UnknownKeys = %v", r.UnknownKeys())
			}
		}},
		{"null values count as absent", "id: ~\nrate_limited: null\nprotocols: null\nnamespaces:\n  users: null\n", func(t *testing.T, r *Registration) {
			if r.ID != "" || r.RateLimited != nil || r.Protocols != nil || r.Namespaces.UserIDs != nil {
				t.Errorf("got %+v", r.Registration)
			}
		}},
		{"yaml 1.1 booleans as PyYAML reads them", "rate_limited: off\nreceive_ephemeral: Yes\nnamespaces:\n  users: [{regex: '@a', exclusive: y}]\n", func(t *testing.T, r *Registration) {
			if r.RateLimited == nil || *r.RateLimited || !r.EphemeralEvents || !r.Namespaces.UserIDs[0].Exclusive {
				t.Errorf("got %+v", r.Registration)
			}
		}},
		{"aliases and anchors", "tok: &t abc\nas_token: *t\nns: &ns {regex: '@a_.*', exclusive: true}\nnamespaces:\n  users: [*ns]\n", func(t *testing.T, r *Registration) {
			if r.AppToken != "abc" || len(r.Namespaces.UserIDs) != 1 || r.Namespaces.UserIDs[0].Regex != "@a_.*" {
				t.Errorf("got %+v", r.Registration)
			}
		}},
		{"json", `{"id": "j", "url": null, "namespaces": {"users": [{"regex": "@j_.*", "exclusive": true, "group_id": "+g:x"}]}}`, func(t *testing.T, r *Registration) {
			if r.ID != "j" || !r.urlSet || !r.nsSet || len(r.Namespaces.UserIDs) != 1 {
				t.Errorf("got %+v", r.Registration)
			}
		}},
		{"unknown namespace kind", "namespaces:\n  groups: 7\n", func(t *testing.T, r *Registration) {
			if !r.nsSet {
				t.Error("namespaces not seen")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse([]byte(tt.yaml), "inline")
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, r)
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "nope.yaml") {
		t.Errorf("Load of a missing file: %v", err)
	}
}

func TestYAMLRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			r := loadValid(t, filepath.Base(file))
			data, err := r.YAML()
			if err != nil {
				t.Fatal(err)
			}
			back, err := Parse(data, "round trip")
			if err != nil {
				t.Fatalf("Parse(YAML()): %v\n%s", err, data)
			}
			if err := back.Validate(serverName); err != nil {
				t.Fatalf("Validate after round trip: %v\n%s", err, data)
			}
			if !sameRegistration(&back.Registration, &r.Registration) {
				t.Errorf("round trip changed the registration:\nbefore %+v\nafter  %+v", r.Registration, back.Registration)
			}
		})
	}
}

// sameRegistration compares two mautrix registrations, treating an empty list
// and an absent one (which YAML() omits) as the same.
func sameRegistration(a, b *appservice.Registration) bool {
	norm := func(r appservice.Registration) appservice.Registration {
		if len(r.Namespaces.UserIDs) == 0 {
			r.Namespaces.UserIDs = nil
		}
		if len(r.Namespaces.RoomAliases) == 0 {
			r.Namespaces.RoomAliases = nil
		}
		if len(r.Namespaces.RoomIDs) == 0 {
			r.Namespaces.RoomIDs = nil
		}
		if len(r.Protocols) == 0 {
			r.Protocols = nil
		}
		return r
	}
	return reflect.DeepEqual(norm(*a), norm(*b))
}

func TestYAMLWritesNullURL(t *testing.T) {
	r := Generate(GenerateOptions{ID: "x", ServerName: serverName, SenderLocalpart: "bot"})
	data, err := r.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "\nurl: null\n") {
		t.Errorf("empty url not written as null:\n%s", data)
	}
}

func TestWrap(t *testing.T) {
	tr := true
	src := &appservice.Registration{
		ID: "w", URL: "http://localhost:1", AppToken: "a1", ServerToken: "h1", SenderLocalpart: "wbot",
		RateLimited: &tr, Protocols: []string{"w"},
		Namespaces: appservice.Namespaces{UserIDs: appservice.NamespaceList{{Regex: "@w_.*", Exclusive: true}}},
	}
	r := Wrap(src, "bridge config")
	src.Namespaces.UserIDs[0].Regex = "changed"
	src.Protocols[0] = "changed"
	*src.RateLimited = false
	if err := r.Validate(serverName); err != nil {
		t.Fatal(err)
	}
	if r.Namespaces.UserIDs[0].Regex != "@w_.*" || r.Protocols[0] != "w" || !*r.RateLimited {
		t.Errorf("Wrap shares memory with its argument: %+v", r.Registration)
	}
	if !r.IsExclusiveUser("@w_alice:example.org") || r.BotUserID() != "@wbot:example.org" {
		t.Error("wrapped registration does not match")
	}
	if Wrap(nil, "nil").Validate(serverName) == nil {
		t.Error("Wrap(nil) validated")
	}
}
