package bridge

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	xhtml "golang.org/x/net/html"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestSanitizeHTMLGolden runs every testdata/sanitize/*.html through
// SanitizeHTML and compares with the .golden file next to it. Run with
// -update to rewrite them, then read the diff: a golden file is a promise.
func TestSanitizeHTMLGolden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "sanitize", "*.html"))
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatal("no golden inputs in testdata/sanitize")
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".html")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			got := SanitizeHTML(string(src))
			golden := strings.TrimSuffix(in, ".html") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("SanitizeHTML(%s) mismatch\n got: %q\nwant: %q", in, got, want)
			}
			checkSanitized(t, string(src), got)
		})
	}
}

// TestSanitizeHTML pins single behaviours, one line each, so a failure says
// which rule broke without reading a golden diff.
func TestSanitizeHTML(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"plain text", "hello", "hello"},
		{"empty", "", ""},
		{"allowed tag kept", "<b>x</b>", "<b>x</b>"},
		{"unknown tag dropped text kept", "<marquee>x</marquee>", "x"},
		{"unknown tag around allowed", "<article><b>x</b></article>", "<b>x</b>"},
		{"script dropped with content", "a<script>alert(1)</script>b", "ab"},
		{"style dropped with content", "a<style>p{}</style>b", "ab"},
		{"iframe dropped with content", "a<iframe>x<b>y</b></iframe>b", "ab"},
		{"object dropped with nested tags", "a<object><b>x</b><object>y</object>z</object>b", "ab"},
		{"unclosed script drops the rest", "a<script>alert(1)", "a"},
		{"mx-reply dropped with content", "<mx-reply><blockquote>q</blockquote></mx-reply>r", "r"},
		{"on* attribute dropped", `<b onclick="x()">b</b>`, "<b>b</b>"},
		{"style attribute dropped", `<span style="x" data-mx-color="#fff">s</span>`, `<span data-mx-color="#fff">s</span>`},
		{"attribute of another tag dropped", `<b href="https://x/">b</b>`, "<b>b</b>"},
		{"https link kept", `<a href="https://x/">l</a>`, `<a href="https://x/">l</a>`},
		{"matrix link kept", `<a href="matrix:r/room:x">l</a>`, `<a href="matrix:r/room:x">l</a>`},
		{"javascript link dropped", `<a href="javascript:alert(1)">l</a>`, "<a>l</a>"},
		{"javascript mixed case and space", `<a href=" JaVaScRiPt:alert(1)">l</a>`, "<a>l</a>"},
		{"javascript with tab", "<a href=\"java\tscript:alert(1)\">l</a>", "<a>l</a>"},
		{"javascript as entities", `<a href="&#106;avascript&colon;alert(1)">l</a>`, "<a>l</a>"},
		{"data link dropped", `<a href="data:text/html,x">l</a>`, "<a>l</a>"},
		{"relative link dropped", `<a href="/x">l</a>`, "<a>l</a>"},
		{"img mxc kept", `<img src="mxc://a/b">`, `<img src="mxc://a/b">`},
		{"img https src dropped", `<img src="https://a/b" alt="x">`, `<img alt="x">`},
		{"img data src dropped", `<img src="data:image/png;base64,AA==">`, `<img>`},
		{"code language class kept", `<code class="language-go">x</code>`, `<code class="language-go">x</code>`},
		{"code other class dropped", `<code class="evil">x</code>`, `<code>x</code>`},
		{"unclosed tags closed in order", "<b><i>x", "<b><i>x</i></b>"},
		{"stray end tag dropped", "x</b>y", "xy"},
		{"misnested end closes inner", "<b><i>x</b>y", "<b><i>x</i></b>y"},
		{"self-closed non-void closed", "<b/>x", "<b></b>x"},
		{"void elements not closed", "<br><hr/><img src=\"mxc://a/b\"/>", `<br><hr><img src="mxc://a/b">`},
		{"lt in text stays escaped", "&lt;script&gt;", "&lt;script&gt;"},
		{"bare lt escaped", "1 < 2", "1 &lt; 2"},
		{"ampersand escaped", "a & b", "a &amp; b"},
		{"entity decoded then re-escaped", "&amp;lt;", "&amp;lt;"},
		{"named entity decoded", "&eacute;&nbsp;", "é\u00a0"},
		{"numeric entity decoded", "&#x1F600;", "😀"},
		{"attribute value re-escaped", `<img src="mxc://a/b" alt="&quot;&gt;<x">`, `<img src="mxc://a/b" alt="&#34;&gt;&lt;x">`},
		{"comment dropped", "a<!-- <b>c</b> -->b", "ab"},
		{"doctype dropped", "<!DOCTYPE html>x", "x"},
		{"upper case tags and attributes", `<B ONCLICK="x">x</B><A HREF="https://x/">l</A>`, `<b>x</b><a href="https://x/">l</a>`},
		{"incomplete tag at end dropped", "text <b", "text "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := SanitizeHTML(tc.in)
			if got != tc.want {
				t.Errorf("SanitizeHTML(%q)\n got: %q\nwant: %q", tc.in, got, tc.want)
			}
			checkSanitized(t, tc.in, got)
		})
	}
}

// TestSanitizeHTMLNesting: tags nested deeper than maxNesting are dropped,
// their text kept, and everything still closes.
func TestSanitizeHTMLNesting(t *testing.T) {
	for _, depth := range []int{maxNesting - 1, maxNesting, maxNesting + 1, 10 * maxNesting} {
		in := strings.Repeat("<div>", depth) + "deep" + strings.Repeat("</div>", depth) + "after"
		got := SanitizeHTML(in)
		kept := min(depth, maxNesting)
		want := strings.Repeat("<div>", kept) + "deep" + strings.Repeat("</div>", kept) + "after"
		if got != want {
			t.Errorf("depth %d: got %d <div> and %d </div>, want %d of each (output %.80q...)",
				depth, strings.Count(got, "<div>"), strings.Count(got, "</div>"), kept, got)
		}
		checkSanitized(t, in, got)
	}
	// Void elements and dropped tags do not count towards the limit.
	in := strings.Repeat("<div>", maxNesting-1) + "<br><x-unknown><img src=\"mxc://a/b\"><b>b</b><i>i</i>"
	if got := SanitizeHTML(in); !strings.Contains(got, `<br><img src="mxc://a/b"><b>b</b><i>i</i>`) {
		t.Errorf("one below the limit, void and unknown tags should not use up depth: %q", got)
	}
	// Unclosed deep nesting (no end tags at all) is closed too.
	in = strings.Repeat("<b>", 3*maxNesting) + "x"
	got := SanitizeHTML(in)
	if strings.Count(got, "<b>") != maxNesting || strings.Count(got, "</b>") != maxNesting {
		t.Errorf("unclosed nesting: %d <b>, %d </b>, want %d each", strings.Count(got, "<b>"), strings.Count(got, "</b>"), maxNesting)
	}
}

// TestSanitizeHTMLKnownBugs holds inputs SanitizeHTML gets wrong today
// (see the report of the test that added them). Each case states the
// correct result; remove the skip once format.go is fixed.
func TestSanitizeHTMLKnownBugs(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		// The tokenizer switches to raw text after <script/> (HTML ignores
		// the slash on non-void elements), but SanitizeHTML only counts
		// StartTagToken for skip, so the script body comes out as text.
		{"self-closed script body", "<script/>alert(1)</script>after", "after"},
		{"self-closed style body", "<style/>p{}</style>after", "after"},
		{"self-closed iframe body", "<iframe/>x</iframe>after", "after"},
		// embed is a void element: it never has an end tag, so skip never
		// comes back to 0 and the whole rest of the message is lost.
		{"embed is void", `<embed src="x">hello <b>world</b>`, "hello <b>world</b>"},
		// An end tag of a different dropped tag ends the skipped region.
		{"mismatched dropped end tag", "<mx-reply>quoted</object>leaked</mx-reply>reply", "reply"},
		// html.EscapeString leaves \r alone, and HTML turns a raw \r (or
		// \r\n) into \n: a CR written as a character reference must be
		// written back as one, or sanitising twice changes the text.
		{"carriage return reference in text", "a&#13;b", "a&#13;b"},
		{"carriage return reference in attribute", `<img alt="a&#xD;b">`, `<img alt="a&#13;b">`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := SanitizeHTML(tc.in); got != tc.want {
				t.Errorf("SanitizeHTML(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func FuzzSanitizeHTML(f *testing.F) {
	inputs, _ := filepath.Glob(filepath.Join("testdata", "sanitize", "*.html"))
	for _, in := range inputs {
		if b, err := os.ReadFile(in); err == nil {
			f.Add(string(b))
		}
	}
	for _, s := range []string{
		"", "<", "&", "<b>", "</b>", "<a href=javascript:x>", "<script>", "<mx-reply>",
		"<img src=mxc://a/b onerror=x>", "<code class=language-x>", "\x00", "\xff<b>\xfe",
		"<<script>script>", "<scr<script>ipt>", "<a href='java\nscript:x'>", "<!--", "<![CDATA[",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := SanitizeHTML(in)
		checkSanitized(t, in, out)
	})
}

// checkSanitized asserts what must hold for every output: idempotent, no
// script, only allowed tags and attributes, links with safe schemes, every
// tag closed, valid UTF-8 in gives valid UTF-8 out.
func checkSanitized(t *testing.T, in, out string) {
	t.Helper()
	// A carriage return from a character reference (&#13;) is written
	// raw, and a second pass reads it as a newline: a known bug (see
	// TestSanitizeHTMLKnownBugs), tolerated here so fuzzing finds others.
	if again := SanitizeHTML(out); again != out && again != strings.ReplaceAll(out, "\r", "\n") {
		t.Errorf("not idempotent for %q:\n once: %q\ntwice: %q", in, out, again)
	}
	if strings.Contains(strings.ToLower(out), "<script") {
		t.Errorf("output of %q contains <script: %q", in, out)
	}
	if utf8.ValidString(in) && !utf8.ValidString(out) {
		t.Errorf("valid UTF-8 %q gave invalid UTF-8 %q", in, out)
	}
	var open []string
	z := xhtml.NewTokenizer(strings.NewReader(out))
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			break
		}
		tok := z.Token()
		switch tt {
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			if !allowedTags[tok.Data] {
				t.Errorf("output of %q has tag <%s>: %q", in, tok.Data, out)
			}
			for _, a := range tok.Attr {
				if !allowedAttrs[tok.Data][a.Key] {
					t.Errorf("output of %q has attribute %s on <%s>: %q", in, a.Key, tok.Data, out)
				}
				lower := strings.ToLower(strings.TrimSpace(a.Val))
				if (a.Key == "href" || a.Key == "src") && strings.Contains(lower, "javascript:") {
					t.Errorf("output of %q has %s=%q: %q", in, a.Key, a.Val, out)
				}
				if a.Key == "href" && !hasSafeScheme(lower) {
					t.Errorf("output of %q has href %q: %q", in, a.Val, out)
				}
				if a.Key == "src" && !strings.HasPrefix(a.Val, "mxc://") {
					t.Errorf("output of %q has img src %q: %q", in, a.Val, out)
				}
				if a.Key == "class" && !strings.HasPrefix(a.Val, "language-") {
					t.Errorf("output of %q has code class %q: %q", in, a.Val, out)
				}
			}
			if tt == xhtml.StartTagToken && tok.Data != "br" && tok.Data != "hr" && tok.Data != "img" {
				open = append(open, tok.Data)
				if len(open) > maxNesting {
					t.Errorf("output of %q nests deeper than %d: %q", in, maxNesting, out)
					return
				}
			}
		case xhtml.EndTagToken:
			if len(open) == 0 || open[len(open)-1] != tok.Data {
				t.Errorf("output of %q closes </%s> with %v open: %q", in, tok.Data, open, out)
				return
			}
			open = open[:len(open)-1]
		case xhtml.CommentToken, xhtml.DoctypeToken:
			t.Errorf("output of %q has a %v: %q", in, tt, out)
		}
	}
	if len(open) != 0 {
		t.Errorf("output of %q leaves %v open: %q", in, open, out)
	}
}

// hasSafeScheme is the link rule written independently of safeLink: the
// (trimmed, lower-cased) value starts with an allowed scheme.
func hasSafeScheme(lower string) bool {
	for _, s := range []string{"http:", "https:", "ftp:", "mailto:", "magnet:", "matrix:"} {
		if strings.HasPrefix(lower, s) {
			return true
		}
	}
	return false
}
