package accounts

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"switchboard/homeserver/mxhttp"
)

const (
	findFilterQuery   = `SELECT filter_id FROM hs_filters WHERE user_id = $1 AND filter = $2`
	insertFilterQuery = `INSERT INTO hs_filters (user_id, filter_id, filter) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`
	getFilterQuery    = `SELECT filter FROM hs_filters WHERE user_id = $1 AND filter_id = $2`

	filterIDLength   = 12
	maxFilterIDBytes = 64
)

// Filter returns the filter userID uploaded under filterID, as uploaded
// (compacted), or ErrUnknownFilter (wrapped).
func (a *Accounts) Filter(ctx context.Context, userID id.UserID, filterID string) (json.RawMessage, error) {
	if filterID == "" || !validText(filterID, maxFilterIDBytes) {
		return nil, fmt.Errorf("filter %q of %s: %w", filterID, userID, ErrUnknownFilter)
	}
	var filter string
	err := a.db.QueryRow(ctx, getFilterQuery, userID, filterID).Scan(&filter)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("filter %q of %s: %w", filterID, userID, ErrUnknownFilter)
	} else if err != nil {
		return nil, fmt.Errorf("filter %q of %s: %w", filterID, userID, err)
	}
	return json.RawMessage(filter), nil
}

// createFilter stores filter (a compacted JSON object) and returns its id.
// Clients upload the same filter on every start, so an identical filter the
// user already has is reused rather than stored again.
func (a *Accounts) createFilter(ctx context.Context, userID id.UserID, filter []byte) (string, error) {
	var filterID string
	err := a.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		err := a.db.QueryRow(ctx, findFilterQuery, userID, string(filter)).Scan(&filterID)
		if err == nil {
			return nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		for range 5 {
			filterID = newFilterID()
			res, err := a.db.Exec(ctx, insertFilterQuery, userID, filterID, string(filter))
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n > 0 {
				return err
			}
		}
		return errors.New("no free filter id after 5 attempts")
	})
	if err != nil {
		return "", fmt.Errorf("create filter for %s: %w", userID, err)
	}
	return filterID, nil
}

// newFilterID returns a random id of lower-case letters and digits (never
// starting with "{", which marks an inline filter).
func newFilterID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, filterIDLength)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func (a *Accounts) handleCreateFilter(w http.ResponseWriter, r *http.Request) {
	ident := identity(r)
	if id.UserID(r.PathValue("userId")) != ident.UserID {
		a.fail(w, r, mautrix.MForbidden.WithMessage("You can only create filters for yourself"))
		return
	}
	body, err := mxhttp.ReadBody(r, 0)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	// Decoding into the filter type checks the field types the sync API
	// will rely on; the filter is stored as uploaded.
	var parsed mautrix.Filter
	if err := mxhttp.DecodeJSON(body, &parsed); err != nil {
		a.fail(w, r, err)
		return
	}
	if parsed.EventFormat != "" && parsed.EventFormat != mautrix.EventFormatClient && parsed.EventFormat != mautrix.EventFormatFederation {
		a.fail(w, r, mautrix.MBadJSON.WithMessage("event_format: must be client or federation"))
		return
	}
	compact, err := compactObject(body)
	if err != nil {
		a.fail(w, r, mautrix.MNotJSON.WithMessage("The filter must be a JSON object"))
		return
	}
	filterID, err := a.createFilter(r.Context(), ident.UserID, compact)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	mxhttp.WriteJSON(w, http.StatusOK, map[string]string{"filter_id": filterID})
}

func (a *Accounts) handleGetFilter(w http.ResponseWriter, r *http.Request) {
	ident := identity(r)
	if id.UserID(r.PathValue("userId")) != ident.UserID {
		a.fail(w, r, mautrix.MForbidden.WithMessage("You can only read your own filters"))
		return
	}
	filter, err := a.Filter(r.Context(), ident.UserID, r.PathValue("filterId"))
	if errors.Is(err, ErrUnknownFilter) {
		a.fail(w, r, mautrix.MNotFound.WithMessage("No such filter"))
		return
	} else if err != nil {
		a.fail(w, r, err)
		return
	}
	writeRawJSON(w, filter)
}
