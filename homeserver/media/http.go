package media

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"switchboard/homeserver/mxhttp"
)

const (
	// defaultWait and maxWait bound how long a download of media created
	// with /create but not uploaded yet waits for its content (timeout_ms).
	defaultWait = 20 * time.Second
	maxWait     = 60 * time.Second

	// unusedIDLifetime is how long an id made by /create stays usable
	// without content: the spec recommends 24 hours.
	unusedIDLifetime = 24 * time.Hour
	// maxPendingPerUser bounds a user's ids made by /create and not used yet.
	maxPendingPerUser = 10
)

var (
	mNotYetUploaded        = mautrix.RespError{ErrCode: "M_NOT_YET_UPLOADED", StatusCode: http.StatusGatewayTimeout}
	mCannotOverwriteMedia  = mautrix.RespError{ErrCode: "M_CANNOT_OVERWRITE_MEDIA", StatusCode: http.StatusConflict}
	mCannotThumbnail       = mautrix.MUnknown.WithStatus(http.StatusBadRequest).WithMessage("Cannot generate thumbnails for the requested content")
	mTooLargeToThumbnail   = mautrix.MTooLarge.WithMessage("Content is too large to thumbnail")
	mCouldNotReadBody      = mautrix.MUnknown.WithStatus(http.StatusBadRequest).WithMessage("Could not read the request body")
	mMediaNotFound         = mautrix.MNotFound.WithMessage("Media not found")
	mRemoteMediaNotFetched = mautrix.MNotFound.WithMessage("Media of other servers is not available: this server does not federate yet")
)

// Register adds the media repository's routes to mux.
func (r *Repo) Register(mux *http.ServeMux) {
	handle := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, mxhttp.CORS(h)) }

	handle("POST /_matrix/media/v3/upload", r.authed(r.handleUpload))
	handle("POST /_matrix/media/v1/create", r.authed(r.handleCreate))
	handle("PUT /_matrix/media/v3/upload/{serverName}/{mediaId}", r.authed(r.handleUploadTo))

	// Authenticated (spec v1.11).
	handle("GET /_matrix/client/v1/media/config", r.authed(r.handleConfig))
	handle("GET /_matrix/client/v1/media/download/{serverName}/{mediaId}", r.authed(r.handleDownload(false)))
	handle("GET /_matrix/client/v1/media/download/{serverName}/{mediaId}/{fileName}", r.authed(r.handleDownload(false)))
	handle("GET /_matrix/client/v1/media/thumbnail/{serverName}/{mediaId}", r.authed(r.handleThumbnail(false)))

	// Deprecated since v1.11 but still served, unauthenticated, for clients
	// and bridges that predate authenticated media. The spec suggests
	// freezing them for media uploaded later; not done, since bridges
	// hosted here may rely on them.
	handle("GET /_matrix/media/v3/config", r.authed(r.handleConfig))
	handle("GET /_matrix/media/v3/download/{serverName}/{mediaId}", r.handleLegacy(r.handleDownload(true)))
	handle("GET /_matrix/media/v3/download/{serverName}/{mediaId}/{fileName}", r.handleLegacy(r.handleDownload(true)))
	handle("GET /_matrix/media/v3/thumbnail/{serverName}/{mediaId}", r.handleLegacy(r.handleThumbnail(true)))
}

type identHandler func(w http.ResponseWriter, req *http.Request, ident mxhttp.Identity)

// authed requires an access token and passes on who it belongs to.
func (r *Repo) authed(h identHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		ident, err := r.auth.Authenticate(req)
		if err != nil {
			r.writeError(w, req, err)
			return
		}
		req = req.WithContext(mxhttp.WithIdentity(req.Context(), ident))
		h(w, req, ident)
	}
}

// handleLegacy serves an unauthenticated endpoint, and honours its
// allow_remote=false: such a request for remote media is answered without
// trying to fetch it. (Nothing is fetched yet in any case.)
func (r *Repo) handleLegacy(h identHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Query().Get("allow_remote") == "false" {
			if err := checkURI(req.PathValue("serverName"), req.PathValue("mediaId")); err != nil {
				r.writeError(w, req, err)
				return
			}
			if req.PathValue("serverName") != r.serverName {
				mautrix.MNotFound.WithMessage("Media of other servers is not fetched with allow_remote=false").Write(w)
				return
			}
		}
		h(w, req, mxhttp.Identity{})
	}
}

func (r *Repo) handleConfig(w http.ResponseWriter, _ *http.Request, _ mxhttp.Identity) {
	mxhttp.WriteJSON(w, http.StatusOK, map[string]int64{"m.upload.size": r.maxUpload})
}

func (r *Repo) handleUpload(w http.ResponseWriter, req *http.Request, ident mxhttp.Identity) {
	if req.ContentLength > r.maxUpload {
		r.writeError(w, req, fmt.Errorf("%w: Content-Length %d", ErrTooLarge, req.ContentLength))
		return
	}
	uri, err := r.Upload(req.Context(), ident.UserID, req.Header.Get("Content-Type"), req.URL.Query().Get("filename"), req.Body)
	if err != nil {
		r.writeError(w, req, err)
		return
	}
	mxhttp.WriteJSON(w, http.StatusOK, map[string]string{"content_uri": uri.String()})
}

func (r *Repo) handleCreate(w http.ResponseWriter, req *http.Request, ident mxhttp.Identity) {
	now := r.now()
	expires := now.Add(unusedIDLifetime)
	mediaID := newMediaID()
	err := r.store.insertPending(req.Context(), mediaID, ident.UserID, now, expires, maxPendingPerUser)
	if errors.Is(err, errTooManyPending) {
		mautrix.MLimitExceeded.WithMessage("Too many uploads pending: upload to the media ids already created first").Write(w)
		return
	}
	if err != nil {
		r.writeError(w, req, err)
		return
	}
	mxhttp.WriteJSON(w, http.StatusOK, map[string]any{
		"content_uri":       id.ContentURI{Homeserver: r.serverName, FileID: mediaID}.String(),
		"unused_expires_at": expires.UnixMilli(),
	})
}

// handleUploadTo stores the content of an id made by /create.
func (r *Repo) handleUploadTo(w http.ResponseWriter, req *http.Request, ident mxhttp.Identity) {
	ctx := req.Context()
	serverName, mediaID := req.PathValue("serverName"), req.PathValue("mediaId")
	if err := checkURI(serverName, mediaID); err != nil {
		r.writeError(w, req, err)
		return
	}
	if serverName != r.serverName {
		mautrix.MNotFound.WithMessage("Unknown media id: it was not created on this server").Write(w)
		return
	}
	rw, err := r.store.get(ctx, mediaID)
	switch {
	case errors.Is(err, ErrNotFound):
		mautrix.MNotFound.WithMessage("Unknown media id: create one with POST /_matrix/media/v1/create").Write(w)
		return
	case err != nil:
		r.writeError(w, req, err)
		return
	case rw.Uploader != ident.UserID:
		mautrix.MForbidden.WithMessage("This media id was created by another user").Write(w)
		return
	case !rw.pending():
		mCannotOverwriteMedia.WithMessage("Media already uploaded").Write(w)
		return
	case !rw.Expires.After(r.now()):
		mautrix.MNotFound.WithMessage("This media id has expired: create a new one").Write(w)
		return
	}
	if req.ContentLength > r.maxUpload {
		r.writeError(w, req, fmt.Errorf("%w: Content-Length %d", ErrTooLarge, req.ContentLength))
		return
	}
	fileName := req.URL.Query().Get("filename")
	if err := checkFileName(fileName); err != nil {
		r.writeError(w, req, err)
		return
	}
	digest, size, err := r.blobs.put(req.Body, r.maxUpload)
	if err != nil {
		r.writeError(w, req, err)
		return
	}
	rw.ContentType = normalizeContentType(req.Header.Get("Content-Type"))
	rw.FileName = fileName
	rw.SHA256, rw.Size = digest, size
	rw.Uploaded = r.now()
	ok, err := r.store.complete(ctx, rw)
	if err != nil {
		r.writeError(w, req, err)
		return
	}
	if !ok {
		mCannotOverwriteMedia.WithMessage("Media already uploaded").Write(w)
		return
	}
	r.notifyUploaded(mediaID)
	mxhttp.WriteJSON(w, http.StatusOK, struct{}{})
}

func (r *Repo) handleDownload(legacy bool) identHandler {
	return func(w http.ResponseWriter, req *http.Request, _ mxhttp.Identity) {
		ctx := req.Context()
		wait, err := parseTimeout(req)
		if err != nil {
			r.writeError(w, req, err)
			return
		}
		rw, err := r.lookupWait(ctx, req.PathValue("serverName"), req.PathValue("mediaId"), wait)
		if err != nil {
			r.writeError(w, req, err)
			return
		}
		name := rw.FileName
		if override := req.PathValue("fileName"); override != "" {
			if err := checkFileName(override); err != nil {
				r.writeError(w, req, err)
				return
			}
			name = override
		}
		f, err := r.blobs.open(rw.SHA256)
		if err != nil {
			r.fileError(w, req, rw, err)
			return
		}
		defer f.Close()
		serveContent(w, req, f, rw.ContentType, formatDisposition(dispositionFor(rw.ContentType), name), rw.SHA256, rw.Uploaded, legacy)
	}
}

func (r *Repo) handleThumbnail(legacy bool) identHandler {
	return func(w http.ResponseWriter, req *http.Request, _ mxhttp.Identity) {
		ctx := req.Context()
		p, err := parseThumbnailParams(req.URL.Query())
		if err != nil {
			r.writeError(w, req, err)
			return
		}
		wait, err := parseTimeout(req)
		if err != nil {
			r.writeError(w, req, err)
			return
		}
		rw, err := r.lookupWait(ctx, req.PathValue("serverName"), req.PathValue("mediaId"), wait)
		if err != nil {
			r.writeError(w, req, err)
			return
		}
		if p.Animated && r.serveAnimatedOriginal(w, req, rw, p, false, legacy) {
			return
		}
		k := thumbKey{MediaID: rw.MediaID, Width: p.Width, Height: p.Height, Method: p.Method}
		for attempt := 0; ; attempt++ {
			tr, err := r.thumbs.get(ctx, rw, k)
			if errors.Is(err, errCannotThumbnail) && p.Animated && r.serveAnimatedOriginal(w, req, rw, p, true, legacy) {
				return
			}
			if err != nil {
				r.writeError(w, req, err)
				return
			}
			f, err := r.blobs.open(tr.SHA256)
			if errors.Is(err, ErrNotFound) && attempt == 0 {
				// The cached file is gone: forget it and make it again.
				r.log.WarnContext(ctx, "thumbnail file missing", slog.String("media_id", rw.MediaID), slog.String("sha256", tr.SHA256))
				if err := r.store.deleteThumbnail(ctx, k); err != nil {
					r.writeError(w, req, err)
					return
				}
				continue
			}
			if err != nil {
				r.fileError(w, req, rw, err)
				return
			}
			defer f.Close()
			serveContent(w, req, f, tr.ContentType, formatDisposition("inline", thumbnailFileName(tr.ContentType)), tr.SHA256, tr.Created, legacy)
			return
		}
	}
}

// serveAnimatedOriginal answers a request for an animated thumbnail with
// the original, when it is an image that may be animated and small enough
// (see animatedOriginal). It reports whether it answered.
func (r *Repo) serveAnimatedOriginal(w http.ResponseWriter, req *http.Request, rw *row, p thumbParams, anySize, legacy bool) bool {
	if rw.Size > defaultLimits.maxOriginal {
		return false
	}
	f, err := r.blobs.open(rw.SHA256)
	if err != nil {
		return false
	}
	defer f.Close()
	contentType, ok := animatedOriginal(f, rw.Size, p.Width, p.Height, anySize, defaultLimits)
	if !ok {
		return false
	}
	if _, err := f.Seek(0, 0); err != nil {
		return false
	}
	serveContent(w, req, f, contentType, formatDisposition("inline", thumbnailFileName(contentType)), rw.SHA256, rw.Uploaded, legacy)
	return true
}

// parseTimeout reads timeout_ms: how long to wait for content not uploaded
// yet.
func parseTimeout(req *http.Request) (time.Duration, error) {
	v := req.URL.Query().Get("timeout_ms")
	if v == "" {
		return defaultWait, nil
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil || ms < 0 {
		return 0, mautrix.MInvalidParam.WithMessage("timeout_ms must be a non-negative integer")
	}
	return time.Duration(min(ms, maxWait.Milliseconds())) * time.Millisecond, nil
}

// fileError answers when a row's file cannot be opened. A missing file is
// logged and answered 404: the row outlived its file (restored backup,
// deleted by hand), which the client cannot fix either way.
func (r *Repo) fileError(w http.ResponseWriter, req *http.Request, rw *row, err error) {
	if errors.Is(err, ErrNotFound) {
		r.log.WarnContext(req.Context(), "media file missing", slog.String("media_id", rw.MediaID), slog.String("sha256", rw.SHA256))
	}
	r.writeError(w, req, err)
}

// writeError answers with the Matrix error for err.
func (r *Repo) writeError(w http.ResponseWriter, req *http.Request, err error) {
	var resp mautrix.RespError
	var readErr *readError
	switch {
	case errors.As(err, &resp):
		mxhttp.WriteError(w, req, r.log, err)
	case errors.Is(err, ErrInvalidID):
		mautrix.MInvalidParam.WithMessage("Invalid media id or server name: media ids are made of A-Z a-z 0-9 _ - only").Write(w)
	case errors.Is(err, ErrInvalidFileName):
		mautrix.MInvalidParam.WithMessage("Invalid file name (%s): use UTF-8 without control characters, at most %d bytes", fileNameProblem(err), MaxFileNameBytes).Write(w)
	case errors.Is(err, ErrRemote):
		mRemoteMediaNotFetched.Write(w)
	case errors.Is(err, ErrNotFound):
		mMediaNotFound.Write(w)
	case errors.Is(err, ErrNotYetUploaded):
		mNotYetUploaded.WithMessage("Content has not yet been uploaded").Write(w)
	case errors.Is(err, ErrTooLarge):
		mautrix.MTooLarge.WithMessage("Cannot upload files larger than %d bytes", r.maxUpload).Write(w)
	case errors.Is(err, errThumbnailTooLarge):
		mTooLargeToThumbnail.Write(w)
	case errors.Is(err, errCannotThumbnail):
		mCannotThumbnail.Write(w)
	case errors.As(err, &readErr):
		r.log.DebugContext(req.Context(), "upload body not read", slog.Any("error", err))
		mCouldNotReadBody.Write(w)
	case errors.Is(err, context.Canceled) && req.Context().Err() != nil:
		// The client went away; nobody reads an answer.
	default:
		mxhttp.WriteError(w, req, r.log, err)
	}
}

// lookupWait is lookup that waits up to wait for content created with
// /create but not uploaded yet.
func (r *Repo) lookupWait(ctx context.Context, serverName, mediaID string, wait time.Duration) (*row, error) {
	rw, err := r.lookup(ctx, serverName, mediaID)
	if !errors.Is(err, ErrNotYetUploaded) || wait <= 0 {
		return rw, err
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		// Register before looking again, so an upload finishing in
		// between is not missed.
		ch, done := r.waitFor(mediaID)
		rw, err = r.lookup(ctx, serverName, mediaID)
		if !errors.Is(err, ErrNotYetUploaded) {
			done()
			return rw, err
		}
		select {
		case <-ch:
			done()
		case <-timer.C:
			done()
			return nil, err
		case <-ctx.Done():
			done()
			return nil, ctx.Err()
		}
	}
}

// waiter is closed when a pending media id gets its content.
type waiter struct {
	ch chan struct{}
	n  int
}

// waitFor returns a channel closed when mediaID's content is uploaded, and
// a function to call when no longer waiting.
func (r *Repo) waitFor(mediaID string) (<-chan struct{}, func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	wt := r.waiters[mediaID]
	if wt == nil {
		wt = &waiter{ch: make(chan struct{})}
		r.waiters[mediaID] = wt
	}
	wt.n++
	return wt.ch, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		wt.n--
		if wt.n == 0 && r.waiters[mediaID] == wt {
			delete(r.waiters, mediaID)
		}
	}
}

func (r *Repo) notifyUploaded(mediaID string) {
	r.mu.Lock()
	wt := r.waiters[mediaID]
	delete(r.waiters, mediaID)
	r.mu.Unlock()
	if wt != nil {
		close(wt.ch)
	}
}
