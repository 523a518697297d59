package appservice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"time"

	"go.mau.fi/util/retryafter"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

// Rate limits are handled here rather than by mautrix: its client retries a
// 429 only DefaultHTTPRetries times (then the message would be lost), reads
// only the Retry-After header, and retries network errors too, which the
// engine must see at once. So mautrix's retries are off (see NewHTTP) and
// every request goes through call.

const (
	// maxRateLimitWait caps one wait: a homeserver asking for an hour is
	// asked again after a minute rather than trusted blindly.
	maxRateLimitWait = 60 * time.Second
	// defaultRateLimitWait is used when a 429 says nothing about how long.
	defaultRateLimitWait = time.Second
	// minRateLimitWait keeps a server answering retry_after_ms: 0 from
	// turning the retry loop into a busy loop.
	minRateLimitWait = 50 * time.Millisecond
)

// call runs op, and again after a wait each time the homeserver rate-limits
// it, until op succeeds, fails otherwise, or ctx ends. op must be safe to
// repeat: a rate-limited request was not carried out.
func (m *httpMatrix) call(ctx context.Context, userID id.UserID, op func() error) error {
	for {
		err := op()
		wait, limited := rateLimitWait(err)
		if !limited {
			return err
		}
		m.log.LogAttrs(ctx, slog.LevelWarn, "rate limited by homeserver, waiting",
			slog.String("user_id", string(userID)),
			slog.Int64("wait_ms", wait.Milliseconds()))
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("wait out rate limit: %w; last answer: %w", context.Cause(ctx), err)
		case <-timer.C:
		}
	}
}

// rateLimitWait reports whether err is a rate limit and how long to wait:
// the longer of retry_after_ms and Retry-After when the server sent either,
// else a second, within [minRateLimitWait, maxRateLimitWait].
func rateLimitWait(err error) (time.Duration, bool) {
	var httpErr mautrix.HTTPError
	if err == nil || !errors.As(err, &httpErr) {
		return 0, false
	}
	limited := httpErr.IsStatus(http.StatusTooManyRequests) ||
		(httpErr.RespError != nil && httpErr.RespError.ErrCode == mautrix.MLimitExceeded.ErrCode)
	if !limited {
		return 0, false
	}
	wait, hinted := time.Duration(0), false
	if httpErr.RespError != nil {
		if ms, ok := httpErr.RespError.ExtraData["retry_after_ms"].(float64); ok {
			// Clamped before converting: a huge value would overflow.
			ms = min(max(ms, 0), float64(maxRateLimitWait/time.Millisecond))
			wait, hinted = time.Duration(ms*float64(time.Millisecond)), true
		}
	}
	if httpErr.Response != nil {
		if h := httpErr.Response.Header.Get("Retry-After"); h != "" {
			// A date in the past parses as negative: retry now.
			const unparsable = time.Duration(math.MinInt64)
			if d := retryafter.Parse(h, unparsable); d != unparsable {
				wait, hinted = max(wait, d, 0), true
			}
		}
	}
	if !hinted {
		wait = defaultRateLimitWait
	}
	return min(max(wait, minRateLimitWait), maxRateLimitWait), true
}
