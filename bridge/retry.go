package bridge

import (
	"context"
	"log/slog"
	"time"

	"switchboard/appservice"
	"switchboard/connectors"
)

// retry runs fn until it succeeds, fails in a way retryable does not
// accept, or ctx ends, waiting with exponential backoff (at least what
// retryable asks for) in between. The caller's lane waits meanwhile, so a
// side that is down or limits the rate keeps the order instead of losing
// the event.
func retry(ctx context.Context, log *slog.Logger, what string, retryable func(error) (bool, time.Duration), fn func() error) error {
	wait := 100 * time.Millisecond
	for {
		err := fn()
		if err == nil || ctx.Err() != nil {
			return err
		}
		ok, after := retryable(err)
		if !ok {
			return err
		}
		wait = max(wait, after)
		log.Warn(what+" unavailable, retrying", slog.Any("error", err), slog.Duration("wait", wait))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, 30*time.Second)
	}
}

// retryMatrix retries calls to the homeserver. Its rate limits are waited
// out inside the intents; what reaches here as retryable is a homeserver
// that is down or failing.
func (b *Bridge) retryMatrix(ctx context.Context, log *slog.Logger, fn func() error) error {
	return retry(ctx, log, "homeserver", func(err error) (bool, time.Duration) { return appservice.Retryable(err), 0 }, fn)
}

// retryRemote retries calls to the network while it is down or limits the
// rate.
func (b *Bridge) retryRemote(ctx context.Context, log *slog.Logger, fn func() error) error {
	return retry(ctx, log, "network", connectors.Retryable, fn)
}
