package media

import (
	"bytes"
	"encoding/binary"
	"io"
)

// This file reads the few facts the thumbnailer needs from image headers
// that Go's decoders do not report: a JPEG's EXIF orientation, and whether
// a PNG or WebP is animated. Every reader is bounded and treats anything
// malformed as "nothing to report".

// maxHeaderScan bounds how far into a file the header readers look.
const maxHeaderScan = 256 << 10

// jpegOrientation returns the EXIF orientation (1-8) of a JPEG, or 1 when
// it has none or the header cannot be read.
func jpegOrientation(r io.Reader) int {
	data, err := io.ReadAll(io.LimitReader(r, maxHeaderScan))
	if err != nil && len(data) == 0 {
		return 1
	}
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return 1
	}
	p := 2
	for p+4 <= len(data) {
		if data[p] != 0xFF {
			return 1
		}
		marker := data[p+1]
		if marker == 0xFF { // fill byte
			p++
			continue
		}
		if marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01 {
			p += 2 // markers without a length
			continue
		}
		if marker == 0xDA || marker == 0xD9 { // image data starts: no EXIF after this
			return 1
		}
		length := int(binary.BigEndian.Uint16(data[p+2:]))
		if length < 2 || p+2+length > len(data) {
			return 1
		}
		seg := data[p+4 : p+2+length]
		if marker == 0xE1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return tiffOrientation(seg[6:])
		}
		p += 2 + length
	}
	return 1
}

// tiffOrientation reads tag 0x0112 of IFD0 in a TIFF structure (the body
// of an EXIF segment).
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	if bo.Uint16(t[2:]) != 42 {
		return 1
	}
	ifd := uint64(bo.Uint32(t[4:]))
	if ifd+2 > uint64(len(t)) {
		return 1
	}
	n := uint64(bo.Uint16(t[ifd:]))
	for i := uint64(0); i < n; i++ {
		e := ifd + 2 + i*12
		if e+12 > uint64(len(t)) {
			return 1
		}
		tag, typ := bo.Uint16(t[e:]), bo.Uint16(t[e+2:])
		if tag != 0x0112 {
			continue
		}
		if typ != 3 { // SHORT
			return 1
		}
		v := int(bo.Uint16(t[e+8:]))
		if v < 1 || v > 8 {
			return 1
		}
		return v
	}
	return 1
}

// pngAnimated reports whether a PNG is an APNG: it has an acTL chunk
// before its first IDAT.
func pngAnimated(r io.ReadSeeker) bool {
	var sig [8]byte
	if _, err := io.ReadFull(r, sig[:]); err != nil || string(sig[:]) != "\x89PNG\r\n\x1a\n" {
		return false
	}
	var hdr [8]byte
	// Real files have a handful of chunks before IDAT; give up after many.
	for chunks := 0; chunks < 1000; chunks++ {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return false
		}
		length := int64(binary.BigEndian.Uint32(hdr[:4]))
		switch string(hdr[4:]) {
		case "acTL":
			return true
		case "IDAT", "IEND":
			return false
		}
		// Skip the chunk's data and CRC.
		if _, err := r.Seek(length+4, io.SeekCurrent); err != nil {
			return false
		}
	}
	return false
}

// webpAnimated reports whether a WebP's VP8X header sets the animation
// flag.
func webpAnimated(r io.Reader) bool {
	var hdr [21]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return false
	}
	return string(hdr[:4]) == "RIFF" && string(hdr[8:16]) == "WEBPVP8X" && hdr[20]&0x02 != 0
}
