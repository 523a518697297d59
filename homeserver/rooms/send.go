package rooms

import (
	"context"
	"encoding/json"
	"fmt"

	gmsl "github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

// Send builds, checks and stores an event in roomID as p.Sender and returns
// its id. With a transaction id it is idempotent: a repeat returns the first
// event's id.
func (e *Engine) Send(ctx context.Context, roomID id.RoomID, p proto) (string, error) {
	r, err := e.room(ctx, roomID)
	if err != nil {
		return "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return e.sendLocked(ctx, r, p)
}

func (e *Engine) sendLocked(ctx context.Context, r *room, p proto) (string, error) {
	if p.TxnID != "" {
		existing, err := e.store.txnEvent(ctx, p.Sender, p.TxnDevice, p.TxnID)
		if err != nil {
			return "", err
		}
		if existing != "" {
			return existing, nil
		}
	}
	pdu, err := e.buildLocked(r, p, nowFunc())
	if err != nil {
		return "", err
	}
	var extra func(ctx context.Context) error
	var redacted gmsl.PDU
	if pdu.Type() == spec.MRoomRedaction {
		extra, redacted, err = e.prepareRedaction(ctx, r, pdu)
		if err != nil {
			return "", err
		}
	}
	if _, err := e.commitLocked(ctx, r, pdu, p, extra); err != nil {
		return "", err
	}
	if redacted != nil && redacted.StateKey() != nil {
		t := stateTuple{EventType: redacted.Type(), StateKey: *redacted.StateKey()}
		if cur, ok := r.state[t]; ok && cur.EventID() == redacted.EventID() {
			r.state[t] = redacted
		}
	}
	return pdu.EventID(), nil
}

// redactsOf returns the event a redaction targets: in the content from room
// version 11 on, at the top level before.
func redactsOf(pdu gmsl.PDU) string {
	var content struct {
		Redacts string `json:"redacts"`
	}
	if json.Unmarshal(pdu.Content(), &content) == nil && content.Redacts != "" {
		return content.Redacts
	}
	return pdu.Redacts()
}

// prepareRedaction checks that the sender may redact the target (its own
// event, or with the power level "redact") and returns the write that
// replaces the target's stored JSON by its redacted form, and that form.
func (e *Engine) prepareRedaction(ctx context.Context, r *room, pdu gmsl.PDU) (func(ctx context.Context) error, gmsl.PDU, error) {
	targetID := redactsOf(pdu)
	target, err := e.store.event(ctx, targetID)
	if err != nil {
		return nil, nil, err
	}
	if target == nil || target.roomID != r.id {
		return nil, nil, mautrix.MNotFound.WithMessage("Unknown event %s in this room", targetID)
	}
	targetPDU, err := r.version.NewEventFromTrustedJSON(target.json, target.redactedBy != "")
	if err != nil {
		return nil, nil, err
	}
	if targetPDU.SenderID() != pdu.SenderID() && !r.hasPower(pdu.SenderID(), func(pl *gmsl.PowerLevelContent) int64 { return pl.Redact }) {
		return nil, nil, mautrix.MForbidden.WithMessage("You may only redact your own events without the power to redact")
	}
	if target.redactedBy != "" {
		return nil, nil, nil // already redacted: the redaction is stored, nothing changes
	}
	redactedJSON, err := r.version.RedactEventJSON(target.json)
	if err != nil {
		return nil, nil, fmt.Errorf("redact %s: %w", targetID, err)
	}
	redactedPDU, err := r.version.NewEventFromTrustedJSON(redactedJSON, true)
	if err != nil {
		return nil, nil, fmt.Errorf("redact %s: %w", targetID, err)
	}
	write := func(ctx context.Context) error {
		_, err := e.opts.DB.Exec(ctx, redactEventSQL, targetID, string(redactedJSON), pdu.EventID())
		return err
	}
	return write, redactedPDU, nil
}

// hasPower reports whether sender's power level reaches the level level
// picks from the room's power levels. Creators of rooms with privileged
// creators (version 12) outrank every level.
func (r *room) hasPower(sender spec.SenderID, level func(*gmsl.PowerLevelContent) int64) bool {
	if r.isCreator(sender) {
		return true
	}
	pl, err := r.powerLevels()
	if err != nil {
		return false
	}
	return pl.UserLevel(sender) >= level(pl)
}

func (r *room) powerLevels() (*gmsl.PowerLevelContent, error) {
	if ev, ok := r.state[stateTuple{EventType: spec.MRoomPowerLevels}]; ok {
		return ev.PowerLevels()
	}
	create, ok := r.state[stateTuple{EventType: spec.MRoomCreate}]
	if !ok {
		return nil, fmt.Errorf("room %s has no create event", r.id)
	}
	var pl gmsl.PowerLevelContent
	pl.Defaults()
	pl.Users = map[string]int64{string(create.SenderID()): 100}
	return &pl, nil
}

// isCreator reports whether sender is a creator of a room whose version
// gives creators unlimited power.
func (r *room) isCreator(sender spec.SenderID) bool {
	if !r.version.PrivilegedCreators() {
		return false
	}
	create, ok := r.state[stateTuple{EventType: spec.MRoomCreate}]
	if !ok {
		return false
	}
	if create.SenderID() == sender {
		return true
	}
	var content gmsl.CreateContent
	if json.Unmarshal(create.Content(), &content) != nil {
		return false
	}
	for _, c := range content.AdditionalCreators {
		if spec.SenderID(c) == sender {
			return true
		}
	}
	return false
}

// relation reads m.relates_to from content, for /relations.
func relation(content []byte) (eventID, relType string) {
	var c struct {
		RelatesTo struct {
			EventID string `json:"event_id"`
			RelType string `json:"rel_type"`
		} `json:"m.relates_to"`
	}
	if json.Unmarshal(content, &c) != nil || c.RelatesTo.RelType == "" {
		return "", ""
	}
	return c.RelatesTo.EventID, c.RelatesTo.RelType
}
