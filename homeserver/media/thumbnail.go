package media

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"runtime"
	"strconv"
	"sync"
	"time"

	"maunium.net/go/mautrix"
)

const (
	methodCrop  = "crop"
	methodScale = "scale"
)

// thumbnailSizes are the box edges thumbnails are made for. A requested
// width or height is rounded up to the next one (the spec lets a thumbnail
// be larger than asked), so each media has a bounded number of cached
// thumbnails however many sizes clients ask for. The list holds every edge
// of the sizes the spec recommends (32×32 and 96×96 crop; 320×240, 640×480
// and 800×600 scale), so those are made exactly.
var thumbnailSizes = []int{32, 48, 64, 96, 128, 160, 240, 320, 480, 600, 640, 800, 960, 1024}

// MaxThumbnailSize is the largest thumbnail edge; larger requests get this.
const MaxThumbnailSize = 1024

// thumbParams is a parsed thumbnail request.
type thumbParams struct {
	Width, Height int // rounded up to thumbnailSizes
	Method        string
	Animated      bool
}

var mMissingParam = mautrix.RespError{ErrCode: "M_MISSING_PARAM", StatusCode: 400}

// parseThumbnailParams reads width, height, method and animated from a
// thumbnail request's query. Errors are mautrix.RespErrors to answer with.
func parseThumbnailParams(q url.Values) (thumbParams, error) {
	var p thumbParams
	for _, d := range []struct {
		name string
		dst  *int
	}{{"width", &p.Width}, {"height", &p.Height}} {
		v := q.Get(d.name)
		if v == "" {
			return p, mMissingParam.WithMessage("Missing %s", d.name)
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return p, mautrix.MInvalidParam.WithMessage("%s must be a positive integer", d.name)
		}
		*d.dst = snapSize(n)
	}
	switch m := q.Get("method"); m {
	case "", methodScale:
		p.Method = methodScale
	case methodCrop:
		p.Method = methodCrop
	default:
		return p, mautrix.MInvalidParam.WithMessage("method must be crop or scale")
	}
	if v := q.Get("animated"); v != "" {
		a, err := strconv.ParseBool(v)
		if err != nil {
			return p, mautrix.MInvalidParam.WithMessage("animated must be true or false")
		}
		p.Animated = a
	}
	return p, nil
}

// snapSize rounds a requested edge up to the next of thumbnailSizes.
func snapSize(n int64) int {
	for _, s := range thumbnailSizes {
		if n <= int64(s) {
			return s
		}
	}
	return MaxThumbnailSize
}

// thumbnailer makes and caches thumbnails. At most a few images are
// decoded at once, since one may take hundreds of megabytes; requests for
// a thumbnail already being made wait for it rather than make it again.
type thumbnailer struct {
	r   *Repo
	lim limits
	sem chan struct{}

	mu       sync.Mutex
	inflight map[thumbKey]*flight
}

type flight struct {
	done chan struct{}
	t    *thumbRow
	err  error
}

// thumbnailTimeout bounds making one thumbnail, including the wait for a
// decoding slot.
const thumbnailTimeout = time.Minute

func newThumbnailer(r *Repo) *thumbnailer {
	return &thumbnailer{
		r:        r,
		lim:      defaultLimits,
		sem:      make(chan struct{}, max(1, min(4, runtime.GOMAXPROCS(0)/2))),
		inflight: make(map[thumbKey]*flight),
	}
}

// get returns the cached thumbnail of rw for k, making it first if needed.
func (t *thumbnailer) get(ctx context.Context, rw *row, k thumbKey) (*thumbRow, error) {
	tr, err := t.r.store.getThumbnail(ctx, k)
	if err != nil || tr != nil {
		return tr, err
	}
	t.mu.Lock()
	if f := t.inflight[k]; f != nil {
		t.mu.Unlock()
		select {
		case <-f.done:
			return f.t, f.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f := &flight{done: make(chan struct{})}
	t.inflight[k] = f
	t.mu.Unlock()

	// Others may be waiting for this thumbnail: finish it even if the
	// client that asked first goes away.
	gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), thumbnailTimeout)
	f.t, f.err = t.generate(gctx, rw, k)
	cancel()

	t.mu.Lock()
	delete(t.inflight, k)
	t.mu.Unlock()
	close(f.done)
	return f.t, f.err
}

func (t *thumbnailer) generate(ctx context.Context, rw *row, k thumbKey) (*thumbRow, error) {
	select {
	case t.sem <- struct{}{}:
		defer func() { <-t.sem }()
	case <-ctx.Done():
		return nil, fmt.Errorf("wait to make thumbnail: %w", ctx.Err())
	}
	f, err := t.r.blobs.open(rw.SHA256)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	start := time.Now()
	res, err := makeThumbnail(f, rw.Size, k.Width, k.Height, k.Method, t.lim)
	if err != nil {
		return nil, err
	}
	tr := &thumbRow{
		thumbKey:    k,
		ContentType: res.contentType,
		ThumbWidth:  res.width,
		ThumbHeight: res.height,
		Created:     t.r.now(),
	}
	if res.original {
		tr.SHA256, tr.Size = rw.SHA256, rw.Size
	} else {
		tr.SHA256, tr.Size, err = t.r.blobs.put(bytes.NewReader(res.data), math.MaxInt64-1)
		if err != nil {
			return nil, err
		}
	}
	if err := t.r.store.insertThumbnail(ctx, tr); err != nil {
		return nil, err
	}
	t.r.log.DebugContext(ctx, "thumbnail made", slog.String("media_id", k.MediaID),
		slog.Int("width", tr.ThumbWidth), slog.Int("height", tr.ThumbHeight), slog.String("method", k.Method),
		slog.Bool("original", res.original), slog.Duration("took", time.Since(start)))
	return tr, nil
}

// thumbnailFileName is the file name thumbnails are served with.
func thumbnailFileName(contentType string) string {
	switch contentType {
	case "image/jpeg":
		return "thumbnail.jpg"
	case "image/gif":
		return "thumbnail.gif"
	case "image/webp":
		return "thumbnail.webp"
	default:
		return "thumbnail.png"
	}
}
