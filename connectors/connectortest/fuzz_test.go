package connectortest

import (
	"encoding/json"
	"testing"

	"switchboard/connectors"
)

// FuzzRemoteEvent feeds the connector's event decoding arbitrary stream
// answers: it must never panic, and whatever it accepts must keep the
// contract and survive the bridge's JSON persistence.
func FuzzRemoteEvent(f *testing.F) {
	// Seeds: a real stream's events.
	n := NewNetwork()
	n.CreateChat("general", "General", true)
	m := n.PostMessage("general", "alice", &connectors.Message{Body: "hi", HTML: "<b>hi</b>", Mentions: []connectors.Mention{{Remote: "alice"}},
		Attachment: &connectors.Attachment{Name: "a.txt", Data: []byte("x")}})
	n.Edit("general", m, "hello")
	n.React("general", m, "bob", "👍")
	n.Unreact("general", m, "bob", "👍")
	n.SetTyping("general", "bob", true)
	n.MarkRead("general", "bob", m)
	n.Kick("general", "bob", "alice", "spam")
	n.SetTopic("general", "", "topic")
	n.RenameChat("general", "Lobby")
	n.Rename("alice", "Alicia")
	n.Delete("general", m)
	n.AddUser("carol", "pw")
	n.mu.Lock()
	for _, ev := range n.events {
		data, _ := json.Marshal(wireEvents{Events: []wireEvent{ev}})
		f.Add(data)
	}
	n.mu.Unlock()
	f.Add([]byte(`{"events":[{"seq":1,"type":"message","chat":"c","user":"u"}]}`))
	f.Add([]byte(`{"events":[{"seq":1,"type":"profile","user":"u"}]}`))
	f.Add([]byte(`{"events":[{"seq":-1,"type":"nope","time":"2024-01-01T00:00:00Z"}]}`))

	f.Fuzz(func(t *testing.T, data []byte) {
		var res wireEvents
		if json.Unmarshal(data, &res) != nil {
			return
		}
		for i := range res.Events {
			ev := &res.Events[i]
			re, err := toRemoteEvent(ev)
			if err != nil {
				continue
			}
			if err := checkEvent(re); err != nil {
				t.Fatalf("accepted %+v as %+v, which breaks the contract: %v", ev, re, err)
			}
			out, err := json.Marshal(re)
			if err != nil {
				t.Fatalf("cannot persist %+v: %v", re, err)
			}
			var back connectors.RemoteEvent
			if err := json.Unmarshal(out, &back); err != nil || back.Type != re.Type || back.ID != re.ID || back.Chat != re.Chat {
				t.Fatalf("persisted %s came back as %+v (%v)", out, back, err)
			}
			_ = isEcho(ev, "testnet")
		}
	})
}

// FuzzParseChatRef: an accepted reference is an id the client can put in a
// path.
func FuzzParseChatRef(f *testing.F) {
	for _, s := range []string{"general", "dev=ops+1", "../x", "a/b", "", "Ünï"} {
		f.Add(s)
	}
	c := New("testnet", "http://127.0.0.1:1")
	f.Fuzz(func(t *testing.T, s string) {
		chat, err := c.ParseChatRef([]string{s})
		if err != nil {
			return
		}
		if _, err := chatPath(chat); err != nil {
			t.Fatalf("ParseChatRef accepted %q, chatPath refuses it: %v", s, err)
		}
		if connectors.EscapeLocalpart(string(chat)) == "" {
			t.Fatalf("%q escapes to nothing", s)
		}
	})
}
