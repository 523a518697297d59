package puppet_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"switchboard/puppet"
)

// TestLoginHidesSecret: neither fmt nor log/slog, in any form a caller is
// likely to use, shows a Login's secret.
func TestLoginHidesSecret(t *testing.T) {
	const secret = "xoxc-SECRET-token-1234"
	l := puppet.Login{Network: "slack", UserID: "@alice:example.org", LoginID: "T1", RemoteID: "U1",
		Name: "work", Secret: []byte(secret), State: "CONNECTED", StateMessage: "ok", CreatedAt: time.UnixMilli(1_700_000_000_000)}
	// The forms a []byte takes when printed: as text, as decimal bytes, as hex.
	leaks := []string{secret, fmt.Sprint([]byte(secret)), fmt.Sprintf("%x", secret), "Secret"}

	check := func(t *testing.T, out string, wants ...string) {
		t.Helper()
		for _, leak := range leaks {
			if strings.Contains(out, leak) {
				t.Errorf("output shows the secret (%q): %s", leak, out)
			}
		}
		for _, want := range wants {
			if !strings.Contains(out, want) {
				t.Errorf("output %q lacks %q", out, want)
			}
		}
	}

	for _, tt := range []struct {
		name string
		out  func() string
	}{
		{"%v value", func() string { return fmt.Sprintf("%v", l) }},
		{"%v pointer", func() string { return fmt.Sprintf("%v", &l) }},
		{"%+v", func() string { return fmt.Sprintf("%+v", &l) }},
		{"%#v", func() string { return fmt.Sprintf("%#v", l) }},
		{"%s", func() string { return fmt.Sprintf("%s", &l) }},
		{"in a slice", func() string { return fmt.Sprintf("%v %+v", []*puppet.Login{&l}, []puppet.Login{l}) }},
		{"in a wrapped error", func() string { return fmt.Errorf("login %v: %w", &l, fmt.Errorf("boom")).Error() }},
	} {
		t.Run("fmt/"+tt.name, func(t *testing.T) {
			check(t, tt.out(), "slack", "T1", "@alice:example.org")
		})
	}

	for _, tt := range []struct {
		name    string
		handler func(*bytes.Buffer) slog.Handler
	}{
		{"text", func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) }},
		{"json", func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) }},
	} {
		for _, arg := range []struct {
			name string
			attr slog.Attr
		}{
			{"value", slog.Any("login", l)},
			{"pointer", slog.Any("login", &l)},
		} {
			t.Run("slog/"+tt.name+"/"+arg.name, func(t *testing.T) {
				var buf bytes.Buffer
				log := slog.New(tt.handler(&buf))
				log.Info("login connected", arg.attr)
				log.With(arg.attr).Info("child logger")
				log.Info("bare arguments", "login", &l)
				check(t, buf.String(), "network", "slack", "login_id", "T1", "user_id", "@alice:example.org", "CONNECTED")
			})
		}
	}
}
