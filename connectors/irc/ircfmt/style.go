package ircfmt

// The mIRC formatting codes (https://modern.ircdocs.horse/formatting).
const (
	codeBold      = '\x02'
	codeColor     = '\x03'
	codeHexColor  = '\x04'
	codeReset     = '\x0f'
	codeMonospace = '\x11'
	codeReverse   = '\x16'
	codeItalic    = '\x1d'
	codeStrike    = '\x1e'
	codeUnderline = '\x1f'
)

// isFormatCode reports whether b starts a formatting code.
func isFormatCode(b byte) bool {
	switch b {
	case codeBold, codeColor, codeHexColor, codeReset, codeMonospace,
		codeReverse, codeItalic, codeStrike, codeUnderline:
		return true
	}
	return false
}

// colorKind says how a colour was written.
type colorKind uint8

const (
	colorNone    colorKind = iota // the reader's default colour
	colorPalette                  // an index 0–98 into the mIRC palette
	colorHex                      // an RGB value given with \x04
)

// color is a text or background colour as IRC wrote it. Keeping palette
// colours as indices lets Split re-open them with the code they came with.
type color struct {
	kind  colorKind
	value uint32 // palette index, or 0xRRGGBB
}

func paletteColor(index int) color {
	if index < 0 || index >= len(palette) {
		return color{} // 99 and above: the default colour
	}
	return color{kind: colorPalette, value: uint32(index)}
}

func hexColor(rgb uint32) color { return color{kind: colorHex, value: rgb} }

func (c color) isSet() bool { return c.kind != colorNone }

// rgb returns the colour as 0xRRGGBB; ok is false for the default colour.
func (c color) rgb() (rgb uint32, ok bool) {
	switch c.kind {
	case colorPalette:
		return palette[c.value], true
	case colorHex:
		return c.value, true
	}
	return 0, false
}

// style is the formatting in effect at one point of an IRC line.
type style struct {
	bold, italic, underline, strike, mono, reverse bool
	fg, bg                                         color
}

func (s style) isPlain() bool { return s == style{} }

// applyCode applies the formatting code starting at text[i] to st and
// returns the index just past it. text[i] must satisfy isFormatCode.
func applyCode(text string, i int, st *style) int {
	switch text[i] {
	case codeBold:
		st.bold = !st.bold
	case codeItalic:
		st.italic = !st.italic
	case codeUnderline:
		st.underline = !st.underline
	case codeStrike:
		st.strike = !st.strike
	case codeMonospace:
		st.mono = !st.mono
	case codeReverse:
		st.reverse = !st.reverse
	case codeReset:
		*st = style{}
	case codeColor:
		return applyPaletteColor(text, i+1, st)
	case codeHexColor:
		return applyHexColor(text, i+1, st)
	}
	return i + 1
}

// applyPaletteColor reads what follows \x03: "" resets both colours, "F",
// "FF", "F,B", "FF,BB" ... set the foreground and, when given, the
// background. A comma not followed by a digit is text, as mIRC reads it.
func applyPaletteColor(text string, i int, st *style) int {
	fg, n := readDecimal(text[i:])
	if n == 0 {
		st.fg, st.bg = color{}, color{}
		return i
	}
	st.fg = paletteColor(fg)
	i += n
	if i+1 < len(text) && text[i] == ',' {
		if bg, n := readDecimal(text[i+1:]); n > 0 {
			st.bg = paletteColor(bg)
			i += 1 + n
		}
	}
	return i
}

// applyHexColor reads what follows \x04: six hex digits for the
// foreground, optionally ",RRGGBB" for the background; anything else resets
// both colours, like a bare \x03.
func applyHexColor(text string, i int, st *style) int {
	fg, ok := readHex6(text[i:])
	if !ok {
		st.fg, st.bg = color{}, color{}
		return i
	}
	st.fg = hexColor(fg)
	i += 6
	if i < len(text) && text[i] == ',' {
		if bg, ok := readHex6(text[i+1:]); ok {
			st.bg = hexColor(bg)
			i += 7
		}
	}
	return i
}

// readDecimal reads one or two decimal digits at the start of s and
// returns their value and how many bytes they took (0 when s starts with
// no digit).
func readDecimal(s string) (value, n int) {
	for n < 2 && n < len(s) && isDigit(s[n]) {
		value = value*10 + int(s[n]-'0')
		n++
	}
	return value, n
}

// readHex6 reads exactly six hex digits at the start of s.
func readHex6(s string) (rgb uint32, ok bool) {
	if len(s) < 6 {
		return 0, false
	}
	for i := range 6 {
		d, ok := hexDigit(s[i])
		if !ok {
			return 0, false
		}
		rgb = rgb<<4 | uint32(d)
	}
	return rgb, true
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

func hexDigit(b byte) (byte, bool) {
	switch {
	case '0' <= b && b <= '9':
		return b - '0', true
	case 'a' <= b && b <= 'f':
		return b - 'a' + 10, true
	case 'A' <= b && b <= 'F':
		return b - 'A' + 10, true
	}
	return 0, false
}
