package ircfmt

import "testing"

// TestFromMatrix pins single behaviours; the golden files cover whole
// messages.
func TestFromMatrix(t *testing.T) {
	alice := func(userID, text string) string { return "alice" }
	for _, tc := range []struct {
		name, body, html string
		pill             func(userID, text string) string
		want             string
	}{
		{"body when no HTML", "plain *text*", "", nil, "plain *text*"},
		{"body when blank HTML", "plain", "  \n", nil, "plain"},
		{"body lines", "one\r\ntwo\n\n\n\nthree\n", "", nil, "one\ntwo\n\nthree"},
		{"body codes removed", "\x02not bold\x03", "", nil, "not bold"},
		{"body keeps spaces", "a    b", "", nil, "a    b"},
		{"HTML wins over body", "body", "<b>html</b>", nil, "\x02html"},
		{"bold", "", "<b>b</b> <strong>s</strong>", nil, "\x02b s"},
		{"italic", "", "<i>i</i><em>e</em>", nil, "\x1die"},
		{"underline", "", "<u>u</u>x", nil, "\x1fu\x0fx"},
		{"strike", "", "<del>d</del> <s>s</s> <strike>t</strike>", nil, "\x1ed\x0f \x1es\x0f \x1et"},
		{"inline code", "", "a <code>b</code> c", nil, "a \x11b \x0fc"},
		{"pre lines each monospace", "", "<pre>a\nb</pre>", nil, "\x11a\n\x11b"},
		{"newline after pre start skipped", "", "<pre>\na</pre>", nil, "\x11a"},
		{"nearest classic colour", "", `<font data-mx-color="#fe0101">r</font>`, nil, "\x0304r"},
		{"colour before digit", "", `<font data-mx-color="#ff0000">1</font>2`, nil, "\x03041\x0f2"},
		{"colour off by reset", "", `<b><font data-mx-color="#ff0000">1</font>2</b>`, nil, "\x0304\x021\x0f\x022"},
		{"colour off before digit", "", `<b><i><u><font data-mx-color="#ff0000">1</font>2</u></i></b>`, nil, "\x0304\x02\x1d\x1f1\x03\x02\x022"},
		{"link with other text", "", `<a href="https://x.org/a">text</a>`, nil, "text (https://x.org/a)"},
		{"link with its address", "", `<a href="https://x.org/a">https://x.org/a</a>`, nil, "https://x.org/a"},
		{"link without scheme", "", `<a href="https://x.org">x.org</a>`, nil, "x.org"},
		{"pill", "", `<a href="https://matrix.to/#/@a:x.org">A</a>: hi`, alice, "alice: hi"},
		{"pill nil uses text", "", `<a href="https://matrix.to/#/@a:x.org">A</a>: hi`, nil, "A: hi"},
		{"pill nil without text", "", `<a href="https://matrix.to/#/@a:x.org"></a>`, nil, "@a:x.org"},
		{"matrix URI pill", "", `<a href="matrix:u/a:x.org">A</a>`, alice, "alice"},
		{"room link not a pill", "", `<a href="https://matrix.to/#/#r:x.org">#r:x.org</a>`, alice, "#r:x.org"},
		{"bullet outside list", "", "<li>x</li>", nil, "• x"},
		{"blockquote", "", "<blockquote>a<br>b</blockquote>c", nil, "> a\n> b\nc"},
		{"mx-reply dropped", "", "<mx-reply><b>quoted</b></mx-reply>answer", nil, "answer"},
		{"hr", "", "a<hr>b", nil, "a\n---\nb"},
		{"img alt", "", `<img alt="cat" src="mxc://x/y">`, nil, "cat"},
		{"img without alt", "", `<img src="mxc://x/y">`, nil, "image"},
		{"entities", "", "&lt;&amp;&gt;&quot;&#39;&eacute;", nil, `<&>"'é`},
		{"script is not text", "", "<script>alert(1)</script>ok", nil, "ok"},
		{"blank lines collapse", "", "a<br><br><br>b", nil, "a\n\nb"},
		{"text in pill formatting dropped", "", `<a href="https://matrix.to/#/@a:x.org"><b>A</b></a>`, alice, "alice"},
		{"deep nesting", "", deepNesting(5000), nil, "\x02\x1dx"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := FromMatrix(tc.body, tc.html, tc.pill)
			if got != tc.want {
				t.Errorf("FromMatrix(%q, %.80q)\n got: %q\nwant: %q", tc.body, tc.html, got, tc.want)
			}
			checkFromMatrix(t, got)
		})
	}
}

func deepNesting(n int) string {
	b := make([]byte, 0, n*7+1)
	for range n {
		b = append(b, "<b><i>"...)
	}
	b = append(b, 'x')
	for range n {
		b = append(b, "</i></b>"...)
	}
	return string(b)
}
