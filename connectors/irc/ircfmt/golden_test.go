package ircfmt

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// The golden files spell mIRC codes as tokens so they read and diff as
// text: {b} bold, {i} italic, {u} underline, {s} strikethrough,
// {m} monospace, {r} reverse, {o} reset, {c} colour (\x03), {h} hex colour
// (\x04), and {xNN} for any other byte by its hex value (invalid UTF-8,
// other control characters). Inputs are the file's bytes with the tokens
// expanded and one final newline removed.
var codeTokens = []struct {
	token string
	code  byte
}{
	{"{b}", codeBold}, {"{i}", codeItalic}, {"{u}", codeUnderline}, {"{s}", codeStrike},
	{"{m}", codeMonospace}, {"{r}", codeReverse}, {"{o}", codeReset}, {"{c}", codeColor},
	{"{h}", codeHexColor},
}

var byteToken = regexp.MustCompile(`\{x([0-9a-fA-F]{2})\}`)

// expandTokens turns a golden file's tokens into the bytes they stand for.
func expandTokens(s string) string {
	for _, t := range codeTokens {
		s = strings.ReplaceAll(s, t.token, string(t.code))
	}
	return byteToken.ReplaceAllStringFunc(s, func(m string) string {
		b, _ := strconv.ParseUint(m[2:4], 16, 8)
		return string([]byte{byte(b)})
	})
}

// showCodes is expandTokens' inverse for output: codes become tokens, other
// control characters but '\n' and '\t' become {xNN}.
func showCodes(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isFormatCode(c):
			for _, t := range codeTokens {
				if t.code == c {
					b.WriteString(t.token)
				}
			}
		case c < 0x20 && c != '\n' && c != '\t':
			fmt.Fprintf(&b, "{x%02x}", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// goldenInput is one input file under testdata/dir.
type goldenInput struct {
	name, path string
	input      string // the file's bytes, one final newline removed
}

func goldenInputs(t testing.TB, dir, ext string) []goldenInput {
	paths, err := filepath.Glob(filepath.Join("testdata", dir, "*"+ext))
	if err != nil {
		t.Fatal(err)
	}
	var inputs []goldenInput
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, goldenInput{
			name:  strings.TrimSuffix(filepath.Base(path), ext),
			path:  path,
			input: strings.TrimSuffix(string(data), "\n"),
		})
	}
	return inputs
}

// checkGolden compares got with the .golden file next to in.path, after
// rewriting it when -update is given. A golden file is a promise: read the
// diff before committing a rewritten one.
func checkGolden(t *testing.T, in goldenInput, got string) {
	t.Helper()
	golden := strings.TrimSuffix(in.path, filepath.Ext(in.path)) + ".golden"
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
		t.Errorf("%s mismatch\n got:\n%s\nwant:\n%s", in.path, got, want)
	}
}

// TestToMatrixGolden runs every testdata/tomatrix/*.irc (tokens expanded)
// through ToMatrix and compares body and HTML with the .golden file.
func TestToMatrixGolden(t *testing.T) {
	inputs := goldenInputs(t, "tomatrix", ".irc")
	if len(inputs) < 15 {
		t.Fatalf("want at least 15 golden inputs in testdata/tomatrix, have %d", len(inputs))
	}
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			text := expandTokens(in.input)
			body, html := ToMatrix(text)
			checkToMatrix(t, text, body, html)
			checkGolden(t, in, "== body\n"+body+"\n== html\n"+html+"\n")
		})
	}
}

// TestFromMatrixGolden runs every testdata/frommatrix/*.html through
// FromMatrix (with testPill) and compares the IRC text, codes shown as
// tokens, with the .golden file.
func TestFromMatrixGolden(t *testing.T) {
	inputs := goldenInputs(t, "frommatrix", ".html")
	if len(inputs) < 15 {
		t.Fatalf("want at least 15 golden inputs in testdata/frommatrix, have %d", len(inputs))
	}
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			got := FromMatrix("unused body", in.input, testPill(t))
			checkFromMatrix(t, got)
			checkGolden(t, in, showCodes(got)+"\n")
		})
	}
}

// testPill stands in for the connector's nick lookup: it knows
// @alice:example.org as "alice" and writes any other user as "?" + id.
func testPill(t testing.TB) func(userID, text string) string {
	return func(userID, text string) string {
		if !validID(userID) || userID[0] != '@' {
			t.Errorf("pill called with %q, not a user id", userID)
		}
		if userID == "@alice:example.org" {
			return "alice"
		}
		return "?" + userID
	}
}
