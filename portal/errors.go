package portal

import (
	"errors"
	"fmt"

	"maunium.net/go/mautrix/id"
)

var (
	// ErrExists is matched (errors.Is) by the *ExistsError that Store.Insert
	// returns when the remote chat already has a portal. Nothing is
	// written; the caller reads ExistsError.RoomID to tell the user which
	// room the chat is already linked to (unlink it there first).
	ErrExists = errors.New("portal already exists")

	// ErrNotFound is returned (wrapped) by Store.Update when no portal has
	// the network and remote id. Nothing is written; the caller Inserts
	// instead, or reports that the portal was deleted meanwhile.
	ErrNotFound = errors.New("portal not found")
)

// ExistsError says which room an already bridged remote chat is linked to.
// errors.Is(err, ErrExists) holds for it.
type ExistsError struct {
	Network  string
	RemoteID string
	RoomID   id.RoomID // "" in the rare case the portal was deleted meanwhile
}

func (e *ExistsError) Error() string {
	return fmt.Sprintf("portal %s %s already exists, linked to %s", e.Network, e.RemoteID, e.RoomID)
}

func (e *ExistsError) Unwrap() error { return ErrExists }
