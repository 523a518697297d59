package registration

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrSyntax is wrapped by [Load] and [Parse] when the file is not YAML,
	// is empty, or its top level is not a mapping. The caller reports the
	// error and stops loading that file: nothing in it can be trusted.
	ErrSyntax = errors.New("not a registration file")

	// ErrWrongType is wrapped by [Load] and [Parse] when a known key holds the
	// wrong kind of value (a list where a string belongs, an unquoted number
	// as a token, ...). The [*Error] names the key and line; the caller
	// reports it and the operator fixes the file.
	ErrWrongType = errors.New("wrong type")

	// ErrMissing is wrapped by [Registration.Validate] (and by [Parse] for a
	// namespace entry without regex or exclusive) when a required key is
	// absent or empty. The caller reports it; the operator adds the key.
	ErrMissing = errors.New("missing")

	// ErrInvalid is wrapped by [Registration.Validate] when a value is present
	// but unusable: a regex that does not compile, a url that is not http(s),
	// a sender_localpart outside the user id grammar, as_token equal to
	// hs_token. The caller reports it; the operator fixes the value.
	ErrInvalid = errors.New("invalid")

	// ErrDuplicate is wrapped by [NewSet], through a [*DuplicateError], when
	// two registrations share an id or a token. The homeserver refuses to
	// start; the operator gives one of the two files a new id or new tokens.
	ErrDuplicate = errors.New("duplicate")

	// ErrNotValidated is returned by [NewSet] when a registration has not
	// passed [Registration.Validate]. It is a programmer error: the caller
	// must validate each registration (which also fixes the server name used
	// to recognise the sender_localpart user) before building a Set.
	ErrNotValidated = errors.New("registration not validated")
)

// Error describes one problem in one registration. It unwraps to one of
// ErrSyntax, ErrWrongType, ErrMissing or ErrInvalid, and to the underlying
// cause (a YAML or regexp error) when there is one. Its message is one line:
//
//	registration /etc/sb/irc.yaml: line 4: as_token: is a number, want a string; quote the value
type Error struct {
	Source  string // the path or name the registration was loaded from
	Line    int    // 1-based line in the file; 0 when unknown
	Field   string // key path such as "namespaces.users[1].regex"; empty for the whole file
	Problem string // what is wrong
	Fix     string // what to do about it; may be empty
	Kind    error  // ErrSyntax, ErrWrongType, ErrMissing or ErrInvalid
	Err     error  // underlying cause, or nil
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("registration ")
	b.WriteString(sourceName(e.Source))
	if e.Line > 0 {
		fmt.Fprintf(&b, ": line %d", e.Line)
	}
	if e.Field != "" {
		b.WriteString(": ")
		b.WriteString(e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Problem)
	if e.Fix != "" {
		b.WriteString("; ")
		b.WriteString(e.Fix)
	}
	return b.String()
}

// Unwrap lets errors.Is match the sentinel and errors.As reach the cause.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// DuplicateError is returned by [NewSet] when two registrations share an id
// or a token. It unwraps to ErrDuplicate. Tokens are secrets, so the message
// names the two files and the keys but never a token's value.
type DuplicateError struct {
	Key         string // "id", "as_token", "hs_token", or "as_token/hs_token" when one file's as_token is another's hs_token
	ID          string // the shared id when Key is "id"; empty otherwise
	First       string // source of the registration seen first
	Second      string // source of the registration that repeats it
	FirstField  string // key holding the value in First
	SecondField string // key holding the value in Second
}

func (e *DuplicateError) Error() string {
	first, second := sourceName(e.First), sourceName(e.Second)
	if e.Key == "id" {
		return fmt.Sprintf("registration: id %q is used by both %s and %s; give each registration its own id", e.ID, first, second)
	}
	if e.FirstField == e.SecondField {
		return fmt.Sprintf("registration: %s and %s have the same %s; generate a new random %s for one of them", first, second, e.Key, e.Key)
	}
	return fmt.Sprintf("registration: the %s of %s is the %s of %s; generate new random tokens for one of them", e.SecondField, second, e.FirstField, first)
}

// Unwrap returns ErrDuplicate.
func (e *DuplicateError) Unwrap() error { return ErrDuplicate }

func sourceName(s string) string {
	if s == "" {
		return "<unnamed>"
	}
	return s
}
