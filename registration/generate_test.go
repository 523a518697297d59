package registration

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"testing"

	"maunium.net/go/mautrix/appservice"
)

func TestGenerate(t *testing.T) {
	opts := GenerateOptions{
		ID:              "irc",
		URL:             "http://127.0.0.1:29330",
		ServerName:      "example.org",
		SenderLocalpart: "ircbot",
		Prefix:          "irc_",
		Protocols:       []string{"irc"},
	}
	r := Generate(opts)
	if err := r.Validate("example.org"); err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"as_token": r.AppToken, "hs_token": r.ServerToken} {
		if _, err := hex.DecodeString(tok); len(tok) != 64 || err != nil {
			t.Errorf("%s %q is not 64 hex characters", name, tok)
		}
	}
	if r.AppToken == r.ServerToken {
		t.Error("as_token == hs_token")
	}
	if other := Generate(opts); other.AppToken == r.AppToken || other.ServerToken == r.ServerToken {
		t.Error("tokens repeat between calls")
	}
	wantUsers := appservice.NamespaceList{
		{Regex: `^@ircbot:example\.org$`, Exclusive: true},
		{Regex: `^@irc_.*:example\.org$`, Exclusive: true},
	}
	wantAliases := appservice.NamespaceList{{Regex: `^#irc_.*:example\.org$`, Exclusive: true}}
	if !reflect.DeepEqual(r.Namespaces.UserIDs, wantUsers) || !reflect.DeepEqual(r.Namespaces.RoomAliases, wantAliases) || len(r.Namespaces.RoomIDs) != 0 {
		t.Errorf("namespaces = %+v", r.Namespaces)
	}
	if r.ID != "irc" || r.URL != opts.URL || r.SenderLocalpart != "ircbot" || !slices.Equal(r.Protocols, []string{"irc"}) {
		t.Errorf("fields = %+v", r.Registration)
	}
	if r.RateLimited == nil || *r.RateLimited || !r.EphemeralEvents || !r.SoruEphemeralEvents {
		t.Errorf("rate_limited %v, receive_ephemeral %v, msc2409 %v", r.RateLimited, r.EphemeralEvents, r.SoruEphemeralEvents)
	}
	opts.Protocols[0] = "changed"
	if r.Protocols[0] != "irc" {
		t.Error("Generate shares the Protocols slice")
	}

	matches := []struct {
		id   string
		kind string
		want bool
	}{
		{"@ircbot:example.org", "user", true},
		{"@irc_libera_alice:example.org", "user", true},
		{"@irc_alice:example.org.evil", "user", false},
		{"@irc_alice:other.org", "user", false},
		{"@alice:example.org", "user", false},
		{"#irc_libera_#chan:example.org", "alias", true},
		{"#irc_x:exampleXorg", "alias", false}, // the server name is quoted
		{"#chan:example.org", "alias", false},
	}
	for _, m := range matches {
		var got bool
		if m.kind == "user" {
			got = r.IsExclusiveUser(m.id) && r.OwnsUser(m.id)
		} else {
			got = r.IsExclusiveAlias(m.id)
		}
		if got != m.want {
			t.Errorf("%s %s: got %v, want %v", m.kind, m.id, got, m.want)
		}
	}
}

func TestGenerateWithoutPrefixClaimsOnlyTheBot(t *testing.T) {
	r := Generate(GenerateOptions{ID: "x", URL: "", ServerName: "example.org", SenderLocalpart: "xbot"})
	if err := r.Validate("example.org"); err != nil {
		t.Fatal(err)
	}
	if len(r.Namespaces.UserIDs) != 1 || len(r.Namespaces.RoomAliases) != 0 {
		t.Errorf("namespaces = %+v", r.Namespaces)
	}
	if !r.NoPush() || r.IsInterestedInUser("@x_a:example.org") || !r.OwnsUser("@xbot:example.org") {
		t.Error("unexpected matching")
	}
}

func TestGenerateSaveLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "irc-registration.yaml")
	r := Generate(GenerateOptions{ID: "irc", URL: "http://127.0.0.1:29330", ServerName: "example.org", SenderLocalpart: "ircbot", Prefix: "irc_", Protocols: []string{"irc"}})
	if err := r.Save(path); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("mode = %v, want 0600", st.Mode().Perm())
		}
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := back.Validate("example.org"); err != nil {
		t.Fatal(err)
	}
	if back.AppToken != r.AppToken || back.ServerToken != r.ServerToken {
		t.Error("tokens changed in the round trip")
	}
	if !reflect.DeepEqual(back.Registration, r.Registration) {
		t.Errorf("round trip changed the registration:\nsaved  %+v\nloaded %+v", r.Registration, back.Registration)
	}
	// mautrix reads what we write.
	theirs, err := appservice.LoadRegistration(path)
	if err != nil || !reflect.DeepEqual(*theirs, r.Registration) {
		t.Errorf("mautrix reads %+v (%v)", theirs, err)
	}

	// Saving again replaces the file atomically and leaves no temporary files.
	r2 := Generate(GenerateOptions{ID: "irc", URL: "http://127.0.0.1:29330", ServerName: "example.org", SenderLocalpart: "ircbot"})
	if err := r2.Save(path); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "irc-registration.yaml" {
		t.Errorf("directory holds %v", entries)
	}
	again, err := Load(path)
	if err != nil || again.AppToken != r2.AppToken {
		t.Errorf("second save not visible: %v", err)
	}
}

func TestSaveIntoMissingDirectory(t *testing.T) {
	r := Generate(GenerateOptions{ID: "x"})
	if err := r.Save(filepath.Join(t.TempDir(), "no", "such", "dir", "r.yaml")); err == nil {
		t.Error("Save into a missing directory succeeded")
	}
}
