package irctest

import (
	"errors"
	"fmt"
	"strings"
)

// Message is one parsed IRC line.
type Message struct {
	// Raw is the line as received, without its CRLF.
	Raw string
	// Tags are the IRCv3 message tags with their values unescaped; a tag
	// sent without a value maps to "". Nil when the line has no tags.
	Tags map[string]string
	// Source is the prefix without its colon ("nick!user@host" or a server
	// name); empty when the line has none.
	Source string
	// Command is the command or the three-digit numeric, as sent.
	Command string
	// Params holds every parameter, the trailing one included (without its
	// colon).
	Params []string
}

// errEmptyLine and errNoCommand are returned by ParseLine for lines that
// hold no command; the caller skips or reports the line.
var (
	errEmptyLine = errors.New("empty line")
	errNoCommand = errors.New("no command")
)

// ParseLine parses one IRC line (with or without its trailing CRLF) into a
// Message, following the IRCv3 message-tags grammar: "@tags :source COMMAND
// params :trailing". Runs of spaces between parts count as one separator.
func ParseLine(line string) (*Message, error) {
	raw := strings.TrimRight(line, "\r\n")
	rest := strings.TrimLeft(raw, " ")
	if rest == "" {
		return nil, errEmptyLine
	}
	m := &Message{Raw: raw}
	if strings.HasPrefix(rest, "@") {
		var tags string
		tags, rest = cutWord(rest[1:])
		m.Tags = parseTags(tags)
	}
	if strings.HasPrefix(rest, ":") {
		m.Source, rest = cutWord(rest[1:])
	}
	m.Command, rest = cutWord(rest)
	if m.Command == "" {
		return nil, fmt.Errorf("parse %q: %w", raw, errNoCommand)
	}
	m.Params = parseParams(rest)
	return m, nil
}

// cutWord returns the text before the first space and the rest with its
// leading spaces removed.
func cutWord(s string) (word, rest string) {
	word, rest, _ = strings.Cut(s, " ")
	return word, strings.TrimLeft(rest, " ")
}

// parseParams splits the parameter part of a line; a parameter starting with
// a colon is the trailing one and runs to the end of the line.
func parseParams(s string) []string {
	var params []string
	for s != "" {
		if strings.HasPrefix(s, ":") {
			return append(params, s[1:])
		}
		var p string
		p, s = cutWord(s)
		params = append(params, p)
	}
	return params
}

// parseTags parses "key=value;key2;..." with IRCv3 value unescaping. A later
// duplicate key wins, as the specification asks.
func parseTags(s string) map[string]string {
	tags := make(map[string]string)
	for _, tag := range strings.Split(s, ";") {
		if tag == "" {
			continue
		}
		key, value, _ := strings.Cut(tag, "=")
		tags[key] = UnescapeTagValue(value)
	}
	return tags
}

// UnescapeTagValue undoes IRCv3 tag value escaping: \: is ";", \s a space,
// \\ a backslash, \r and \n CR and LF; a backslash before any other
// character is dropped, and so is a lone trailing backslash.
func UnescapeTagValue(v string) string {
	if !strings.Contains(v, `\`) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i == len(v) {
			break
		}
		b.WriteByte(unescapeTagChar(v[i]))
	}
	return b.String()
}

// unescapeTagChar maps the character after a backslash to what it stands for.
func unescapeTagChar(c byte) byte {
	switch c {
	case ':':
		return ';'
	case 's':
		return ' '
	case 'r':
		return '\r'
	case 'n':
		return '\n'
	default:
		return c
	}
}

// EscapeTagValue is the inverse of UnescapeTagValue, for building tagged
// lines in tests.
func EscapeTagValue(v string) string {
	return tagEscaper.Replace(v)
}

var tagEscaper = strings.NewReplacer(`\`, `\\`, ";", `\:`, " ", `\s`, "\r", `\r`, "\n", `\n`)

// Nick returns the nick part of Source: everything before "!" or "@", or
// the whole source when it is a server name.
func (m *Message) Nick() string {
	nick, _, _ := strings.Cut(m.Source, "!")
	nick, _, _ = strings.Cut(nick, "@")
	return nick
}

// Last returns the last parameter, or "" when there is none.
func (m *Message) Last() string {
	if len(m.Params) == 0 {
		return ""
	}
	return m.Params[len(m.Params)-1]
}

// Param returns parameter i, or "" when the line has fewer parameters.
func (m *Message) Param(i int) string {
	if i < 0 || i >= len(m.Params) {
		return ""
	}
	return m.Params[i]
}

// Tag returns the value of a tag and whether the line carries it.
func (m *Message) Tag(name string) (string, bool) {
	v, ok := m.Tags[name]
	return v, ok
}
