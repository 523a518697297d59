package ratelimit

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// clock is a settable time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newTestLimiter(perSecond float64, burst int) (*Limiter, *clock) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	l := New(perSecond, burst)
	l.now = c.now
	return l, c
}

func TestBurstThenRefill(t *testing.T) {
	l, c := newTestLimiter(0.5, 3)
	for i := range 3 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("request %d within the burst refused", i+1)
		}
	}
	ok, wait := l.Allow("a")
	if ok {
		t.Fatal("fourth request allowed past a burst of 3")
	}
	if wait != 2*time.Second {
		t.Errorf("retry after %v, want 2s at 0.5/s", wait)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Error("another key is limited by a's bucket")
	}
	c.advance(time.Second)
	if ok, wait := l.Allow("a"); ok || wait != time.Second {
		t.Errorf("after 1s: ok=%v wait=%v, want refused with 1s left", ok, wait)
	}
	c.advance(time.Second)
	if ok, _ := l.Allow("a"); !ok {
		t.Error("refused after the refill time")
	}
}

func TestNilLimiterAllowsEverything(t *testing.T) {
	var l *Limiter
	for range 100 {
		if ok, _ := l.Allow("x"); !ok {
			t.Fatal("nil limiter refused")
		}
	}
	if New(0, 5) != nil || New(1, 0) != nil {
		t.Error("a limiter with no rate or no burst should be nil (off)")
	}
	h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	if got := l.Wrap(h); got == nil {
		t.Error("nil Wrap returned nil")
	}
}

func TestSweepDropsIdleBuckets(t *testing.T) {
	l, c := newTestLimiter(1, 2)
	for i := range 50 {
		l.Allow(strconv.Itoa(i))
	}
	if l.size() != 50 {
		t.Fatalf("size %d", l.size())
	}
	c.advance(2 * sweepEvery)
	l.Allow("fresh")
	if l.size() != 1 {
		t.Errorf("after a sweep %d buckets remain, want only the fresh one", l.size())
	}
}

func TestWrapAnswers429(t *testing.T) {
	l, _ := newTestLimiter(0.1, 1)
	called := 0
	h := l.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called++ }))
	req := httptest.NewRequest("POST", "/_matrix/client/v3/login", nil)
	req.RemoteAddr = "192.0.2.7:5555"
	h.ServeHTTP(httptest.NewRecorder(), req)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if called != 1 {
		t.Errorf("handler called %d times, want 1", called)
	}
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("status %d", rec.Code)
	}
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body["errcode"] != "M_LIMIT_EXCEEDED" || body["retry_after_ms"] != float64(10000) {
		t.Errorf("body %v", body)
	}
	if got := rec.Header().Get("Retry-After"); got != "10" {
		t.Errorf("Retry-After %q, want 10", got)
	}
}

func TestExceededRoundsUp(t *testing.T) {
	for _, tc := range []struct {
		in     time.Duration
		ms     int64
		header string
	}{
		{0, 1, "1"},
		{1500 * time.Microsecond, 2, "1"},
		{2 * time.Second, 2000, "2"},
		{2001 * time.Millisecond, 2001, "3"},
	} {
		e := Exceeded(tc.in)
		if e.ExtraData["retry_after_ms"] != tc.ms || e.ExtraHeader["Retry-After"] != tc.header || e.StatusCode != 429 {
			t.Errorf("Exceeded(%v) = %v %v %d", tc.in, e.ExtraData, e.ExtraHeader, e.StatusCode)
		}
	}
}

func TestClientIP(t *testing.T) {
	tests := []struct {
		name, remote string
		xff          []string
		want, key    string
	}{
		{"direct v4", "203.0.113.5:4000", nil, "203.0.113.5", "203.0.113.5"},
		{"forwarded header ignored from a remote peer", "203.0.113.5:4000", []string{"10.0.0.1"}, "203.0.113.5", "203.0.113.5"},
		{"loopback proxy, last entry wins", "127.0.0.1:4000", []string{"6.6.6.6, 198.51.100.9"}, "198.51.100.9", "198.51.100.9"},
		{"loopback proxy, several headers", "127.0.0.1:4000", []string{"6.6.6.6", "198.51.100.10"}, "198.51.100.10", "198.51.100.10"},
		{"v6 loopback proxy", "[::1]:4000", []string{"2001:db8:1:2:3:4:5:6"}, "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"loopback proxy with garbage header", "127.0.0.1:4000", []string{"not an ip"}, "127.0.0.1", "127.0.0.1"},
		{"loopback without header", "127.0.0.1:4000", nil, "127.0.0.1", "127.0.0.1"},
		{"mapped v4", "[::ffff:192.0.2.1]:80", nil, "192.0.2.1", "192.0.2.1"},
		{"v6 keyed by /64", "[2001:db8:aa:bb:1::2]:80", nil, "2001:db8:aa:bb:1::2", "2001:db8:aa:bb::/64"},
		{"no port", "192.0.2.44", nil, "192.0.2.44", "192.0.2.44"},
		{"unreadable", "@", nil, "invalid IP", "unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := ClientIP(r).String(); got != tc.want {
				t.Errorf("ClientIP = %s, want %s", got, tc.want)
			}
			if got := ClientKey(r); got != tc.key {
				t.Errorf("ClientKey = %s, want %s", got, tc.key)
			}
		})
	}
}

func TestSpoofedForwardedForDoesNotEscapeTheLimit(t *testing.T) {
	l, _ := newTestLimiter(0.1, 2)
	for i := range 5 {
		r := httptest.NewRequest("POST", "/", nil)
		r.RemoteAddr = "203.0.113.5:4000"
		r.Header.Set("X-Forwarded-For", "10.0.0."+strconv.Itoa(i))
		ok, _ := l.AllowRequest(r)
		if want := i < 2; ok != want {
			t.Errorf("request %d: allowed=%v, want %v", i, ok, want)
		}
	}
}
