package ircfmt

import (
	"strconv"
	"strings"

	xhtml "golang.org/x/net/html"
)

// FromMatrix converts a Matrix message to IRC text with mIRC codes. html is
// the formatted_body (already sanitised to the subset above; may be ""), body
// the plain body used when html is "". pill is called for each matrix.to user
// link (<a href="https://matrix.to/#/@user:server">text</a>, also
// matrix:u/user:server URIs) with the user id and link text and returns what
// to write instead (a nick); pill may be nil (then the link text is used).
// The result uses '\n' between lines; it is NOT yet split to line length.
//
// Formatting: b/strong, i/em, u, del/s/strike and inline code become bold,
// italic, underline, strikethrough and monospace; font/span colours become
// the nearest of the 16 classic IRC colours; pre makes every line
// monospace. Structure: br, p, div, h1–h6 (also bold), li, tr and the other
// blocks break lines; list items start with "• " or "1. " (indented two
// spaces per nesting level); blockquote lines start with "> "; hr is "---";
// img is its alt text (or "image"); a link is its text, plus " (url)" when
// the text is not the address. mx-reply is dropped with its content, and so
// are script, style and the like, which sanitised HTML never holds. At most
// one blank line separates paragraphs. Control characters in the text,
// mIRC codes among them, are removed: formatting comes from markup only.
func FromMatrix(body, html string, pill func(userID, text string) string) string {
	if strings.TrimSpace(html) == "" {
		var w ircWriter
		w.preformatted(body, style{})
		return w.String()
	}
	c := converter{pill: pill}
	c.convert(html)
	return c.w.String()
}

// maxDepth bounds the elements the converter tracks; deeper ones keep their
// text but lose their effect, so hostile nesting stays linear.
const maxDepth = 100

// droppedWithContent are elements whose content is never message text.
var droppedWithContent = map[string]bool{
	"mx-reply": true, "script": true, "style": true, "head": true, "title": true,
	"iframe": true, "object": true, "template": true, "noscript": true,
	"textarea": true, "select": true, "svg": true, "math": true,
}

// blockElements start and end on a line of their own.
var blockElements = map[string]bool{
	"p": true, "div": true, "table": true, "thead": true, "tbody": true, "tfoot": true,
	"tr": true, "caption": true, "details": true, "summary": true, "dl": true,
	"dt": true, "dd": true, "section": true, "article": true, "header": true,
	"footer": true, "figure": true, "figcaption": true,
}

// converter walks the HTML tokens once, keeping counters for the formatting
// the open elements ask for.
type converter struct {
	w    ircWriter
	pill func(userID, text string) string

	open                                  []element
	bold, italic, underline, strike, mono int
	colors                                []colorPair
	quoteDepth, pre                       int
	lists                                 []list
	links                                 []*link
	capturing                             int      // open pill links whose text is replaced
	skipping                              []string // dropped elements being skipped, innermost last
	afterPreStart                         bool     // a newline right after <pre> is not content
}

// element is an open element and what undoing it needs.
type element struct {
	name        string
	pushedColor bool
}

type colorPair struct{ fg, bg color }

type list struct {
	ordered bool
	next    int
}

type link struct {
	href   string
	userID string // set for a link to a Matrix user
	text   strings.Builder
	pill   bool // the text is replaced by the pill callback
}

func (c *converter) convert(html string) {
	z := xhtml.NewTokenizer(strings.NewReader(html))
	for {
		tt := z.Next()
		switch tt {
		case xhtml.ErrorToken:
			c.closeAll()
			return // io.EOF, or input the tokenizer gave up on: keep what was read
		case xhtml.TextToken:
			if len(c.skipping) == 0 {
				c.handleText(string(z.Text()))
			}
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			tok := z.Token()
			c.afterPreStart = false
			if c.skip(tok.Data, true) {
				continue
			}
			if isVoid(tok.Data) {
				c.handleVoid(tok)
			} else if tt == xhtml.StartTagToken && len(c.open) < maxDepth {
				c.start(tok)
			}
		case xhtml.EndTagToken:
			name, _ := z.TagName()
			c.afterPreStart = false
			if !c.skip(string(name), false) {
				c.end(string(name))
			}
		}
	}
}

// skip tracks elements dropped with their content and reports whether the
// tag at hand is inside one (or is one).
func (c *converter) skip(name string, start bool) bool {
	if start && droppedWithContent[name] {
		c.skipping = append(c.skipping, name)
		return true
	}
	if len(c.skipping) == 0 {
		return false
	}
	if !start && c.skipping[len(c.skipping)-1] == name {
		c.skipping = c.skipping[:len(c.skipping)-1]
	}
	return true
}

func isVoid(name string) bool {
	switch name {
	case "br", "hr", "img", "wbr", "input", "embed", "link", "meta", "base", "area", "col", "source", "track":
		return true
	}
	return false
}

func (c *converter) handleVoid(tok xhtml.Token) {
	switch tok.Data {
	case "br":
		if c.capturing == 0 {
			c.w.hardBreak()
		}
	case "hr":
		if c.capturing == 0 {
			c.w.softBreak()
			c.w.literal("---")
			c.w.softBreak()
		}
	case "img":
		alt := strings.TrimSpace(attr(tok, "alt"))
		if alt == "" {
			alt = "image"
		}
		c.handleText(alt)
	}
}

func (c *converter) handleText(s string) {
	if c.afterPreStart {
		c.afterPreStart = false
		s = strings.TrimPrefix(s, "\n")
	}
	if n := len(c.links); n > 0 {
		c.links[n-1].text.WriteString(s)
	}
	if c.capturing > 0 {
		return
	}
	if c.pre > 0 {
		c.w.preformatted(s, c.style())
	} else {
		c.w.text(s, c.style())
	}
}

// style is the formatting the open elements ask for.
func (c *converter) style() style {
	st := style{
		bold:      c.bold > 0,
		italic:    c.italic > 0,
		underline: c.underline > 0,
		strike:    c.strike > 0,
		mono:      c.mono > 0,
	}
	if n := len(c.colors); n > 0 {
		st.fg, st.bg = c.colors[n-1].fg, c.colors[n-1].bg
	}
	return st
}

func (c *converter) start(tok xhtml.Token) {
	e := element{name: tok.Data}
	switch tok.Data {
	case "b", "strong":
		c.bold++
	case "i", "em":
		c.italic++
	case "u":
		c.underline++
	case "del", "s", "strike":
		c.strike++
	case "code":
		c.mono++
	case "pre":
		c.block()
		c.pre++
		c.mono++
		c.afterPreStart = true
	case "font", "span":
		e.pushedColor = c.pushColor(tok)
	case "a":
		c.startLink(tok)
	case "h1", "h2", "h3", "h4", "h5", "h6":
		c.block()
		c.bold++
	case "blockquote":
		c.block()
		c.quoteDepth++
		c.w.prefix = strings.Repeat("> ", c.quoteDepth)
	case "ul", "ol":
		c.block()
		c.lists = append(c.lists, list{ordered: tok.Data == "ol", next: startNumber(tok)})
	case "li":
		c.block()
		c.listMarker()
	default:
		if blockElements[tok.Data] {
			c.block()
		}
	}
	c.open = append(c.open, e)
}

// end closes the innermost open element called name and every element
// opened inside it; an end tag with no open element is ignored.
func (c *converter) end(name string) {
	for i := len(c.open) - 1; i >= 0; i-- {
		if c.open[i].name != name {
			continue
		}
		for j := len(c.open) - 1; j >= i; j-- {
			c.undo(c.open[j])
		}
		c.open = c.open[:i]
		return
	}
}

func (c *converter) closeAll() {
	for j := len(c.open) - 1; j >= 0; j-- {
		c.undo(c.open[j])
	}
	c.open = nil
}

// undo reverts what start did for e.
func (c *converter) undo(e element) {
	switch e.name {
	case "b", "strong":
		c.bold--
	case "i", "em":
		c.italic--
	case "u":
		c.underline--
	case "del", "s", "strike":
		c.strike--
	case "code":
		c.mono--
	case "pre":
		c.pre--
		c.mono--
		c.block()
	case "font", "span":
		if e.pushedColor {
			c.colors = c.colors[:len(c.colors)-1]
		}
	case "a":
		c.endLink()
	case "h1", "h2", "h3", "h4", "h5", "h6":
		c.bold--
		c.block()
	case "blockquote":
		c.block()
		c.quoteDepth--
		c.w.prefix = strings.Repeat("> ", c.quoteDepth)
	case "ul", "ol":
		c.lists = c.lists[:len(c.lists)-1]
		c.block()
	case "td", "th":
		if c.capturing == 0 {
			c.w.space()
		}
	case "li":
		c.block()
	default:
		if blockElements[e.name] {
			c.block()
		}
	}
}

// block starts a new line unless the text is going into a pill.
func (c *converter) block() {
	if c.capturing == 0 {
		c.w.softBreak()
	}
}

// listMarker writes "• " or "N. ", indented two spaces per outer list.
func (c *converter) listMarker() {
	if c.capturing > 0 {
		return
	}
	marker := "• "
	if n := len(c.lists); n > 0 {
		l := &c.lists[n-1]
		if l.ordered {
			marker = strconv.Itoa(l.next) + ". "
			l.next++
		}
		marker = strings.Repeat("  ", n-1) + marker
	}
	c.w.literal(marker)
}

func startNumber(tok xhtml.Token) int {
	if n, err := strconv.Atoi(strings.TrimSpace(attr(tok, "start"))); err == nil && n >= 0 && n < 1e9 {
		return n
	}
	return 1
}

// pushColor pushes the colours a font or span sets, each mapped to the
// nearest classic IRC colour; what it leaves unset is inherited.
func (c *converter) pushColor(tok xhtml.Token) bool {
	fgText := attr(tok, "data-mx-color")
	if fgText == "" && tok.Data == "font" {
		fgText = attr(tok, "color")
	}
	fgRGB, hasFg := parseCSSColor(fgText)
	bgRGB, hasBg := parseCSSColor(attr(tok, "data-mx-bg-color"))
	if !hasFg && !hasBg {
		return false
	}
	var pair colorPair
	if n := len(c.colors); n > 0 {
		pair = c.colors[n-1]
	}
	if hasFg {
		pair.fg = paletteColor(nearestPalette(fgRGB, classicColors))
	}
	if hasBg {
		pair.bg = paletteColor(nearestPalette(bgRGB, classicColors))
	}
	c.colors = append(c.colors, pair)
	return true
}

func (c *converter) startLink(tok xhtml.Token) {
	l := &link{href: strings.TrimSpace(attr(tok, "href"))}
	if id := matrixID(l.href); strings.HasPrefix(id, "@") {
		l.userID = id
		l.pill = c.pill != nil
	}
	if l.pill {
		c.capturing++
	}
	c.links = append(c.links, l)
}

// endLink finishes the innermost link: a pill becomes what the callback
// says, a link whose text is not its address gets the address after it.
func (c *converter) endLink() {
	n := len(c.links)
	l := c.links[n-1]
	c.links = c.links[:n-1]
	text := strings.Join(strings.Fields(l.text.String()), " ")
	if n > 1 && !l.pill {
		// an outer link's text includes this one's
		c.links[n-2].text.WriteString(l.text.String())
	}
	switch {
	case l.pill:
		c.capturing--
		c.handleText(strings.Join(strings.Fields(c.pill(l.userID, text)), " "))
	case l.userID != "":
		if text == "" {
			c.handleText(l.userID)
		}
	case l.href == "":
	case text == "":
		c.handleText(l.href)
	case !sameAddress(text, l.href):
		c.handleText(" (" + l.href + ")")
	}
}

// sameAddress reports whether a link's text already says where it goes:
// the address itself, without its scheme or trailing slash, or the Matrix
// identifier a matrix.to or matrix: link points at.
func sameAddress(text, href string) bool {
	if text == href || strings.EqualFold("mailto:"+text, href) {
		return true
	}
	if id := matrixID(href); id != "" && text == id {
		return true
	}
	bare, found := cutPrefixFold(href, "https://")
	if !found {
		bare, _ = cutPrefixFold(href, "http://")
	}
	return strings.TrimSuffix(text, "/") == strings.TrimSuffix(bare, "/")
}

func attr(tok xhtml.Token, key string) string {
	for _, a := range tok.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}
