package media

import "errors"

var (
	// ErrNotFound is returned by Open (and the download and thumbnail
	// handlers) when no media has the id, when a pending id has expired, or
	// when the row's file has gone missing from disk. Answer 404
	// M_NOT_FOUND.
	ErrNotFound = errors.New("media not found")

	// ErrRemote is returned by Open for media of another server: federation
	// is not built yet, so such media cannot be fetched. Answer 404
	// M_NOT_FOUND.
	ErrRemote = errors.New("media of another server is not available")

	// ErrNotYetUploaded is returned by Open for an id made by POST
	// /_matrix/media/v1/create whose content has not been uploaded yet.
	// Retry later; over HTTP it becomes 504 M_NOT_YET_UPLOADED once the
	// client's timeout_ms has passed.
	ErrNotYetUploaded = errors.New("media not yet uploaded")

	// ErrTooLarge is returned by Upload when the body is longer than
	// Options.MaxUploadBytes. Nothing is stored. Answer 413 M_TOO_LARGE.
	ErrTooLarge = errors.New("media too large")

	// ErrInvalidID is returned for a media id that is not made of
	// A-Z a-z 0-9 _ - only, or a server name that is not valid. Answer 400
	// M_INVALID_PARAM; never build a path from such an id.
	ErrInvalidID = errors.New("invalid media id or server name")

	// ErrInvalidFileName is returned by Upload for a file name that is not
	// UTF-8, holds control characters or is longer than MaxFileNameBytes.
	// Answer 400 M_INVALID_PARAM.
	ErrInvalidFileName = errors.New("invalid file name")
)
