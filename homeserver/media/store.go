package media

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"

	"switchboard/internal/database"
)

const (
	getMediaQuery = `
		SELECT media_id, uploader, content_type, file_name, sha256, size, created_ts, uploaded_ts, expires_ts
		FROM hs_media WHERE media_id = $1`
	insertMediaQuery = `
		INSERT INTO hs_media (media_id, uploader, content_type, file_name, sha256, size, created_ts, uploaded_ts)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`
	insertPendingQuery = `
		INSERT INTO hs_media (media_id, uploader, created_ts, expires_ts) VALUES ($1, $2, $3, $4)`
	countPendingQuery = `
		SELECT COUNT(*) FROM hs_media WHERE uploader = $1 AND sha256 IS NULL AND expires_ts > $2`
	deleteExpiredPendingQuery = `
		DELETE FROM hs_media WHERE uploader = $1 AND sha256 IS NULL AND expires_ts <= $2`
	completePendingQuery = `
		UPDATE hs_media SET content_type = $2, file_name = $3, sha256 = $4, size = $5, uploaded_ts = $6, expires_ts = NULL
		WHERE media_id = $1 AND sha256 IS NULL`

	getThumbnailQuery = `
		SELECT sha256, size, content_type, thumb_width, thumb_height, created_ts
		FROM hs_media_thumbnail WHERE media_id = $1 AND width = $2 AND height = $3 AND method = $4`
	insertThumbnailQuery = `
		INSERT INTO hs_media_thumbnail (media_id, width, height, method, sha256, size, content_type, thumb_width, thumb_height, created_ts)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (media_id, width, height, method) DO NOTHING`
	deleteThumbnailQuery = `
		DELETE FROM hs_media_thumbnail WHERE media_id = $1 AND width = $2 AND height = $3 AND method = $4`
)

// row is one hs_media row. SHA256 is empty while an asynchronous upload is
// pending.
type row struct {
	MediaID     string
	Uploader    id.UserID
	ContentType string
	FileName    string
	SHA256      string
	Size        int64
	Created     time.Time
	Uploaded    time.Time // zero while pending
	Expires     time.Time // zero once uploaded
}

func (r *row) pending() bool { return r.SHA256 == "" }

func scanRow(s dbutil.Scannable) (*row, error) {
	var (
		r                 row
		digest            sql.NullString
		uploaded, expires sql.NullInt64
		created           int64
	)
	err := s.Scan(&r.MediaID, &r.Uploader, &r.ContentType, &r.FileName, &digest, &r.Size, &created, &uploaded, &expires)
	if err != nil {
		return nil, err
	}
	r.SHA256 = digest.String
	r.Created = time.UnixMilli(created)
	if uploaded.Valid {
		r.Uploaded = time.UnixMilli(uploaded.Int64)
	}
	if expires.Valid {
		r.Expires = time.UnixMilli(expires.Int64)
	}
	return &r, nil
}

// store holds the media repository's queries.
type store struct {
	db *database.DB
}

// get returns the row of a local media id, or ErrNotFound.
func (s *store) get(ctx context.Context, mediaID string) (*row, error) {
	r, err := scanRow(s.db.QueryRow(ctx, getMediaQuery, mediaID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, mediaID)
	}
	if err != nil {
		return nil, fmt.Errorf("get media %s: %w", mediaID, err)
	}
	return r, nil
}

func (s *store) insert(ctx context.Context, r *row) error {
	_, err := s.db.Exec(ctx, insertMediaQuery, r.MediaID, r.Uploader, r.ContentType, r.FileName, r.SHA256, r.Size, r.Uploaded.UnixMilli())
	if err != nil {
		return fmt.Errorf("insert media %s: %w", r.MediaID, err)
	}
	return nil
}

// errTooManyPending is returned by insertPending when the uploader already
// has max pending ids.
var errTooManyPending = errors.New("too many pending uploads")

// insertPending records an id made by /create, unless the uploader already
// has max ids pending. Their own lapsed ids are swept first.
func (s *store) insertPending(ctx context.Context, mediaID string, uploader id.UserID, now, expires time.Time, max int) error {
	return s.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		if _, err := s.db.Exec(ctx, deleteExpiredPendingQuery, uploader, now.UnixMilli()); err != nil {
			return fmt.Errorf("delete lapsed media ids: %w", err)
		}
		var n int
		if err := s.db.QueryRow(ctx, countPendingQuery, uploader, now.UnixMilli()).Scan(&n); err != nil {
			return fmt.Errorf("count pending media: %w", err)
		}
		if n >= max {
			return errTooManyPending
		}
		if _, err := s.db.Exec(ctx, insertPendingQuery, mediaID, uploader, now.UnixMilli(), expires.UnixMilli()); err != nil {
			return fmt.Errorf("insert pending media %s: %w", mediaID, err)
		}
		return nil
	})
}

// complete fills in a pending row. It reports false when the row was not
// pending any more: another request uploaded its content first.
func (s *store) complete(ctx context.Context, r *row) (bool, error) {
	res, err := s.db.Exec(ctx, completePendingQuery, r.MediaID, r.ContentType, r.FileName, r.SHA256, r.Size, r.Uploaded.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("complete media %s: %w", r.MediaID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("complete media %s: %w", r.MediaID, err)
	}
	return n == 1, nil
}

// thumbKey names one cached thumbnail.
type thumbKey struct {
	MediaID       string
	Width, Height int
	Method        string
}

// thumbRow is one hs_media_thumbnail row.
type thumbRow struct {
	thumbKey
	SHA256      string
	Size        int64
	ContentType string
	ThumbWidth  int
	ThumbHeight int
	Created     time.Time
}

// getThumbnail returns a cached thumbnail, or nil when there is none.
func (s *store) getThumbnail(ctx context.Context, k thumbKey) (*thumbRow, error) {
	t := thumbRow{thumbKey: k}
	var created int64
	err := s.db.QueryRow(ctx, getThumbnailQuery, k.MediaID, k.Width, k.Height, k.Method).
		Scan(&t.SHA256, &t.Size, &t.ContentType, &t.ThumbWidth, &t.ThumbHeight, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get thumbnail of %s: %w", k.MediaID, err)
	}
	t.Created = time.UnixMilli(created)
	return &t, nil
}

func (s *store) insertThumbnail(ctx context.Context, t *thumbRow) error {
	_, err := s.db.Exec(ctx, insertThumbnailQuery, t.MediaID, t.Width, t.Height, t.Method,
		t.SHA256, t.Size, t.ContentType, t.ThumbWidth, t.ThumbHeight, t.Created.UnixMilli())
	if err != nil {
		return fmt.Errorf("insert thumbnail of %s: %w", t.MediaID, err)
	}
	return nil
}

func (s *store) deleteThumbnail(ctx context.Context, k thumbKey) error {
	if _, err := s.db.Exec(ctx, deleteThumbnailQuery, k.MediaID, k.Width, k.Height, k.Method); err != nil {
		return fmt.Errorf("delete thumbnail of %s: %w", k.MediaID, err)
	}
	return nil
}
