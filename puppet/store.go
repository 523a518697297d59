package puppet

import (
	"context"
	"fmt"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"

	"switchboard/internal/database"
)

const (
	puppetColumns = `network, remote_id, user_id, display_name, avatar_url, avatar_hash, registered, updated_ts`

	getPuppetQuery      = `SELECT ` + puppetColumns + ` FROM bridge_puppets WHERE network = $1 AND remote_id = $2`
	puppetByUserIDQuery = `SELECT ` + puppetColumns + ` FROM bridge_puppets WHERE user_id = $1`
	putPuppetQuery      = `
		INSERT INTO bridge_puppets (` + puppetColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (network, remote_id) DO UPDATE SET
			user_id = excluded.user_id, display_name = excluded.display_name,
			avatar_url = excluded.avatar_url, avatar_hash = excluded.avatar_hash,
			registered = excluded.registered, updated_ts = excluded.updated_ts`

	loginColumns = `network, user_id, login_id, remote_id, name, secret, state, state_message, created_ts`

	putLoginQuery = `
		INSERT INTO bridge_logins (` + loginColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (network, user_id, login_id) DO UPDATE SET
			remote_id = excluded.remote_id, name = excluded.name, secret = excluded.secret,
			state = excluded.state, state_message = excluded.state_message
		RETURNING created_ts`
	loginsQuery = `
		SELECT ` + loginColumns + ` FROM bridge_logins WHERE network = $1
		ORDER BY created_ts, user_id, login_id`
	userLoginsQuery = `
		SELECT ` + loginColumns + ` FROM bridge_logins WHERE network = $1 AND user_id = $2
		ORDER BY created_ts, login_id`
	deleteLoginQuery   = `DELETE FROM bridge_logins WHERE network = $1 AND user_id = $2 AND login_id = $3`
	setLoginStateQuery = `
		UPDATE bridge_logins SET state = $4, state_message = $5
		WHERE network = $1 AND user_id = $2 AND login_id = $3`

	userColumns = `network, user_id, management_room`

	getUserQuery = `SELECT ` + userColumns + ` FROM bridge_users WHERE network = $1 AND user_id = $2`
	putUserQuery = `
		INSERT INTO bridge_users (` + userColumns + `) VALUES ($1, $2, $3)
		ON CONFLICT (network, user_id) DO UPDATE SET management_room = excluded.management_room`
	userByManagementRoomQuery = `
		SELECT ` + userColumns + ` FROM bridge_users WHERE network = $1 AND management_room = $2
		ORDER BY user_id LIMIT 1`
)

// Puppet is a remote user's ghost Matrix user.
type Puppet struct {
	Network     string    // the connector's network name, e.g. "irc"
	RemoteID    string    // the connector's user id
	UserID      id.UserID // the ghost, e.g. @irc_libera_alice:example.org; one puppet per ghost
	DisplayName string
	AvatarURL   id.ContentURIString
	AvatarHash  string    // of the avatar image last uploaded, to skip re-uploads
	Registered  bool      // /register done on the homeserver
	UpdatedAt   time.Time // set to now by Put
}

// Login is a Matrix user's own identity on a network. Secret is connector
// data (tokens, passwords), stored as given; Login's String, GoString and
// LogValue leave it out, so fmt and log/slog never show it.
type Login struct {
	Network      string
	UserID       id.UserID // the Matrix user
	LoginID      string    // the connector's id for this login, unique per user and network
	RemoteID     string    // the user's id on the network
	Name         string    // a name for the user to tell their logins apart
	Secret       []byte
	State        string    // last reported state: CONNECTED, BAD_CREDENTIALS, ...
	StateMessage string    // the human-readable detail of State
	CreatedAt    time.Time // set by the first PutLogin (to now when zero), kept after
}

// User is what the bridge keeps about a Matrix user on one network.
type User struct {
	Network        string
	UserID         id.UserID
	ManagementRoom id.RoomID // their direct chat with the network's bot; "" when none
}

// Store keeps puppets, logins and bridge users. It is safe for concurrent
// use.
type Store struct {
	db *database.DB
}

// NewStore returns the store on db, whose Schema must have been migrated.
func NewStore(db *database.DB) *Store {
	return &Store{db: db}
}

func scanPuppet(row dbutil.Scannable) (*Puppet, error) {
	var (
		p       Puppet
		updated int64
	)
	err := row.Scan(&p.Network, &p.RemoteID, &p.UserID, &p.DisplayName, &p.AvatarURL, &p.AvatarHash,
		&p.Registered, &updated)
	if err != nil {
		return nil, err
	}
	p.UpdatedAt = time.UnixMilli(updated)
	return &p, nil
}

func scanLogin(row dbutil.Scannable) (*Login, error) {
	var (
		l       Login
		created int64
	)
	err := row.Scan(&l.Network, &l.UserID, &l.LoginID, &l.RemoteID, &l.Name, &l.Secret,
		&l.State, &l.StateMessage, &created)
	if err != nil {
		return nil, err
	}
	l.CreatedAt = time.UnixMilli(created)
	return &l, nil
}

func scanUser(row dbutil.Scannable) (*User, error) {
	var u User
	if err := row.Scan(&u.Network, &u.UserID, &u.ManagementRoom); err != nil {
		return nil, err
	}
	return &u, nil
}

// Get returns the puppet of a remote user, or nil, nil when there is none.
func (s *Store) Get(ctx context.Context, network, remoteID string) (*Puppet, error) {
	p, err := database.One(s.db.QueryRow(ctx, getPuppetQuery, network, remoteID), scanPuppet)
	if err != nil {
		return nil, fmt.Errorf("get puppet %s %s: %w", network, remoteID, err)
	}
	return p, nil
}

// ByUserID returns the puppet whose ghost is userID, or nil, nil when
// there is none.
func (s *Store) ByUserID(ctx context.Context, userID id.UserID) (*Puppet, error) {
	p, err := database.One(s.db.QueryRow(ctx, puppetByUserIDQuery, userID), scanPuppet)
	if err != nil {
		return nil, fmt.Errorf("get puppet %s: %w", userID, err)
	}
	return p, nil
}

// Put inserts or overwrites the puppet of (p.Network, p.RemoteID), setting
// p.UpdatedAt to now. A UserID that already belongs to another puppet is
// an error and nothing is written.
func (s *Store) Put(ctx context.Context, p *Puppet) error {
	p.UpdatedAt = time.Now()
	_, err := s.db.Exec(ctx, putPuppetQuery, p.Network, p.RemoteID, p.UserID, p.DisplayName, p.AvatarURL, p.AvatarHash,
		p.Registered, p.UpdatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("put puppet %s %s: %w", p.Network, p.RemoteID, err)
	}
	return nil
}

// PutLogin inserts or overwrites the login (l.Network, l.UserID,
// l.LoginID). A new login is created at l.CreatedAt, or now when that is
// zero; an existing one keeps its creation time. Either way l.CreatedAt is
// set to the stored time. A nil Secret is stored as empty.
func (s *Store) PutLogin(ctx context.Context, l *Login) error {
	created := l.CreatedAt
	if created.IsZero() {
		created = time.Now()
	}
	secret := l.Secret
	if secret == nil {
		secret = []byte{}
	}
	var stored int64
	err := s.db.QueryRow(ctx, putLoginQuery, l.Network, l.UserID, l.LoginID, l.RemoteID, l.Name, secret,
		l.State, l.StateMessage, created.UnixMilli()).Scan(&stored)
	if err != nil {
		return fmt.Errorf("put %s login %s of %s: %w", l.Network, l.LoginID, l.UserID, err)
	}
	l.CreatedAt = time.UnixMilli(stored)
	return nil
}

// Logins returns every login on network, oldest first; nil when there are
// none.
func (s *Store) Logins(ctx context.Context, network string) ([]*Login, error) {
	rows, err := s.db.Query(ctx, loginsQuery, network)
	ls, err := database.All(rows, err, scanLogin)
	if err != nil {
		return nil, fmt.Errorf("get %s logins: %w", network, err)
	}
	return ls, nil
}

// UserLogins returns userID's logins on network, oldest first; nil when
// there are none.
func (s *Store) UserLogins(ctx context.Context, network string, userID id.UserID) ([]*Login, error) {
	rows, err := s.db.Query(ctx, userLoginsQuery, network, userID)
	ls, err := database.All(rows, err, scanLogin)
	if err != nil {
		return nil, fmt.Errorf("get %s logins of %s: %w", network, userID, err)
	}
	return ls, nil
}

// DeleteLogin removes a login, if it exists.
func (s *Store) DeleteLogin(ctx context.Context, network string, userID id.UserID, loginID string) error {
	if _, err := s.db.Exec(ctx, deleteLoginQuery, network, userID, loginID); err != nil {
		return fmt.Errorf("delete %s login %s of %s: %w", network, loginID, userID, err)
	}
	return nil
}

// SetLoginState records the state a login's connection last reported. It
// returns ErrLoginNotFound (wrapped) when there is no such login.
func (s *Store) SetLoginState(ctx context.Context, network string, userID id.UserID, loginID, state, message string) error {
	res, err := s.db.Exec(ctx, setLoginStateQuery, network, userID, loginID, state, message)
	if err != nil {
		return fmt.Errorf("set state of %s login %s of %s: %w", network, loginID, userID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("set state of %s login %s of %s: %w", network, loginID, userID, err)
	}
	if n == 0 {
		return fmt.Errorf("set state of %s login %s of %s: %w", network, loginID, userID, ErrLoginNotFound)
	}
	return nil
}

// User returns what the bridge keeps about userID on network, or nil, nil
// when it keeps nothing.
func (s *Store) User(ctx context.Context, network string, userID id.UserID) (*User, error) {
	u, err := database.One(s.db.QueryRow(ctx, getUserQuery, network, userID), scanUser)
	if err != nil {
		return nil, fmt.Errorf("get %s user %s: %w", network, userID, err)
	}
	return u, nil
}

// PutUser inserts or overwrites the user (u.Network, u.UserID).
func (s *Store) PutUser(ctx context.Context, u *User) error {
	if _, err := s.db.Exec(ctx, putUserQuery, u.Network, u.UserID, u.ManagementRoom); err != nil {
		return fmt.Errorf("put %s user %s: %w", u.Network, u.UserID, err)
	}
	return nil
}

// UserByManagementRoom returns the user whose management room on network
// is roomID, or nil, nil when there is none (always for an empty roomID).
// Should several users name the same room, the first by user id wins.
func (s *Store) UserByManagementRoom(ctx context.Context, network string, roomID id.RoomID) (*User, error) {
	if roomID == "" {
		return nil, nil
	}
	u, err := database.One(s.db.QueryRow(ctx, userByManagementRoomQuery, network, roomID), scanUser)
	if err != nil {
		return nil, fmt.Errorf("get %s user of management room %s: %w", network, roomID, err)
	}
	return u, nil
}
