package rooms

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"switchboard/homeserver/mxhttp"
)

// ContextResponse is /context's answer.
type ContextResponse struct {
	Start        string        `json:"start"`
	End          string        `json:"end"`
	Event        ClientEvent   `json:"event"`
	EventsBefore []ClientEvent `json:"events_before"`
	EventsAfter  []ClientEvent `json:"events_after"`
	State        []ClientEvent `json:"state"`
}

// Context returns an event with up to limit events around it (half before,
// half after) and the room state at the last of them.
func (e *Engine) Context(ctx context.Context, requester mxhttp.Identity, roomID id.RoomID, eventID string, limit int, filter *EventFilter) (ContextResponse, error) {
	ev, err := e.Event(ctx, requester, roomID, eventID)
	if err != nil {
		return ContextResponse{}, err
	}
	stored, err := e.store.event(ctx, eventID)
	if err != nil || stored == nil {
		return ContextResponse{}, mautrix.MNotFound.WithMessage("Event not found")
	}
	limit = max(0, min(limit, 100))
	// Messages reads a limit of 0 as its default, so an empty side is not
	// asked for at all.
	page := func(from int64, dir string, n int) (MessagesResponse, error) {
		if n == 0 {
			return MessagesResponse{Chunk: []ClientEvent{}}, nil
		}
		return e.Messages(ctx, requester, roomID, MessagesRequest{From: FormatStreamToken(from), Dir: dir, Limit: n, Filter: filter})
	}
	before, err := page(stored.pos-1, "b", limit/2)
	if err != nil {
		return ContextResponse{}, err
	}
	after, err := page(stored.pos, "f", limit-limit/2)
	if err != nil {
		return ContextResponse{}, err
	}
	resp := ContextResponse{Event: ev, EventsBefore: before.Chunk, EventsAfter: after.Chunk}
	resp.Start = FormatStreamToken(stored.pos - 1)
	if before.End != "" && len(before.Chunk) > 0 {
		resp.Start = before.End
	}
	resp.End = FormatStreamToken(stored.pos)
	lastPos := stored.pos
	if len(after.Chunk) > 0 {
		resp.End = after.End
		if p, err := ParseStreamToken(after.End); err == nil {
			lastPos = p
		}
	}
	r, err := e.room(ctx, roomID)
	if err != nil {
		return ContextResponse{}, err
	}
	group, err := e.stateGroupAt(ctx, r, lastPos)
	if err != nil {
		return ContextResponse{}, err
	}
	if resp.State, err = e.stateDelta(ctx, requester, -1, group, nil, nil); err != nil {
		return ContextResponse{}, err
	}
	return resp, nil
}

func (e *Engine) handleContext(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 10
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 {
			e.fail(w, r, mautrix.MInvalidParam.WithMessage("limit must be a non-negative integer"))
			return
		}
		limit = n
	}
	var filter *EventFilter
	if f := q.Get("filter"); f != "" {
		filter = &EventFilter{}
		if err := mxhttp.DecodeJSON([]byte(f), filter); err != nil {
			e.fail(w, r, err)
			return
		}
	}
	resp, err := e.Context(r.Context(), identity(r), id.RoomID(r.PathValue("roomId")), r.PathValue("eventId"), limit, filter)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	mxhttp.WriteJSON(w, http.StatusOK, resp)
}

// RelationsResponse is /relations' answer.
type RelationsResponse struct {
	Chunk     []ClientEvent `json:"chunk"`
	NextBatch string        `json:"next_batch,omitempty"`
	PrevBatch string        `json:"prev_batch,omitempty"`
}

// Relations lists the events that relate to eventID (optionally of one
// relation type and event type), newest first unless dir is "f".
func (e *Engine) Relations(ctx context.Context, requester mxhttp.Identity, roomID id.RoomID, eventID, relType, eventType, from, dir string, limit int) (RelationsResponse, error) {
	if _, err := e.Event(ctx, requester, roomID, eventID); err != nil {
		return RelationsResponse{}, err
	}
	r, err := e.room(ctx, roomID)
	if err != nil {
		return RelationsResponse{}, err
	}
	current := r.currentMembership(requester.UserID)
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	upper := e.Latest()
	if from != "" {
		if upper, err = ParseStreamToken(from); err != nil {
			return RelationsResponse{}, err
		}
	}
	// Relations are few per event: read them all (bounded), then page.
	all, err := e.store.events(ctx, relationsSQL, eventID, e.Latest(), 0, maxScan)
	if err != nil {
		return RelationsResponse{}, err
	}
	resp := RelationsResponse{Chunk: []ClientEvent{}}
	var picked []*storedEvent
	for _, ev := range all {
		if ev.roomID != roomID {
			continue
		}
		var f pduFields
		if json.Unmarshal(ev.json, &f) != nil {
			continue
		}
		if _, evRel := relation(f.Content); (relType != "" && evRel != relType) || (eventType != "" && f.Type != eventType) {
			continue
		}
		if ok, err := e.vis.canSee(ctx, ev, requester.UserID, current); err != nil {
			return RelationsResponse{}, err
		} else if !ok {
			continue
		}
		picked = append(picked, ev)
	}
	// picked is newest first; forwards pagination wants oldest first.
	if dir == "f" {
		slices.Reverse(picked)
	}
	var lastPos int64
	for _, ev := range picked {
		if dir == "f" && from != "" && ev.pos <= upper {
			continue
		}
		if dir != "f" && ev.pos > upper {
			continue
		}
		if len(resp.Chunk) == limit {
			if dir == "f" {
				resp.NextBatch = FormatStreamToken(lastPos)
			} else {
				resp.NextBatch = FormatStreamToken(lastPos - 1)
			}
			break
		}
		ce, err := e.clientEvent(ctx, ev, requester)
		if err != nil {
			return RelationsResponse{}, err
		}
		resp.Chunk = append(resp.Chunk, ce)
		lastPos = ev.pos
	}
	return resp, nil
}

func (e *Engine) handleRelations(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	dir := q.Get("dir")
	if dir != "" && dir != "b" && dir != "f" {
		e.fail(w, r, mautrix.MInvalidParam.WithMessage("dir must be b or f"))
		return
	}
	resp, err := e.Relations(r.Context(), identity(r), id.RoomID(r.PathValue("roomId")), r.PathValue("eventId"),
		r.PathValue("relType"), r.PathValue("eventType"), q.Get("from"), dir, limit)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	mxhttp.WriteJSON(w, http.StatusOK, resp)
}
