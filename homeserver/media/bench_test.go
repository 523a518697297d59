package media

import (
	"bytes"
	"context"
	"testing"

	"switchboard/internal/database/dbtest"
)

// BenchmarkUploadDownload uploads and downloads 1 MiB through the HTTP
// API on SQLite: each upload is new content (the first bytes differ), so
// every iteration hashes, writes, syncs and renames a file.
func BenchmarkUploadDownload(b *testing.B) {
	e := newEnv(b, dbtest.SQLite(b))
	e.maxBytes = 2 << 20
	e.start()
	ctx := context.Background()
	data := randomBytes(1 << 20)
	b.SetBytes(2 << 20)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		data[0], data[1], data[2], data[3] = byte(i), byte(i>>8), byte(i>>16), byte(i>>24)
		up, err := e.alice.UploadBytes(ctx, data, "application/octet-stream")
		if err != nil {
			b.Fatal(err)
		}
		got, err := e.alice.DownloadBytes(ctx, up.ContentURI)
		if err != nil || !bytes.Equal(got, data) {
			b.Fatalf("download: %v", err)
		}
	}
}

// BenchmarkThumbnail measures making a thumbnail of a 12-megapixel photo,
// without the cache.
func BenchmarkThumbnail(b *testing.B) {
	src := encodeJPEG(b, testImage(4000, 3000, false))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := makeThumbnail(bytes.NewReader(src), int64(len(src)), 320, 240, methodScale, defaultLimits); err != nil {
			b.Fatal(err)
		}
	}
}
