package media

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // registers GIF with image.Decode (first frame only)
	"image/jpeg"
	"image/png"
	"io"
	"math"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp" // registers WebP with image.Decode
)

// MaxThumbnailPixels bounds the images the thumbnailer decodes: an image
// whose header claims more pixels is refused before decoding, so a small
// file cannot make the server allocate gigabytes (a decompression bomb).
const MaxThumbnailPixels = 50_000_000

var (
	// errCannotThumbnail: the content is not an image the thumbnailer can
	// read. Answered 400 M_UNKNOWN, as the spec's example does.
	errCannotThumbnail = errors.New("cannot generate thumbnails for the requested content")
	// errThumbnailTooLarge: the image is too large to decode. Answered 413
	// M_TOO_LARGE, as the spec asks for local content.
	errThumbnailTooLarge = errors.New("content is too large to thumbnail")
)

// limits bounds the thumbnailer; tests and fuzzing use smaller ones.
type limits struct {
	maxPixels int64
	// maxDecodeBytes bounds pixels × bytes per pixel of the decoded image,
	// which matters for 16-bit images.
	maxDecodeBytes int64
	// maxOriginal is the largest file answered as its own thumbnail.
	maxOriginal int64
}

var defaultLimits = limits{
	maxPixels:      MaxThumbnailPixels,
	maxDecodeBytes: 256 << 20,
	maxOriginal:    4 << 20,
}

// thumbResult is what makeThumbnail decided: either the original answers
// as it is (it already fits the box), or data holds a new image.
type thumbResult struct {
	original      bool
	data          []byte
	contentType   string
	width, height int
}

// makeThumbnail makes a thumbnail of at most w×h of the image in src (size
// bytes long). "scale" keeps the aspect ratio and fits the image inside the
// box; "crop" fills the box and cuts what sticks out, centred. Images are
// never enlarged: one that already fits the box is answered as it is,
// unless it may be animated (the spec forbids an animated answer when none
// was asked for), in which case its first frame is re-encoded. Thumbnails
// with transparency are PNG, others JPEG. A JPEG's EXIF orientation is
// applied, so thumbnails of phone photos stand upright.
func makeThumbnail(src io.ReadSeeker, size int64, w, h int, method string, lim limits) (*thumbResult, error) {
	cfg, format, err := decodeConfig(src, lim)
	if err != nil {
		return nil, err
	}
	orientation := 1
	if format == "jpeg" {
		if _, err := src.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		orientation = jpegOrientation(src)
	}
	dw, dh := cfg.Width, cfg.Height
	if orientation >= 5 { // the stored image is on its side
		dw, dh = dh, dw
	}
	if dw <= w && dh <= h && size <= lim.maxOriginal {
		animated, err := mayAnimate(src, format)
		if err != nil {
			return nil, err
		}
		if !animated {
			return &thumbResult{original: true, contentType: "image/" + format, width: dw, height: dh}, nil
		}
	}

	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	img, _, err := image.Decode(src)
	if err != nil {
		return nil, fmt.Errorf("%w: decode %s: %v", errCannotThumbnail, format, err)
	}
	bw, bh := w, h
	if orientation >= 5 {
		bw, bh = h, w
	}
	b := img.Bounds()
	sr, tw, th := geometry(b.Dx(), b.Dy(), bw, bh, method)
	out := orient(resize(img, sr.Add(b.Min), tw, th), orientation)

	var buf bytes.Buffer
	res := &thumbResult{width: out.Bounds().Dx(), height: out.Bounds().Dy()}
	if out.Opaque() {
		res.contentType = "image/jpeg"
		err = jpeg.Encode(&buf, out, &jpeg.Options{Quality: 85})
	} else {
		res.contentType = "image/png"
		err = (&png.Encoder{CompressionLevel: png.DefaultCompression}).Encode(&buf, out)
	}
	if err != nil {
		return nil, fmt.Errorf("encode thumbnail: %w", err)
	}
	res.data = buf.Bytes()
	return res, nil
}

// decodeConfig reads an image's header and refuses images the thumbnailer
// must not decode.
func decodeConfig(src io.ReadSeeker, lim limits) (image.Config, string, error) {
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return image.Config{}, "", err
	}
	cfg, format, err := image.DecodeConfig(src)
	if err != nil {
		return image.Config{}, "", fmt.Errorf("%w: %v", errCannotThumbnail, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return image.Config{}, "", fmt.Errorf("%w: %s of %d×%d pixels", errCannotThumbnail, format, cfg.Width, cfg.Height)
	}
	pixels := int64(cfg.Width) * int64(cfg.Height)
	if pixels > lim.maxPixels || pixels*bytesPerPixel(cfg.ColorModel) > lim.maxDecodeBytes {
		return image.Config{}, "", fmt.Errorf("%w: %s of %d×%d pixels", errThumbnailTooLarge, format, cfg.Width, cfg.Height)
	}
	return cfg, format, nil
}

// bytesPerPixel is what the decoder allocates per pixel for a color model.
func bytesPerPixel(m color.Model) int64 {
	switch m {
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	case color.Gray16Model:
		return 2
	case color.GrayModel, color.AlphaModel:
		return 1
	default:
		return 4
	}
}

// mayAnimate reports whether an image could be animated. GIFs are assumed
// to be: telling would mean reading every frame.
func mayAnimate(src io.ReadSeeker, format string) (bool, error) {
	switch format {
	case "jpeg":
		return false, nil
	case "png", "webp":
		if _, err := src.Seek(0, io.SeekStart); err != nil {
			return false, err
		}
		if format == "png" {
			return pngAnimated(src), nil
		}
		return webpAnimated(src), nil
	default:
		return true, nil
	}
}

// animatedOriginal reports whether the original may answer a request for
// an animated thumbnail: a GIF, PNG or WebP (the animated types the spec
// allows for thumbnails) of at most lim.maxOriginal bytes that fits in w×h,
// or, with anySize, of any dimensions (for an image that could not be
// thumbnailed, such as an animated WebP). It returns the content type to
// serve it with.
func animatedOriginal(src io.ReadSeeker, size int64, w, h int, anySize bool, lim limits) (string, bool) {
	if size > lim.maxOriginal {
		return "", false
	}
	cfg, format, err := decodeConfig(src, lim)
	if err != nil {
		return "", false
	}
	switch format {
	case "gif", "png", "webp":
	default:
		return "", false
	}
	if !anySize && (cfg.Width > w || cfg.Height > h) {
		return "", false
	}
	return "image/" + format, true
}

// geometry returns the part of a W×H image to use (sr) and the size to
// scale it to (tw×th) for a w×h box. Neither tw nor th ever exceeds the
// image's own size.
func geometry(W, H, w, h int, method string) (sr image.Rectangle, tw, th int) {
	fw, fh := float64(w)/float64(W), float64(h)/float64(H)
	if method == methodCrop {
		f := min(max(fw, fh), 1)
		cw := min(W, max(1, int(math.Round(float64(w)/f))))
		ch := min(H, max(1, int(math.Round(float64(h)/f))))
		x0, y0 := (W-cw)/2, (H-ch)/2
		tw = min(w, max(1, int(math.Round(float64(cw)*f))))
		th = min(h, max(1, int(math.Round(float64(ch)*f))))
		return image.Rect(x0, y0, x0+cw, y0+ch), tw, th
	}
	f := min(fw, fh, 1)
	tw = min(W, max(1, int(math.Round(float64(W)*f))))
	th = min(H, max(1, int(math.Round(float64(H)*f))))
	return image.Rect(0, 0, W, H), tw, th
}

// resize scales the sr part of src to tw×th.
//
// The filter is Catmull-Rom, the sharpest and cleanest of x/image's: as a
// kernel filter it widens with the shrink ratio, so every source pixel
// counts and a photo shrunk many times over keeps no moiré. ApproxBiLinear,
// the fast alternative, blends only the four source pixels nearest each
// output pixel, skipping the rest when shrinking much, which aliases.
//
// A kernel filter costs a float buffer of tw × (source height) pixels, 32
// bytes each: close to 200 MB for a 50-megapixel photo. So the image is
// first halved while it is at least twice the target: ApproxBiLinear at
// exactly 2:1 samples midway between pixels, which is an exact 2×2 average
// (a box filter, no aliasing either), fast, with a quarter-size output.
// Catmull-Rom then does the last step, of less than 2:1, whose buffer is
// at most tw × 2th pixels whatever the source.
func resize(src image.Image, sr image.Rectangle, tw, th int) *image.RGBA {
	cur, cr := src, sr
	for cr.Dx() >= 2*tw && cr.Dy() >= 2*th {
		nw, nh := cr.Dx()/2, cr.Dy()/2
		half := image.NewRGBA(image.Rect(0, 0, nw, nh))
		draw.ApproxBiLinear.Scale(half, half.Bounds(), cur,
			image.Rect(cr.Min.X, cr.Min.Y, cr.Min.X+2*nw, cr.Min.Y+2*nh), draw.Src, nil)
		cur, cr = half, half.Bounds()
	}
	out := image.NewRGBA(image.Rect(0, 0, tw, th))
	if cr.Dx() == tw && cr.Dy() == th {
		draw.Copy(out, image.Point{}, cur, cr, draw.Src, nil)
	} else {
		draw.CatmullRom.Scale(out, out.Bounds(), cur, cr, draw.Src, nil)
	}
	return out
}

// orient turns an image stored with EXIF orientation o (1-8) upright.
func orient(m *image.RGBA, o int) *image.RGBA {
	if o <= 1 || o > 8 {
		return m
	}
	w, h := m.Bounds().Dx(), m.Bounds().Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	out := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < dh; y++ {
		for x := 0; x < dw; x++ {
			var sx, sy int
			switch o {
			case 2: // mirrored
				sx, sy = w-1-x, y
			case 3: // upside down
				sx, sy = w-1-x, h-1-y
			case 4: // upside down, mirrored
				sx, sy = x, h-1-y
			case 5: // transposed
				sx, sy = y, x
			case 6: // needs a quarter turn clockwise
				sx, sy = y, h-1-x
			case 7: // transversed
				sx, sy = w-1-y, h-1-x
			case 8: // needs a quarter turn counter-clockwise
				sx, sy = w-1-y, x
			}
			si := m.PixOffset(sx, sy)
			di := out.PixOffset(x, y)
			copy(out.Pix[di:di+4], m.Pix[si:si+4])
		}
	}
	return out
}
