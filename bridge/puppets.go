package bridge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/appservice"
	"switchboard/connectors"
	"switchboard/puppet"
)

// ensurePuppet makes sure user's puppet exists on the homeserver with the
// right display name (name, when given; else what the network says) and
// returns its intent. A known puppet with an unchanged name costs nothing.
func (b *Bridge) ensurePuppet(ctx context.Context, user connectors.RemoteUserID, name string) (appservice.Intent, error) {
	if user == "" {
		return b.bot, nil
	}
	userID := b.ids.puppetUserID(user)
	intent := b.mx.Intent(userID)
	b.puppetMu.Lock()
	known := b.puppetSeen[user]
	b.puppetMu.Unlock()
	if known != nil && (name == "" || known.DisplayName == name) {
		return intent, nil
	}
	p, err := b.puppets.Get(ctx, b.network, string(user))
	if err != nil {
		return nil, err
	}
	if p == nil {
		p = &puppet.Puppet{Network: b.network, RemoteID: string(user), UserID: userID}
	}
	var avatar *connectors.Attachment
	if name == "" && p.DisplayName == "" {
		info, err := b.conn.UserInfo(ctx, user)
		switch {
		case err == nil && info != nil:
			name, avatar = info.DisplayName, info.Avatar
		case err != nil && !errors.Is(err, connectors.ErrNotFound):
			b.log.Debug("user info", "remote_user", string(user), "error", err)
		}
		if name == "" {
			name = string(user)
		}
	}
	changed := false
	if !p.Registered {
		if err := intent.EnsureRegistered(ctx); err != nil {
			return nil, fmt.Errorf("register puppet %s: %w", userID, err)
		}
		p.Registered, changed = true, true
	}
	if name != "" && name != p.DisplayName {
		if err := intent.SetDisplayName(ctx, name); err != nil {
			return nil, fmt.Errorf("set puppet %s display name: %w", userID, err)
		}
		p.DisplayName, changed = name, true
	}
	if avatar != nil {
		if err := b.setPuppetAvatar(ctx, intent, p, avatar); err != nil {
			b.log.Debug("puppet avatar", "user_id", string(userID), "error", err)
		} else {
			changed = true
		}
	}
	if changed {
		if err := b.puppets.Put(ctx, p); err != nil {
			return nil, err
		}
	}
	b.puppetMu.Lock()
	b.puppetSeen[user] = p
	b.puppetMu.Unlock()
	return intent, nil
}

func (b *Bridge) setPuppetAvatar(ctx context.Context, intent appservice.Intent, p *puppet.Puppet, a *connectors.Attachment) error {
	data, err := b.attachmentData(ctx, a)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	if hash == p.AvatarHash {
		return nil
	}
	uri, err := intent.Upload(ctx, data, a.MimeType, a.Name)
	if err != nil {
		return err
	}
	if err := intent.SetAvatarURL(ctx, uri); err != nil {
		return err
	}
	p.AvatarURL, p.AvatarHash = uri, hash
	return nil
}

// puppetInRoom is ensurePuppet plus a join of the portal room.
func (b *Bridge) puppetInRoom(ctx context.Context, user connectors.RemoteUserID, name string, room id.RoomID) (appservice.Intent, error) {
	intent, err := b.ensurePuppet(ctx, user, name)
	if err != nil {
		return nil, err
	}
	if err := intent.EnsureJoined(ctx, room); err != nil {
		return nil, fmt.Errorf("join %s to %s: %w", intent.UserID(), room, err)
	}
	return intent, nil
}

// downloadClient fetches files a connector names by URL; the timeout keeps
// a stalled server from holding a lane for ever.
var downloadClient = &http.Client{Timeout: 2 * time.Minute}

// attachmentData returns an attachment's bytes: given, or downloaded from
// its URL, bounded by the media limit.
func (b *Bridge) attachmentData(ctx context.Context, a *connectors.Attachment) ([]byte, error) {
	if a.Data != nil {
		if int64(len(a.Data)) > b.maxMedia {
			return nil, fmt.Errorf("file of %d bytes is over the %d-byte limit", len(a.Data), b.maxMedia)
		}
		return a.Data, nil
	}
	if a.URL == "" {
		return nil, fmt.Errorf("attachment has neither data nor a URL")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.URL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := downloadClient.Do(req)
	if err != nil {
		return nil, connectors.Unavailable(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("download %s: %s", a.URL, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, b.maxMedia+1))
	if err != nil {
		return nil, connectors.Unavailable(err)
	}
	if int64(len(data)) > b.maxMedia {
		return nil, fmt.Errorf("file at %s is over the %d-byte limit", a.URL, b.maxMedia)
	}
	if a.MimeType == "" {
		a.MimeType = resp.Header.Get("Content-Type")
	}
	return data, nil
}

// uploadAttachment uploads a remote file to the media repository and fills
// the media fields of c.
func (b *Bridge) uploadAttachment(ctx context.Context, intent appservice.Intent, a *connectors.Attachment, c *event.MessageEventContent) error {
	data, err := b.attachmentData(ctx, a)
	if err != nil {
		// A file that cannot be carried is not worth losing the message
		// over: say so in the body instead.
		b.log.Debug("attachment not carried", "error", err)
		c.Body += fmt.Sprintf(" [file %q not bridged: %v]", a.Name, err)
		if c.MsgType != event.MsgNotice && c.MsgType != event.MsgEmote {
			c.MsgType = event.MsgText
		}
		return nil
	}
	if a.MimeType == "" {
		a.MimeType = http.DetectContentType(data)
	}
	uri, err := intent.Upload(ctx, data, a.MimeType, a.Name)
	if err != nil {
		return err
	}
	c.URL = uri
	c.Info = &event.FileInfo{MimeType: a.MimeType, Size: len(data), Width: a.Width, Height: a.Height}
	if a.Name != "" {
		c.FileName = a.Name
		if c.Body == "" {
			c.Body = a.Name
		}
	}
	if c.MsgType == "" || c.MsgType == event.MsgText {
		c.MsgType = msgTypeForMime(a.MimeType)
	}
	return nil
}

func msgTypeForMime(mime string) event.MessageType {
	switch {
	case strings.HasPrefix(mime, "image/"):
		return event.MsgImage
	case strings.HasPrefix(mime, "video/"):
		return event.MsgVideo
	case strings.HasPrefix(mime, "audio/"):
		return event.MsgAudio
	}
	return event.MsgFile
}

// publicMediaURL is a link to uploaded media that opens without a Matrix
// account: the homeserver's unauthenticated download path under the
// configured public URL, or the mxc:// URI itself when none is configured.
func (b *Bridge) publicMediaURL(uri id.ContentURIString, name string) string {
	parsed, err := uri.Parse()
	if b.mediaURL == "" || err != nil {
		return string(uri)
	}
	link := b.mediaURL + "/_matrix/media/v3/download/" + url.PathEscape(parsed.Homeserver) + "/" + url.PathEscape(parsed.FileID)
	if name != "" {
		link += "/" + url.PathEscape(name)
	}
	return link
}
