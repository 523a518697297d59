package ircfmt

import (
	"fmt"
	"strings"
)

// transition returns the shortest codes that change the formatting from
// `from` to `to`, for text whose next byte is next, and the formatting in
// effect after them: `to` as IRC can write it (see writable). Both
// FromMatrix and Split write formatting only through here, so every code
// they emit reads back unambiguously: numbers always have two digits, and a
// colour code is never followed by a digit or comma it could swallow.
func transition(from, to style, next byte) (codes string, now style) {
	to = writable(to)
	if from == to {
		return "", to
	}
	if to.isPlain() {
		return string(codeReset), to
	}
	step := changeCodes(from, to, next)
	fresh := string(codeReset) + changeCodes(style{}, to, next)
	if len(fresh) < len(step) {
		return fresh, to
	}
	return step, to
}

// writable returns st as IRC can write it. \x04 needs a foreground, so a
// hex background under the default foreground becomes the nearest palette
// colour.
func writable(st style) style {
	if !st.fg.isSet() && st.bg.kind == colorHex {
		st.bg = paletteColor(nearestPalette(st.bg.value, len(palette)))
	}
	return st
}

// changeCodes writes the colour change (if any) and then one toggle per
// attribute that differs.
func changeCodes(from, to style, next byte) string {
	toggles := toggleCodes(from, to)
	afterColor := next
	if toggles != "" {
		afterColor = toggles[0]
	}
	return colorCodes(from, to, afterColor) + toggles
}

func toggleCodes(from, to style) string {
	var b []byte
	for _, t := range []struct {
		differs bool
		code    byte
	}{
		{from.bold != to.bold, codeBold},
		{from.italic != to.italic, codeItalic},
		{from.underline != to.underline, codeUnderline},
		{from.strike != to.strike, codeStrike},
		{from.mono != to.mono, codeMonospace},
		{from.reverse != to.reverse, codeReverse},
	} {
		if t.differs {
			b = append(b, t.code)
		}
	}
	return string(b)
}

// noOp separates a colour code from a following digit or comma: two bold
// toggles cancel out on every client.
const noOp = string(codeBold) + string(codeBold)

// colorCodes returns the codes that change the colours from `from` to `to`
// (which writable has made writable). Backgrounds stay until changed or
// reset, so dropping a background takes a bare \x03 first.
func colorCodes(from, to style, next byte) string {
	if from.fg == to.fg && from.bg == to.bg {
		return ""
	}
	var b strings.Builder
	if !to.fg.isSet() && !to.bg.isSet() {
		b.WriteByte(codeColor)
		if isDigit(next) || next == ',' {
			b.WriteString(noOp)
		}
		return b.String()
	}
	if from.bg.isSet() && !to.bg.isSet() {
		b.WriteByte(codeColor)
		from = style{}
	}
	fg, bg := to.fg, to.bg
	writeBg := bg.isSet() && to.bg != from.bg
	if fg.kind == colorHex || bg.kind == colorHex {
		fgRGB, _ := fg.rgb()
		fmt.Fprintf(&b, "%c%06x", codeHexColor, fgRGB)
		if writeBg {
			bgRGB, _ := bg.rgb()
			fmt.Fprintf(&b, ",%06x", bgRGB)
		}
	} else {
		fmt.Fprintf(&b, "%c%02d", codeColor, paletteIndex(fg))
		if writeBg {
			fmt.Fprintf(&b, ",%02d", paletteIndex(bg))
		}
	}
	if !writeBg && next == ',' {
		b.WriteString(noOp)
	}
	return b.String()
}

// paletteIndex returns the number \x03 writes for c: its index, or 99 for
// the default colour.
func paletteIndex(c color) int {
	if c.kind == colorPalette {
		return int(c.value)
	}
	return 99
}
