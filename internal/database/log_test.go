package database

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestLoggerSlowQueriesOnly(t *testing.T) {
	var buf bytes.Buffer
	l := newLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), "homeserver")
	ctx := context.Background()
	args := []any{"s3cret-token", 987654321}

	l.QueryTiming(ctx, "Exec", "SELECT 1", args, -1, 10*time.Millisecond, nil)
	if buf.Len() != 0 {
		t.Fatalf("fast query logged: %s", buf.String())
	}

	l.QueryTiming(ctx, "Query", "SELECT *\n\tFROM   event WHERE room_id=$1", args, 3, 1500*time.Millisecond, errors.New("boom"))
	out := buf.String()
	for _, want := range []string{"level=WARN", "schema=homeserver", "method=Query", "duration=1.5s", `query="SELECT * FROM event WHERE room_id=$1"`, "rows=3", "error=boom"} {
		if !strings.Contains(out, want) {
			t.Errorf("slow query line %q lacks %q", out, want)
		}
	}
	if strings.Contains(out, "s3cret") || strings.Contains(out, "987654321") {
		t.Errorf("slow query line leaks arguments: %s", out)
	}
	if strings.Count(out, "\n") != 1 {
		t.Errorf("want one line, got %q", out)
	}
}

func TestLoggerUpgradeSteps(t *testing.T) {
	var buf bytes.Buffer
	l := newLogger(slog.New(slog.NewTextHandler(&buf, nil)), "bridge")
	l.PrepareUpgrade(3, 3, 3)
	if buf.Len() != 0 {
		t.Fatalf("up-to-date schema logged: %s", buf.String())
	}
	l.DoUpgrade(1, 2, "Add portals", "on")
	out := buf.String()
	for _, want := range []string{"level=INFO", "schema=bridge", "from_version=1", "to_version=2", `description="Add portals"`} {
		if !strings.Contains(out, want) {
			t.Errorf("upgrade line %q lacks %q", out, want)
		}
	}
}

func TestOneLine(t *testing.T) {
	if got := oneLine("a\n\t b  c", 100); got != "a b c" {
		t.Errorf("oneLine = %q", got)
	}
	if got := oneLine("ééééé", 5); got != "éé…" {
		t.Errorf("oneLine cut = %q, want a cut on a rune boundary", got)
	}
}
