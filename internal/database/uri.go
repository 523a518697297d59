package database

import (
	"fmt"
	"strings"
)

// Engine kinds, as returned by DB.Kind.
const (
	KindSQLite   = "sqlite"
	KindPostgres = "postgres"
)

const uriHint = "use sqlite://PATH or postgres://user:pass@host:port/db?sslmode=disable"

// target is a database URI taken apart just enough to choose the engine.
type target struct {
	kind string
	uri  string // as given, with the password in it
	path string // SQLite only: the path as written, relative or absolute
}

// parseURI checks the scheme and, for SQLite, the shape of the path. It
// touches neither the file system nor the network.
func parseURI(uri string) (target, error) {
	if strings.TrimSpace(uri) == "" {
		return target{}, fmt.Errorf("database.uri: empty; %s", uriHint)
	}
	scheme, ok := uriScheme(uri)
	if !ok {
		return target{}, fmt.Errorf("database.uri: missing scheme; %s", uriHint)
	}
	switch scheme {
	case "sqlite":
		rest, ok := strings.CutPrefix(uri[len(scheme):], "://")
		if !ok {
			return target{}, fmt.Errorf("database.uri %s: malformed; use sqlite://PATH, e.g. sqlite://./data/switchboard.db", uri)
		}
		switch {
		case rest == "":
			return target{}, fmt.Errorf("database.uri %s: missing path; use sqlite://PATH, e.g. sqlite://./data/switchboard.db", uri)
		case strings.ContainsAny(rest, "?#"):
			return target{}, fmt.Errorf("database.uri %s: query parameters are not supported for SQLite (Switchboard sets its own); remove everything from ? or #", uri)
		case rest == ":memory:" || strings.HasPrefix(rest, "file:"):
			return target{}, fmt.Errorf("database.uri %s: only a plain file path is supported; use sqlite://PATH, e.g. sqlite://./data/switchboard.db", uri)
		}
		return target{kind: KindSQLite, uri: uri, path: rest}, nil
	case "postgres", "postgresql":
		if !strings.HasPrefix(uri[len(scheme):], "://") {
			return target{}, fmt.Errorf("database.uri %s: malformed; use postgres://user:pass@host:port/db?sslmode=disable", Redact(uri))
		}
		return target{kind: KindPostgres, uri: uri}, nil
	default:
		return target{}, fmt.Errorf("database.uri: unknown scheme %q; %s", scheme, uriHint)
	}
}

// uriScheme returns the lower-cased scheme of uri (RFC 3986: a letter, then
// letters, digits, "+", "-" or "."), if it has one.
func uriScheme(uri string) (string, bool) {
	i := strings.IndexByte(uri, ':')
	if i <= 0 {
		return "", false
	}
	for j := 0; j < i; j++ {
		c := uri[j]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case j > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return "", false
		}
	}
	return strings.ToLower(uri[:i]), true
}

// ValidateURI reports whether uri names an engine Open supports and is
// well-formed, without touching the file system or the network. Its errors
// are the same one-line, password-free errors Open returns; config
// validation can use it to fail before anything starts.
func ValidateURI(uri string) error {
	t, err := parseURI(uri)
	if err != nil {
		return err
	}
	if t.kind == KindPostgres {
		_, err = postgresConfig(t)
	}
	return err
}

const redacted = "xxxxx"

// Redact returns uri with any password replaced by "xxxxx", for logs and
// errors. It never fails: input it cannot make sense of is returned with
// everything between the first ':' of the user information and the last '@'
// replaced, so it errs towards hiding too much. SQLite URIs are returned
// untouched.
func Redact(uri string) string {
	scheme, ok := uriScheme(uri)
	if ok && scheme == "sqlite" {
		return uri
	}
	head, rest, ok := strings.Cut(uri, "://")
	if !ok {
		// Not scheme://…, yet perhaps user:password@host with or without a
		// scheme: hide everything between the scheme and the last '@'.
		if at := strings.LastIndexByte(uri, '@'); at >= 0 {
			prefix := ""
			if scheme, ok := uriScheme(uri); ok {
				prefix = uri[:len(scheme)+1]
			}
			return prefix + redacted + redactQuery(uri[at:])
		}
		return redactQuery(uri)
	}
	// The user information ends at the last '@': a password may itself
	// contain '@', '/' or '?' when it was not percent-encoded.
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		if colon := strings.IndexByte(rest[:at], ':'); colon >= 0 {
			rest = rest[:colon+1] + redacted + rest[at:]
		}
	}
	return head + "://" + redactQuery(rest)
}

// redactQuery hides the value of every password= parameter (PostgreSQL
// accepts the password as a query parameter too).
func redactQuery(s string) string {
	base, query, ok := strings.Cut(s, "?")
	if !ok {
		// A keyword/value string ("host=... password=...") has no '?'.
		if strings.Contains(strings.ToLower(s), "password=") {
			fields := strings.Fields(s)
			for i, f := range fields {
				if k, _, ok := strings.Cut(f, "="); ok && strings.EqualFold(k, "password") {
					fields[i] = k + "=" + redacted
				}
			}
			return strings.Join(fields, " ")
		}
		return s
	}
	query, fragment, hasFragment := strings.Cut(query, "#")
	params := strings.Split(query, "&")
	for i, p := range params {
		if k, _, ok := strings.Cut(p, "="); ok && strings.EqualFold(k, "password") {
			params[i] = k + "=" + redacted
		}
	}
	out := base + "?" + strings.Join(params, "&")
	if hasFragment {
		out += "#" + fragment
	}
	return out
}
