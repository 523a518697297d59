package logging

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestNewFormatsAndLevels(t *testing.T) {
	tests := []struct {
		level, format string
		wantJSON      bool
		debugShown    bool
	}{
		{"info", "text", false, false},
		{"debug", "text", false, true},
		{"debug", "json", true, true},
		{"warn", "json", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.level+"/"+tc.format, func(t *testing.T) {
			var buf bytes.Buffer
			log, err := New(&buf, tc.level, tc.format)
			if err != nil {
				t.Fatal(err)
			}
			log.Debug("debug line", "room_id", "!a:b")
			log.Error("error line", "room_id", "!a:b")
			out := buf.String()
			if got := strings.Contains(out, "debug line"); got != tc.debugShown {
				t.Errorf("debug line shown = %v, want %v:\n%s", got, tc.debugShown, out)
			}
			last := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
			var m map[string]any
			isJSON := json.Unmarshal([]byte(last), &m) == nil
			if isJSON != tc.wantJSON {
				t.Errorf("JSON output = %v, want %v: %q", isJSON, tc.wantJSON, last)
			}
		})
	}
}

func TestNewRejectsUnknown(t *testing.T) {
	if _, err := New(&bytes.Buffer{}, "loud", "text"); err == nil || !strings.Contains(err.Error(), "log.level") {
		t.Errorf("unknown level: err = %v, want one naming log.level", err)
	}
	if _, err := New(&bytes.Buffer{}, "info", "xml"); err == nil || !strings.Contains(err.Error(), "log.format") {
		t.Errorf("unknown format: err = %v, want one naming log.format", err)
	}
}
