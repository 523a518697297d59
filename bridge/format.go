package bridge

import (
	"html"
	"net/url"
	"strings"

	xhtml "golang.org/x/net/html"
)

// The HTML subset that crosses the bridge both ways: what the Matrix spec
// recommends clients render (client-server API, "m.room.message msgtypes",
// HTML), with the attributes it allows. No Go library here sanitises to an
// allowlist (mautrix's format package converts HTML, it does not clean it),
// so this is a small tokenizer-based filter: unknown tags are dropped but
// their text kept, the content of script-like tags is dropped entirely,
// attributes not listed are dropped, and links keep only safe schemes.

var allowedTags = map[string]bool{
	"font": true, "del": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
	"blockquote": true, "p": true, "a": true, "ul": true, "ol": true, "sup": true, "sub": true, "li": true,
	"b": true, "i": true, "u": true, "strong": true, "em": true, "s": true, "strike": true, "code": true,
	"hr": true, "br": true, "div": true, "table": true, "thead": true, "tbody": true, "tr": true, "th": true,
	"td": true, "caption": true, "pre": true, "span": true, "img": true, "details": true, "summary": true,
}

// droppedWithContent are tags whose content is never text for people.
var droppedWithContent = map[string]bool{
	"script": true, "style": true, "iframe": true, "object": true, "noscript": true,
	"template": true, "head": true, "title": true, "textarea": true, "select": true, "mx-reply": true,
}

// droppedVoid are tags dropped that never have content or an end tag.
var droppedVoid = map[string]bool{"embed": true, "input": true, "link": true, "meta": true, "base": true}

var allowedAttrs = map[string]map[string]bool{
	"font": {"data-mx-bg-color": true, "data-mx-color": true, "color": true},
	"span": {"data-mx-bg-color": true, "data-mx-color": true, "data-mx-spoiler": true},
	"a":    {"name": true, "target": true, "href": true},
	"img":  {"width": true, "height": true, "alt": true, "title": true, "src": true},
	"ol":   {"start": true},
	"code": {"class": true},
}

var allowedSchemes = map[string]bool{"http": true, "https": true, "ftp": true, "mailto": true, "magnet": true, "matrix": true}

// maxNesting bounds how deep tags may nest; deeper tags are dropped (their
// text kept), so hostile input cannot make renderers recurse without end.
const maxNesting = 100

// SanitizeHTML returns s reduced to the allowed subset, with every tag it
// keeps closed. Text is re-escaped, so the result is well-formed.
func SanitizeHTML(s string) string {
	z := xhtml.NewTokenizer(strings.NewReader(s))
	var out strings.Builder
	var open []string
	var skipping []string // dropped tags whose content is being skipped
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			break // io.EOF, or input the tokenizer gave up on: keep what was read
		}
		tok := z.Token()
		switch tt {
		case xhtml.TextToken:
			if len(skipping) == 0 {
				out.WriteString(escapeText(tok.Data))
			}
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			name := tok.Data
			if droppedVoid[name] {
				continue
			}
			if droppedWithContent[name] {
				// Even written as <script/>, the tokenizer reads what
				// follows as the tag's content, up to its end tag.
				skipping = append(skipping, name)
				continue
			}
			if len(skipping) > 0 || !allowedTags[name] || len(open) >= maxNesting {
				continue
			}
			out.WriteString(startTag(name, tok.Attr))
			if name == "br" || name == "hr" || name == "img" {
				continue // void elements: nothing to close
			}
			if tt == xhtml.SelfClosingTagToken {
				out.WriteString("</" + name + ">")
				continue
			}
			open = append(open, name)
		case xhtml.EndTagToken:
			name := tok.Data
			if len(skipping) > 0 {
				// Only the matching end tag ends a skipped region.
				if skipping[len(skipping)-1] == name {
					skipping = skipping[:len(skipping)-1]
				}
				continue
			}
			if !allowedTags[name] {
				continue
			}
			// Close up to the matching open tag; a stray end tag is dropped.
			for i := len(open) - 1; i >= 0; i-- {
				if open[i] == name {
					for j := len(open) - 1; j >= i; j-- {
						out.WriteString("</" + open[j] + ">")
					}
					open = open[:i]
					break
				}
			}
		}
	}
	for i := len(open) - 1; i >= 0; i-- {
		out.WriteString("</" + open[i] + ">")
	}
	return out.String()
}

func startTag(name string, attrs []xhtml.Attribute) string {
	var b strings.Builder
	b.WriteString("<" + name)
	allowed := allowedAttrs[name]
	for _, a := range attrs {
		key := strings.ToLower(a.Key)
		if !allowed[key] {
			continue
		}
		val := a.Val
		switch {
		case name == "a" && key == "href":
			if !safeLink(val) {
				continue
			}
		case name == "img" && key == "src":
			if !strings.HasPrefix(val, "mxc://") {
				continue // only the media repository: no tracking pixels
			}
		case name == "code" && key == "class":
			if !strings.HasPrefix(val, "language-") {
				continue
			}
		}
		b.WriteString(" " + key + `="` + escapeText(val) + `"`)
	}
	b.WriteString(">")
	return b.String()
}

func safeLink(href string) bool {
	u, err := url.Parse(strings.TrimSpace(href))
	if err != nil {
		return false
	}
	return allowedSchemes[strings.ToLower(u.Scheme)]
}

// escapeText escapes text for HTML, carriage returns included: a parser
// turns a raw CR into a newline, so one kept raw would not survive a second
// pass unchanged.
func escapeText(s string) string {
	return strings.ReplaceAll(html.EscapeString(s), "\r", "&#13;")
}
