// Command hsbench measures a Matrix homeserver through its client API, the
// same way for any server: Switchboard, Dendrite, Synapse. It registers its
// own users (the server must allow open registration with m.login.dummy and
// have rate limits off) and prints one JSON object of results.
//
//	hsbench -url http://127.0.0.1:8008 [-sends 500] [-wakeups 200] [-history 2000]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"sync"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

type results struct {
	Server                 string  `json:"server"`
	SequentialSendsPerSec  float64 `json:"sequential_sends_per_sec"`
	Concurrent8SendsPerSec float64 `json:"concurrent8_sends_per_sec"`
	SyncWakeupP50Ms        float64 `json:"sync_wakeup_p50_ms"`
	SyncWakeupP99Ms        float64 `json:"sync_wakeup_p99_ms"`
	Paginate2000Ms         float64 `json:"paginate_history_ms"`
	HistoryEvents          int     `json:"history_events"`
}

func main() {
	url := flag.String("url", "http://127.0.0.1:8008", "client API base URL")
	name := flag.String("name", "server", "label for the results")
	sends := flag.Int("sends", 500, "messages for the sequential test (the 8-client test sends the same number per client / 2)")
	wakeups := flag.Int("wakeups", 200, "send→sync round trips to time")
	history := flag.Int("history", 2000, "events to back-paginate")
	flag.Parse()
	ctx := context.Background()
	res := results{Server: *name, HistoryEvents: *history}
	run := fmt.Sprintf("%x", rand.Uint32())

	clients := make([]*mautrix.Client, 9)
	for i := range clients {
		cli, err := register(ctx, *url, fmt.Sprintf("bench%s_%d", run, i))
		check(err)
		clients[i] = cli
	}

	// Sequential sends: one client, one room.
	room := createRoom(ctx, clients[0])
	start := time.Now()
	for i := 0; i < *sends; i++ {
		_, err := clients[0].SendText(ctx, room, fmt.Sprintf("sequential %d", i))
		check(err)
	}
	res.SequentialSendsPerSec = float64(*sends) / time.Since(start).Seconds()

	// Eight clients, eight rooms, at once.
	rooms := make([]id.RoomID, 8)
	for i := range rooms {
		rooms[i] = createRoom(ctx, clients[i+1])
	}
	perClient := max(*sends/2, 1)
	var wg sync.WaitGroup
	start = time.Now()
	for i := range rooms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < perClient; j++ {
				_, err := clients[i+1].SendText(ctx, rooms[i], fmt.Sprintf("concurrent %d", j))
				check(err)
			}
		}()
	}
	wg.Wait()
	res.Concurrent8SendsPerSec = float64(perClient*len(rooms)) / time.Since(start).Seconds()

	// Wake-up: a reader long-polls /sync; time from the writer's send to the
	// reader holding the event.
	reader, writer := clients[1], clients[0]
	_, err := writer.InviteUser(ctx, room, &mautrix.ReqInviteUser{UserID: reader.UserID})
	check(err)
	_, err = reader.JoinRoom(ctx, room.String(), nil)
	check(err)
	initial, err := reader.SyncRequest(ctx, 0, "", `{"room":{"timeline":{"limit":1}}}`, false, "")
	check(err)
	since := initial.NextBatch
	latencies := make([]float64, 0, *wakeups)
	for i := 0; i < *wakeups; i++ {
		type syncResult struct {
			resp *mautrix.RespSync
			at   time.Time
			err  error
		}
		got := make(chan syncResult, 1)
		go func() {
			resp, err := reader.SyncRequest(ctx, 30000, since, "", false, "")
			got <- syncResult{resp, time.Now(), err}
		}()
		time.Sleep(2 * time.Millisecond) // let the long poll settle on the server
		sent := time.Now()
		resp, err := writer.SendText(ctx, room, fmt.Sprintf("wake %d", i))
		check(err)
		r := <-got
		check(r.err)
		// The poll may have returned for something else (presence, a
		// receipt): poll again until the event is there.
		for !hasEvent(r.resp, room, resp.EventID) {
			next, err := reader.SyncRequest(ctx, 30000, r.resp.NextBatch, "", false, "")
			check(err)
			r = syncResult{next, time.Now(), nil}
		}
		since = r.resp.NextBatch
		latencies = append(latencies, float64(r.at.Sub(sent).Microseconds())/1000)
	}
	sort.Float64s(latencies)
	res.SyncWakeupP50Ms = latencies[len(latencies)/2]
	res.SyncWakeupP99Ms = latencies[len(latencies)*99/100]

	// Back-pagination of a long history from a fresh device's view.
	historyRoom := createRoom(ctx, clients[2])
	for i := 0; i < *history; i++ {
		_, err := clients[2].SendMessageEvent(ctx, historyRoom, event.EventMessage, map[string]any{"msgtype": "m.text", "body": fmt.Sprintf("history %d", i)})
		check(err)
	}
	start = time.Now()
	from, seen := "", 0
	for {
		page, err := clients[2].Messages(ctx, historyRoom, from, "", mautrix.DirectionBackward, nil, 100)
		check(err)
		seen += len(page.Chunk)
		if page.End == "" || len(page.Chunk) == 0 {
			break
		}
		from = page.End
	}
	res.Paginate2000Ms = float64(time.Since(start).Microseconds()) / 1000
	if seen < *history {
		fmt.Fprintf(os.Stderr, "hsbench: paginated %d events, sent %d\n", seen, *history)
		os.Exit(1)
	}

	out, _ := json.Marshal(res)
	fmt.Println(string(out))
}

func hasEvent(resp *mautrix.RespSync, room id.RoomID, eventID id.EventID) bool {
	if jr, ok := resp.Rooms.Join[room]; ok && jr != nil {
		for _, ev := range jr.Timeline.Events {
			if ev.ID == eventID {
				return true
			}
		}
	}
	return false
}

func register(ctx context.Context, url, username string) (*mautrix.Client, error) {
	cli, err := mautrix.NewClient(url, "", "")
	if err != nil {
		return nil, err
	}
	resp, err := cli.RegisterDummy(ctx, &mautrix.ReqRegister[any]{Username: username, Password: "bench-password-" + username})
	if err != nil {
		return nil, fmt.Errorf("register %s: %w", username, err)
	}
	cli.SetCredentials(resp.UserID, resp.AccessToken)
	cli.DeviceID = resp.DeviceID
	return cli, nil
}

func createRoom(ctx context.Context, cli *mautrix.Client) id.RoomID {
	resp, err := cli.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat"})
	check(err)
	return resp.RoomID
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "hsbench:", err)
		os.Exit(1)
	}
}
