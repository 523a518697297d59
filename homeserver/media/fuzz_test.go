package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"mime"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// fuzzLimits keeps each fuzz run quick: small images only.
var fuzzLimits = limits{maxPixels: 1 << 20, maxDecodeBytes: 8 << 20, maxOriginal: 1 << 20}

func FuzzThumbnailParams(f *testing.F) {
	for _, s := range []string{
		"width=32&height=32", "width=800&height=600&method=scale&animated=true",
		"width=-1&height=0", "width=99999999999999999999&height=1", "method=crop", "width=1&height=1&animated=1",
		"width=%00&height=%ff", "width=32&width=64&height=1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, query string) {
		q, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		p, err := parseThumbnailParams(q)
		if err != nil {
			return
		}
		if !slices.Contains(thumbnailSizes, p.Width) || !slices.Contains(thumbnailSizes, p.Height) {
			t.Errorf("box %d×%d is not one of thumbnailSizes", p.Width, p.Height)
		}
		if p.Method != methodCrop && p.Method != methodScale {
			t.Errorf("method %q", p.Method)
		}
	})
}

// FuzzMakeThumbnail feeds arbitrary bytes through the header readers, the
// size checks and the decoders: nothing may panic, and a thumbnail made
// must fit its box and decode.
func FuzzMakeThumbnail(f *testing.F) {
	img := testImage(64, 48, true)
	f.Add(encodePNG(f, img), uint16(32), uint16(32), false)
	f.Add(encodeJPEG(f, img), uint16(32), uint16(32), true)
	f.Add(withEXIFOrientation(encodeJPEG(f, img), 6, binary.BigEndian), uint16(16), uint16(40), true)
	f.Add(encodeGIF(f, 20, 10, color.RGBA{255, 0, 0, 255}, color.RGBA{0, 255, 0, 255}), uint16(8), uint16(8), false)
	f.Add(readTestdata(f, "alpha.webp"), uint16(40), uint16(40), false)
	f.Add(readTestdata(f, "opaque.webp"), uint16(1000), uint16(1), true)
	f.Add(pngHeader(100000, 100000, 8), uint16(32), uint16(32), false)
	f.Add([]byte("RIFF\x16\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x02\x00\x00\x00\xff\x3f\x00\xff\x3f\x00"), uint16(32), uint16(32), false)
	f.Fuzz(func(t *testing.T, data []byte, w, h uint16, crop bool) {
		bw, bh := snapSize(int64(w)+1), snapSize(int64(h)+1)
		method := methodScale
		if crop {
			method = methodCrop
		}
		res, err := makeThumbnail(bytes.NewReader(data), int64(len(data)), bw, bh, method, fuzzLimits)
		if err != nil {
			if !errors.Is(err, errCannotThumbnail) && !errors.Is(err, errThumbnailTooLarge) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if res.original {
			return
		}
		if res.width < 1 || res.height < 1 || res.width > bw || res.height > bh {
			t.Fatalf("thumbnail %d×%d for a %d×%d box", res.width, res.height, bw, bh)
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(res.data))
		if err != nil || "image/"+format != res.contentType || cfg.Width != res.width || cfg.Height != res.height {
			t.Fatalf("thumbnail does not decode as claimed: %v %s %+v vs %+v", err, format, cfg, res)
		}
		_ = jpegOrientation(bytes.NewReader(data))
		_ = pngAnimated(bytes.NewReader(data))
		_ = webpAnimated(bytes.NewReader(data))
	})
}

// FuzzContentDisposition checks that every acceptable file name comes back
// unchanged from a standard parser, and never breaks the header.
func FuzzContentDisposition(f *testing.F) {
	for _, s := range []string{"a.png", "früh \"1\".ogg", `back\slash`, "日本語.txt", "a;b=c", "", " ", "%41"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if checkFileName(name) != nil {
			return
		}
		h := formatDisposition("attachment", name)
		if strings.ContainsFunc(h, func(r rune) bool { return unicode.IsControl(r) || r > unicode.MaxASCII }) {
			t.Fatalf("header %q holds control or non-ASCII characters", h)
		}
		kind, params, err := mime.ParseMediaType(h)
		if err != nil || kind != "attachment" || params["filename"] != name {
			t.Fatalf("%q → %q → %q %q %v", name, h, kind, params["filename"], err)
		}
	})
}

func FuzzMediaID(f *testing.F) {
	for _, s := range []string{"abc", "../x", "", "a/b", "AZaz09_-", "%2e", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ok := validMediaID(s)
		if ok && strings.ContainsAny(s, "./\\%\x00") {
			t.Fatalf("%q accepted", s)
		}
		if err := checkURI(testServer, s); (err == nil) != ok {
			t.Fatalf("checkURI and validMediaID disagree on %q", s)
		}
	})
}
