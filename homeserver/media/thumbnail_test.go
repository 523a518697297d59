package media

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"net/url"
	"os"
	"runtime"
	"strings"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"switchboard/internal/database"
	"switchboard/internal/database/dbtest"
)

func thumbnailPath(uri id.ContentURI, w, h int, method string) string {
	return fmt.Sprintf("/_matrix/client/v1/media/thumbnail/%s/%s?width=%d&height=%d&method=%s", uri.Homeserver, uri.FileID, w, h, method)
}

// testImage is a gradient; with alpha its left quarter is transparent.
func testImage(w, h int, alpha bool) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			a := uint8(255)
			if alpha && x < w/4 {
				a = 0
			}
			m.SetNRGBA(x, y, color.NRGBA{uint8(x * 255 / w), uint8(y * 255 / h), 128, a})
		}
	}
	return m
}

func encodeJPEG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodePNG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// encodeGIF makes an animated GIF of w×h with one solid frame per color.
func encodeGIF(t testing.TB, w, h int, colors ...color.RGBA) []byte {
	t.Helper()
	palette := color.Palette{color.Black}
	for _, c := range colors {
		palette = append(palette, c)
	}
	var anim gif.GIF
	for i := range colors {
		frame := image.NewPaletted(image.Rect(0, 0, w, h), palette)
		for p := range frame.Pix {
			frame.Pix[p] = uint8(i + 1)
		}
		anim.Image = append(anim.Image, frame)
		anim.Delay = append(anim.Delay, 10)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, &anim); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pngChunk encodes one PNG chunk.
func pngChunk(typ string, data []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	out = append(out, typ...)
	out = append(out, data...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(append([]byte(typ), data...)))
}

// pngHeader is the start of a PNG claiming w×h pixels: enough for
// image.DecodeConfig, nothing to decode.
func pngHeader(w, h uint32, bitDepth byte) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, bitDepth, 6, 0, 0, 0) // RGBA
	return append([]byte("\x89PNG\r\n\x1a\n"), pngChunk("IHDR", ihdr)...)
}

// withEXIFOrientation inserts an EXIF segment with orientation o after a
// JPEG's SOI marker.
func withEXIFOrientation(jpg []byte, o uint16, bo binary.AppendByteOrder) []byte {
	tiff := []byte("II")
	if bo == binary.AppendByteOrder(binary.BigEndian) {
		tiff = []byte("MM")
	}
	tiff = bo.AppendUint16(tiff, 42)
	tiff = bo.AppendUint32(tiff, 8)
	tiff = bo.AppendUint16(tiff, 2) // two entries
	// ImageWidth (0x0100), LONG, 1: a tag before the one we want.
	tiff = bo.AppendUint16(tiff, 0x0100)
	tiff = bo.AppendUint16(tiff, 4)
	tiff = bo.AppendUint32(tiff, 1)
	tiff = bo.AppendUint32(tiff, 400)
	tiff = bo.AppendUint16(tiff, 0x0112)
	tiff = bo.AppendUint16(tiff, 3)
	tiff = bo.AppendUint32(tiff, 1)
	tiff = bo.AppendUint16(tiff, o)
	tiff = bo.AppendUint16(tiff, 0)
	tiff = bo.AppendUint32(tiff, 0) // no next IFD
	seg := append([]byte("Exif\x00\x00"), tiff...)
	out := []byte{0xFF, 0xD8, 0xFF, 0xE1}
	out = binary.BigEndian.AppendUint16(out, uint16(len(seg)+2))
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestThumbnails(t *testing.T) {
	red, blue := color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255}
	photo := encodeJPEG(t, testImage(400, 300, false))
	smallJPEG := encodeJPEG(t, testImage(40, 30, false))
	animated := encodeGIF(t, 300, 200, red, blue)
	smallGIF := encodeGIF(t, 40, 30, red, blue)
	tests := []struct {
		name          string
		data          []byte
		method        string
		w, h          int
		animated      bool
		wantType      string
		wantW, wantH  int
		wantOriginal  bool
		wantRedCenter bool
	}{
		{"jpeg scale", photo, "scale", 96, 96, false, "image/jpeg", 96, 72, false, false},
		{"jpeg crop", photo, "crop", 96, 96, false, "image/jpeg", 96, 96, false, false},
		{"jpeg crop 4:3 box", photo, "crop", 320, 240, false, "image/jpeg", 320, 240, false, false},
		{"jpeg crop tall box", photo, "crop", 32, 96, false, "image/jpeg", 32, 96, false, false},
		{"size rounded up", photo, "scale", 100, 100, false, "image/jpeg", 128, 96, false, false},
		{"never enlarged: fits", smallJPEG, "scale", 96, 96, false, "image/jpeg", 40, 30, true, false},
		{"never enlarged: crop", encodeJPEG(t, testImage(400, 50, false)), "crop", 96, 96, false, "image/jpeg", 96, 50, false, false},
		{"png with alpha", encodePNG(t, testImage(400, 300, true)), "scale", 96, 96, false, "image/png", 96, 72, false, false},
		{"opaque png", encodePNG(t, testImage(400, 300, false)), "crop", 32, 32, false, "image/jpeg", 32, 32, false, false},
		{"gif first frame", animated, "scale", 96, 96, false, "image/jpeg", 96, 64, false, true},
		{"gif asked animated, too big", animated, "scale", 96, 96, true, "image/jpeg", 96, 64, false, true},
		{"small gif not animated", smallGIF, "scale", 96, 96, false, "image/jpeg", 40, 30, false, true},
		{"small gif animated", smallGIF, "scale", 96, 96, true, "image/gif", 40, 30, true, false},
		{"webp", readTestdata(t, "opaque.webp"), "scale", 96, 96, false, "image/jpeg", 96, 64, false, false},
		{"webp crop", readTestdata(t, "opaque.webp"), "crop", 32, 32, false, "image/jpeg", 32, 32, false, false},
		{"webp with alpha", readTestdata(t, "alpha.webp"), "scale", 48, 48, false, "image/png", 36, 48, false, false},
		{"exif orientation 6", withEXIFOrientation(photo, 6, binary.BigEndian), "scale", 96, 96, false, "image/jpeg", 72, 96, false, false},
		{"exif orientation 8", withEXIFOrientation(photo, 8, binary.LittleEndian), "crop", 32, 96, false, "image/jpeg", 32, 96, false, false},
	}
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				uri := e.upload(tc.data, "application/octet-stream", "source")
				var extra mautrix.DownloadThumbnailExtra
				extra.Method, extra.Animated = tc.method, tc.animated
				resp, err := e.alice.DownloadThumbnail(ctx, uri, tc.h, tc.w, extra)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				body := readAll(t, resp)
				if ct := resp.Header.Get("Content-Type"); ct != tc.wantType {
					t.Errorf("Content-Type = %q, want %q", ct, tc.wantType)
				}
				if cd := resp.Header.Get("Content-Disposition"); cd != `inline; filename="`+thumbnailFileName(tc.wantType)+`"` {
					t.Errorf("Content-Disposition = %q", cd)
				}
				if resp.Header.Get("Content-Security-Policy") == "" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
					t.Errorf("security headers missing: %v", resp.Header)
				}
				img, format, err := image.Decode(bytes.NewReader(body))
				if err != nil {
					t.Fatalf("thumbnail does not decode: %v", err)
				}
				if "image/"+format != tc.wantType {
					t.Errorf("thumbnail is %s, served as %s", format, tc.wantType)
				}
				if b := img.Bounds(); b.Dx() != tc.wantW || b.Dy() != tc.wantH {
					t.Errorf("thumbnail %d×%d, want %d×%d", b.Dx(), b.Dy(), tc.wantW, tc.wantH)
				}
				if got := bytes.Equal(body, tc.data); got != tc.wantOriginal {
					t.Errorf("original answered: %v, want %v", got, tc.wantOriginal)
				}
				if tc.wantRedCenter {
					r, g, b, _ := img.At(tc.wantW/2, tc.wantH/2).RGBA()
					if r>>8 < 200 || g>>8 > 60 || b>>8 > 60 {
						t.Errorf("centre pixel %d,%d,%d: not the first frame's red", r>>8, g>>8, b>>8)
					}
				}
			})
		}
	})
}

func TestThumbnailErrorsAndCache(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		img := e.upload(encodeJPEG(t, testImage(400, 300, false)), "image/jpeg", "p.jpg")
		base := "/_matrix/client/v1/media/thumbnail/" + testServer + "/" + img.FileID

		for _, tc := range []struct {
			query, errcode string
		}{
			{"height=32", "M_MISSING_PARAM"},
			{"width=32", "M_MISSING_PARAM"},
			{"width=-1&height=32", "M_INVALID_PARAM"},
			{"width=0&height=32", "M_INVALID_PARAM"},
			{"width=1.5&height=32", "M_INVALID_PARAM"},
			{"width=32&height=99999999999999999999999", "M_INVALID_PARAM"},
			{"width=32&height=32&method=zoom", "M_INVALID_PARAM"},
			{"width=32&height=32&animated=maybe", "M_INVALID_PARAM"},
		} {
			wantError(t, e.get(base+"?"+tc.query, "alice"), 400, tc.errcode)
		}

		text := e.upload([]byte("not an image"), "image/png", "")
		wantError(t, e.get(thumbnailPath(text, 32, 32, "crop"), "alice"), 400, "M_UNKNOWN")

		// A decompression bomb's header is enough to refuse it.
		bomb := e.upload(pngHeader(10000, 10000, 8), "image/png", "")
		wantError(t, e.get(thumbnailPath(bomb, 32, 32, "crop"), "alice"), 413, "M_TOO_LARGE")

		// Sizes that round to the same box share one cached thumbnail.
		first := e.get(thumbnailPath(img, 90, 90, "crop"), "alice")
		second := e.get(thumbnailPath(img, 96, 96, "crop"), "alice")
		legacy := e.get("/_matrix/media/v3/thumbnail/"+testServer+"/"+img.FileID+"?width=96&height=96&method=crop", "")
		if first.StatusCode != 200 || second.StatusCode != 200 || legacy.StatusCode != 200 {
			t.Fatalf("statuses %d %d %d", first.StatusCode, second.StatusCode, legacy.StatusCode)
		}
		if !bytes.Equal(readAll(t, first), readAll(t, second)) || first.Header.Get("ETag") != legacy.Header.Get("ETag") {
			t.Errorf("same box gave different thumbnails")
		}
		if legacy.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Errorf("legacy thumbnail Cache-Control %q", legacy.Header.Get("Cache-Control"))
		}
		// Once made, a thumbnail is served from its cache: even without the
		// original.
		orig, err := e.repo.blobs.path(strings.Trim(e.get(downloadPath(img), "alice").Header.Get("ETag"), `"`))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(orig); err != nil {
			t.Fatal(err)
		}
		if cached := e.get(thumbnailPath(img, 96, 96, "crop"), "alice"); cached.StatusCode != 200 || cached.Header.Get("ETag") != first.Header.Get("ETag") {
			t.Errorf("cached thumbnail: %d", cached.StatusCode)
		}
		wantError(t, e.get(thumbnailPath(img, 320, 240, "scale"), "alice"), 404, "M_NOT_FOUND")

		var rows int
		if err := db.QueryRow(context.Background(), "SELECT COUNT(*) FROM hs_media_thumbnail WHERE media_id = $1", img.FileID).Scan(&rows); err != nil || rows != 1 {
			t.Errorf("%d thumbnail rows, %v", rows, err)
		}
		var w, h int
		var method string
		if err := db.QueryRow(context.Background(), "SELECT width, height, method FROM hs_media_thumbnail WHERE media_id = $1", img.FileID).Scan(&w, &h, &method); err != nil || w != 96 || h != 96 || method != "crop" {
			t.Errorf("thumbnail row %d×%d %s, %v", w, h, method, err)
		}
	})
}

func TestParseThumbnailParams(t *testing.T) {
	tests := []struct {
		query string
		want  thumbParams
		err   string
	}{
		{"width=32&height=32", thumbParams{32, 32, "scale", false}, ""},
		{"width=33&height=1&method=crop", thumbParams{48, 32, "crop", false}, ""},
		{"width=800&height=600&method=scale&animated=true", thumbParams{800, 600, "scale", true}, ""},
		{"width=5000&height=1025", thumbParams{MaxThumbnailSize, MaxThumbnailSize, "scale", false}, ""},
		{"width=32&height=32&animated=false", thumbParams{32, 32, "scale", false}, ""},
		{"", thumbParams{}, "M_MISSING_PARAM"},
		{"width=a&height=32", thumbParams{}, "M_INVALID_PARAM"},
		{"width=32&height=0", thumbParams{}, "M_INVALID_PARAM"},
		{"width=32&height=32&method=CROP", thumbParams{}, "M_INVALID_PARAM"},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			q, _ := url.ParseQuery(tc.query)
			got, err := parseThumbnailParams(q)
			if tc.err != "" {
				var resp mautrix.RespError
				if !errors.As(err, &resp) || resp.ErrCode != tc.err || resp.StatusCode != 400 {
					t.Errorf("err = %v, want %s", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestGeometry(t *testing.T) {
	tests := []struct {
		W, H, w, h int
		method     string
		sr         image.Rectangle
		tw, th     int
	}{
		{400, 300, 96, 96, "scale", image.Rect(0, 0, 400, 300), 96, 72},
		{300, 400, 96, 96, "scale", image.Rect(0, 0, 300, 400), 72, 96},
		{400, 300, 96, 96, "crop", image.Rect(50, 0, 350, 300), 96, 96},
		{400, 300, 320, 240, "crop", image.Rect(0, 0, 400, 300), 320, 240},
		{400, 100, 96, 96, "crop", image.Rect(150, 0, 250, 100), 96, 96},
		{40, 30, 96, 96, "scale", image.Rect(0, 0, 40, 30), 40, 30},                // never enlarged
		{400, 50, 96, 96, "crop", image.Rect(152, 0, 248, 50), 96, 50},             // one side too small
		{10000, 1, 32, 32, "scale", image.Rect(0, 0, 10000, 1), 32, 1},             // at least one pixel
		{1, 10000, 32, 32, "crop", image.Rect(0, 4984, 1, 5016), 1, 32},            // thin
		{7, 5, 1024, 1024, "crop", image.Rect(0, 0, 7, 5), 7, 5},                   // tiny
		{4000, 3000, 1024, 1024, "scale", image.Rect(0, 0, 4000, 3000), 1024, 768}, // large
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%dx%d_%s_%dx%d", tc.W, tc.H, tc.method, tc.w, tc.h), func(t *testing.T) {
			sr, tw, th := geometry(tc.W, tc.H, tc.w, tc.h, tc.method)
			if sr != tc.sr || tw != tc.tw || th != tc.th {
				t.Errorf("got %v %d×%d, want %v %d×%d", sr, tw, th, tc.sr, tc.tw, tc.th)
			}
		})
	}
}

// TestResizeAveragesAway checks that shrinking a one-pixel checkerboard
// gives even grey: every source pixel counts (no aliasing), which a plain
// bilinear shrink would not do.
func TestResizeAveragesAway(t *testing.T) {
	src := image.NewGray(image.Rect(0, 0, 1000, 800))
	for y := 0; y < 800; y++ {
		for x := 0; x < 1000; x++ {
			if (x+y)%2 == 0 {
				src.SetGray(x, y, color.Gray{255})
			}
		}
	}
	out := resize(src, src.Bounds(), 70, 56)
	for y := 0; y < 56; y++ {
		for x := 0; x < 70; x++ {
			c := out.RGBAAt(x, y)
			if c.R < 120 || c.R > 135 || c.A != 255 {
				t.Fatalf("pixel %d,%d = %v, want even grey", x, y, c)
			}
		}
	}
}

// TestResizeMemoryBounded checks that shrinking a large image does not
// allocate a filter buffer as tall as the source (see resize).
func TestResizeMemoryBounded(t *testing.T) {
	src := image.NewGray(image.Rect(0, 0, 4000, 3000))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	out := resize(src, src.Bounds(), 512, 384)
	runtime.ReadMemStats(&after)
	// Halvings: 2000×1500 and 1000×750 RGBA (15 MB); Catmull-Rom buffer:
	// 512×750 pixels of 32 bytes (12 MB). Without the halvings, the buffer
	// alone would be 512×3000×32 bytes (49 MB).
	if got := after.TotalAlloc - before.TotalAlloc; got > 35<<20 {
		t.Errorf("resize allocated %d MB", got>>20)
	}
	if b := out.Bounds(); b.Dx() != 512 || b.Dy() != 384 {
		t.Errorf("bounds %v", b)
	}
}

func TestOrient(t *testing.T) {
	// A 3×2 image whose pixels are numbered 0-5 in their red channel.
	src := image.NewRGBA(image.Rect(0, 0, 3, 2))
	for i := range 6 {
		src.SetRGBA(i%3, i/3, color.RGBA{uint8(i), 0, 0, 255})
	}
	// Each orientation, as rows of the upright image.
	want := map[int][][]uint8{
		1: {{0, 1, 2}, {3, 4, 5}},
		2: {{2, 1, 0}, {5, 4, 3}},
		3: {{5, 4, 3}, {2, 1, 0}},
		4: {{3, 4, 5}, {0, 1, 2}},
		5: {{0, 3}, {1, 4}, {2, 5}},
		6: {{3, 0}, {4, 1}, {5, 2}},
		7: {{5, 2}, {4, 1}, {3, 0}},
		8: {{2, 5}, {1, 4}, {0, 3}},
	}
	for o, rows := range want {
		out := orient(src, o)
		if b := out.Bounds(); b.Dy() != len(rows) || b.Dx() != len(rows[0]) {
			t.Errorf("orientation %d: %v", o, b)
			continue
		}
		for y, row := range rows {
			for x, v := range row {
				if got := out.RGBAAt(x, y).R; got != v {
					t.Errorf("orientation %d: pixel %d,%d = %d, want %d", o, x, y, got, v)
				}
			}
		}
	}
}

func TestHeaderReaders(t *testing.T) {
	jpg := encodeJPEG(t, testImage(8, 8, false))
	for o := uint16(1); o <= 8; o++ {
		for _, bo := range []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian} {
			if got := jpegOrientation(bytes.NewReader(withEXIFOrientation(jpg, o, bo))); got != int(o) {
				t.Errorf("orientation %d (%v) read as %d", o, bo, got)
			}
		}
	}
	for name, data := range map[string][]byte{
		"no exif":       jpg,
		"bad value":     withEXIFOrientation(jpg, 9, binary.BigEndian),
		"truncated":     withEXIFOrientation(jpg, 6, binary.BigEndian)[:30],
		"not a jpeg":    []byte("hello"),
		"empty":         nil,
		"bad byteorder": bytes.Replace(withEXIFOrientation(jpg, 6, binary.BigEndian), []byte("MM"), []byte("XX"), 1),
	} {
		if got := jpegOrientation(bytes.NewReader(data)); got != 1 {
			t.Errorf("%s: orientation %d, want 1", name, got)
		}
	}

	still := encodePNG(t, testImage(4, 4, false))
	apng := append(append(append([]byte{}, still[:33]...), pngChunk("acTL", make([]byte, 8))...), still[33:]...)
	if pngAnimated(bytes.NewReader(still)) || !pngAnimated(bytes.NewReader(apng)) {
		t.Errorf("pngAnimated: still %v, apng %v", pngAnimated(bytes.NewReader(still)), pngAnimated(bytes.NewReader(apng)))
	}
	if _, _, err := image.Decode(bytes.NewReader(apng)); err != nil {
		t.Fatalf("test APNG does not decode: %v", err)
	}

	vp8x := []byte("RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x02\x00\x00\x00")
	if !webpAnimated(bytes.NewReader(vp8x)) || webpAnimated(bytes.NewReader(readTestdata(t, "opaque.webp"))) {
		t.Errorf("webpAnimated wrong")
	}
}

func TestDecompressionBombsRefused(t *testing.T) {
	jpegSOF := []byte{0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x0B, 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x01, 0x11, 0x00, 0xFF, 0xDA, 0x00, 0x02}
	gifHeader := []byte("GIF89a\xff\xff\xff\xff\x00\x00\x00")
	webpHeader := []byte("RIFF\x16\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x00\x00\x00\x00\xff\x3f\x00\xff\x3f\x00")
	for name, data := range map[string][]byte{
		"png 100 MP":    pngHeader(10000, 10000, 8),
		"16-bit png":    pngHeader(6000, 6000, 16), // 36 MP, but 288 MB decoded
		"jpeg 4 GP":     jpegSOF,
		"gif 4 GP":      gifHeader,
		"webp 268 MP":   webpHeader,
		"png 1×100 MP":  pngHeader(1, 100_000_000, 8),
		"png 2^31 wide": pngHeader(1<<31-1, 1, 8),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := makeThumbnail(bytes.NewReader(data), int64(len(data)), 32, 32, "scale", defaultLimits)
			if !errors.Is(err, errThumbnailTooLarge) {
				t.Errorf("got %v, want errThumbnailTooLarge", err)
			}
		})
	}
	if _, err := makeThumbnail(bytes.NewReader(pngHeader(4000, 4000, 8)), 100, 32, 32, "scale", defaultLimits); !errors.Is(err, errCannotThumbnail) {
		t.Errorf("16 MP header without data: %v, want errCannotThumbnail", err)
	}
}
