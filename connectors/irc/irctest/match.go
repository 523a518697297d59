package irctest

import "strings"

// Matchers for Client.Expect and Client.ExpectNone. Nicks, channels and
// commands compare case-insensitively (ASCII); an empty argument matches
// anything where the doc says so.

// Command matches any line with the given command or numeric ("PRIVMSG",
// "366").
func Command(command string) func(*Message) bool {
	return func(m *Message) bool {
		return strings.EqualFold(m.Command, command)
	}
}

// Privmsg matches a PRIVMSG from the nick from ("" for anyone) to target
// ("" for any target) whose text is exactly text.
func Privmsg(from, target, text string) func(*Message) bool {
	return func(m *Message) bool {
		return strings.EqualFold(m.Command, "PRIVMSG") && len(m.Params) == 2 &&
			sameOrAny(from, m.Nick()) && sameOrAny(target, m.Params[0]) &&
			m.Params[1] == text
	}
}

// Tagmsg matches a TAGMSG from the nick from ("" for anyone) to target
// ("" for any target).
func Tagmsg(from, target string) func(*Message) bool {
	return func(m *Message) bool {
		return strings.EqualFold(m.Command, "TAGMSG") && len(m.Params) >= 1 &&
			sameOrAny(from, m.Nick()) && sameOrAny(target, m.Params[0])
	}
}

// Joined matches the JOIN of nick ("" for anyone) to channel.
func Joined(nick, channel string) func(*Message) bool {
	return func(m *Message) bool {
		return strings.EqualFold(m.Command, "JOIN") && len(m.Params) >= 1 &&
			sameOrAny(nick, m.Nick()) && strings.EqualFold(m.Params[0], channel)
	}
}

// Quit matches the QUIT of nick ("" for anyone).
func Quit(nick string) func(*Message) bool {
	return func(m *Message) bool {
		return strings.EqualFold(m.Command, "QUIT") && sameOrAny(nick, m.Nick())
	}
}

// HasTag matches a line carrying the tag name, whatever its value.
func HasTag(name string) func(*Message) bool {
	return func(m *Message) bool {
		_, ok := m.Tags[name]
		return ok
	}
}

// All matches a line that every one of matchers matches.
func All(matchers ...func(*Message) bool) func(*Message) bool {
	return func(m *Message) bool {
		for _, match := range matchers {
			if !match(m) {
				return false
			}
		}
		return true
	}
}

// sameOrAny reports whether want is empty or names got (case-insensitively).
func sameOrAny(want, got string) bool {
	return want == "" || strings.EqualFold(want, got)
}
