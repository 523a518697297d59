package irctest

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		line string
		want *Message
	}{
		{
			name: "command and trailing",
			line: "PING :irc.test",
			want: &Message{Command: "PING", Params: []string{"irc.test"}},
		},
		{
			name: "source and two params",
			line: ":alice!test@127.0.0.1 PRIVMSG #chan :hello world",
			want: &Message{Source: "alice!test@127.0.0.1", Command: "PRIVMSG", Params: []string{"#chan", "hello world"}},
		},
		{
			name: "numeric with middle params",
			line: ":irc.test 353 bob = #test :@alice bob",
			want: &Message{Source: "irc.test", Command: "353", Params: []string{"bob", "=", "#test", "@alice bob"}},
		},
		{
			name: "CRLF is trimmed",
			line: "PING x\r\n",
			want: &Message{Command: "PING", Params: []string{"x"}},
		},
		{
			name: "no params",
			line: "QUIT",
			want: &Message{Command: "QUIT"},
		},
		{
			name: "empty trailing",
			line: "PRIVMSG #c :",
			want: &Message{Command: "PRIVMSG", Params: []string{"#c", ""}},
		},
		{
			name: "trailing keeps colons and spaces",
			line: "PRIVMSG #c ::) and  more ",
			want: &Message{Command: "PRIVMSG", Params: []string{"#c", ":) and  more "}},
		},
		{
			name: "runs of spaces separate once",
			line: ":src  MODE   #c  +k   a:b",
			want: &Message{Source: "src", Command: "MODE", Params: []string{"#c", "+k", "a:b"}},
		},
		{
			name: "leading spaces",
			line: "  PING x",
			want: &Message{Command: "PING", Params: []string{"x"}},
		},
		{
			name: "tags with and without values",
			line: "@time=2026-01-01T00:00:00.000Z;msgid=abc;inspircd.org/echo :a!b@c PRIVMSG #c :hi",
			want: &Message{
				Tags:    map[string]string{"time": "2026-01-01T00:00:00.000Z", "msgid": "abc", "inspircd.org/echo": ""},
				Source:  "a!b@c",
				Command: "PRIVMSG",
				Params:  []string{"#c", "hi"},
			},
		},
		{
			name: "every tag escape",
			line: `@+draft/reply=a\sb\:c\\d\re\nf :x TAGMSG #c`,
			want: &Message{
				Tags:    map[string]string{"+draft/reply": "a b;c\\d\re\nf"},
				Source:  "x",
				Command: "TAGMSG",
				Params:  []string{"#c"},
			},
		},
		{
			name: "unknown escape drops the backslash, trailing backslash dropped",
			line: `@a=x\yz;b=end\ PING`,
			want: &Message{Tags: map[string]string{"a": "xyz", "b": "end"}, Command: "PING"},
		},
		{
			name: "empty value, empty tag and duplicate key",
			line: "@k=;;j=1;j=2 PING",
			want: &Message{Tags: map[string]string{"k": "", "j": "2"}, Command: "PING"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseLine(tt.line)
			if err != nil {
				t.Fatalf("ParseLine(%q): %v", tt.line, err)
			}
			tt.want.Raw = strings.TrimRight(tt.line, "\r\n")
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseLine(%q)\n got %#v\nwant %#v", tt.line, got, tt.want)
			}
		})
	}
}

func TestParseLineRejectsLinesWithoutCommand(t *testing.T) {
	t.Parallel()
	for _, line := range []string{"", "\r\n", "   ", "@a=b", "@a=b ", ":source", ":source ", "@a=b :source"} {
		if m, err := ParseLine(line); err == nil {
			t.Errorf("ParseLine(%q) = %#v, want an error", line, m)
		}
	}
}

func TestMessageAccessors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line, nick, last, param1 string
	}{
		{":alice!test@127.0.0.1 PRIVMSG #c :hi", "alice", "hi", "hi"},
		{":alice@host NOTICE bob :x", "alice", "x", "x"},
		{":irc.test 001 alice :Welcome", "irc.test", "Welcome", "Welcome"},
		{"PING", "", "", ""},
	}
	for _, tt := range tests {
		m, err := ParseLine(tt.line)
		if err != nil {
			t.Fatalf("ParseLine(%q): %v", tt.line, err)
		}
		if m.Nick() != tt.nick || m.Last() != tt.last || m.Param(1) != tt.param1 {
			t.Errorf("%q: Nick, Last, Param(1) = %q, %q, %q; want %q, %q, %q",
				tt.line, m.Nick(), m.Last(), m.Param(1), tt.nick, tt.last, tt.param1)
		}
	}
}

func TestEscapeTagValue(t *testing.T) {
	t.Parallel()
	const value = "a b;c\\d\re\nf"
	const escaped = `a\sb\:c\\d\re\nf`
	if got := EscapeTagValue(value); got != escaped {
		t.Errorf("EscapeTagValue(%q) = %q, want %q", value, got, escaped)
	}
	if got := UnescapeTagValue(escaped); got != value {
		t.Errorf("UnescapeTagValue(%q) = %q, want %q", escaped, got, value)
	}
}

func FuzzParseLine(f *testing.F) {
	for _, seed := range []string{
		"PING :irc.test",
		":a!b@c PRIVMSG #c :hi there",
		`@+draft/reply=a\sb\:c;msgid=1 :x TAGMSG #c`,
		"@a=b :src",
		"  ",
		`@k=\ PING`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		m, err := ParseLine(line)
		if err != nil {
			return
		}
		if m.Command == "" || strings.Contains(m.Command, " ") {
			t.Errorf("ParseLine(%q) command %q: want one non-empty word", line, m.Command)
		}
		if m.Raw != strings.TrimRight(line, "\r\n") {
			t.Errorf("ParseLine(%q).Raw = %q", line, m.Raw)
		}
		for i, p := range m.Params[:max(len(m.Params)-1, 0)] {
			if p == "" || strings.Contains(p, " ") || strings.HasPrefix(p, ":") {
				t.Errorf("ParseLine(%q) middle param %d = %q", line, i, p)
			}
		}
	})
}

func FuzzTagValueRoundTrip(f *testing.F) {
	for _, seed := range []string{"", "plain", "a b;c\\d\re\nf", `\s\:`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, value string) {
		if got := UnescapeTagValue(EscapeTagValue(value)); got != value {
			t.Errorf("UnescapeTagValue(EscapeTagValue(%q)) = %q", value, got)
		}
	})
}
