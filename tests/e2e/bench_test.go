package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"switchboard/connectors"
	"switchboard/connectors/connectortest"
	"switchboard/internal/database/dbtest"
)

// The bridge benchmarks run the engine between the built-in homeserver
// (in process, SQLite) and the test network, and report throughput per
// direction and the engine's own added latency per message:
//
//   - network → Matrix: from the connector's Host.Queue call to the start of
//     the homeserver request that sends the message (persisting, ordering,
//     puppet and portal lookups, conversion);
//   - Matrix → network: from the homeserver's push reaching the bridge to
//     the start of the connector's SendMessage call (persisting the
//     transaction, routing, conversion, message-map lookups).
//
// What the homeserver and the test network themselves take is left out of
// the latency and included in the throughput.

// stamps records when each message passed two points.
type stamps struct {
	mu         sync.Mutex
	start, end map[string]time.Time
}

func newStamps() *stamps {
	return &stamps{start: map[string]time.Time{}, end: map[string]time.Time{}}
}

func (s *stamps) mark(m map[string]time.Time, key string) {
	now := time.Now()
	s.mu.Lock()
	if _, ok := m[key]; !ok {
		m[key] = now
	}
	s.mu.Unlock()
}

// latencies returns the sorted durations end-start for keys with both.
func (s *stamps) latencies() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []time.Duration
	for k, a := range s.start {
		if b, ok := s.end[k]; ok {
			out = append(out, b.Sub(a))
		}
	}
	slices.Sort(out)
	return out
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return ds[min(len(ds)-1, int(float64(len(ds))*p))]
}

// timedConnector wraps the test connector to stamp events entering the
// bridge (Host.Queue) and leaving it (the relay's SendMessage).
type timedConnector struct {
	*connectortest.Connector
	toMatrix, toNetwork *stamps
}

type timedHost struct {
	connectors.Host
	s *stamps
}

func (h timedHost) Queue(ctx context.Context, evt *connectors.RemoteEvent) error {
	if evt.Type == connectors.EventMessage {
		h.s.mark(h.s.start, string(evt.ID))
	}
	return h.Host.Queue(ctx, evt)
}

func (h timedHost) QueueBatch(ctx context.Context, evts []*connectors.RemoteEvent) error {
	for _, evt := range evts {
		if evt.Type == connectors.EventMessage {
			h.s.mark(h.s.start, string(evt.ID))
		}
	}
	return h.Host.QueueBatch(ctx, evts)
}

func (c *timedConnector) Start(ctx context.Context, host connectors.Host) error {
	return c.Connector.Start(ctx, timedHost{host, c.toMatrix})
}

func (c *timedConnector) Relay(ctx context.Context) (connectors.Client, error) {
	cl, err := c.Connector.Relay(ctx)
	return timedClient{cl, c.toNetwork}, err
}

type timedClient struct {
	connectors.Client
	s *stamps
}

func (c timedClient) SendMessage(ctx context.Context, chat connectors.PortalID, msg *connectors.Message) (connectors.MessageID, error) {
	eventID, _, _ := strings.Cut(msg.TxnID, "/")
	c.s.mark(c.s.end, eventID)
	return c.Client.SendMessage(ctx, chat, msg)
}

// sendWatcher stamps the start of each homeserver send by the origin id the
// bridge puts in the content.
type sendWatcher struct {
	next http.RoundTripper
	s    *stamps
}

func (w sendWatcher) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/send/m.room.message/") && r.Body != nil {
		body, err := io.ReadAll(r.Body)
		if err == nil {
			var c struct {
				Origin struct {
					ID string `json:"id"`
				} `json:"org.switchboard.origin"`
			}
			if json.Unmarshal(body, &c) == nil && c.Origin.ID != "" {
				w.s.mark(w.s.end, c.Origin.ID)
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
	}
	return w.next.RoundTrip(r)
}

// pushWatcher stamps each pushed event's arrival at the bridge.
func pushWatcher(next http.Handler, s *stamps) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/transactions/") {
			body, err := io.ReadAll(r.Body)
			if err == nil {
				var txn struct {
					Events []struct {
						ID id.EventID `json:"event_id"`
					} `json:"events"`
				}
				if json.Unmarshal(body, &txn) == nil {
					for _, e := range txn.Events {
						s.mark(s.start, string(e.ID))
					}
				}
				r.Body = io.NopCloser(bytes.NewReader(body))
			}
		}
		next.ServeHTTP(rw, r)
	})
}

// BenchmarkBridge measures both directions through one bridge, with
// messages spread over 1, 8 and 32 chats (one portal and one Matrix sender
// each). One chat's order is kept by sending its messages one after the
// other, so its rate is bounded by the homeserver's (or the network's)
// answer time; chats run side by side.
func BenchmarkBridge(b *testing.B) {
	b.Run("latency/network_to_matrix", func(b *testing.B) { benchLatency(b, true) })
	b.Run("latency/matrix_to_network", func(b *testing.B) { benchLatency(b, false) })
	for _, chats := range []int{1, 8, 32} {
		b.Run(fmt.Sprintf("network_to_matrix/chats=%d", chats), func(b *testing.B) { benchDirection(b, true, chats) })
		b.Run(fmt.Sprintf("matrix_to_network/chats=%d", chats), func(b *testing.B) { benchDirection(b, false, chats) })
	}
}

// benchWorld is a world whose bridge stamps messages on their way through.
func benchWorld(b *testing.B) (w *world, toM, toN *stamps) {
	db := dbtest.SQLite(b)
	toM, toN = newStamps(), newStamps()
	w = newWorld(b, db, worldOptions{relay: true,
		wrapConnector: func(c *connectortest.Connector) connectors.Connector {
			return &timedConnector{Connector: c, toMatrix: toM, toNetwork: toN}
		},
		httpClient:   &http.Client{Transport: sendWatcher{next: http.DefaultTransport, s: toM}},
		wrapReceiver: func(h http.Handler) http.Handler { return pushWatcher(h, toN) },
	}, "testnet")
	return w, toM, toN
}

// benchLatency sends one message at a time through an idle bridge: the
// engine's own added latency, with no queue in front of it.
func benchLatency(b *testing.B, toMatrix bool) {
	w, toM, toN := benchWorld(b)
	net := w.nets["testnet"]
	net.CreateChat("c0", "Chat", true)
	u := w.newUser("u0")
	room := u.join(w.alias("testnet", "c0"))
	s := toN
	if toMatrix {
		s = toM
	}
	n := max(b.N, 100)
	b.ResetTimer()
	for j := range n {
		var key string
		if toMatrix {
			key = string(net.Post("c0", "sender", fmt.Sprintf("m%d", j)))
		} else {
			resp, err := u.c.SendText(context.Background(), room, fmt.Sprintf("m%d", j))
			if err != nil {
				b.Fatal(err)
			}
			key = string(resp.EventID)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			s.mu.Lock()
			_, done := s.end[key]
			s.mu.Unlock()
			if done {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("message %d did not cross in 10s", j)
			}
			time.Sleep(50 * time.Microsecond)
		}
	}
	b.StopTimer()
	lat := s.latencies()
	b.ReportMetric(float64(percentile(lat, 0.5).Microseconds())/1000, "added_p50_ms")
	b.ReportMetric(float64(percentile(lat, 0.99).Microseconds())/1000, "added_p99_ms")
	b.ReportMetric(0, "ns/op")
}

func benchDirection(b *testing.B, toMatrix bool, chats int) {
	w, toM, toN := benchWorld(b)
	net := w.nets["testnet"]
	users := make([]*user, chats)
	rooms := make([]id.RoomID, chats)
	for i := range chats {
		chat := connectors.PortalID(fmt.Sprintf("c%d", i))
		net.CreateChat(chat, "Chat", true)
		users[i] = w.newUser(fmt.Sprintf("u%d", i))
		rooms[i] = users[i].join(w.alias("testnet", string(chat)))
	}
	n := max(b.N, 200)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for i := range chats {
		wg.Add(1)
		go func() {
			defer wg.Done()
			chat := connectors.PortalID(fmt.Sprintf("c%d", i))
			for j := i; j < n; j += chats {
				if toMatrix {
					net.Post(chat, "sender", fmt.Sprintf("m%d", j))
				} else if _, err := users[i].c.SendText(context.Background(), rooms[i], fmt.Sprintf("m%d", j)); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	s := toN
	if toMatrix {
		s = toM
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		s.mu.Lock()
		done := len(s.end)
		s.mu.Unlock()
		if done >= n {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d messages crossed in 2 minutes", done, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	lat := s.latencies()
	b.ReportMetric(float64(n)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(percentile(lat, 0.5).Microseconds())/1000, "added_p50_ms")
	b.ReportMetric(float64(percentile(lat, 0.99).Microseconds())/1000, "added_p99_ms")
	b.ReportMetric(0, "ns/op")
}
