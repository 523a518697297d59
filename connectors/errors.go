package connectors

import (
	"errors"
	"fmt"
	"time"
)

var (
	// ErrNotFound is returned by ChatInfo and UserInfo for a chat or user
	// the network does not have (or the bridge may not see). The bridge
	// answers an alias query with 404 and a command with "no such chat".
	ErrNotFound = errors.New("not found on the network")

	// ErrNoIdentity is returned by ClientFor when a Matrix user has no
	// identity of their own on the network. The bridge relays instead, if
	// the portal allows it.
	ErrNoIdentity = errors.New("no identity on the network")

	// ErrUnavailable wraps errors that may pass: the network is down, a
	// connection is being re-established. The bridge retries the operation
	// with backoff, keeping the portal's order, and never drops it.
	ErrUnavailable = errors.New("network unavailable")

	// ErrNotSupported is returned for an operation the network cannot do
	// in this case (an edit too old to change, a reaction in a chat without
	// them). The bridge tells the room when it matters.
	ErrNotSupported = errors.New("not supported by the network")
)

// Unavailable wraps err so the bridge retries: fmt.Errorf("%w: %w",
// ErrUnavailable, err).
func Unavailable(err error) error {
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// RetryError says the network limited the rate: try again after After. The
// bridge waits and retries; it never drops.
type RetryError struct {
	After time.Duration
	Err   error
}

func (e *RetryError) Error() string {
	return fmt.Sprintf("rate limited, retry after %s: %v", e.After, e.Err)
}

func (e *RetryError) Unwrap() error { return e.Err }

// Retryable reports whether the bridge should retry an operation that failed
// with err, and the least wait the network asked for (0 when it did not say).
func Retryable(err error) (bool, time.Duration) {
	var re *RetryError
	if errors.As(err, &re) {
		return true, re.After
	}
	return errors.Is(err, ErrUnavailable), 0
}
