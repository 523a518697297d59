package registration

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

func ircOptions() GenerateOptions {
	return GenerateOptions{ID: "irc", URL: "http://127.0.0.1:29330", ServerName: "example.org", SenderLocalpart: "ircbot", Prefix: "irc_", Protocols: []string{"irc"}}
}

func TestLoadOrGenerate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "irc.yaml")

	first, written, err := LoadOrGenerate(path, ircOptions())
	if err != nil || !written {
		t.Fatalf("first LoadOrGenerate = written %v, %v; want a new file", written, err)
	}
	if first.Source() != path || first.BotUserID() != "@ircbot:example.org" || !first.IsExclusiveUser("@irc_alice:example.org") {
		t.Errorf("first registration: source %q, bot %q", first.Source(), first.BotUserID())
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
	saved, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(saved.Registration, first.Registration) {
		t.Errorf("file holds\n%+v\nwant\n%+v", saved.Registration, first.Registration)
	}

	t.Run("unchanged", func(t *testing.T) {
		old := time.Now().Add(-time.Hour).Truncate(time.Second)
		if err := os.Chtimes(path, old, old); err != nil {
			t.Fatal(err)
		}
		again, written, err := LoadOrGenerate(path, ircOptions())
		if err != nil || written {
			t.Fatalf("second LoadOrGenerate = written %v, %v; want the file as it was", written, err)
		}
		if !reflect.DeepEqual(again.Registration, first.Registration) {
			t.Errorf("second call gives\n%+v\nwant\n%+v", again.Registration, first.Registration)
		}
		if st, err := os.Stat(path); err != nil || !st.ModTime().Equal(old) {
			t.Errorf("the file was touched: %v", err)
		}
	})

	t.Run("new settings keep the tokens and id", func(t *testing.T) {
		opts := ircOptions()
		opts.ID = "irc2" // the file's id wins
		opts.URL = "http://bridges.internal:29331"
		opts.SenderLocalpart = "newbot"
		opts.Prefix = "libera_"
		opts.Protocols = nil
		got, written, err := LoadOrGenerate(path, opts)
		if err != nil || !written {
			t.Fatalf("LoadOrGenerate = written %v, %v; want the file rewritten", written, err)
		}
		if got.ID != "irc" || got.AppToken != first.AppToken || got.ServerToken != first.ServerToken {
			t.Errorf("id or tokens changed: id %q", got.ID)
		}
		if got.URL != opts.URL || got.BotUserID() != "@newbot:example.org" || got.IsExclusiveUser("@irc_alice:example.org") ||
			!got.IsExclusiveUser("@libera_alice:example.org") || len(got.Protocols) != 0 {
			t.Errorf("settings not replaced: %+v", got.Registration)
		}
		back, err := Load(path)
		if err != nil || back.URL != opts.URL || back.AppToken != first.AppToken || back.ServerToken != first.ServerToken {
			t.Errorf("file not updated: %+v, %v", back, err)
		}
	})

	t.Run("new server name", func(t *testing.T) {
		opts := ircOptions()
		opts.ServerName = "other.org"
		got, written, err := LoadOrGenerate(path, opts)
		if err != nil || !written {
			t.Fatalf("LoadOrGenerate = written %v, %v", written, err)
		}
		if got.AppToken != first.AppToken || !got.IsExclusiveUser("@irc_a:other.org") || got.IsExclusiveUser("@irc_a:example.org") {
			t.Errorf("namespaces not moved to the new server: %+v", got.Namespaces)
		}
	})
}

func TestLoadOrGenerateReplacesEverythingElse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "irc.yaml")
	file := `id: old-id
url: http://old:1
as_token: kept_as_token_0123456789
hs_token: kept_hs_token_0123456789
sender_localpart: oldbot
rate_limited: true
receive_ephemeral: false
io.element.msc4190: true
namespaces:
  users:
    - exclusive: false
      regex: '@.*'
protocols: [old]
x-custom: 1
`
	if err := os.WriteFile(path, []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	got, written, err := LoadOrGenerate(path, ircOptions())
	if err != nil || !written {
		t.Fatalf("LoadOrGenerate = written %v, %v", written, err)
	}
	want := Generate(ircOptions())
	want.ID, want.AppToken, want.ServerToken = "old-id", "kept_as_token_0123456789", "kept_hs_token_0123456789"
	if !reflect.DeepEqual(got.Registration, want.Registration) {
		t.Errorf("LoadOrGenerate =\n%+v\nwant\n%+v", got.Registration, want.Registration)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Registration, want.Registration) || len(back.UnknownKeys()) != 0 {
		t.Errorf("file holds\n%+v (unknown keys %v)\nwant\n%+v", back.Registration, back.UnknownKeys(), want.Registration)
	}
	if st, err := os.Stat(path); err == nil && runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Errorf("rewritten file has mode %v, want 0600", st.Mode().Perm())
	}
}

func TestLoadOrGenerateFillsMissingTokens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "irc.yaml")
	if err := os.WriteFile(path, []byte("id: irc\nas_token: kept_as_token_0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, written, err := LoadOrGenerate(path, ircOptions())
	if err != nil || !written {
		t.Fatalf("LoadOrGenerate = written %v, %v", written, err)
	}
	if got.AppToken != "kept_as_token_0123456789" || len(got.ServerToken) != 64 {
		t.Errorf("tokens = %q, %q", got.AppToken, got.ServerToken)
	}
}

func TestLoadOrGenerateErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name    string
		path    string
		opts    GenerateOptions
		want    string
		wantErr error
	}{
		{
			name:    "not YAML",
			path:    write("corrupt.yaml", "id: irc\nas_token: [\n"),
			opts:    ircOptions(),
			want:    "corrupt.yaml: not valid YAML: ",
			wantErr: ErrSyntax,
		},
		{
			name:    "empty",
			path:    write("empty.yaml", ""),
			opts:    ircOptions(),
			want:    "empty.yaml: file is empty; write the registration (id, url, as_token, hs_token, sender_localpart, namespaces), or delete the file to generate a new registration with new tokens",
			wantErr: ErrSyntax,
		},
		{
			name:    "token of the wrong type",
			path:    write("number.yaml", "as_token: 12345\n"),
			opts:    ircOptions(),
			want:    "number.yaml: line 1: as_token: is a number, want a string; quote the value, or delete the file to generate a new registration with new tokens",
			wantErr: ErrWrongType,
		},
		{
			name:    "same tokens",
			path:    write("same.yaml", "as_token: same_token_0123456789\nhs_token: same_token_0123456789\n"),
			opts:    ircOptions(),
			want:    "same.yaml: hs_token: same as as_token",
			wantErr: ErrInvalid,
		},
		{
			name:    "invalid options",
			path:    filepath.Join(dir, "new.yaml"),
			opts:    GenerateOptions{ID: "irc", ServerName: "example.org"},
			want:    "new.yaml: sender_localpart: missing",
			wantErr: ErrMissing,
		},
		{
			name: "missing directory",
			path: filepath.Join(dir, "no", "such", "irc.yaml"),
			opts: ircOptions(),
			want: "save registration " + filepath.Join(dir, "no", "such", "irc.yaml"),
		},
		{
			name: "a directory",
			path: dir,
			opts: ircOptions(),
			want: "registration " + dir + ": is a directory",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := os.ReadFile(tt.path)
			r, written, err := LoadOrGenerate(tt.path, tt.opts)
			if err == nil || r != nil || written {
				t.Fatalf("LoadOrGenerate = %v, written %v, %v; want an error", r, written, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is more than one line: %q", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v is not %v", err, tt.wantErr)
			}
			if after, _ := os.ReadFile(tt.path); string(after) != string(before) {
				t.Errorf("the file changed")
			}
		})
	}
	t.Run("parse errors say to delete the file", func(t *testing.T) {
		_, _, err := LoadOrGenerate(filepath.Join(dir, "corrupt.yaml"), ircOptions())
		if err == nil || !strings.HasSuffix(err.Error(), "; fix the syntax, or delete the file to generate a new registration with new tokens") {
			t.Errorf("error = %v", err)
		}
	})
}

func TestClone(t *testing.T) {
	r, err := Parse([]byte("id: c\nas_token: a_token_0123\nhs_token: h_token_0123\nsender_localpart: cbot\nrate_limited: true\nprotocols: [c]\nnamespaces:\n  users: [{regex: '@c_.*', exclusive: true}]\nextra: 1\n"), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := r.Clone()
	r.Namespaces.UserIDs[0].Regex = "changed"
	r.Protocols[0] = "changed"
	*r.RateLimited = false
	if c.Namespaces.UserIDs[0].Regex != "@c_.*" || c.Protocols[0] != "c" || !*c.RateLimited {
		t.Errorf("Clone shares memory with the original: %+v", c.Registration)
	}
	if c.Source() != "c.yaml" || !reflect.DeepEqual(c.UnknownKeys(), []string{"extra"}) {
		t.Errorf("Clone lost source %q or unknown keys %v", c.Source(), c.UnknownKeys())
	}
	// The file had no url: the clone still says so.
	err = c.Validate("example.org")
	if !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), "url: missing") {
		t.Errorf("Validate of the clone = %v, want url missing", err)
	}
	g := Generate(ircOptions()).Clone()
	if err := g.Validate("example.org"); err != nil || !g.IsExclusiveUser("@irc_a:example.org") || g.BotUserID() != "@ircbot:example.org" {
		t.Errorf("clone of a generated registration: %v", err)
	}
}
