package appservices

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"maunium.net/go/mautrix/id"

	"switchboard/registration"
)

// queryTimeout bounds a user or alias query: a client is waiting on it.
const queryTimeout = 10 * time.Second

// QueryUser implements accounts.Appservices: it asks the appservices whose
// user namespace holds userID whether it exists (they register it before
// answering 200).
func (s *Service) QueryUser(ctx context.Context, userID id.UserID) (bool, error) {
	for _, reg := range s.set.All() {
		if reg.NoPush() || !reg.IsInterestedInUser(string(userID)) {
			continue
		}
		ok, err := s.query(ctx, reg, "/_matrix/app/v1/users/"+url.PathEscape(string(userID)))
		if err != nil {
			s.log.Warn("appservice user query failed", "appservice", reg.ID, "user_id", userID, "error", err)
			continue
		}
		if ok {
			s.markKnown(userID)
			return true, nil
		}
	}
	return false, nil
}

// QueryAlias implements rooms.AliasAuthority: it asks the appservices whose
// alias namespace holds alias whether it exists (they create the room and
// the alias before answering 200).
func (s *Service) QueryAlias(ctx context.Context, alias id.RoomAlias) (bool, error) {
	for _, reg := range s.set.All() {
		if reg.NoPush() || !reg.IsInterestedInAlias(string(alias)) {
			continue
		}
		ok, err := s.query(ctx, reg, "/_matrix/app/v1/rooms/"+url.PathEscape(string(alias)))
		if err != nil {
			s.log.Warn("appservice alias query failed", "appservice", reg.ID, "alias", alias, "error", err)
			continue
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

func (s *Service) query(ctx context.Context, reg *registration.Registration, path string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, joinURL(reg.URL, path), nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Authorization", "Bearer "+reg.ServerToken)
	resp, err := s.client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return true, nil
	case resp.StatusCode == http.StatusNotFound:
		return false, nil
	default:
		return false, fmt.Errorf("answered %s", resp.Status)
	}
}

func joinURL(base, path string) string {
	for len(base) > 0 && base[len(base)-1] == '/' {
		base = base[:len(base)-1]
	}
	return base + path
}
