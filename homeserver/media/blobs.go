package media

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// blobs stores file contents under root, each named by the hex SHA-256 of
// its bytes (root/ab/abcdef...), so identical content is stored once. A blob
// never changes once written; uploads are written to root/tmp first and
// renamed into place, so a reader never sees a partial file.
//
// Blobs are never deleted yet: two rows may share one, and media deletion
// (with a sweep of unreferenced blobs) does not exist.
type blobs struct {
	root string
}

// staleTempAge is how old a temp file must be before start-up removes it as
// the leftover of a crash; an upload in progress keeps its file's
// modification time fresh.
const staleTempAge = time.Hour

func newBlobs(root string) (*blobs, error) {
	b := &blobs{root: root}
	if err := os.MkdirAll(b.tmpDir(), 0o700); err != nil {
		return nil, fmt.Errorf("create media directory: %w", err)
	}
	b.removeStaleTemps()
	return b, nil
}

func (b *blobs) tmpDir() string { return filepath.Join(b.root, "tmp") }

// path returns where the blob with the given hex digest lives. The digest
// comes from our own hashing or the database; validDigest guards it anyway,
// since a path is built from it.
func (b *blobs) path(digest string) (string, error) {
	if !validDigest(digest) {
		return "", fmt.Errorf("invalid blob digest %q", truncate(digest, 80))
	}
	return filepath.Join(b.root, digest[:2], digest), nil
}

func validDigest(s string) bool {
	if len(s) != sha256.Size*2 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// readError marks an error that came from reading the upload body (the
// client went away, or sent a broken chunked body), as opposed to one from
// writing to disk.
type readError struct{ err error }

func (e *readError) Error() string { return "read upload body: " + e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

type errReader struct{ r io.Reader }

func (er errReader) Read(p []byte) (int, error) {
	n, err := er.r.Read(p)
	if err != nil && err != io.EOF {
		err = &readError{err}
	}
	return n, err
}

// put streams body to a temp file while hashing it, then moves the file to
// its content address. A body longer than limit bytes fails with
// ErrTooLarge. On any error the temp file is removed, so nothing is left
// on disk.
func (b *blobs) put(body io.Reader, limit int64) (digest string, size int64, err error) {
	f, err := os.CreateTemp(b.tmpDir(), "upload-*")
	if err != nil {
		return "", 0, fmt.Errorf("create temp file: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if f != nil {
			_ = f.Close()
		}
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()

	h := sha256.New()
	size, err = io.Copy(io.MultiWriter(f, h), errReader{io.LimitReader(body, limit+1)})
	if err != nil {
		return "", 0, fmt.Errorf("store upload: %w", err)
	}
	if size > limit {
		return "", 0, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
	}
	if err = f.Sync(); err != nil {
		return "", 0, fmt.Errorf("sync upload: %w", err)
	}
	if err = f.Close(); err != nil {
		f = nil
		return "", 0, fmt.Errorf("close upload: %w", err)
	}
	f = nil

	digest = hex.EncodeToString(h.Sum(nil))
	dst, _ := b.path(digest) // digest is ours: always valid
	if err = os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return "", 0, fmt.Errorf("create blob directory: %w", err)
	}
	if fi, statErr := os.Stat(dst); statErr == nil && fi.Size() == size {
		// Already stored: keep the existing file, drop ours.
		_ = os.Remove(tmp)
		return digest, size, nil
	}
	// Two uploads of the same content may both get here; rename replaces
	// atomically, and both files hold the same bytes.
	if err = os.Rename(tmp, dst); err != nil {
		return "", 0, fmt.Errorf("store blob: %w", err)
	}
	syncDir(filepath.Dir(dst))
	return digest, size, nil
}

// open opens a stored blob. A missing file is ErrNotFound.
func (b *blobs) open(digest string) (*os.File, error) {
	p, err := b.path(digest)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: file %s is missing", ErrNotFound, digest)
	}
	return f, err
}

// removeStaleTemps deletes temp files a crashed process left behind.
func (b *blobs) removeStaleTemps() {
	entries, err := os.ReadDir(b.tmpDir())
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasPrefix(e.Name(), "upload-") {
			continue
		}
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > staleTempAge {
			_ = os.Remove(filepath.Join(b.tmpDir(), e.Name()))
		}
	}
}

// syncDir makes a rename durable; failure only weakens durability, so it is
// ignored.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
