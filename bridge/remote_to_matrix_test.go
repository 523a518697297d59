package bridge

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"

	"maunium.net/go/mautrix/event"
)

// TestWithOrigin: the result is one JSON object holding the origin under
// originKey and every key the content had, unchanged.
func TestWithOrigin(t *testing.T) {
	o := origin{Network: "irc", Chat: "libera/#go", ID: "m1"}
	var reaction event.ReactionEventContent
	reaction.RelatesTo.SetAnnotation("$target", "👍")
	for _, tc := range []struct {
		name    string
		content any
		origin  origin
		keys    []string // besides originKey
	}{
		{"map", map[string]any{"msgtype": "m.text", "body": "hi", "n": 1.5, "nested": map[string]any{"a": []any{"x"}}}, o,
			[]string{"msgtype", "body", "n", "nested"}},
		{"message content", &event.MessageEventContent{MsgType: event.MsgText, Body: "hi", Format: event.FormatHTML, FormattedBody: "<b>hi</b>"}, o,
			[]string{"msgtype", "body", "format", "formatted_body"}},
		{"reaction by pointer", &reaction, o, []string{"m.relates_to"}},
		{"struct by value", struct {
			A string `json:"a"`
			B int    `json:"b,omitempty"`
		}{A: "x"}, o, []string{"a"}},
		{"empty map", map[string]any{}, o, nil},
		{"empty struct", struct{}{}, o, nil},
		{"raw object with spaces", json.RawMessage(` { "body" : "x" } `), o, []string{"body"}},
		{"no id", map[string]any{"body": "x"}, origin{Network: "irc", Chat: "c"}, []string{"body"}},
		{"strings needing escapes", map[string]any{"body": "\"quoted\" \\ </script> \u2028"},
			origin{Network: "n\"et", Chat: "c\\h</script>", ID: "i\n"}, []string{"body"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := withOrigin(tc.content, tc.origin)
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(raw) {
				t.Fatalf("not valid JSON: %s", raw)
			}
			var got map[string]json.RawMessage
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatalf("not a JSON object: %s: %v", raw, err)
			}
			want, _ := json.Marshal(tc.content)
			var wantMap map[string]json.RawMessage
			if err := json.Unmarshal(want, &wantMap); err != nil {
				t.Fatal(err)
			}
			gotKeys := slices.Sorted(maps.Keys(got))
			wantKeys := slices.Sorted(slices.Values(append(slices.Clone(tc.keys), originKey)))
			if !slices.Equal(gotKeys, wantKeys) {
				t.Errorf("keys %q, want %q (in %s)", gotKeys, wantKeys, raw)
			}
			for k, v := range wantMap {
				if string(got[k]) != string(v) {
					t.Errorf("key %s = %s, want %s", k, got[k], v)
				}
			}
			var back origin
			if err := json.Unmarshal(got[originKey], &back); err != nil || back != tc.origin {
				t.Errorf("origin = %+v (%v), want %+v", back, err, tc.origin)
			}
			// The shape matrix_to_remote reads it back in.
			var generic map[string]any
			if err := json.Unmarshal(raw, &generic); err != nil {
				t.Fatal(err)
			}
			tag, ok := generic[originKey].(map[string]any)
			if !ok || tag["network"] != tc.origin.Network || tag["chat"] != tc.origin.Chat {
				t.Errorf("origin as a generic map = %v", generic[originKey])
			}
			if _, has := tag["id"]; has != (tc.origin.ID != "") {
				t.Errorf("id present = %v for origin id %q", has, tc.origin.ID)
			}
		})
	}
}

func TestWithOriginNotAnObject(t *testing.T) {
	var nilMessage *event.MessageEventContent
	for _, tc := range []struct {
		name    string
		content any
	}{
		{"nil", nil},
		{"nil pointer", nilMessage},
		{"nil map", map[string]any(nil)},
		{"string", "body"},
		{"number", 42},
		{"bool", true},
		{"array", []any{map[string]any{"body": "x"}}},
		{"empty array", []string{}},
		{"raw string", json.RawMessage(`"{}"`)},
		{"unmarshalable", map[string]any{"c": make(chan int)}},
		{"invalid raw", json.RawMessage(`{"a":`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if raw, err := withOrigin(tc.content, origin{Network: "irc", Chat: "c"}); err == nil {
				t.Errorf("withOrigin(%#v) = %s, want an error", tc.content, raw)
			}
		})
	}
}
