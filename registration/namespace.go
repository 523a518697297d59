package registration

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"

	"maunium.net/go/mautrix/appservice"
)

type compiledNamespace struct {
	re        *regexp.Regexp // nil when the regex did not compile
	exclusive bool
}

type compiledNamespaces struct {
	users, aliases, rooms []compiledNamespace
}

// compileRegex compiles a namespace regex with Synapse's semantics: Python's
// re.match anchors at the start of the string, not at the end. The regex is
// first compiled on its own, so an unbalanced one such as "a)|(b" is refused
// instead of being given a new meaning by the wrapping group.
func compileRegex(expr string) (*regexp.Regexp, error) {
	if _, err := regexp.Compile(expr); err != nil {
		return nil, err
	}
	return regexp.Compile(`^(?:` + expr + `)`)
}

// compile rebuilds the compiled namespaces from r.Namespaces and returns the
// first problem found (an *Error wrapping ErrInvalid or ErrMissing).
// Entries that fail are kept as nil and never match.
func (r *Registration) compile() error {
	var first error
	build := func(kind string, list appservice.NamespaceList) []compiledNamespace {
		out := make([]compiledNamespace, len(list))
		for i, ns := range list {
			out[i].exclusive = ns.Exclusive
			field := fmt.Sprintf("namespaces.%s[%d].regex", kind, i)
			if ns.Regex == "" {
				if first == nil {
					first = &Error{Source: r.source, Field: field, Problem: "empty; an empty regex matches every id", Fix: "write the ids it covers, or .* if every id is really meant", Kind: ErrMissing}
				}
				continue
			}
			re, err := compileRegex(ns.Regex)
			if err != nil {
				if first == nil {
					first = &Error{Source: r.source, Field: field, Problem: fmt.Sprintf("%q does not compile: %s", ns.Regex, regexProblem(err)), Fix: "fix the regex (RE2 syntax: no lookaround or backreferences)", Kind: ErrInvalid, Err: err}
				}
				continue
			}
			out[i].re = re
		}
		return out
	}
	r.ns = compiledNamespaces{
		users:   build("users", r.Namespaces.UserIDs),
		aliases: build("aliases", r.Namespaces.RoomAliases),
		rooms:   build("rooms", r.Namespaces.RoomIDs),
	}
	return first
}

func regexProblem(err error) string {
	var se *syntax.Error
	if errors.As(err, &se) {
		return fmt.Sprintf("%s at %q", se.Code, se.Expr)
	}
	return oneLine(err.Error())
}

// match reports whether any namespace in list matches s and whether any
// matching one is exclusive.
func match(list []compiledNamespace, s string) (matched, exclusive bool) {
	for _, ns := range list {
		if ns.re != nil && ns.re.MatchString(s) {
			matched = true
			if ns.exclusive {
				return true, true
			}
		}
	}
	return matched, false
}

func (r *Registration) isBot(userID string) bool {
	return r.botUserID != "" && userID == r.botUserID
}

// IsInterestedInUser reports whether userID is the sender_localpart user or
// matches any users namespace. Events sent by, or about the membership of,
// such a user go to this appservice. The regex alone decides; whether the
// user is local is the caller's business (see [Registration.OwnsUser]).
func (r *Registration) IsInterestedInUser(userID string) bool {
	if r.isBot(userID) {
		return true
	}
	m, _ := match(r.ns.users, userID)
	return m
}

// IsExclusiveUser reports whether userID is the sender_localpart user or
// matches an exclusive users namespace: nobody else may register it.
func (r *Registration) IsExclusiveUser(userID string) bool {
	if r.isBot(userID) {
		return true
	}
	_, ex := match(r.ns.users, userID)
	return ex
}

// OwnsUser reports whether the appservice may act as userID (the user_id
// query parameter) or register it: userID is the sender_localpart user, or a
// user on this server matching any users namespace, exclusive or not. It is
// false for everything until the server name is known (Validate or Generate).
func (r *Registration) OwnsUser(userID string) bool {
	if r.isBot(userID) {
		return true
	}
	if r.serverName == "" {
		return false
	}
	rest, ok := strings.CutPrefix(userID, "@")
	if !ok {
		return false
	}
	_, server, ok := strings.Cut(rest, ":")
	if !ok || server != r.serverName {
		return false
	}
	m, _ := match(r.ns.users, userID)
	return m
}

// IsInterestedInAlias reports whether alias matches any aliases namespace.
func (r *Registration) IsInterestedInAlias(alias string) bool {
	m, _ := match(r.ns.aliases, alias)
	return m
}

// IsExclusiveAlias reports whether alias matches an exclusive aliases
// namespace: nobody else may create or delete it.
func (r *Registration) IsExclusiveAlias(alias string) bool {
	_, ex := match(r.ns.aliases, alias)
	return ex
}

// IsInterestedInRoom reports whether roomID matches any rooms namespace.
func (r *Registration) IsInterestedInRoom(roomID string) bool {
	m, _ := match(r.ns.rooms, roomID)
	return m
}

// IsExclusiveRoom reports whether roomID matches an exclusive rooms namespace.
func (r *Registration) IsExclusiveRoom(roomID string) bool {
	_, ex := match(r.ns.rooms, roomID)
	return ex
}
