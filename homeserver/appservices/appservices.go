package appservices

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/homeserver/mxhttp"
	"switchboard/homeserver/rooms"
	"switchboard/internal/database"
	"switchboard/registration"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Schema is the appservice delivery state, versioned in
// hs_appservices_version.
func Schema() database.Schema {
	return database.EmbeddedSchema("appservices", "hs_appservices_version", migrations, "migrations")
}

// Users is the account store as appservices need it.
type Users interface {
	UserExists(ctx context.Context, userID id.UserID) (bool, error)
	EnsureAppserviceUser(ctx context.Context, userID id.UserID, appserviceID string) error
}

// Events is the room engine as the pusher needs it.
type Events interface {
	EventsSince(ctx context.Context, from int64, limit int) ([]rooms.StreamEvent, error)
	EventsByID(ctx context.Context, ids []string) ([]rooms.ClientEvent, error)
	RoomMembers(ctx context.Context, roomID id.RoomID) (map[id.UserID]string, error)
	LocalAliases(ctx context.Context, roomID id.RoomID) ([]id.RoomAlias, error)
	EphemeralSince(ctx context.Context, pos rooms.EphemeralPositions) (map[id.RoomID][]event.Event, []event.Event, rooms.EphemeralPositions, error)
	JoinedRooms(ctx context.Context, user id.UserID) ([]id.RoomID, error)
	EphemeralNow() rooms.EphemeralPositions
	Changed() <-chan struct{}
	Latest() int64
}

// Options is what the Service needs.
type Options struct {
	ServerName string
	// Files are the registration files to load (config key appservices).
	Files []string
	// Registrations are handed over in memory: those of the bridges that
	// run in the same process (`switchboard serve`). Each is copied
	// (Registration.Clone) and validated like a file, after the files, and
	// must not share an id or a token with any other.
	Registrations []*registration.Registration

	DB    *database.DB
	Log   *slog.Logger
	Users Users
	// Metrics receives the queue and failure metrics; nil registers none.
	Metrics prometheus.Registerer
	// BatchSize bounds the events of one transaction (default 100).
	BatchSize int
	// Client sends transactions and queries (default: 30 s timeout).
	Client *http.Client
	// MaxBackoff caps the wait between retries (default 5 minutes).
	MaxBackoff time.Duration
}

// Service hosts the appservices of the registration files.
type Service struct {
	opts   Options
	set    *registration.Set
	db     *database.DB
	log    *slog.Logger
	client *http.Client

	knownMu sync.Mutex
	known   map[id.UserID]bool // users known to exist, for masquerading

	queued   *prometheus.GaugeVec
	failures *prometheus.CounterVec

	stop   chan struct{}
	cancel context.CancelFunc // ends requests in flight at Close
	wg     sync.WaitGroup
}

// New loads and validates every registration file and in-memory
// registration, refusing to start on an invalid one (naming the file or
// source and the problem) or on two sharing an id or a token, migrates the
// delivery state and creates each appservice's bot user.
func New(ctx context.Context, opts Options) (*Service, error) {
	regs := make([]*registration.Registration, 0, len(opts.Files)+len(opts.Registrations))
	for _, path := range opts.Files {
		reg, err := registration.Load(path)
		if err != nil {
			return nil, fmt.Errorf("appservices: %w", err)
		}
		if err := reg.Validate(opts.ServerName); err != nil {
			return nil, fmt.Errorf("appservices: %w", err)
		}
		regs = append(regs, reg)
	}
	for i, given := range opts.Registrations {
		if given == nil {
			return nil, fmt.Errorf("appservices: in-memory registration %d is nil", i)
		}
		// The bridge that owns given keeps using it; validating compiles
		// and records the server name, so the homeserver works on a copy.
		reg := given.Clone()
		if err := reg.Validate(opts.ServerName); err != nil {
			return nil, fmt.Errorf("appservices: %w", err)
		}
		regs = append(regs, reg)
	}
	set, err := registration.NewSet(regs...)
	if err != nil {
		return nil, fmt.Errorf("appservices: %w", err)
	}
	if err := opts.DB.Migrate(ctx, Schema()); err != nil {
		return nil, err
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 100
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Minute
	}
	client := opts.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	s := &Service{
		opts: opts, set: set, db: opts.DB, log: opts.Log, client: client,
		known: map[id.UserID]bool{},
		queued: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "switchboard", Name: "appservice_queued_events",
			Help: "Events of the stream not yet delivered to (or skipped for) each appservice.",
		}, []string{"appservice"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "switchboard", Name: "appservice_push_failures_total",
			Help: "Transactions an appservice did not accept, by appservice.",
		}, []string{"appservice"}),
		stop: make(chan struct{}),
	}
	if opts.Metrics != nil {
		// A homeserver restarted in the same process (tests) finds its
		// collectors already registered: keep counting on those.
		var already prometheus.AlreadyRegisteredError
		if err := opts.Metrics.Register(s.queued); errors.As(err, &already) {
			s.queued = already.ExistingCollector.(*prometheus.GaugeVec)
		} else if err != nil {
			return nil, err
		}
		if err := opts.Metrics.Register(s.failures); errors.As(err, &already) {
			s.failures = already.ExistingCollector.(*prometheus.CounterVec)
		} else if err != nil {
			return nil, err
		}
	}
	for _, reg := range set.All() {
		if err := opts.Users.EnsureAppserviceUser(ctx, id.UserID(reg.BotUserID()), reg.ID); err != nil {
			return nil, fmt.Errorf("appservice %s: create bot %s: %w", reg.ID, id.UserID(reg.BotUserID()), err)
		}
		s.markKnown(id.UserID(reg.BotUserID()))
	}
	return s, nil
}

// Registrations lists the loaded appservices.
func (s *Service) Registrations() []*registration.Registration { return s.set.All() }

// Start begins pushing to every appservice that has a URL. Call Close to
// stop.
func (s *Service) Start(ctx context.Context, events Events) error {
	ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	for _, reg := range s.set.All() {
		if reg.NoPush() {
			continue
		}
		p, err := newPusher(ctx, s, reg, events)
		if err != nil {
			return err
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			p.run()
		}()
	}
	return nil
}

// Close stops the pushers; a transaction in flight is retried after the
// next start.
func (s *Service) Close() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
}

func (s *Service) markKnown(user id.UserID) {
	s.knownMu.Lock()
	s.known[user] = true
	s.knownMu.Unlock()
}

func (s *Service) isKnown(ctx context.Context, user id.UserID) (bool, error) {
	s.knownMu.Lock()
	known := s.known[user]
	s.knownMu.Unlock()
	if known {
		return true, nil
	}
	exists, err := s.opts.Users.UserExists(ctx, user)
	if err == nil && exists {
		s.markKnown(user)
	}
	return exists, err
}

// Identify implements accounts.Appservices: a request with an appservice's
// as_token acts as its bot, or as the user named by user_id when that user
// is in the appservice's namespace and has been registered.
func (s *Service) Identify(r *http.Request, token string) (mxhttp.Identity, bool, error) {
	reg := s.set.ByASToken(token)
	if reg == nil {
		return mxhttp.Identity{}, false, nil
	}
	q := r.URL.Query()
	userID := id.UserID(reg.BotUserID())
	if u := q.Get("user_id"); u != "" {
		userID = id.UserID(u)
	}
	if userID != id.UserID(reg.BotUserID()) {
		if !reg.OwnsUser(string(userID)) {
			return mxhttp.Identity{}, true, mautrix.MForbidden.WithMessage("Appservice %s cannot masquerade as %s: not in its namespace", reg.ID, userID)
		}
		exists, err := s.isKnown(r.Context(), userID)
		if err != nil {
			return mxhttp.Identity{}, true, err
		}
		if !exists {
			return mxhttp.Identity{}, true, mautrix.MForbidden.WithMessage("Appservice %s has not registered %s", reg.ID, userID)
		}
	}
	ident := mxhttp.Identity{UserID: userID, AppserviceID: reg.ID}
	if d := q.Get("device_id"); d != "" {
		ident.DeviceID = id.DeviceID(d)
	} else if d := q.Get("org.matrix.msc3202.device_id"); d != "" {
		ident.DeviceID = id.DeviceID(d)
	}
	return ident, true, nil
}

// AuthorizeUser implements accounts.Appservices for m.login.application_service.
func (s *Service) AuthorizeUser(r *http.Request, userID id.UserID) (string, error) {
	token := mxhttp.AccessToken(r)
	if token == "" {
		return "", mautrix.MMissingToken.WithMessage("The appservice's as_token is required")
	}
	reg := s.set.ByASToken(token)
	if reg == nil {
		return "", mautrix.MUnknownToken.WithMessage("Unknown as_token")
	}
	if !reg.OwnsUser(string(userID)) {
		return "", mautrix.MExclusive.WithMessage("%s is not in the namespace of appservice %s", userID, reg.ID)
	}
	s.markKnown(userID)
	return reg.ID, nil
}

// Exclusive implements accounts.Appservices.
func (s *Service) Exclusive(userID id.UserID) bool {
	return s.set.ExclusiveOwnerOfUser(string(userID)) != nil
}

// CheckAlias implements rooms.AliasAuthority.
func (s *Service) CheckAlias(alias id.RoomAlias, appserviceID string) error {
	owner := s.set.ExclusiveOwnerOfAlias(string(alias))
	if owner != nil && owner.ID != appserviceID {
		return mautrix.MExclusive.WithMessage("Room alias %s is reserved by an appservice", alias)
	}
	return nil
}

// errNoAppservice means no appservice claims an id.
var errNoAppservice = errors.New("no appservice claims this id")
