package database

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"go.mau.fi/util/dbutil"
)

// slowQuery is how long a query may take before it is logged.
const slowQuery = time.Second

// maxLoggedQuery caps the query text in a slow-query line; migrations are
// whole files.
const maxLoggedQuery = 200

// slogLogger is dbutil's DatabaseLogger on a *slog.Logger. It logs schema
// upgrades at Info and slow queries at Warn, and is otherwise silent. Query
// arguments are never logged: they hold message text and tokens.
type slogLogger struct {
	log    *slog.Logger
	schema string // empty for the process-wide handle
}

var _ dbutil.DatabaseLogger = (*slogLogger)(nil)

func newLogger(log *slog.Logger, schema string) *slogLogger {
	if schema != "" {
		log = log.With(slog.String("schema", schema))
	}
	return &slogLogger{log: log, schema: schema}
}

func (l *slogLogger) QueryTiming(ctx context.Context, method, query string, _ []any, nrows int, duration time.Duration, err error) {
	if duration < slowQuery {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", method),
		slog.Duration("duration", duration),
	}
	if q := oneLine(query, maxLoggedQuery); q != "" {
		attrs = append(attrs, slog.String("query", q))
	}
	if nrows >= 0 {
		attrs = append(attrs, slog.Int("rows", nrows))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	l.log.LogAttrs(ctx, slog.LevelWarn, "slow database query", attrs...)
}

func (l *slogLogger) WarnUnsupportedVersion(current, compat, latest int) {
	l.log.Warn("database schema is newer than this Switchboard, continuing anyway",
		slog.Int("current_version", current),
		slog.Int("compatible_version", compat),
		slog.Int("known_version", latest))
}

func (l *slogLogger) PrepareUpgrade(current, _, latest int) {
	if current >= latest {
		return
	}
	l.log.Info("database schema needs upgrading",
		slog.Int("from_version", current),
		slog.Int("to_version", latest))
}

func (l *slogLogger) DoUpgrade(from, to int, message string, txn dbutil.TxnMode) {
	l.log.Info("upgrading database schema",
		slog.Int("from_version", from),
		slog.Int("to_version", to),
		slog.String("description", message),
		slog.String("txn_mode", string(txn)))
}

// Warn is dbutil's legacy warning hook.
func (l *slogLogger) Warn(msg string, args ...any) {
	l.log.Warn("database warning", slog.String("detail", fmt.Sprintf(msg, args...)))
}

// oneLine collapses runs of white space and cuts s to at most limit bytes
// (on a rune boundary).
func oneLine(s string, limit int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
