package database_test

import (
	"context"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mau.fi/util/dbutil"

	"switchboard/internal/database"
	"switchboard/internal/database/dbtest"
)

const secret = "hunter2-s3cret"

// checkUserError checks what every Open error owes the user: one line,
// naming database.uri, without the password.
func checkUserError(t *testing.T, err error, wantParts ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("Open succeeded, want an error")
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("error spans lines: %q", msg)
	}
	if !strings.Contains(msg, "database.uri") {
		t.Errorf("error %q does not name database.uri", msg)
	}
	if strings.Contains(msg, secret) || strings.Contains(msg, "s3cret") {
		t.Errorf("error %q leaks the password", msg)
	}
	for _, p := range wantParts {
		if !strings.Contains(msg, p) {
			t.Errorf("error %q does not contain %q", msg, p)
		}
	}
}

func TestOpenUnknownScheme(t *testing.T) {
	_, err := database.Open(context.Background(), "mysql://root:"+secret+"@localhost/db", nil)
	checkUserError(t, err)
	want := `database.uri: unknown scheme "mysql"; use sqlite://PATH or postgres://user:pass@host:port/db?sslmode=disable`
	if err != nil && err.Error() != want {
		t.Errorf("error = %q\nwant    %q", err, want)
	}
}

func TestOpenMalformedURIs(t *testing.T) {
	tests := []struct {
		uri  string
		want string
	}{
		{"", "empty"},
		{"/var/lib/x.db", "missing scheme"},
		{"sqlite:x.db", "use sqlite://PATH"},
		{"sqlite://", "missing path"},
		{"sqlite://x.db?mode=ro", "query parameters"},
		{"sqlite://:memory:", "plain file path"},
		{"postgres:host", "use postgres://"},
		{"postgres://u:" + secret + "@h:notaport/db", "not a valid PostgreSQL URI"},
		{"postgres://u:" + secret + "@127.0.0.1/db?connect_timeout=soon", "not a valid PostgreSQL URI"},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			_, err := database.Open(context.Background(), tt.uri, nil)
			checkUserError(t, err, tt.want)
			if verr := database.ValidateURI(tt.uri); verr == nil || (err != nil && verr.Error() != err.Error()) {
				t.Errorf("ValidateURI = %v, want the same error as Open (%v)", verr, err)
			}
		})
	}
	for _, ok := range []string{"sqlite://./data/x.db", "sqlite:///var/lib/x.db", "postgres://u:p@h:5432/db?sslmode=disable", "postgresql://h/db"} {
		if err := database.ValidateURI(ok); err != nil {
			t.Errorf("ValidateURI(%q) = %v, want nil", ok, err)
		}
	}
}

func TestOpenSQLiteMissingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	uri := "sqlite://" + dir + "/x.db"
	_, err := database.Open(context.Background(), uri, nil)
	checkUserError(t, err, "database.uri "+uri+": directory "+dir+" does not exist; create it or set data_dir")
	if _, serr := os.Stat(dir); serr == nil {
		t.Error("Open created the missing directory")
	}
}

func TestOpenSQLiteMissingRelativeDirectory(t *testing.T) {
	t.Chdir(t.TempDir())
	_, err := database.Open(context.Background(), "sqlite://x/y.db", nil)
	checkUserError(t, err, "database.uri sqlite://x/y.db: directory x does not exist; create it or set data_dir")
}

func TestOpenSQLiteParentIsFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(file, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := database.Open(context.Background(), "sqlite://"+file+"/x.db", nil)
	checkUserError(t, err, file+" is not a directory")

	_, err = database.Open(context.Background(), "sqlite://"+file+"/deeper/x.db", nil)
	checkUserError(t, err, "not a directory")
}

func TestOpenSQLitePathIsDirectory(t *testing.T) {
	dir := t.TempDir()
	_, err := database.Open(context.Background(), "sqlite://"+dir, nil)
	checkUserError(t, err, "is a directory")
}

func TestOpenPostgresClosedPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	start := time.Now()
	_, err = database.Open(context.Background(), "postgres://sb:"+secret+"@"+addr+"/db?sslmode=disable", nil)
	elapsed := time.Since(start)
	checkUserError(t, err,
		"database.uri postgres://sb:xxxxx@"+addr+"/db?sslmode=disable: cannot connect to PostgreSQL: ",
		"; check that it is running and the URI is right")
	if elapsed > 5*time.Second {
		t.Errorf("Open took %s to fail, want a few seconds at most", elapsed)
	}
	t.Logf("error after %s: %v", elapsed.Round(time.Millisecond), err)
}

func TestOpenPostgresBlackholeTimesOut(t *testing.T) {
	// A listener that never accepts: the TCP handshake completes (backlog)
	// but PostgreSQL's startup message is never answered.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	start := time.Now()
	_, err = database.Open(context.Background(), "postgres://sb:"+secret+"@"+l.Addr().String()+"/db?sslmode=disable&connect_timeout=1", nil)
	elapsed := time.Since(start)
	checkUserError(t, err, "cannot connect to PostgreSQL")
	if elapsed > 4*time.Second {
		t.Errorf("Open took %s with connect_timeout=1", elapsed)
	}
	t.Logf("error after %s: %v", elapsed.Round(time.Millisecond), err)
}

func TestOpenPostgresWrongPassword(t *testing.T) {
	u, err := url.Parse(dbtest.PostgresURI(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), secret)
	_, err = database.Open(context.Background(), u.String(), nil)
	checkUserError(t, err, "cannot connect to PostgreSQL", "SQLSTATE 28P01")
	t.Logf("error: %v", err)
}

func TestPingAndClose(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		if err := db.Ping(ctx); err != nil {
			t.Fatalf("Ping: %v", err)
		}
		if err := db.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := db.Ping(ctx); err == nil {
			t.Error("Ping after Close succeeded")
		}
	})
}

func TestKind(t *testing.T) {
	want := map[string]struct {
		kind    string
		dialect dbutil.Dialect
	}{
		"sqlite":   {database.KindSQLite, dbutil.SQLite},
		"postgres": {database.KindPostgres, dbutil.Postgres},
	}
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		w := want[t.Name()[strings.LastIndexByte(t.Name(), '/')+1:]]
		if db.Kind() != w.kind || db.Dialect != w.dialect {
			t.Errorf("Kind() = %q, dialect %v; want %q, %v", db.Kind(), db.Dialect, w.kind, w.dialect)
		}
	})
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://sb:" + secret + "@127.0.0.1:5432/db?sslmode=disable", "postgres://sb:xxxxx@127.0.0.1:5432/db?sslmode=disable"},
		{"postgresql://sb:" + secret + "@db.example/switchboard", "postgresql://sb:xxxxx@db.example/switchboard"},
		{"postgres://sb@127.0.0.1/db", "postgres://sb@127.0.0.1/db"},
		{"postgres://127.0.0.1/db?sslmode=disable", "postgres://127.0.0.1/db?sslmode=disable"},
		{"postgres://sb:p%40ss@h/db", "postgres://sb:xxxxx@h/db"},
		{"postgres://sb:pa@ss/word@h/db", "postgres://sb:xxxxx@h/db"}, // unencoded '@' and '/'
		{"postgres://h/db?user=sb&password=" + secret + "&sslmode=disable", "postgres://h/db?user=sb&password=xxxxx&sslmode=disable"},
		{"sqlite://./data/switchboard.db", "sqlite://./data/switchboard.db"},
		{"sqlite:///var/lib/a:b@c.db", "sqlite:///var/lib/a:b@c.db"},
		{"host=h user=sb password=" + secret, "host=h user=sb password=xxxxx"},
		{"", ""},
		{"::::@@@", "xxxxx@"},
		{"://:@", "://:xxxxx@"},
		{"%zz://a:b@", "%zz://a:xxxxx@"},
		{"postgres://?", "postgres://?"},
		{"\x00\xff://\xfe:\xfd@", "\x00\xff://\xfe:xxxxx@"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := database.Redact(tt.in); got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzRedact(f *testing.F) {
	f.Add("postgres://sb:" + secret + "@127.0.0.1:5432/db?sslmode=disable")
	f.Add("postgres://h/db?password=" + secret)
	f.Add("sqlite://./x.db")
	f.Fuzz(func(t *testing.T, uri string) {
		got := database.Redact(uri)
		// Whatever follows it, a password written the usual way never
		// survives (unless the rest of the input repeats it).
		prefix := "postgres://u:" + secret + "@"
		if rest, ok := strings.CutPrefix(uri, prefix); ok && !strings.Contains(rest, secret) && strings.Contains(got, secret) {
			t.Errorf("Redact(%q) = %q keeps the password", uri, got)
		}
	})
}
