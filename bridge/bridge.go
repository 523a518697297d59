package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"maunium.net/go/mautrix/id"

	"switchboard/appservice"
	"switchboard/connectors"
	"switchboard/internal/database"
	"switchboard/portal"
	"switchboard/puppet"
	"switchboard/registration"
)

// Options are what one network's bridge needs.
type Options struct {
	// Connector is the network.
	Connector connectors.Connector
	// Settings are the network section's common keys.
	Settings connectors.Settings
	// Matrix reaches the homeserver through the Application Service API.
	Matrix appservice.Matrix
	// Registration is this network's appservice registration.
	Registration *registration.Registration
	DB           *database.DB
	Log          *slog.Logger
	// Permissions is bridges.permissions: "*", a server name or a user id
	// mapped to relay, user or admin. Empty: users of the server are users.
	Permissions map[string]string
	// MaxMediaBytes bounds a file carried between Matrix and the network;
	// zero means 50 MiB.
	MaxMediaBytes int64
	// MediaURL is the homeserver's public base URL, such as
	// https://matrix.example.org, for links to files on networks that can
	// only link (Attachment.PublicURL, Host.UploadMedia): the homeserver's
	// unauthenticated /_matrix/media/v3/download path under it. "" means no
	// links: such networks then get the mxc:// URI.
	MediaURL string
}

// Bridge is one network's appservice: it carries events between the
// network's connector and Matrix rooms.
type Bridge struct {
	network    string
	display    string
	serverName string
	conn       connectors.Connector
	settings   connectors.Settings
	mx         appservice.Matrix
	bot        appservice.Intent
	reg        *registration.Registration
	db         *database.DB
	log        *slog.Logger
	perms      permissions
	maxMedia   int64
	mediaURL   string
	prefix     string // command prefix in rooms, "!<network>"
	ids        idMapper

	portals *portal.Store
	puppets *puppet.Store
	queue   *queueStore

	ctx        context.Context
	cancel     context.CancelFunc
	fromMatrix *lanes[*matrixItem]
	fromRemote *lanes[*remoteItemQ]
	committer  *batcher[*remoteItem]
	writes     *txnBatcher
	started    atomic.Bool
	startedAt  atomic.Int64 // unix ms
	stopOnce   sync.Once
	// background counts goroutines that outlive the event that started
	// them (a link waiting for the network's consent); Stop waits for them.
	background sync.WaitGroup

	states  stateBoard
	metrics *metrics

	// puppetMu guards puppetSeen, the puppets known to be registered with
	// the current profile, so the hot path skips the database and the
	// homeserver.
	puppetMu   sync.Mutex
	puppetSeen map[connectors.RemoteUserID]*puppet.Puppet

	// portalMu serialises portal creation, so two events for a new chat
	// make one room.
	portalMu sync.Mutex

	memberCache memberCache
	// sending tracks network messages sent to rooms but not yet recorded.
	sending inflight

	linksMu sync.Mutex
	links   map[id.RoomID]int // this network's chats linked to each room

	// typing is who the homeserver last said types in each room, so only
	// changes reach the network.
	typingMu sync.Mutex
	typing   map[id.RoomID]map[id.UserID]bool

	noticeMu    sync.Mutex
	noticedUser map[string]bool // (room, user) already told they are not bridged
}

var networkName = regexp.MustCompile(`^[a-z0-9]+$`)

// New prepares a network's bridge: it migrates the bridge's tables and loads
// its queues. Start runs it.
func New(ctx context.Context, opts Options) (*Bridge, error) {
	info := opts.Connector.Info()
	if !networkName.MatchString(info.Name) {
		return nil, fmt.Errorf("connector name %q: must match [a-z0-9]+", info.Name)
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	serverName := opts.Matrix.ServerName()
	if err := Migrate(ctx, opts.DB, serverName); err != nil {
		return nil, err
	}
	perms, err := parsePermissions(opts.Permissions, serverName)
	if err != nil {
		return nil, err
	}
	q, err := newQueueStore(ctx, opts.DB, info.Name)
	if err != nil {
		return nil, err
	}
	b := &Bridge{
		network:     info.Name,
		display:     info.DisplayName,
		serverName:  serverName,
		conn:        opts.Connector,
		settings:    opts.Settings,
		mx:          opts.Matrix,
		bot:         opts.Matrix.Bot(),
		reg:         opts.Registration,
		db:          opts.DB,
		log:         opts.Log.With(slog.String("network", info.Name)),
		perms:       perms,
		maxMedia:    opts.MaxMediaBytes,
		mediaURL:    strings.TrimRight(opts.MediaURL, "/"),
		portals:     portal.NewStore(opts.DB),
		puppets:     puppet.NewStore(opts.DB),
		queue:       q,
		puppetSeen:  map[connectors.RemoteUserID]*puppet.Puppet{},
		noticedUser: map[string]bool{},
		typing:      map[id.RoomID]map[id.UserID]bool{},
		links:       map[id.RoomID]int{},
	}
	if b.display == "" {
		b.display = info.Name
	}
	if b.maxMedia <= 0 {
		b.maxMedia = 50 << 20
	}
	b.prefix = opts.Settings.CommandPrefix
	if b.prefix == "" {
		b.prefix = "!" + info.Name
	}
	b.ids = newIDMapper(info.Name, serverName, opts.Connector)
	b.metrics = newMetrics(info.Name)
	b.states.init()
	// The lanes and writers exist from here on, so the receiver and
	// Status may run at any time; their goroutines end with Stop.
	b.ctx, b.cancel = context.WithCancel(context.WithoutCancel(ctx))
	b.fromMatrix = newLanes(b.ctx, "matrix", b.log, b.handleMatrixItem)
	b.fromRemote = newLanes(b.ctx, "remote", b.log, b.handleRemoteItem)
	b.committer = newRemoteCommitter(b.ctx, b.queue, b.log)
	b.writes = newTxnBatcher(b.ctx, b.db, b.log)
	return b, nil
}

// Network is the network's name ("irc").
func (b *Bridge) Network() string { return b.network }

// Receiver is the appservice API the homeserver pushes to: transactions,
// user and alias queries and /ping.
func (b *Bridge) Receiver() http.Handler {
	return appservice.NewReceiver(b.reg, (*receiverHandler)(b), b.log)
}

// Start registers the bot, loads what the queues held when the bridge last
// stopped and starts the connector. Events pushed before Start wait in the
// database.
func (b *Bridge) Start(ctx context.Context) error {
	if err := retryStartup(ctx, b.log, "register bot", func() error { return b.bot.EnsureRegistered(ctx) }); err != nil {
		b.Stop(ctx)
		return err
	}
	if err := b.loadLinks(ctx); err != nil {
		b.Stop(ctx)
		return err
	}
	if err := b.loadQueues(ctx); err != nil {
		b.Stop(ctx)
		return err
	}
	b.startedAt.Store(time.Now().UnixMilli())
	b.started.Store(true)
	if err := b.conn.Start(b.ctx, (*host)(b)); err != nil {
		b.Stop(ctx)
		return fmt.Errorf("start %s connector: %w", b.network, err)
	}
	if err := b.watchAll(ctx); err != nil {
		b.Stop(ctx)
		return err
	}
	b.log.Info("bridge started", slog.String("bot", string(b.bot.UserID())))
	return nil
}

// retryStartup retries a start-up call that reaches the homeserver while it
// fails, for up to a minute: in one-container-per-network setups the bridge
// often starts before its homeserver answers.
func retryStartup(ctx context.Context, log *slog.Logger, what string, fn func() error) error {
	deadline := time.Now().Add(time.Minute)
	wait := 100 * time.Millisecond
	for {
		err := fn()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %w", what, err)
		}
		log.Warn("homeserver not ready, retrying", slog.String("step", what), slog.Any("error", err))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, 5*time.Second)
	}
}

// loadQueues hands every event the database still holds to its lane, in
// order.
func (b *Bridge) loadQueues(ctx context.Context) error {
	in, err := b.queue.pendingInbox(ctx)
	if err != nil {
		return fmt.Errorf("load inbox: %w", err)
	}
	for _, r := range in {
		b.fromMatrix.load(r.key, &matrixItem{seq: r.seq, raw: r.event})
	}
	out, err := b.queue.pendingOutbox(ctx)
	if err != nil {
		return fmt.Errorf("load outbox: %w", err)
	}
	for _, r := range out {
		item, err := decodeRemoteItem(r)
		if err != nil {
			b.log.Error("dropping unreadable queued remote event", slog.Int64("seq", r.seq), slog.Any("error", err))
			_ = b.queue.deleteOutbox(ctx, r.seq)
			continue
		}
		b.fromRemote.load(r.key, item)
	}
	if len(in)+len(out) > 0 {
		b.log.Info("resuming queued events", slog.Int("from_matrix", len(in)), slog.Int("from_network", len(out)))
	}
	return nil
}

// Stop stops the connector and the lanes. Events not yet delivered stay in
// the database for the next start.
func (b *Bridge) Stop(ctx context.Context) {
	b.stopOnce.Do(func() {
		if b.started.Load() {
			if err := b.conn.Stop(ctx); err != nil {
				b.log.Warn("connector stop", slog.Any("error", err))
			}
		}
		b.cancel()
		b.background.Wait()
		b.committer.wait()
		b.writes.wait()
		b.fromMatrix.wait()
		b.fromRemote.wait()
		b.log.Info("bridge stopped")
	})
}

// errStopping is returned to producers once the bridge is shutting down.
var errStopping = errors.New("bridge stopping")

// botUserID is the bridge bot's user id.
func (b *Bridge) botUserID() id.UserID { return b.bot.UserID() }
