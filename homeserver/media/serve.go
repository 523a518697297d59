package media

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
)

// contentSecurityPolicy is the policy the spec recommends for served media:
// nothing in a file may run scripts or load anything, even when a browser
// is tricked into rendering it as a page.
const contentSecurityPolicy = "sandbox; default-src 'none'; script-src 'none'; plugin-types application/pdf; style-src 'unsafe-inline'; object-src 'self';"

// inlineTypes are the content types the spec lists as safe to serve with
// Content-Disposition: inline; everything else is served as an attachment.
var inlineTypes = map[string]bool{
	"text/css":            true,
	"text/plain":          true,
	"text/csv":            true,
	"application/json":    true,
	"application/ld+json": true,
	"image/jpeg":          true,
	"image/gif":           true,
	"image/png":           true,
	"image/apng":          true,
	"image/webp":          true,
	"image/avif":          true,
	"video/mp4":           true,
	"video/webm":          true,
	"video/ogg":           true,
	"video/quicktime":     true,
	"audio/mp4":           true,
	"audio/webm":          true,
	"audio/aac":           true,
	"audio/mpeg":          true,
	"audio/ogg":           true,
	"audio/wave":          true,
	"audio/wav":           true,
	"audio/x-wav":         true,
	"audio/x-pn-wav":      true,
	"audio/flac":          true,
	"audio/x-flac":        true,
}

// dispositionFor returns "inline" for content types safe to show in a
// browser and "attachment" for the rest.
func dispositionFor(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err == nil && inlineTypes[mt] {
		return "inline"
	}
	return "attachment"
}

// formatDisposition builds a Content-Disposition header (RFC 6266). A
// plain ASCII name goes in filename="..."; any other gets an ASCII stand-in
// there and the exact name, UTF-8 and percent-encoded (RFC 8187), in
// filename*, which every current browser prefers. Backslashes and quotes
// take the second form too: browsers disagree on quoted-string escapes.
func formatDisposition(kind, name string) string {
	if name == "" {
		return kind
	}
	plain := true
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			plain = false
			break
		}
	}
	if plain {
		return kind + `; filename="` + name + `"`
	}
	var fallback, encoded strings.Builder
	for _, r := range name {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			fallback.WriteByte('_')
		} else {
			fallback.WriteRune(r)
		}
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if isAttrChar(c) {
			encoded.WriteByte(c)
		} else {
			fmt.Fprintf(&encoded, "%%%02X", c)
		}
	}
	return kind + `; filename="` + fallback.String() + `"; filename*=UTF-8''` + encoded.String()
}

// isAttrChar reports whether c may stand unencoded in an RFC 8187 value.
func isAttrChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}

// serveContent answers with stored content: the headers the spec asks for
// on media, caching for content that never changes, and Range and
// conditional requests through http.ServeContent. Content of the
// authenticated endpoints may be cached by the browser only (private);
// that of the legacy endpoints by any cache.
func serveContent(w http.ResponseWriter, r *http.Request, content io.ReadSeeker, contentType, disposition, digest string, modified time.Time, public bool) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", disposition)
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("ETag", `"`+digest+`"`)
	if public {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "private, max-age=31536000, immutable")
	}
	http.ServeContent(w, r, "", modified, content)
}
