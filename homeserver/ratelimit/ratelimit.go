package ratelimit

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"maunium.net/go/mautrix"
)

const (
	// sweepEvery is how often (at most) idle buckets are dropped. A bucket
	// that has refilled to its burst holds no information, so dropping it
	// changes nothing but memory.
	sweepEvery = time.Minute
	// maxBuckets bounds memory when many addresses arrive between sweeps:
	// reaching it sweeps at once, and if busy buckets alone still reach it,
	// an arbitrary half is dropped. Dropping a bucket only forgives that
	// client's recent requests.
	maxBuckets = 100_000
)

// Limiter is a token bucket per key: each key may make Burst requests at
// once, refilled at PerSecond. It is safe for concurrent use. The zero
// value is not usable; a nil *Limiter allows everything.
type Limiter struct {
	rate  float64 // tokens per second
	burst float64
	now   func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

// New returns a limiter that lets each key make burst requests at once and
// perSecond more every second. A perSecond or burst that is not positive
// returns nil, which allows everything; the config refuses such values
// while limits are enabled, so nil here means "off".
func New(perSecond float64, burst int) *Limiter {
	if perSecond <= 0 || burst < 1 || math.IsNaN(perSecond) || math.IsInf(perSecond, 0) {
		return nil
	}
	return &Limiter{
		rate:    perSecond,
		burst:   float64(burst),
		now:     time.Now,
		buckets: make(map[string]*bucket),
	}
}

// Allow takes one token from key's bucket. When the bucket is empty it
// returns false and how long until a token is back.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	if l == nil {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	} else {
		l.refill(b, now)
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	if wait < time.Millisecond {
		wait = time.Millisecond
	}
	return false, wait
}

// AllowRequest is Allow keyed by the request's client address (ClientKey).
func (l *Limiter) AllowRequest(r *http.Request) (ok bool, retryAfter time.Duration) {
	if l == nil {
		return true, 0
	}
	return l.Allow(ClientKey(r))
}

// Wrap answers 429 M_LIMIT_EXCEEDED instead of calling next when r's client
// has no token left. A nil limiter returns next unchanged.
func (l *Limiter) Wrap(next http.Handler) http.Handler {
	if l == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ok, wait := l.AllowRequest(r); !ok {
			Exceeded(wait).Write(w)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Exceeded is the 429 M_LIMIT_EXCEEDED error telling the client to come back
// after retryAfter: in retry_after_ms (what older clients read) and in the
// Retry-After header (what the spec now prefers, in whole seconds).
func Exceeded(retryAfter time.Duration) mautrix.RespError {
	ms := retryAfter.Milliseconds()
	if retryAfter%time.Millisecond != 0 || ms < 1 {
		ms++
	}
	secs := (ms + 999) / 1000
	return mautrix.MLimitExceeded.
		WithMessage("Too many requests; retry in %d ms", ms).
		WithExtraField("retry_after_ms", ms).
		WithExtraHeader("Retry-After", strconv.FormatInt(secs, 10))
}

func (l *Limiter) refill(b *bucket, now time.Time) {
	elapsed := now.Sub(b.last).Seconds()
	if elapsed > 0 {
		b.tokens = math.Min(l.burst, b.tokens+elapsed*l.rate)
		b.last = now
	}
}

// sweep drops buckets that have refilled completely, every sweepEvery, or
// at once when there are too many. Called with l.mu held.
func (l *Limiter) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < sweepEvery && len(l.buckets) < maxBuckets {
		return
	}
	l.lastSweep = now
	for key, b := range l.buckets {
		l.refill(b, now)
		if b.tokens >= l.burst {
			delete(l.buckets, key)
		}
	}
	// Still too many busy clients: forget an arbitrary half. Each forgotten
	// client starts over with a full bucket, which errs on the side of
	// letting people in rather than growing without bound.
	if len(l.buckets) >= maxBuckets {
		n := len(l.buckets) / 2
		for key := range l.buckets {
			if n == 0 {
				break
			}
			delete(l.buckets, key)
			n--
		}
	}
}

// size is the number of buckets held, for tests.
func (l *Limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
