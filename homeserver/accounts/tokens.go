package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"switchboard/homeserver/mxhttp"
	"switchboard/homeserver/ratelimit"
)

const (
	// tokenPrefix marks Switchboard access tokens, so that one pasted into
	// a log or a chat is recognisable (and secret scanners can find it).
	tokenPrefix = "sbt_"
	// tokenBytes is the randomness in a token.
	tokenBytes = 32
	// maxCachedTokens bounds the authentication cache.
	maxCachedTokens = 50_000
	// lastSeenEvery is how often at most a device's last-seen address and
	// time are written to the database; in between they live in the cache.
	lastSeenEvery = 5 * time.Minute
)

const (
	lookupTokenQuery = `
		SELECT t.user_id, t.device_id
		FROM hs_access_tokens t JOIN hs_users u ON u.user_id = t.user_id
		WHERE t.token_hash = $1 AND NOT u.deactivated`
	insertTokenQuery = `
		INSERT INTO hs_access_tokens (token_hash, user_id, device_id, created_ts) VALUES ($1, $2, $3, $4)`
	deleteDeviceTokensQuery = `DELETE FROM hs_access_tokens WHERE user_id = $1 AND device_id = $2`
	updateLastSeenQuery     = `
		UPDATE hs_devices SET last_seen_ip = $3, last_seen_ts = $4 WHERE user_id = $1 AND device_id = $2`
)

// newAccessToken returns a fresh token and the hash it is stored under.
func newAccessToken() (token, hash string) {
	b := make([]byte, tokenBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	token = tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token)
}

// hashToken is the key a token is stored and looked up under. Comparing
// hashes (in an index, or a map) leaks nothing useful about the token
// through timing, unlike comparing the tokens themselves.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Authenticate returns who r acts as, from its access token. It fails with
// 401 M_MISSING_TOKEN when r carries no token and 401 M_UNKNOWN_TOKEN when
// the token is not (or no longer) valid. Valid tokens are cached in memory;
// logout, device deletion and password changes evict them.
func (a *Accounts) Authenticate(r *http.Request) (mxhttp.Identity, error) {
	token := mxhttp.AccessToken(r)
	if token == "" {
		return mxhttp.Identity{}, mautrix.MMissingToken.WithMessage("Missing access token")
	}
	if as := a.appservicesOrNil(); as != nil {
		if ident, found, err := as.Identify(r, token); found {
			return ident, err
		}
	}
	hash := hashToken(token)
	entry := a.tokens.get(hash)
	if entry == nil {
		gen := a.tokens.generation()
		ident, found, err := a.lookupToken(r.Context(), hash)
		if err != nil {
			return mxhttp.Identity{}, err
		}
		if !found {
			return mxhttp.Identity{}, mautrix.MUnknownToken.WithMessage("Unknown access token")
		}
		entry = &cachedToken{ident: ident}
		// Login wrote the device's last-seen moments ago, and after a
		// restart a few minutes' staleness is allowed: the first write can
		// wait its turn.
		entry.persisted.Store(nowMS())
		a.tokens.put(gen, hash, entry)
	}
	a.touch(r, entry)
	return entry.ident, nil
}

// RequireAuth wraps h so that it runs only for authenticated requests, with
// the identity in the request context (mxhttp.IdentityFrom); other requests
// get 401 M_MISSING_TOKEN or M_UNKNOWN_TOKEN.
func (a *Accounts) RequireAuth(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ident, err := a.Authenticate(r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		h(w, r.WithContext(mxhttp.WithIdentity(r.Context(), ident)))
	})
}

func (a *Accounts) lookupToken(ctx context.Context, hash string) (mxhttp.Identity, bool, error) {
	var ident mxhttp.Identity
	err := a.db.QueryRow(ctx, lookupTokenQuery, hash).Scan(&ident.UserID, &ident.DeviceID)
	if errors.Is(err, sql.ErrNoRows) {
		return mxhttp.Identity{}, false, nil
	} else if err != nil {
		return mxhttp.Identity{}, false, fmt.Errorf("look up access token: %w", err)
	}
	return ident, true, nil
}

// clientIP is r's client address as text, "" when unknown.
func clientIP(r *http.Request) string {
	if ip := ratelimit.ClientIP(r); ip.IsValid() {
		return ip.String()
	}
	return ""
}

// touch records that entry's device was just used from r's address, and
// writes that to the database every lastSeenEvery.
func (a *Accounts) touch(r *http.Request, entry *cachedToken) {
	now := nowMS()
	entry.lastSeen.Store(now)
	if ip := clientIP(r); ip != "" {
		if old := entry.lastIP.Load(); old == nil || *old != ip {
			entry.lastIP.Store(&ip)
		}
	}
	persisted := entry.persisted.Load()
	if now-persisted < lastSeenEvery.Milliseconds() || !entry.persisted.CompareAndSwap(persisted, now) {
		return
	}
	var ipStr sql.NullString
	if p := entry.lastIP.Load(); p != nil {
		ipStr = sql.NullString{String: *p, Valid: true}
	}
	// A client hanging up must not leave the record half-written or log a
	// spurious warning.
	ctx := context.WithoutCancel(r.Context())
	_, err := a.db.Exec(ctx, updateLastSeenQuery, entry.ident.UserID, entry.ident.DeviceID, ipStr, now)
	if err != nil {
		a.log.WarnContext(r.Context(), "could not record device last seen",
			slog.String("user_id", entry.ident.UserID.String()), slog.Any("error", err))
	}
}

// session is what login and registration hand out.
type session struct {
	UserID      id.UserID   `json:"user_id"`
	AccessToken string      `json:"access_token"`
	DeviceID    id.DeviceID `json:"device_id"`
	HomeServer  string      `json:"home_server"`
}

// startSession logs userID in on deviceID (a new, generated device when
// empty) and returns a new access token. An existing device keeps its
// display name, and its earlier tokens stop working, as the spec asks. ip
// (may be empty) is where the login came from: the device's last-seen
// address.
func (a *Accounts) startSession(ctx context.Context, userID id.UserID, deviceID id.DeviceID, displayName, ip string) (session, error) {
	token, hash := newAccessToken()
	err := a.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		if deviceID == "" {
			var err error
			if deviceID, err = a.insertNewDevice(ctx, userID, displayName); err != nil {
				return err
			}
		} else {
			if _, err := a.insertDevice(ctx, userID, deviceID, displayName); err != nil {
				return err
			}
			if _, err := a.db.Exec(ctx, deleteDeviceTokensQuery, userID, deviceID); err != nil {
				return err
			}
		}
		now := nowMS()
		seenIP := sql.NullString{String: ip, Valid: ip != ""}
		if _, err := a.db.Exec(ctx, updateLastSeenQuery, userID, deviceID, seenIP, now); err != nil {
			return err
		}
		_, err := a.db.Exec(ctx, insertTokenQuery, hash, userID, deviceID, now)
		return err
	})
	if err != nil {
		return session{}, fmt.Errorf("log in %s: %w", userID, err)
	}
	a.tokens.evictDevice(userID, deviceID)
	return session{UserID: userID, AccessToken: token, DeviceID: deviceID, HomeServer: a.serverName}, nil
}

// tokenCache maps token hashes to identities. An eviction bumps the
// generation, and an entry read from the database before an eviction is not
// cached after it, so a token that logout removed cannot come back to life
// through a lookup that raced with the logout.
type tokenCache struct {
	mu       sync.RWMutex
	gen      uint64
	byHash   map[string]*cachedToken
	byDevice map[deviceKey]map[string]struct{}
}

type deviceKey struct {
	user   id.UserID
	device id.DeviceID
}

type cachedToken struct {
	ident     mxhttp.Identity
	lastSeen  atomic.Int64 // unix ms of the last request
	lastIP    atomic.Pointer[string]
	persisted atomic.Int64 // unix ms last-seen was last written
}

func newTokenCache() *tokenCache {
	return &tokenCache{
		byHash:   make(map[string]*cachedToken),
		byDevice: make(map[deviceKey]map[string]struct{}),
	}
}

func (c *tokenCache) get(hash string) *cachedToken {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.byHash[hash]
}

func (c *tokenCache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// put caches entry unless something was evicted since gen was read.
func (c *tokenCache) put(gen uint64, hash string, entry *cachedToken) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.byHash) >= maxCachedTokens {
		// Forget everything: the next request of each client reads its
		// token again. Simple, bounded, and rare at this size.
		c.byHash = make(map[string]*cachedToken)
		c.byDevice = make(map[deviceKey]map[string]struct{})
	}
	c.byHash[hash] = entry
	key := deviceKey{entry.ident.UserID, entry.ident.DeviceID}
	if c.byDevice[key] == nil {
		c.byDevice[key] = make(map[string]struct{})
	}
	c.byDevice[key][hash] = struct{}{}
}

// evictDevice forgets every cached token of one device.
func (c *tokenCache) evictDevice(user id.UserID, device id.DeviceID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.evictKey(deviceKey{user, device})
}

// evictUser forgets every cached token of user, except those of keep
// (when not empty).
func (c *tokenCache) evictUser(user id.UserID, keep id.DeviceID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for key := range c.byDevice {
		if key.user == user && (keep == "" || key.device != keep) {
			c.evictKey(key)
		}
	}
}

func (c *tokenCache) evictKey(key deviceKey) {
	for hash := range c.byDevice[key] {
		delete(c.byHash, hash)
	}
	delete(c.byDevice, key)
}

// lastSeen returns the most recent use of a device that the cache knows
// of: unix ms and address, or 0 and "".
func (c *tokenCache) lastSeen(user id.UserID, device id.DeviceID) (ts int64, ip string) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for hash := range c.byDevice[deviceKey{user, device}] {
		e := c.byHash[hash]
		if seen := e.lastSeen.Load(); seen > ts {
			ts = seen
			if p := e.lastIP.Load(); p != nil {
				ip = *p
			}
		}
	}
	return ts, ip
}
