package config

import "strings"

// Error is a problem in the configuration a user can fix: the key it is about
// and what is wrong with it, usually with what to write instead. Parse, Load,
// Validate and Config.Bridge return it for every mistake in the file or the
// environment; callers find it with errors.As, and print it as it is.
//
// Path is a key path such as "bridges.irc.networks[0].server", an environment
// variable such as "SWITCHBOARD_LOG_LEVEL", or the file name for problems with
// the document as a whole (syntax errors, several documents).
type Error struct {
	Path    string
	Problem string
}

func (e *Error) Error() string {
	return "config: " + e.Path + ": " + e.Problem
}

// errorf builds an *Error. Every problem is kept to one line, so that the
// first line of a log or a terminal says everything.
func errorf(path, problem string) *Error {
	return &Error{Path: path, Problem: oneLine(problem)}
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	lines := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return strings.Join(lines, "; ")
}
