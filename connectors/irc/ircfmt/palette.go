package ircfmt

import "strings"

// palette is the mIRC 99-colour palette: 0–15 the classic colours, 16–98
// the extended ones from https://modern.ircdocs.horse/formatting. Colour 99
// is not in it: it means the reader's default colour.
var palette = [99]uint32{
	// 0–15: white, black, navy, green, red, maroon, purple, orange,
	// yellow, light green, teal, cyan, blue, pink, grey, light grey.
	0xffffff, 0x000000, 0x00007f, 0x009300, 0xff0000, 0x7f0000, 0x9c009c, 0xfc7f00,
	0xffff00, 0x00fc00, 0x009393, 0x00ffff, 0x0000fc, 0xff00ff, 0x7f7f7f, 0xd2d2d2,
	// 16–98.
	0x470000, 0x472100, 0x474700, 0x324700, 0x004700, 0x00472c, 0x004747, 0x002747,
	0x000047, 0x2e0047, 0x470047, 0x47002a, 0x740000, 0x743a00, 0x747400, 0x517400,
	0x007400, 0x007449, 0x007474, 0x004074, 0x000074, 0x4b0074, 0x740074, 0x740045,
	0xb50000, 0xb56300, 0xb5b500, 0x7db500, 0x00b500, 0x00b571, 0x00b5b5, 0x0063b5,
	0x0000b5, 0x7500b5, 0xb500b5, 0xb5006b, 0xff0000, 0xff8c00, 0xffff00, 0xb2ff00,
	0x00ff00, 0x00ffa0, 0x00ffff, 0x008cff, 0x0000ff, 0xa500ff, 0xff00ff, 0xff0098,
	0xff5959, 0xffb459, 0xffff71, 0xcfff60, 0x6fff6f, 0x65ffc9, 0x6dffff, 0x59b4ff,
	0x5959ff, 0xc459ff, 0xff66ff, 0xff59bc, 0xff9c9c, 0xffd39c, 0xffff9c, 0xe2ff9c,
	0x9cff9c, 0x9cffdb, 0x9cffff, 0x9cd3ff, 0x9c9cff, 0xdc9cff, 0xff9cff, 0xff94d3,
	0x000000, 0x131313, 0x282828, 0x363636, 0x4d4d4d, 0x656565, 0x818181, 0x9f9f9f,
	0xbcbcbc, 0xe2e2e2, 0xffffff,
}

// classicColors is how many palette entries every IRC client knows.
const classicColors = 16

// nearestPalette returns the index, among the first n palette entries, of
// the colour closest to rgb (squared distance in RGB; the lowest index wins
// a tie, so the answer is stable).
func nearestPalette(rgb uint32, n int) int {
	best, bestDist := 0, -1
	for i, p := range palette[:n] {
		d := rgbDistance(rgb, p)
		if bestDist < 0 || d < bestDist {
			best, bestDist = i, d
		}
	}
	return best
}

func rgbDistance(a, b uint32) int {
	dr := int(a>>16&0xff) - int(b>>16&0xff)
	dg := int(a>>8&0xff) - int(b>>8&0xff)
	db := int(a&0xff) - int(b&0xff)
	return dr*dr + dg*dg + db*db
}

// cssColors are the colour names HTML 4 defined, which old Matrix clients
// still put in <font color>.
var cssColors = map[string]uint32{
	"black": 0x000000, "silver": 0xc0c0c0, "gray": 0x808080, "grey": 0x808080,
	"white": 0xffffff, "maroon": 0x800000, "red": 0xff0000, "purple": 0x800080,
	"fuchsia": 0xff00ff, "green": 0x008000, "lime": 0x00ff00, "olive": 0x808000,
	"yellow": 0xffff00, "navy": 0x000080, "blue": 0x0000ff, "teal": 0x008080,
	"aqua": 0x00ffff,
}

// parseCSSColor reads "#rrggbb", "#rgb" or an HTML 4 colour name.
func parseCSSColor(s string) (rgb uint32, ok bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if named, ok := cssColors[s]; ok {
		return named, true
	}
	hex, found := strings.CutPrefix(s, "#")
	if !found {
		return 0, false
	}
	switch len(hex) {
	case 6:
		return readHex6(hex)
	case 3:
		for i := range 3 {
			d, ok := hexDigit(hex[i])
			if !ok {
				return 0, false
			}
			rgb = rgb<<8 | uint32(d)*0x11
		}
		return rgb, true
	}
	return 0, false
}
