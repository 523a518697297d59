package registration

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
)

// Set is the homeserver's collection of registrations: no two share an id or
// a token. It is immutable once built and safe for concurrent use. A nil
// *Set behaves as an empty one.
type Set struct {
	regs     []*Registration
	byID     map[string]*Registration
	asHashes [][sha256.Size]byte // SHA-256 of each as_token, same order as regs
}

// NewSet builds a Set from validated registrations, in the order given (the
// order [Set.ExclusiveOwnerOfUser] searches). It returns a [*DuplicateError]
// when two registrations share an id, an as_token, an hs_token, or when one's
// as_token is another's hs_token (whoever holds one file could pose as the
// other appservice); and ErrNotValidated for a registration that has not
// passed Validate.
func NewSet(regs ...*Registration) (*Set, error) {
	s := &Set{
		regs:     make([]*Registration, 0, len(regs)),
		byID:     make(map[string]*Registration, len(regs)),
		asHashes: make([][sha256.Size]byte, 0, len(regs)),
	}
	type owner struct {
		reg   *Registration
		field string
	}
	// Tokens are compared by map lookup here: this runs once at start-up on
	// the homeserver's own files, not on request input.
	tokens := make(map[string]owner, 2*len(regs))
	for i, r := range regs {
		if r == nil {
			return nil, fmt.Errorf("registration set: entry %d is nil", i)
		}
		if !r.validated {
			return nil, fmt.Errorf("registration %s: %w; call Validate(serverName) first", sourceName(r.source), ErrNotValidated)
		}
		if prev, ok := s.byID[r.ID]; ok {
			return nil, &DuplicateError{Key: "id", ID: r.ID, First: prev.source, Second: r.source, FirstField: "id", SecondField: "id"}
		}
		s.byID[r.ID] = r
		for _, t := range []struct{ field, value string }{{"as_token", r.AppToken}, {"hs_token", r.ServerToken}} {
			if prev, ok := tokens[t.value]; ok {
				key := t.field
				if prev.field != t.field {
					key = "as_token/hs_token"
				}
				return nil, &DuplicateError{Key: key, First: prev.reg.source, Second: r.source, FirstField: prev.field, SecondField: t.field}
			}
			tokens[t.value] = owner{r, t.field}
		}
		s.regs = append(s.regs, r)
		s.asHashes = append(s.asHashes, sha256.Sum256([]byte(r.AppToken)))
	}
	return s, nil
}

// ByASToken returns the registration whose as_token is token, or nil. It
// takes the same time whichever entry matches, or none: the token is hashed
// (so its length does not show) and compared with every entry's hash without
// stopping at a match. An empty token returns nil at once.
func (s *Set) ByASToken(token string) *Registration {
	if s == nil || token == "" || len(s.regs) == 0 {
		return nil
	}
	sum := sha256.Sum256([]byte(token))
	found, index := 0, 0
	for i := range s.asHashes {
		eq := subtle.ConstantTimeCompare(sum[:], s.asHashes[i][:])
		index = subtle.ConstantTimeSelect(eq, i, index)
		found |= eq
	}
	if found == 0 {
		return nil
	}
	return s.regs[index]
}

// ByID returns the registration with this id, or nil. Ids are not secret.
func (s *Set) ByID(id string) *Registration {
	if s == nil {
		return nil
	}
	return s.byID[id]
}

// All returns the registrations in the order NewSet was given them. The
// slice is a copy; the registrations are shared and must not be modified.
func (s *Set) All() []*Registration {
	if s == nil {
		return nil
	}
	return append([]*Registration(nil), s.regs...)
}

// Len is the number of registrations.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.regs)
}

// ExclusiveOwnerOfUser returns the first registration for which userID is
// exclusive (its bot, or in an exclusive users namespace), or nil. The
// homeserver answers M_EXCLUSIVE when anyone else tries to register userID.
func (s *Set) ExclusiveOwnerOfUser(userID string) *Registration {
	return s.first(func(r *Registration) bool { return r.IsExclusiveUser(userID) })
}

// ExclusiveOwnerOfAlias returns the first registration with alias in an
// exclusive aliases namespace, or nil. The homeserver answers M_EXCLUSIVE
// when anyone else tries to create or delete alias.
func (s *Set) ExclusiveOwnerOfAlias(alias string) *Registration {
	return s.first(func(r *Registration) bool { return r.IsExclusiveAlias(alias) })
}

// ExclusiveOwnerOfRoom returns the first registration with roomID in an
// exclusive rooms namespace, or nil.
func (s *Set) ExclusiveOwnerOfRoom(roomID string) *Registration {
	return s.first(func(r *Registration) bool { return r.IsExclusiveRoom(roomID) })
}

func (s *Set) first(pred func(*Registration) bool) *Registration {
	if s == nil {
		return nil
	}
	for _, r := range s.regs {
		if pred(r) {
			return r
		}
	}
	return nil
}

// TokenEqual reports whether a and b are the same token, in time that does
// not depend on where they differ or on their lengths (both are hashed
// first). Use it for every comparison against a secret.
func TokenEqual(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}
