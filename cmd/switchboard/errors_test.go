package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// assertUserError checks the contract for user errors: exit status 1 and a
// last line "switchboard: ..." that names the cause, with no stack trace.
func assertUserError(t *testing.T, code int, stderr string, wants ...string) {
	t.Helper()
	if code != 1 {
		t.Errorf("exit code %d, want 1; stderr:\n%s", code, stderr)
	}
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "switchboard: ") {
		t.Errorf("last line %q does not start with \"switchboard: \"", last)
	}
	for _, want := range wants {
		if !strings.Contains(last, want) {
			t.Errorf("error line %q lacks %q", last, want)
		}
	}
	if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
		t.Errorf("stack trace on a user error:\n%s", stderr)
	}
}

func TestUserErrorsAreOneClearLine(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	closed := freeAddr(t) // nothing listens here

	tests := []struct {
		name  string
		file  string            // contents of switchboard.yaml in the working dir, if any
		extra map[string]string // more files in the working dir
		env   []string
		args  []string
		wants []string
	}{
		{
			name:  "unknown key",
			file:  "listen:\n  clinet: 127.0.0.1:1\n",
			args:  []string{"serve"},
			wants: []string{"config: listen.clinet: unknown key", `did you mean "client"`},
		},
		{
			name:  "wrong type",
			file:  "registration:\n  enabled: sometimes\n",
			args:  []string{"serve"},
			wants: []string{"config: registration.enabled:", "sometimes"},
		},
		{
			name:  "unreadable config",
			args:  []string{"serve", "--config", "missing.yaml"},
			wants: []string{"config:", "missing.yaml"},
		},
		{
			name:  "unknown database scheme",
			env:   []string{"SWITCHBOARD_DATABASE_URI=mysql://root@localhost/sb"},
			args:  []string{"serve"},
			wants: []string{"database.uri", `"mysql"`, "sqlite://", "postgres://"},
		},
		{
			name:  "unreachable postgres",
			env:   []string{"SWITCHBOARD_DATABASE_URI=postgres://sb:hunter2@" + closed + "/sb?sslmode=disable"},
			args:  []string{"serve"},
			wants: []string{"database.uri", "PostgreSQL"},
		},
		{
			name:  "port in use",
			env:   []string{"SWITCHBOARD_LISTEN_CLIENT=" + taken.Addr().String()},
			args:  []string{"serve"},
			wants: []string{"listen.client", "already in use", "SWITCHBOARD_LISTEN_CLIENT"},
		},
		{
			name:  "data dir is a file",
			file:  "data_dir: switchboard.yaml\n",
			args:  []string{"serve"},
			wants: []string{"data_dir", "SWITCHBOARD_DATA_DIR"},
		},
		{
			name:  "federation not built",
			env:   []string{"SWITCHBOARD_LISTEN_FEDERATION=127.0.0.1:8448"},
			args:  []string{"serve"},
			wants: []string{"listen.federation", "not built yet"},
		},
		{
			// The tests' binary has only the test networks built in.
			name:  "bridge without connector",
			args:  []string{"bridge", "--network", "slack"},
			wants: []string{"--network slack", "unknown network", "irc, testa, testb, testnet"},
		},
		{
			name:  "registration without connector",
			args:  []string{"registration", "--network", "slack", "-o", "reg.yaml"},
			wants: []string{"--network slack", "unknown network", "irc, testa, testb, testnet"},
		},
		{
			name:  "bridge without --network",
			args:  []string{"bridge"},
			wants: []string{"network"},
		},
		{
			name:  "unknown flag",
			args:  []string{"serve", "--fast"},
			wants: []string{"--fast", "--help"},
		},
		{
			name:  "invalid appservice registration",
			file:  "appservices: [bad-as.yaml]\n",
			extra: map[string]string{"bad-as.yaml": "id: x\nurl: http://127.0.0.1:1\nas_token: a\nhs_token: b\nsender_localpart: bot\nnamespaces: {users: [{exclusive: true, regex: '@x_(.*'}]}\n"},
			args:  []string{"serve"},
			wants: []string{"bad-as.yaml", "namespaces.users[0].regex"},
		},
		{
			name:  "bridges section for a connector not built",
			file:  "bridges:\n  slack:\n    enabled: true\n",
			args:  []string{"config", "check"},
			wants: []string{"config: bridges.slack:"},
		},
		{
			name:  "IRC bridge without networks",
			file:  "bridges:\n  irc:\n    enabled: true\n",
			args:  []string{"config", "check"},
			wants: []string{"bridges.irc", "networks: empty"},
		},
		{
			name:  "IRC network with a bad server",
			file:  "bridges:\n  irc:\n    networks:\n      - id: libera\n        server: irc.libera.chat\n",
			args:  []string{"config", "check"},
			wants: []string{"bridges.irc", "networks[0].server", "host:port"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.file != "" {
				if err := os.WriteFile(filepath.Join(dir, "switchboard.yaml"), []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			for name, content := range tc.extra {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			env := append([]string{"SWITCHBOARD_LISTEN_CLIENT=" + freeAddr(t)}, tc.env...)
			_, stderr, code := run(t, dir, env, tc.args...)
			assertUserError(t, code, stderr, tc.wants...)
			if strings.Contains(stderr, "hunter2") {
				t.Errorf("password leaked:\n%s", stderr)
			}
		})
	}
}
