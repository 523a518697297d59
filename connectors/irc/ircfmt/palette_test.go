package ircfmt

import "testing"

func TestPalette(t *testing.T) {
	// Spot checks against https://modern.ircdocs.horse/formatting.
	for index, want := range map[int]uint32{
		0: 0xffffff, 1: 0x000000, 2: 0x00007f, 7: 0xfc7f00, 15: 0xd2d2d2,
		16: 0x470000, 27: 0x47002a, 52: 0xff0000, 70: 0x6dffff, 88: 0x000000, 98: 0xffffff,
	} {
		if palette[index] != want {
			t.Errorf("palette[%d] = %06x, want %06x", index, palette[index], want)
		}
	}
	if c := paletteColor(99); c.isSet() {
		t.Errorf("colour 99 = %+v, want the default colour", c)
	}
}

func TestNearestClassicColor(t *testing.T) {
	for _, tc := range []struct {
		rgb  uint32
		want int
	}{
		{0xffffff, 0}, {0x000000, 1}, {0xff0000, 4}, {0xfe0000, 4}, {0x00ff00, 9},
		{0x808080, 14}, {0xff8800, 7}, {0x0000ff, 12}, {0x000080, 2}, {0xc0c0c0, 15},
	} {
		if got := nearestPalette(tc.rgb, classicColors); got != tc.want {
			t.Errorf("nearestPalette(%06x) = %d, want %d", tc.rgb, got, tc.want)
		}
	}
}

func TestParseCSSColor(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint32
		ok   bool
	}{
		{"#ff8800", 0xff8800, true}, {"#FF8800", 0xff8800, true}, {" #f80 ", 0xff8800, true},
		{"red", 0xff0000, true}, {"Navy", 0x000080, true},
		{"", 0, false}, {"ff8800", 0, false}, {"#ff88", 0, false}, {"#gg0000", 0, false}, {"rgb(1,2,3)", 0, false},
	} {
		got, ok := parseCSSColor(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseCSSColor(%q) = %06x, %v; want %06x, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestMatrixID(t *testing.T) {
	for _, tc := range []struct{ href, want string }{
		{"https://matrix.to/#/@alice:example.org", "@alice:example.org"},
		{"HTTPS://MATRIX.TO/#/@alice:example.org", "@alice:example.org"},
		{"http://matrix.to/#/@alice:example.org", "@alice:example.org"},
		{"https://matrix.to/#/%40alice%3Aexample.org?via=x", "@alice:example.org"},
		{"https://matrix.to/#/!room:example.org/$event", "!room:example.org"},
		{"https://matrix.to/#/#room:example.org", "#room:example.org"},
		{"matrix:u/alice:example.org?action=chat", "@alice:example.org"},
		{"matrix:r/room:example.org", "#room:example.org"},
		{"matrix:roomid/room:example.org/e/event", "!room:example.org"},
		{"matrix:x/alice:example.org", ""},
		{"https://matrix.to/#/alice", ""},
		{"https://matrix.to/#/@alice", ""},
		{"https://matrix.to/#/%zz", ""},
		{"https://example.org/#/@alice:example.org", ""},
	} {
		if got := matrixID(tc.href); got != tc.want {
			t.Errorf("matrixID(%q) = %q, want %q", tc.href, got, tc.want)
		}
	}
}
