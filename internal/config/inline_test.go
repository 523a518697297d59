package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// CommonTest stands in for connectors.Settings: keys every section has,
// embedded inline.
type CommonTest struct {
	Enabled       bool   `yaml:"enabled"`
	CommandPrefix string `yaml:"command_prefix"`
	Relay         bool   `yaml:"relay"`
}

// Validate is promoted to the sections that embed CommonTest.
func (c *CommonTest) Validate() error {
	if strings.ContainsAny(c.CommandPrefix, " \t") {
		return &Error{Path: "command_prefix", Problem: "contains a space; use a prefix such as !web"}
	}
	return nil
}

type webTest struct {
	CommonTest `yaml:",inline"`
	URL        string `yaml:"url"`
}

// namedInlineTest inlines a named field, and a pointer.
type namedInlineTest struct {
	Common CommonTest   `yaml:",inline"`
	Extra  *extraTest   `yaml:",inline"`
	Rooms  []roomTest   `yaml:"rooms"`
	Labels labelMapTest `yaml:"labels"`
}

type extraTest struct {
	Timeout Duration `yaml:"timeout"`
}

type roomTest struct {
	CommonTest `yaml:",inline"`
	ID         string `yaml:"id"`
}

// labelMapTest takes the keys it does not declare into an inline map.
type labelMapTest struct {
	CommonTest `yaml:",inline"`
	Rest       map[string]string `yaml:",inline"`
}

func inlineOptions() Options {
	opts := testOptions()
	opts.Bridges["web"] = func() any { return &webTest{} }
	opts.Bridges["named"] = func() any { return &namedInlineTest{} }
	return opts
}

func TestInlineStruct(t *testing.T) {
	doc := `
bridges:
  web:
    enabled: true
    command_prefix: "!web"
    relay: true
    url: http://web.example.org
  named:
    enabled: true
    timeout: 1m
    rooms:
      - {id: a, relay: true}
    labels: {command_prefix: "!l", colour: red}
`
	c := mustParse(t, doc, inlineOptions())

	t.Run("embedded", func(t *testing.T) {
		var got webTest
		if err := c.Bridge("web", &got); err != nil {
			t.Fatalf("Bridge: %v", err)
		}
		want := webTest{CommonTest: CommonTest{Enabled: true, CommandPrefix: "!web", Relay: true}, URL: "http://web.example.org"}
		if got != want {
			t.Errorf("Bridge = %+v, want %+v", got, want)
		}
	})
	t.Run("named, pointer, nested and with an inline map", func(t *testing.T) {
		var got namedInlineTest
		if err := c.Bridge("named", &got); err != nil {
			t.Fatalf("Bridge: %v", err)
		}
		want := namedInlineTest{
			Common: CommonTest{Enabled: true},
			Extra:  &extraTest{Timeout: Duration(60e9)},
			Rooms:  []roomTest{{CommonTest: CommonTest{Relay: true}, ID: "a"}},
			Labels: labelMapTest{CommonTest: CommonTest{CommandPrefix: "!l"}, Rest: map[string]string{"colour": "red"}},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Bridge =\n%+v\nwant\n%+v", got, want)
		}
	})
	t.Run("overlays defaults", func(t *testing.T) {
		other := mustParse(t, "bridges:\n  web:\n    relay: true\n", inlineOptions())
		got := webTest{CommonTest: CommonTest{CommandPrefix: "!default"}, URL: "http://default"}
		if err := other.Bridge("web", &got); err != nil {
			t.Fatalf("Bridge: %v", err)
		}
		want := webTest{CommonTest: CommonTest{CommandPrefix: "!default", Relay: true}, URL: "http://default"}
		if got != want {
			t.Errorf("Bridge = %+v, want %+v", got, want)
		}
	})
	t.Run("pointer left nil when none of its keys is given", func(t *testing.T) {
		other := mustParse(t, "bridges:\n  named:\n    relay: true\n", inlineOptions())
		var got namedInlineTest
		if err := other.Bridge("named", &got); err != nil {
			t.Fatalf("Bridge: %v", err)
		}
		if got.Extra != nil || !got.Common.Relay {
			t.Errorf("Bridge = %+v, want relay and no Extra", got)
		}
	})
}

func TestInlineStructErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want string
	}{
		{
			name: "misspelt inline key",
			doc:  "bridges:\n  web:\n    comand_prefix: \"!w\"\n",
			want: `config: bridges.web.comand_prefix: unknown key (did you mean "command_prefix"?)`,
		},
		{
			name: "unknown key lists inline keys in place",
			doc:  "bridges:\n  web:\n    nick: x\n",
			want: `config: bridges.web.nick: unknown key (known keys: enabled, command_prefix, relay, url)`,
		},
		{
			name: "inline key given as a mapping",
			doc:  "bridges:\n  web:\n    settings:\n      enabled: true\n",
			want: `config: bridges.web.settings: unknown key (known keys: enabled, command_prefix, relay, url)`,
		},
		{
			name: "inline key of the wrong type",
			doc:  "bridges:\n  web:\n    enabled: yes\n",
			want: `config: bridges.web.enabled: expected true or false, got "yes"`,
		},
		{
			name: "inline key given twice",
			doc:  "bridges:\n  web:\n    relay: true\n    url: x\n    relay: false\n",
			want: `config: bridges.web.relay: duplicate key`,
		},
		{
			name: "inline key in a list element",
			doc:  "bridges:\n  named:\n    rooms:\n      - {id: a, realy: true}\n",
			want: `config: bridges.named.rooms[0].realy: unknown key (did you mean "relay"?)`,
		},
		{
			name: "inline pointer key of the wrong type",
			doc:  "bridges:\n  named:\n    timeout: 5\n",
			want: `config: bridges.named.timeout: expected a duration such as 30s or 5m, got 5; add a unit`,
		},
		{
			name: "Validate promoted from the inline struct",
			doc:  "bridges:\n  web:\n    command_prefix: \"! web\"\n",
			want: `config: bridges.web.command_prefix: contains a space; use a prefix such as !web`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc), "switchboard.yaml", inlineOptions())
			if err == nil || err.Error() != tt.want {
				t.Errorf("Parse error:\n got %v\nwant %s", err, tt.want)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Errorf("Parse error %T is not an *Error", err)
			}
		})
	}
}

// Section types with programmer errors.

type dupInlineTest struct {
	CommonTest `yaml:",inline"`
	Enabled    bool `yaml:"enabled"`
}

type dupNestedTest struct {
	Rooms []dupRoomTest `yaml:"rooms"`
}

type dupRoomTest struct {
	Relay      string `yaml:"relay"`
	CommonTest `yaml:",inline"`
}

type inlineStringTest struct {
	Name string `yaml:",inline"`
}

type inlineSelfDecodingTest struct {
	Timeout Duration `yaml:",inline"`
}

type inlineSelfTest struct {
	Next *inlineSelfTest `yaml:",inline"`
}

type twoMapsTest struct {
	A            map[string]string `yaml:",inline"`
	labelMapTest `yaml:",inline"`
}

type intKeyMapTest struct {
	M map[int]string `yaml:",inline"`
}

type extraPointerTest struct {
	*extraTest `yaml:",inline"`
}

// TestInlineProgrammerErrors: a section type the decoder cannot use stops
// Parse with a message naming the Go fields, even when the file does not
// have the section.
func TestInlineProgrammerErrors(t *testing.T) {
	tests := []struct {
		name    string
		section func() any
		want    string
	}{
		{
			name:    "key of the parent and of an inline struct",
			section: func() any { return &dupInlineTest{} },
			want:    `config: bridges.bad: key "enabled" is declared twice in config.dupInlineTest, by CommonTest.Enabled and by Enabled; give one of them another yaml tag (a Switchboard bug)`,
		},
		{
			name:    "in a nested type",
			section: func() any { return &dupNestedTest{} },
			want:    `config: bridges.bad: key "relay" is declared twice in config.dupRoomTest, by Relay and by CommonTest.Relay; give one of them another yaml tag (a Switchboard bug)`,
		},
		{
			name:    "inline string",
			section: func() any { return &inlineStringTest{} },
			want:    `config: bridges.bad: field Name of config.inlineStringTest cannot be inline: only a struct, a pointer to a struct or a map with string keys can (a Switchboard bug)`,
		},
		{
			name:    "inline type that decodes itself",
			section: func() any { return &inlineSelfDecodingTest{} },
			want:    `config: bridges.bad: field Timeout of config.inlineSelfDecodingTest cannot be inline: only a struct, a pointer to a struct or a map with string keys can (a Switchboard bug)`,
		},
		{
			name:    "inline itself",
			section: func() any { return &inlineSelfTest{} },
			want:    `config: bridges.bad: field Next of config.inlineSelfTest cannot be inline: config.inlineSelfTest would contain itself (a Switchboard bug)`,
		},
		{
			name:    "two inline maps",
			section: func() any { return &twoMapsTest{} },
			want:    `config: bridges.bad: config.twoMapsTest has two inline maps, A and labelMapTest.Rest; keep one (a Switchboard bug)`,
		},
		{
			name:    "inline map with int keys",
			section: func() any { return &intKeyMapTest{} },
			want:    `config: bridges.bad: field M of config.intKeyMapTest cannot be inline: an inline map needs string keys (a Switchboard bug)`,
		},
		{
			name:    "embedded pointer to an unexported type",
			section: func() any { return &extraPointerTest{} },
			want:    `config: bridges.bad: field extraTest of config.extraPointerTest cannot be inline: it is a pointer to an unexported type; embed the struct itself (a Switchboard bug)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOptions()
			opts.Bridges["bad"] = tt.section
			for _, doc := range []string{"", "bridges:\n  bad: {}\n"} {
				_, err := Parse([]byte(doc), "switchboard.yaml", opts)
				if err == nil || err.Error() != tt.want {
					t.Errorf("Parse(%q) error:\n got %v\nwant %s", doc, err, tt.want)
				}
			}
		})
	}
}
