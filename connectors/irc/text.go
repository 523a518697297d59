package irc

import (
	"crypto/tls"
	"fmt"
	"html"
	"strings"

	"github.com/lrstanley/girc"
	"maunium.net/go/mautrix/id"

	"switchboard/connectors"
	"switchboard/connectors/irc/ircfmt"
)

// toPlain is IRC text without its formatting codes.
func toPlain(text string) string {
	body, _ := ircfmt.ToMatrix(text)
	return body
}

// pillHTML links to a Matrix user the way clients show a mention pill.
func pillHTML(user id.UserID, text string) string {
	return `<a href="` + html.EscapeString(user.URI().MatrixToURL()) + `">` + html.EscapeString(text) + `</a>`
}

// loadCert reads the client certificate for SASL EXTERNAL.
func loadCert(certFile, keyFile string) (*tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("sasl.cert_file/key_file: %w", err)
	}
	return &cert, nil
}

// retryable reports whether the bridge should try err's call again.
func retryable(err error) bool {
	ok, _ := connectors.Retryable(err)
	return ok
}

// tagEscaper writes an IRCv3 message-tag value.
var tagEscaper = strings.NewReplacer(`\`, `\\`, ";", `\:`, " ", `\s`, "\r", `\r`, "\n", `\n`)

// setTag sets a message tag. girc's Tags.Set refuses any value that is not
// printable ASCII, so an emoji reaction could not be sent through it; the
// spec allows any UTF-8, escaped.
func setTag(tags girc.Tags, key, value string) {
	tags[key] = tagEscaper.Replace(value)
}
