package accounts

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
	"maunium.net/go/mautrix/id"
)

const (
	// MinPasswordLength is the fewest characters a password may have, the
	// minimum the spec recommends.
	MinPasswordLength = 8
	// MaxPasswordBytes is the most bytes a password may have: bcrypt reads
	// no further, so a longer password would be only partly checked.
	MaxPasswordBytes = 72
	// maxUserIDLength is the spec's limit on a whole user id.
	maxUserIDLength = 255
)

// bcryptCost is the work factor of new password hashes: about a quarter of
// a second per hash on current hardware. Tests lower it.
var bcryptCost = 12

const (
	insertUserQuery = `
		INSERT INTO hs_users (user_id, password_hash, admin, deactivated, appservice_id, created_ts)
		VALUES ($1, $2, $3, false, $4, $5)
		ON CONFLICT (user_id) DO NOTHING`
	insertProfileQuery = `INSERT INTO hs_profiles (user_id, displayname, avatar_url) VALUES ($1, $2, '')`
	getUserQuery       = `SELECT password_hash, deactivated FROM hs_users WHERE user_id = $1`
	userExistsQuery    = `SELECT 1 FROM hs_users WHERE user_id = $1`
	setPasswordQuery   = `UPDATE hs_users SET password_hash = $2 WHERE user_id = $1`
)

// newUser is an account about to be created.
type newUser struct {
	localpart    string
	password     string // "" for no password login
	admin        bool
	appserviceID string // "" unless an appservice registers it
}

// CreateUser creates the account @localpart:server_name with the given
// password ("" creates an account that cannot log in with a password) and
// returns its user id. It fails with ErrInvalidUsername, ErrWeakPassword or
// ErrUserInUse (wrapped). The localpart is taken as it is: unlike
// registration, it is not lower-cased.
func (a *Accounts) CreateUser(ctx context.Context, localpart, password string, admin bool) (id.UserID, error) {
	if err := a.validateLocalpart(localpart); err != nil {
		return "", err
	}
	if password != "" {
		if err := validatePassword(password); err != nil {
			return "", err
		}
	}
	return a.createUser(ctx, newUser{localpart: localpart, password: password, admin: admin})
}

// createUser inserts a validated user and its profile, whose display name
// starts as the localpart.
func (a *Accounts) createUser(ctx context.Context, u newUser) (id.UserID, error) {
	userID := id.NewUserID(u.localpart, a.serverName)
	var hash sql.NullString
	if u.password != "" {
		h, err := hashPassword(u.password)
		if err != nil {
			return "", err
		}
		hash = sql.NullString{String: h, Valid: true}
	}
	appservice := sql.NullString{String: u.appserviceID, Valid: u.appserviceID != ""}
	err := a.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		res, err := a.db.Exec(ctx, insertUserQuery, userID, hash, u.admin, appservice, nowMS())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("create user %s: %w", userID, ErrUserInUse)
		}
		_, err = a.db.Exec(ctx, insertProfileQuery, userID, u.localpart)
		return err
	})
	if errors.Is(err, ErrUserInUse) {
		return "", err
	} else if err != nil {
		return "", fmt.Errorf("create user %s: %w", userID, err)
	}
	a.log.InfoContext(ctx, "account created", slog.String("user_id", userID.String()),
		slog.Bool("admin", u.admin), slog.String("appservice_id", u.appserviceID))
	return userID, nil
}

// UserExists reports whether userID is an account on this server
// (deactivated accounts included: their ids stay taken).
func (a *Accounts) UserExists(ctx context.Context, userID id.UserID) (bool, error) {
	if !a.isLocal(userID) {
		return false, nil
	}
	var one int
	err := a.db.QueryRow(ctx, userExistsQuery, userID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("look up user %s: %w", userID, err)
	}
	return true, nil
}

// userStatus reports whether userID exists and whether it is deactivated.
func (a *Accounts) userStatus(ctx context.Context, userID id.UserID) (exists, deactivated bool, err error) {
	var hash sql.NullString
	err = a.db.QueryRow(ctx, getUserQuery, userID).Scan(&hash, &deactivated)
	if errors.Is(err, sql.ErrNoRows) {
		return false, false, nil
	} else if err != nil {
		return false, false, fmt.Errorf("look up user %s: %w", userID, err)
	}
	return true, deactivated, nil
}

// validateLocalpart checks localpart against the user id grammar: a-z,
// 0-9 and . _ = - / +, the whole id at most 255 bytes.
func (a *Accounts) validateLocalpart(localpart string) error {
	if localpart == "" {
		return fmt.Errorf("%w: the username is empty", ErrInvalidUsername)
	}
	for i := 0; i < len(localpart); i++ {
		if !isLocalpartChar(localpart[i]) {
			return fmt.Errorf("%w: a username may contain only a-z, 0-9 and . _ = - / +", ErrInvalidUsername)
		}
	}
	if n := len(id.NewUserID(localpart, a.serverName)); n > maxUserIDLength {
		return fmt.Errorf("%w: the user id would be %d bytes long, more than %d", ErrInvalidUsername, n, maxUserIDLength)
	}
	return nil
}

func isLocalpartChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		return true
	case c == '.', c == '_', c == '=', c == '-', c == '/', c == '+':
		return true
	}
	return false
}

// isLocal reports whether userID is a well-formed id on this server.
func (a *Accounts) isLocal(userID id.UserID) bool {
	if len(userID) > maxUserIDLength || !utf8.ValidString(string(userID)) {
		return false
	}
	localpart, server, err := userID.Parse()
	return err == nil && server == a.serverName && localpart != "" && !hasControl(localpart)
}

// loginUserID maps what a client typed to log in (a localpart or a whole
// user id) to a local user id. Local ids are lower-case, so the input is
// lower-cased: "Alice" logs in as @alice. ok is false for anything that
// cannot name a local user.
func (a *Accounts) loginUserID(input string) (userID id.UserID, ok bool) {
	input = strings.TrimSpace(input)
	if strings.HasPrefix(input, "@") {
		localpart, server, err := id.UserID(input).Parse()
		if err != nil || server != a.serverName {
			return "", false
		}
		input = localpart
	}
	input = strings.ToLower(input)
	if a.validateLocalpart(input) != nil {
		return "", false
	}
	return id.NewUserID(input, a.serverName), true
}

// validatePassword checks a new password's length.
func validatePassword(password string) error {
	if n := utf8.RuneCountInString(password); n < MinPasswordLength {
		return fmt.Errorf("%w: it has %d characters; use at least %d", ErrWeakPassword, n, MinPasswordLength)
	}
	if len(password) > MaxPasswordBytes {
		return fmt.Errorf("%w: it is %d bytes long; use at most %d", ErrWeakPassword, len(password), MaxPasswordBytes)
	}
	return nil
}

func hashPassword(password string) (string, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcryptCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(hash), nil
}

var (
	dummyHashOnce sync.Once
	dummyHash     []byte
)

// checkPassword reports whether password matches hash. An empty hash (no
// such user, or no password) is compared against a throwaway hash of the
// same cost, so the answer takes as long either way and timing does not
// reveal which accounts exist.
func checkPassword(hash, password string) bool {
	if hash == "" || len(password) > MaxPasswordBytes {
		dummyHashOnce.Do(func() {
			secret := make([]byte, 32)
			_, _ = rand.Read(secret)
			dummyHash, _ = bcrypt.GenerateFromPassword(secret, bcryptCost)
		})
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password[:min(len(password), MaxPasswordBytes)]))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// verifyPassword checks userID's password. It returns whether the password
// matched and whether the account is deactivated; an unknown user is a
// mismatch.
func (a *Accounts) verifyPassword(ctx context.Context, userID id.UserID, password string) (match, deactivated bool, err error) {
	var hash sql.NullString
	err = a.db.QueryRow(ctx, getUserQuery, userID).Scan(&hash, &deactivated)
	if errors.Is(err, sql.ErrNoRows) {
		checkPassword("", password)
		return false, false, nil
	} else if err != nil {
		return false, false, fmt.Errorf("look up user %s: %w", userID, err)
	}
	return checkPassword(hash.String, password), deactivated, nil
}

// hasControl reports whether s holds a control character (NUL included,
// which PostgreSQL cannot store in TEXT).
func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

// validText reports whether s can be stored and shown as a short text
// field: valid UTF-8, no control characters, at most maxBytes bytes.
func validText(s string, maxBytes int) bool {
	return len(s) <= maxBytes && utf8.ValidString(s) && !hasControl(s)
}

// EnsureAppserviceUser creates userID, owned by an appservice, if it does
// not exist yet: the appservice's bot (sender_localpart) is usable from the
// first start, as on other homeservers. Its localpart may use the historical
// grammar (bots generated by some bridges are mixed case).
func (a *Accounts) EnsureAppserviceUser(ctx context.Context, userID id.UserID, appserviceID string) error {
	exists, err := a.UserExists(ctx, userID)
	if err != nil || exists {
		return err
	}
	localpart, server, err := userID.Parse()
	if err != nil || server != a.serverName || localpart == "" {
		return fmt.Errorf("appservice %s: %s is not a user of this server", appserviceID, userID)
	}
	_, err = a.createUser(ctx, newUser{localpart: localpart, appserviceID: appserviceID})
	if errors.Is(err, ErrUserInUse) {
		return nil
	}
	return err
}
