package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"maunium.net/go/mautrix"

	"switchboard/homeserver/accounts"
	"switchboard/internal/database"
	"switchboard/internal/database/dbtest"
)

// runWithStdin is run with stdin as the child's standard input.
func runWithStdin(t *testing.T, dir, stdin string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = cleanEnv(env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if exitErr, ok := err.(*exec.ExitError); ok {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// canLogIn reports whether username can log in with password on the
// database at uri, through the real login endpoint.
func canLogIn(t *testing.T, uri, username, password string) bool {
	t.Helper()
	ctx := context.Background()
	db, err := database.Open(ctx, uri, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	accts, err := accounts.New(ctx, accounts.Options{ServerName: "localhost", DB: db})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	accts.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	cli, err := mautrix.NewClient(srv.URL, "", "")
	if err != nil {
		t.Fatal(err)
	}
	cli.Client = &http.Client{Transport: &http.Transport{}}
	defer cli.Client.CloseIdleConnections()
	_, err = cli.Login(ctx, &mautrix.ReqLogin{
		Type:       mautrix.AuthTypePassword,
		Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: username},
		Password:   password,
	})
	return err == nil
}

func TestAdminCreateUser(t *testing.T) {
	dir := t.TempDir()
	uri := "sqlite://" + filepath.Join(dir, "data", "switchboard.db")

	out, stderr, code := run(t, dir, nil, "admin", "create-user", "--username", "alice", "--password", "correct horse", "--admin")
	if code != 0 || out != "@alice:localhost\n" {
		t.Fatalf("create alice: code %d, out %q, stderr %q", code, out, stderr)
	}
	_, stderr, code = run(t, dir, nil, "admin", "create-user", "--username", "alice", "--password", "another password")
	if code != 1 || !strings.Contains(stderr, "@alice:localhost already exists") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("duplicate: code %d, stderr %q", code, stderr)
	}

	file := filepath.Join(dir, "pw.txt")
	if err := os.WriteFile(file, []byte("battery staple\nignored second line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, stderr, code := run(t, dir, nil, "admin", "create-user", "--username", "bob", "--password-file", file); code != 0 || out != "@bob:localhost\n" {
		t.Errorf("create bob from a file: code %d, %q %q", code, out, stderr)
	}
	if out, stderr, code := runWithStdin(t, dir, "hunter2hunter2\r\n", nil, "admin", "create-user", "--username", "carol"); code != 0 || out != "@carol:localhost\n" {
		t.Errorf("create carol from stdin: code %d, %q %q", code, out, stderr)
	}

	for _, tc := range []struct {
		name, stdin, want string
		args              []string
	}{
		{"empty stdin", "", "no password on standard input", []string{"--username", "dave"}},
		{"invalid name", "", `--username "Dave!"`, []string{"--username", "Dave!", "--password", "correct horse"}},
		{"weak password", "", "use at least 8", []string{"--username", "dave", "--password", "short"}},
		{"both password flags", "", "not both", []string{"--username", "dave", "--password", "correct horse", "--password-file", file}},
		{"no username", "", "--username: missing", []string{"--password", "correct horse"}},
		{"missing file", "", "no such file", []string{"--username", "dave", "--password-file", filepath.Join(dir, "nope")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"admin", "create-user"}, tc.args...)
			out, stderr, code := runWithStdin(t, dir, tc.stdin, nil, args...)
			if code != 1 || out != "" || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("code %d, out %q, stderr %q (want %q)", code, out, stderr, tc.want)
			}
		})
	}

	for _, login := range []struct{ user, password string }{
		{"alice", "correct horse"}, {"bob", "battery staple"}, {"carol", "hunter2hunter2"},
	} {
		if !canLogIn(t, uri, login.user, login.password) {
			t.Errorf("%s cannot log in with the password given to create-user", login.user)
		}
	}
	if canLogIn(t, uri, "alice", "another password") {
		t.Error("the failed second create-user changed alice's password")
	}
	db, err := database.Open(context.Background(), uri, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var admin bool
	if err := db.QueryRow(context.Background(), "SELECT admin FROM hs_users WHERE user_id = '@alice:localhost'").Scan(&admin); err != nil || !admin {
		t.Errorf("alice admin=%v (%v)", admin, err)
	}
}

func TestAdminCreateUserOnPostgres(t *testing.T) {
	uri := dbtest.PostgresURI(t)
	dir := t.TempDir()
	env := []string{"SWITCHBOARD_DATABASE_URI=" + uri}
	out, stderr, code := runWithStdin(t, dir, "correct horse\n", env, "admin", "create-user", "--username", "alice")
	if code != 0 || out != "@alice:localhost\n" {
		t.Fatalf("code %d, %q %q", code, out, stderr)
	}
	if !canLogIn(t, uri, "alice", "correct horse") {
		t.Error("alice cannot log in")
	}
}

func TestAdminHelp(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{{"admin", "--help"}, {"admin", "create-user", "--help"}} {
		out, _, code := run(t, dir, nil, args...)
		if code != 0 || !strings.Contains(out, "Usage:") || !strings.Contains(out, "create-user") {
			t.Errorf("%v: code %d, %q", args, code, out)
		}
	}
}
