package media

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"maunium.net/go/mautrix/id"

	"switchboard/homeserver/mxhttp"
	"switchboard/internal/database"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Schema is the media repository's database schema: hs_media* tables,
// versioned in hs_media_version.
func Schema() database.Schema {
	return database.EmbeddedSchema("media", "hs_media_version", migrations, "migrations")
}

// Options is what a Repo needs from the process.
type Options struct {
	ServerName string
	// DataDir holds the files, under DataDir/media/.
	DataDir        string
	DB             *database.DB
	Log            *slog.Logger // nil discards
	MaxUploadBytes int64
	// Auth resolves access tokens for the endpoints that need one.
	Auth mxhttp.Authenticator
}

// Metadata describes one piece of stored media.
type Metadata struct {
	URI id.ContentURI
	// ContentType is what the uploader declared (normalised), or
	// application/octet-stream when they declared nothing usable.
	ContentType string
	// FileName is the name given at upload; may be empty.
	FileName string
	Size     int64
	// SHA256 is the hex digest of the content.
	SHA256   string
	Uploader id.UserID
	Uploaded time.Time
}

// Repo is the media repository. Its methods are safe for concurrent use.
type Repo struct {
	serverName string
	maxUpload  int64
	log        *slog.Logger
	auth       mxhttp.Authenticator
	store      store
	blobs      *blobs
	now        func() time.Time

	thumbs *thumbnailer

	mu      sync.Mutex
	waiters map[string]*waiter // pending media id → who waits for its upload
}

// New migrates the media schema and prepares DataDir/media/.
func New(ctx context.Context, opts Options) (*Repo, error) {
	if !id.ValidateServerName(opts.ServerName) {
		return nil, fmt.Errorf("media: server name %q is not valid", opts.ServerName)
	}
	if opts.DB == nil {
		return nil, errors.New("media: no database")
	}
	if opts.DataDir == "" {
		return nil, errors.New("media: no data directory")
	}
	if opts.MaxUploadBytes <= 0 {
		return nil, fmt.Errorf("media: max upload size %d is not above 0", opts.MaxUploadBytes)
	}
	if opts.Auth == nil {
		return nil, errors.New("media: no authenticator")
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := opts.DB.Migrate(ctx, Schema()); err != nil {
		return nil, err
	}
	b, err := newBlobs(filepath.Join(opts.DataDir, "media"))
	if err != nil {
		return nil, err
	}
	r := &Repo{
		serverName: opts.ServerName,
		maxUpload:  opts.MaxUploadBytes,
		log:        log,
		auth:       opts.Auth,
		store:      store{db: opts.DB},
		blobs:      b,
		now:        time.Now,
		waiters:    make(map[string]*waiter),
	}
	r.thumbs = newThumbnailer(r)
	return r, nil
}

// Upload stores body as new media of uploader and returns its mxc:// URI.
// It reads body to the end without holding it in memory. A body over
// Options.MaxUploadBytes fails with ErrTooLarge; a bad file name with
// ErrInvalidFileName. An empty contentType means application/octet-stream.
func (r *Repo) Upload(ctx context.Context, uploader id.UserID, contentType, fileName string, body io.Reader) (id.ContentURI, error) {
	if err := checkFileName(fileName); err != nil {
		return id.ContentURI{}, err
	}
	digest, size, err := r.blobs.put(ctxReader{ctx, body}, r.maxUpload)
	if err != nil {
		return id.ContentURI{}, err
	}
	now := r.now()
	rw := &row{
		MediaID:     newMediaID(),
		Uploader:    uploader,
		ContentType: normalizeContentType(contentType),
		FileName:    fileName,
		SHA256:      digest,
		Size:        size,
		Created:     now,
		Uploaded:    now,
	}
	// A failed insert leaves the file behind: it may already be shared
	// with another row, so it is not ours to remove.
	if err := r.store.insert(ctx, rw); err != nil {
		return id.ContentURI{}, err
	}
	r.log.DebugContext(ctx, "media uploaded", slog.String("media_id", rw.MediaID),
		slog.Int64("size", size), slog.String("content_type", rw.ContentType))
	return id.ContentURI{Homeserver: r.serverName, FileID: rw.MediaID}, nil
}

// Open returns the content of local media and its metadata; the caller
// closes the reader. It fails with ErrInvalidID, ErrRemote (media of
// another server), ErrNotYetUploaded or ErrNotFound (also when the file is
// missing from disk).
func (r *Repo) Open(ctx context.Context, uri id.ContentURI) (io.ReadSeekCloser, Metadata, error) {
	rw, err := r.lookup(ctx, uri.Homeserver, uri.FileID)
	if err != nil {
		return nil, Metadata{}, err
	}
	f, err := r.blobs.open(rw.SHA256)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			r.log.WarnContext(ctx, "media file missing", slog.String("media_id", rw.MediaID), slog.String("sha256", rw.SHA256))
		}
		return nil, Metadata{}, err
	}
	return f, r.metadata(rw), nil
}

// lookup resolves an mxc:// URI to its uploaded row.
func (r *Repo) lookup(ctx context.Context, serverName, mediaID string) (*row, error) {
	if err := checkURI(serverName, mediaID); err != nil {
		return nil, err
	}
	if serverName != r.serverName {
		return nil, fmt.Errorf("%w: %s", ErrRemote, serverName)
	}
	rw, err := r.store.get(ctx, mediaID)
	if err != nil {
		return nil, err
	}
	if rw.pending() {
		if !rw.Expires.After(r.now()) {
			return nil, fmt.Errorf("%w: %s lapsed unused", ErrNotFound, mediaID)
		}
		return nil, fmt.Errorf("%w: %s", ErrNotYetUploaded, mediaID)
	}
	return rw, nil
}

func (r *Repo) metadata(rw *row) Metadata {
	return Metadata{
		URI:         id.ContentURI{Homeserver: r.serverName, FileID: rw.MediaID},
		ContentType: rw.ContentType,
		FileName:    rw.FileName,
		Size:        rw.Size,
		SHA256:      rw.SHA256,
		Uploader:    rw.Uploader,
		Uploaded:    rw.Uploaded,
	}
}

const octetStream = "application/octet-stream"

// normalizeContentType returns a well-formed media type for what an
// uploader declared. The spec (v1.12) makes application/octet-stream the
// default for a missing Content-Type; anything unparsable gets it too.
func normalizeContentType(ct string) string {
	if ct == "" || len(ct) > 255 {
		return octetStream
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || !strings.Contains(mt, "/") {
		return octetStream
	}
	if out := mime.FormatMediaType(mt, params); out != "" {
		return out
	}
	return octetStream
}

// ctxReader stops a read when ctx ends, so a server-side Upload of a slow
// stream can be cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
