package appservices_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"switchboard/internal/database/dbtest"
)

// BenchmarkPush measures how fast events reach an appservice that answers
// at once: throughput (events/s, a client sending as fast as the server
// accepts) and the latency a push adds, from the moment a client's send
// starts to the appservice holding the event (p50, p99).
func BenchmarkPush(b *testing.B) {
	db := dbtest.SQLite(b)
	e := newEnv(b, db)
	ctx := context.Background()
	if err := e.as.register(ctx, "fake_alice"); err != nil {
		b.Fatal(err)
	}
	alice := e.user("alice")
	room, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", Invite: []id.UserID{"@fake_alice:test.local"}})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := e.as.client("@fake_alice:test.local").JoinRoom(ctx, room.RoomID.String(), nil); err != nil {
		b.Fatal(err)
	}

	// Record when each message body arrives.
	var mu sync.Mutex
	arrived := map[string]time.Time{}
	observe := func(body []byte) {
		now := time.Now()
		var txn struct {
			Events []struct {
				Content struct {
					Body string `json:"body"`
				} `json:"content"`
			} `json:"events"`
		}
		_ = json.Unmarshal(body, &txn)
		mu.Lock()
		for _, ev := range txn.Events {
			if ev.Content.Body != "" {
				arrived[ev.Content.Body] = now
			}
		}
		mu.Unlock()
	}
	e.as.observe.Store(&observe)

	sentAt := make([]time.Time, b.N)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		sentAt[i] = time.Now()
		if _, err := alice.SendText(ctx, room.RoomID, fmt.Sprintf("bench %d", i)); err != nil {
			b.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := 0
		for i := 0; i < b.N; i++ {
			if _, ok := arrived[fmt.Sprintf("bench %d", i)]; ok {
				n++
			}
		}
		mu.Unlock()
		if n == b.N {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d events reached the appservice", n, b.N)
		}
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	latencies := make([]float64, b.N)
	mu.Lock()
	for i := 0; i < b.N; i++ {
		latencies[i] = float64(arrived[fmt.Sprintf("bench %d", i)].Sub(sentAt[i]).Microseconds()) / 1000
	}
	mu.Unlock()
	sort.Float64s(latencies)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(latencies[len(latencies)/2], "p50-ms")
	b.ReportMetric(latencies[len(latencies)*99/100], "p99-ms")
}
