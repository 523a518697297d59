package accounts

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"switchboard/homeserver/mxhttp"
)

// Room tags (favourites, low priority, ...) are the m.tag room account data
// the spec defines; the /tags endpoints read and edit its "tags" object.

type tagContent struct {
	Tags map[string]json.RawMessage `json:"tags"`
}

func (a *Accounts) roomTags(ctx context.Context, userID id.UserID, roomID id.RoomID) (tagContent, error) {
	var raw string
	err := a.db.QueryRow(ctx, getAccountDataQuery, userID, string(roomID), "m.tag").Scan(&raw)
	tags := tagContent{Tags: map[string]json.RawMessage{}}
	if errors.Is(err, sql.ErrNoRows) {
		return tags, nil
	} else if err != nil {
		return tags, err
	}
	if json.Unmarshal([]byte(raw), &tags) != nil || tags.Tags == nil {
		tags.Tags = map[string]json.RawMessage{}
	}
	return tags, nil
}

// tagsPath checks that the requester edits their own tags.
func tagsPath(r *http.Request) (id.UserID, id.RoomID, error) {
	userID := id.UserID(r.PathValue("userId"))
	if userID != identity(r).UserID {
		return "", "", mautrix.MForbidden.WithMessage("You may only access your own tags")
	}
	return userID, id.RoomID(r.PathValue("roomId")), nil
}

func (a *Accounts) handleGetTags(w http.ResponseWriter, r *http.Request) {
	userID, roomID, err := tagsPath(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	tags, err := a.roomTags(r.Context(), userID, roomID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	mxhttp.WriteJSON(w, http.StatusOK, tags)
}

func (a *Accounts) handlePutTag(w http.ResponseWriter, r *http.Request) {
	a.editTag(w, r, true)
}

func (a *Accounts) handleDeleteTag(w http.ResponseWriter, r *http.Request) {
	a.editTag(w, r, false)
}

func (a *Accounts) editTag(w http.ResponseWriter, r *http.Request, put bool) {
	userID, roomID, err := tagsPath(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var body struct {
		Order *float64 `json:"order,omitempty"`
	}
	if put {
		if err := mxhttp.ReadJSON(r, &body, 0); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	tag := r.PathValue("tag")
	if tag == "" || len(tag) > 255 {
		a.fail(w, r, mautrix.MInvalidParam.WithMessage("Tag names are 1 to 255 bytes"))
		return
	}
	// One user's tag edits are serialised so two at once do not lose one.
	a.tagMu.Lock()
	defer a.tagMu.Unlock()
	tags, err := a.roomTags(r.Context(), userID, roomID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if put {
		value, _ := json.Marshal(body)
		tags.Tags[tag] = value
	} else {
		delete(tags.Tags, tag)
	}
	content, err := json.Marshal(tags)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if _, err := a.SetAccountData(r.Context(), userID, roomID, "m.tag", content); err != nil {
		a.fail(w, r, err)
		return
	}
	ok(w)
}
