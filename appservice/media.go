package appservice

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

// defaultMaxDownload applies when Download is given no positive limit.
const defaultMaxDownload = 100 << 20

func (i *httpIntent) Upload(ctx context.Context, data []byte, contentType, fileName string) (id.ContentURIString, error) {
	if err := i.ready(ctx); err != nil {
		return "", err
	}
	var resp *mautrix.RespMediaUpload
	err := i.m.call(ctx, i.userID, func() error {
		var err error
		resp, err = i.cli.UploadMedia(ctx, mautrix.ReqUploadMedia{ContentBytes: data, ContentType: contentType, FileName: fileName})
		return err
	})
	if err != nil {
		return "", fmt.Errorf("upload %d bytes as %s: %w", len(data), i.userID, err)
	}
	return resp.ContentURI.CUString(), nil
}

func (i *httpIntent) Download(ctx context.Context, uri id.ContentURIString, maxBytes int64) ([]byte, string, error) {
	if err := i.ready(ctx); err != nil {
		return nil, "", err
	}
	if maxBytes <= 0 {
		maxBytes = defaultMaxDownload
	}
	mxc, err := id.ParseContentURI(string(uri))
	if err != nil || !mxc.IsValid() {
		return nil, "", fmt.Errorf("download %q: not a valid mxc:// URI", uri)
	}
	data, contentType, err := i.download(ctx, mautrix.ClientURLPath{"v1", "media", "download", mxc.Homeserver, mxc.FileID}, maxBytes)
	if err != nil && isUnrecognized(err) {
		// A homeserver from before authenticated media (Matrix 1.11).
		data, contentType, err = i.download(ctx, mautrix.MediaURLPath{"v3", "download", mxc.Homeserver, mxc.FileID}, maxBytes)
	}
	if err != nil {
		if errors.Is(err, mautrix.MNotFound) {
			return nil, "", fmt.Errorf("download %s: %w: %w", uri, ErrNotFound, err)
		}
		return nil, "", fmt.Errorf("download %s: %w", uri, err)
	}
	return data, contentType, nil
}

func (i *httpIntent) download(ctx context.Context, path mautrix.PrefixableURLPath, maxBytes int64) (data []byte, contentType string, err error) {
	u := i.cli.BuildURL(path)
	err = i.m.call(ctx, i.userID, func() error {
		_, resp, err := i.cli.MakeFullRequestWithResp(ctx, mautrix.FullRequest{
			Method:           http.MethodGet,
			URL:              u,
			DontReadResponse: true,
		})
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.ContentLength > maxBytes {
			return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, resp.ContentLength, maxBytes)
		}
		// The length may be absent or wrong: count what arrives.
		data, err = io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
		if err != nil {
			return fmt.Errorf("read body: %w", err)
		}
		if int64(len(data)) > maxBytes {
			data = nil
			return fmt.Errorf("%w: over %d bytes", ErrTooLarge, maxBytes)
		}
		contentType = resp.Header.Get("Content-Type")
		return nil
	})
	return data, contentType, err
}

// isUnrecognized reports whether the homeserver does not know the endpoint:
// M_UNRECOGNIZED, or a bare 404/405 (a proxy that does not forward it).
func isUnrecognized(err error) bool {
	var httpErr mautrix.HTTPError
	if !errors.As(err, &httpErr) {
		return false
	}
	if httpErr.RespError != nil {
		return httpErr.RespError.ErrCode == mautrix.MUnrecognized.ErrCode
	}
	return httpErr.IsStatus(http.StatusNotFound) || httpErr.IsStatus(http.StatusMethodNotAllowed)
}
