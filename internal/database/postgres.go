package database

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"go.mau.fi/util/dbutil"
)

const (
	// pgConnectTimeout bounds each connection attempt when the URI sets no
	// connect_timeout, so a server that is down costs seconds, not minutes.
	pgConnectTimeout = 5 * time.Second
	// pgMaxConns keeps one Switchboard well inside PostgreSQL's default
	// max_connections (100).
	pgMaxConns = 20
	pgMaxIdle  = 5
)

const pgHint = "use postgres://user:pass@host:port/db?sslmode=disable"

// postgresConfig parses the URI the way pgx will connect with it.
func postgresConfig(t target) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(t.uri)
	if err != nil {
		return nil, fmt.Errorf("database.uri %s: not a valid PostgreSQL URI (%s); %s",
			Redact(t.uri), scrub(parseCause(err), t.uri), pgHint)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = pgConnectTimeout
	}
	return cfg, nil
}

// openPostgres opens a pool through pgx's database/sql adapter and pings
// the server once.
func openPostgres(ctx context.Context, t target) (*dbutil.Database, error) {
	cfg, err := postgresConfig(t)
	if err != nil {
		return nil, err
	}
	raw := stdlib.OpenDB(*cfg)
	raw.SetMaxOpenConns(pgMaxConns)
	raw.SetMaxIdleConns(pgMaxIdle)
	raw.SetConnMaxIdleTime(5 * time.Minute)

	// pgx retries each host, and plain text after TLS with the default
	// sslmode=prefer, each attempt within ConnectTimeout; the margin lets
	// the last attempt report its own cause.
	start := time.Now()
	pingCtx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout+2*time.Second)
	defer cancel()
	if err := raw.PingContext(pingCtx); err != nil {
		_ = raw.Close()
		cause := pgCause(err, time.Since(start))
		if ctx.Err() != nil {
			cause = ctx.Err().Error()
		}
		return nil, fmt.Errorf("database.uri %s: cannot connect to PostgreSQL: %s; check that it is running and the URI is right",
			Redact(t.uri), scrub(cause, t.uri))
	}
	// dbutil knows the dialect as "postgres"; it rejects pgx's "pgx/v5".
	db, err := dbutil.NewWithDB(raw, "postgres")
	if err != nil {
		_ = raw.Close()
		return nil, fmt.Errorf("database.uri %s: %w", Redact(t.uri), err)
	}
	return db, nil
}

// pgCause boils a connection error down to the part a user acts on: the
// server's message, the network error, or a timeout after waited.
func pgCause(err error, waited time.Duration) string {
	var pgErr *pgconn.PgError
	var opErr *net.OpError
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &pgErr):
		return fmt.Sprintf("%s (SQLSTATE %s)", pgErr.Message, pgErr.Code)
	case errors.As(err, &dnsErr):
		return dnsErr.Error()
	case errors.As(err, &opErr) && !opErr.Timeout():
		return opErr.Error()
	case pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("no answer after %s", waited.Round(100*time.Millisecond))
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		if inner := errors.Unwrap(connErr); inner != nil {
			err = inner
		}
	}
	return oneLine(err.Error(), 300)
}

// parseCause strips pgx's "cannot parse `<uri>`: " prefix, which repeats
// the URI the message already shows (redacted).
func parseCause(err error) string {
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, "cannot parse `"); ok {
		if i := strings.Index(rest, "`: "); i >= 0 {
			msg = rest[i+3:]
		}
	}
	return oneLine(msg, 300)
}

// scrub removes any trace of the URI's password from msg. The messages it
// is given should not hold one; this makes sure.
func scrub(msg, uri string) string {
	for _, secret := range secretsOf(uri) {
		msg = strings.ReplaceAll(msg, secret, redacted)
	}
	return msg
}

// secretsOf returns the password in uri as written and decoded, from the
// user information and from a password= parameter.
func secretsOf(uri string) []string {
	var out []string
	add := func(s string) {
		if s == "" || s == redacted {
			return
		}
		out = append(out, s)
		if dec, err := url.PathUnescape(s); err == nil && dec != s {
			out = append(out, dec)
		}
		if dec, err := url.QueryUnescape(s); err == nil && dec != s {
			out = append(out, dec)
		}
	}
	if _, rest, ok := strings.Cut(uri, "://"); ok {
		if at := strings.LastIndexByte(rest, '@'); at >= 0 {
			if colon := strings.IndexByte(rest[:at], ':'); colon >= 0 {
				add(rest[colon+1 : at])
			}
		}
	}
	if _, query, ok := strings.Cut(uri, "?"); ok {
		query, _, _ = strings.Cut(query, "#")
		for p := range strings.SplitSeq(query, "&") {
			if k, v, ok := strings.Cut(p, "="); ok && strings.EqualFold(k, "password") {
				add(v)
			}
		}
	}
	return out
}
