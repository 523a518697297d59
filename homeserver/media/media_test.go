package media

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"switchboard/internal/database"
	"switchboard/internal/database/dbtest"
)

func TestUploadDownloadRoundTrip(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		data := []byte("hello, media\n")
		uri := e.upload(data, "text/plain", "hello.txt")
		if uri.Homeserver != testServer || !validMediaID(uri.FileID) || len(uri.FileID) != 24 {
			t.Fatalf("content uri %s", uri)
		}

		// The client's DownloadBytes uses the authenticated endpoint.
		got, err := e.alice.DownloadBytes(ctx, uri)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("DownloadBytes = %q, %v", got, err)
		}

		for _, tc := range []struct {
			name, path, token, cache string
		}{
			{"authenticated", downloadPath(uri), "bob", "private, max-age=31536000, immutable"},
			{"legacy", legacyPath(uri), "", "public, max-age=31536000, immutable"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				resp := e.get(tc.path, tc.token)
				body := readAll(t, resp)
				if resp.StatusCode != 200 || !bytes.Equal(body, data) {
					t.Fatalf("%d %q", resp.StatusCode, body)
				}
				want := map[string]string{
					"Content-Type":                 "text/plain",
					"Content-Disposition":          `inline; filename="hello.txt"`,
					"Content-Security-Policy":      "sandbox; default-src 'none'; script-src 'none'; plugin-types application/pdf; style-src 'unsafe-inline'; object-src 'self';",
					"Cross-Origin-Resource-Policy": "cross-origin",
					"X-Content-Type-Options":       "nosniff",
					"Access-Control-Allow-Origin":  "*",
					"Cache-Control":                tc.cache,
					"Content-Length":               fmt.Sprint(len(data)),
					"Accept-Ranges":                "bytes",
				}
				for k, v := range want {
					if got := resp.Header.Get(k); got != v {
						t.Errorf("%s = %q, want %q", k, got, v)
					}
				}
				if etag := resp.Header.Get("ETag"); len(etag) != 66 {
					t.Errorf("ETag = %q", etag)
				}
			})
		}
	})
}

func TestOpenAndServerSideUpload(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		uri, err := e.repo.Upload(ctx, "@bridge:"+testServer, "text/plain; charset=utf-8", "log.txt", strings.NewReader("line\n"))
		if err != nil {
			t.Fatal(err)
		}
		f, meta, err := e.repo.Open(ctx, uri)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(f); err != nil || buf.String() != "line\n" {
			t.Errorf("content %q %v", buf.String(), err)
		}
		if meta.URI != uri || meta.ContentType != "text/plain; charset=utf-8" || meta.FileName != "log.txt" ||
			meta.Size != 5 || meta.Uploader != "@bridge:"+testServer || len(meta.SHA256) != 64 || meta.Uploaded.IsZero() {
			t.Errorf("metadata %+v", meta)
		}

		for _, tc := range []struct {
			uri  id.ContentURI
			want error
		}{
			{id.ContentURI{Homeserver: testServer, FileID: ""}, ErrInvalidID},
			{id.ContentURI{Homeserver: testServer, FileID: "../x"}, ErrInvalidID},
			{id.ContentURI{Homeserver: testServer, FileID: "a/b"}, ErrInvalidID},
			{id.ContentURI{Homeserver: "bad server", FileID: "abc"}, ErrInvalidID},
			{id.ContentURI{Homeserver: "", FileID: "abc"}, ErrInvalidID},
			{id.ContentURI{Homeserver: testServer, FileID: "nosuchmedia"}, ErrNotFound},
			{id.ContentURI{Homeserver: "other.example", FileID: "abc"}, ErrRemote},
		} {
			if _, _, err := e.repo.Open(ctx, tc.uri); !errors.Is(err, tc.want) {
				t.Errorf("Open(%q, %q) = %v, want %v", tc.uri.Homeserver, tc.uri.FileID, err, tc.want)
			}
		}

		if _, err := e.repo.Upload(ctx, alice, "", "bad\nname", strings.NewReader("x")); !errors.Is(err, ErrInvalidFileName) {
			t.Errorf("control character in file name: %v", err)
		}
		if _, err := e.repo.Upload(ctx, alice, "", "", bytes.NewReader(make([]byte, e.maxBytes+1))); !errors.Is(err, ErrTooLarge) {
			t.Errorf("over-size server-side upload: %v", err)
		}
	})
}

func TestAuthenticationRequired(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		uri := e.upload([]byte("secret"), "text/plain", "")
		paths := []struct{ method, path string }{
			{"GET", downloadPath(uri)},
			{"GET", downloadPath(uri) + "/name.txt"},
			{"GET", "/_matrix/client/v1/media/thumbnail/" + testServer + "/" + uri.FileID + "?width=32&height=32"},
			{"GET", "/_matrix/client/v1/media/config"},
			{"GET", "/_matrix/media/v3/config"},
			{"POST", "/_matrix/media/v3/upload"},
			{"POST", "/_matrix/media/v1/create"},
			{"PUT", "/_matrix/media/v3/upload/" + testServer + "/" + uri.FileID},
		}
		for _, p := range paths {
			wantError(t, e.do(p.method, p.path, "", strings.NewReader("x"), nil), 401, "M_MISSING_TOKEN")
			wantError(t, e.do(p.method, p.path, "wrong", strings.NewReader("x"), nil), 401, "M_UNKNOWN_TOKEN")
		}
		// The legacy download needs no token.
		if resp := e.get(legacyPath(uri), ""); resp.StatusCode != 200 {
			t.Errorf("legacy download: %d", resp.StatusCode)
		}
		if e.mediaRows() != 1 {
			t.Errorf("unauthenticated requests stored media: %d rows", e.mediaRows())
		}
	})
}

func TestMediaConfig(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		cfg, err := e.alice.GetMediaConfig(context.Background())
		if err != nil || cfg.UploadSize != e.maxBytes {
			t.Errorf("GetMediaConfig = %+v, %v", cfg, err)
		}
		var legacy map[string]int64
		if err := json.Unmarshal(readAll(t, e.get("/_matrix/media/v3/config", "alice")), &legacy); err != nil || legacy["m.upload.size"] != e.maxBytes {
			t.Errorf("legacy config %v %v", legacy, err)
		}
	})
}

func TestContentTypeAndDisposition(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		tests := []struct {
			name, contentType, fileName, pathName string
			wantType, wantDisposition             string
		}{
			{"image inline", "image/png", "a.png", "", "image/png", `inline; filename="a.png"`},
			{"html is an attachment", "text/html", "page.html", "", "text/html", `attachment; filename="page.html"`},
			{"svg is an attachment", "image/svg+xml", "x.svg", "", "image/svg+xml", `attachment; filename="x.svg"`},
			{"no content type", "", "", "", "application/octet-stream", `attachment`},
			{"garbage content type", "not a type", "", "", "application/octet-stream", `attachment`},
			{"params kept", "text/plain; charset=UTF-8", "", "", "text/plain; charset=UTF-8", `inline`},
			{"name in path wins", "video/mp4", "a.mp4", "other name.mp4", "video/mp4", `inline; filename="other name.mp4"`},
			{"non-ASCII name", "audio/ogg", "früh \"1\".ogg", "", "audio/ogg",
				`inline; filename="fr_h _1_.ogg"; filename*=UTF-8''fr%C3%BCh%20%221%22.ogg`},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				// A raw request, so that "no content type" sends none.
				path := "/_matrix/media/v3/upload"
				if tc.fileName != "" {
					path += "?filename=" + url.QueryEscape(tc.fileName)
				}
				header := http.Header{}
				if tc.contentType != "" {
					header.Set("Content-Type", tc.contentType)
				}
				resp := e.do("POST", path, "alice", strings.NewReader("content"), header)
				var up struct {
					ContentURI id.ContentURI `json:"content_uri"`
				}
				if err := json.Unmarshal(readAll(t, resp), &up); err != nil || resp.StatusCode != 200 {
					t.Fatalf("upload: %d %v", resp.StatusCode, err)
				}
				p := downloadPath(up.ContentURI)
				if tc.pathName != "" {
					p += "/" + url.PathEscape(tc.pathName)
				}
				got := e.get(p, "alice")
				if ct := got.Header.Get("Content-Type"); ct != tc.wantType {
					t.Errorf("Content-Type = %q, want %q", ct, tc.wantType)
				}
				cd := got.Header.Get("Content-Disposition")
				if cd != tc.wantDisposition {
					t.Errorf("Content-Disposition = %q, want %q", cd, tc.wantDisposition)
				}
				wantName := tc.fileName
				if tc.pathName != "" {
					wantName = tc.pathName
				}
				if _, params, err := mime.ParseMediaType(cd); err != nil || params["filename"] != wantName {
					t.Errorf("Content-Disposition parses to %q, %v; want %q", params["filename"], err, wantName)
				}
			})
		}
	})
}

func TestRangeRequest(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		data := randomBytes(1000)
		uri := e.upload(data, "application/octet-stream", "")
		resp := e.do("GET", downloadPath(uri), "alice", nil, http.Header{"Range": {"bytes=100-199"}})
		body := readAll(t, resp)
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, data[100:200]) ||
			resp.Header.Get("Content-Range") != "bytes 100-199/1000" {
			t.Errorf("range: %d %q len %d", resp.StatusCode, resp.Header.Get("Content-Range"), len(body))
		}
		// A conditional request with the ETag needs no body.
		resp = e.do("GET", downloadPath(uri), "alice", nil, http.Header{"If-None-Match": {resp.Header.Get("ETag")}})
		if resp.StatusCode != http.StatusNotModified {
			t.Errorf("If-None-Match: %d", resp.StatusCode)
		}
	})
}

func TestOversizeUploadRefused(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		big := make([]byte, e.maxBytes+1)

		// With a Content-Length: refused before the body is read.
		_, err := e.alice.UploadBytes(context.Background(), big, "application/octet-stream")
		wantRespError(t, err, 413, "M_TOO_LARGE")

		// Chunked, without a Content-Length: refused once the limit passes.
		body := struct{ *bytes.Reader }{bytes.NewReader(big)} // hides the length from net/http
		resp := e.do("POST", "/_matrix/media/v3/upload", "alice", body, nil)
		if resp.Request.ContentLength != 0 { // 0 with a body: length unknown, sent chunked
			t.Fatalf("request was not chunked")
		}
		wantError(t, resp, 413, "M_TOO_LARGE")

		// Exactly the limit is fine.
		if _, err := e.alice.UploadBytes(context.Background(), big[:e.maxBytes], "application/octet-stream"); err != nil {
			t.Errorf("upload of exactly max bytes: %v", err)
		}
		if n := len(e.blobFiles()); n != 1 {
			t.Errorf("%d files stored, want the one upload within the limit", n)
		}
		if tmp := e.tempFiles(); len(tmp) != 0 {
			t.Errorf("temp files left: %v", tmp)
		}
		if e.mediaRows() != 1 {
			t.Errorf("%d rows, want 1", e.mediaRows())
		}
	})
}

func TestInterruptedUploadLeavesNothing(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST /_matrix/media/v3/upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer alice\r\n"+
			"Content-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n")
		if _, err := conn.Write(randomBytes(40000)); err != nil {
			t.Fatal(err)
		}
		// Wait until the server is writing the temp file, then hang up.
		waitFor(t, "the upload's temp file", func() bool { return len(e.tempFiles()) == 1 })
		conn.Close()
		waitFor(t, "the temp file to be removed", func() bool { return len(e.tempFiles()) == 0 })
		if n := len(e.blobFiles()); n != 0 {
			t.Errorf("%d files stored", n)
		}
		if e.mediaRows() != 0 {
			t.Errorf("%d rows stored", e.mediaRows())
		}
	})
}

func TestSameContentStoredOnce(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		data := randomBytes(5000)
		first := e.upload(data, "image/png", "a.png")

		// Concurrent uploads of the same content, by two users.
		const n = 8
		uris := make([]id.ContentURI, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			cli := e.alice
			if i%2 == 1 {
				cli = e.bob
			}
			wg.Go(func() {
				resp, err := cli.UploadBytesWithName(ctx, data, "application/octet-stream", fmt.Sprintf("copy%d.bin", i))
				if err == nil {
					uris[i] = resp.ContentURI
				}
				errs[i] = err
			})
		}
		wg.Wait()
		seen := map[string]bool{first.FileID: true}
		for i, err := range errs {
			if err != nil {
				t.Fatalf("upload %d: %v", i, err)
			}
			if seen[uris[i].FileID] {
				t.Errorf("media id %s handed out twice", uris[i].FileID)
			}
			seen[uris[i].FileID] = true
		}
		if files := e.blobFiles(); len(files) != 1 {
			t.Errorf("%d files on disk for one content: %v", len(files), files)
		}
		if e.mediaRows() != n+1 {
			t.Errorf("%d rows, want %d", e.mediaRows(), n+1)
		}
		// Each keeps its own metadata.
		resp := e.get(downloadPath(uris[3]), "alice")
		if !bytes.Equal(readAll(t, resp), data) || resp.Header.Get("Content-Disposition") != `attachment; filename="copy3.bin"` {
			t.Errorf("copy 3: %q", resp.Header.Get("Content-Disposition"))
		}
		resp = e.get(downloadPath(first), "alice")
		if resp.Header.Get("Content-Type") != "image/png" || resp.Header.Get("Content-Disposition") != `inline; filename="a.png"` {
			t.Errorf("first: %v", resp.Header)
		}
	})
}

func TestBadMediaIDs(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.upload([]byte("x"), "text/plain", "")
		for _, base := range []string{"/_matrix/client/v1/media/download/", "/_matrix/media/v3/download/", "/_matrix/client/v1/media/thumbnail/"} {
			for _, rest := range []string{
				testServer + "/%2E%2E%2Fx",
				testServer + "/..%2F..%2Fetc%2Fpasswd",
				testServer + "/a.b",
				testServer + "/%00",
				"bad_server!/abc",
				"a%2Fb/abc",
			} {
				q := ""
				if strings.Contains(base, "thumbnail") {
					q = "?width=32&height=32"
				}
				wantError(t, e.get(base+rest+q, "alice"), 400, "M_INVALID_PARAM")
			}
			// An empty media id matches no route.
			if resp := e.get(base+testServer+"/", "alice"); resp.StatusCode == 200 {
				t.Errorf("empty media id answered 200")
			}
		}
		// ".." is a valid server name by the spec's grammar; it is only ever
		// compared, never part of a path, so it is just another server.
		wantError(t, e.get("/_matrix/client/v1/media/download/%2E%2E/abc", "alice"), 404, "M_NOT_FOUND")
		wantError(t, e.do("PUT", "/_matrix/media/v3/upload/"+testServer+"/%2E%2E%2Fx", "alice", strings.NewReader("x"), nil), 400, "M_INVALID_PARAM")
		wantError(t, e.get(downloadPath(id.ContentURI{Homeserver: testServer, FileID: "unknown"}), "alice"), 404, "M_NOT_FOUND")
		wantError(t, e.get(downloadPath(id.ContentURI{Homeserver: testServer, FileID: "unknown"})+"/bad%0Aname", "alice"), 404, "M_NOT_FOUND")
	})
}

func TestRemoteMedia(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		remote := id.ContentURI{Homeserver: "other.example:8448", FileID: "abcdef"}
		wantError(t, e.get(downloadPath(remote), "alice"), 404, "M_NOT_FOUND")
		wantError(t, e.get(legacyPath(remote), ""), 404, "M_NOT_FOUND")
		noFetch := e.get(legacyPath(remote)+"?allow_remote=false", "")
		if noFetch.StatusCode != 404 || !strings.Contains(string(readAll(t, noFetch)), "allow_remote=false") {
			t.Errorf("allow_remote=false: %d", noFetch.StatusCode)
		}
		wantError(t, e.get("/_matrix/client/v1/media/thumbnail/other.example/abc?width=32&height=32", "alice"), 404, "M_NOT_FOUND")
		_, err := e.alice.DownloadBytes(context.Background(), remote)
		wantRespError(t, err, 404, "M_NOT_FOUND")
	})
}

func TestRestartStillServes(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		data := []byte("kept across restarts")
		uri := e.upload(data, "text/plain", "keep.txt")
		thumb := e.upload(encodePNG(t, testImage(200, 100, false)), "image/png", "")
		first := e.get(thumbnailPath(thumb, 64, 64, "scale"), "alice")
		firstBody := readAll(t, first)

		e.start() // a new Repo on the same database and directory
		got, err := e.alice.DownloadBytes(context.Background(), uri)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("after restart: %q %v", got, err)
		}
		again := e.get(thumbnailPath(thumb, 64, 64, "scale"), "alice")
		if !bytes.Equal(readAll(t, again), firstBody) || again.Header.Get("ETag") != first.Header.Get("ETag") {
			t.Errorf("thumbnail differs after restart")
		}
	})
}

func TestMissingFileIsNotFound(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		uri := e.upload([]byte("soon gone"), "text/plain", "")
		img := e.upload(encodePNG(t, testImage(300, 200, false)), "image/png", "")
		first := e.get(thumbnailPath(img, 32, 32, "crop"), "alice")
		if first.StatusCode != 200 {
			t.Fatalf("thumbnail: %d", first.StatusCode)
		}
		// Lose the thumbnail's file: it is made again.
		digest := strings.Trim(first.Header.Get("ETag"), `"`)
		thumbFile, err := e.repo.blobs.path(digest)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(thumbFile); err != nil {
			t.Fatal(err)
		}
		again := e.get(thumbnailPath(img, 32, 32, "crop"), "alice")
		if again.StatusCode != 200 || again.Header.Get("ETag") != first.Header.Get("ETag") {
			t.Errorf("thumbnail after its file was lost: %d %s", again.StatusCode, again.Header.Get("ETag"))
		}
		if _, err := os.Stat(thumbFile); err != nil {
			t.Errorf("thumbnail file not made again: %v", err)
		}

		// Lose every file.
		for _, f := range e.blobFiles() {
			if err := os.Remove(f); err != nil {
				t.Fatal(err)
			}
		}
		wantError(t, e.get(downloadPath(uri), "alice"), 404, "M_NOT_FOUND")
		wantError(t, e.get(legacyPath(uri), ""), 404, "M_NOT_FOUND")
		wantError(t, e.get(thumbnailPath(img, 32, 32, "crop"), "alice"), 404, "M_NOT_FOUND")
		if _, _, err := e.repo.Open(context.Background(), uri); !errors.Is(err, ErrNotFound) {
			t.Errorf("Open: %v", err)
		}
	})
}

func TestAsyncUpload(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		created, err := e.alice.CreateMXC(ctx)
		if err != nil {
			t.Fatal(err)
		}
		uri := created.ContentURI
		if uri.Homeserver != testServer || !validMediaID(uri.FileID) || created.UnusedExpiresAt.IsZero() {
			t.Fatalf("create: %+v", created)
		}

		// Not there yet: a short wait ends in 504.
		wantError(t, e.get(downloadPath(uri)+"?timeout_ms=20", "alice"), 504, "M_NOT_YET_UPLOADED")
		wantError(t, e.get(downloadPath(uri)+"?timeout_ms=soon", "alice"), 400, "M_INVALID_PARAM")

		// A download waiting for it gets it once uploaded.
		type result struct {
			body []byte
			err  error
		}
		waiting := make(chan result, 1)
		go func() {
			resp, err := e.alice.DownloadWithParams(ctx, uri, mautrix.DownloadExtra{Query: map[string]string{"timeout_ms": "10000"}})
			if err != nil {
				waiting <- result{err: err}
				return
			}
			defer resp.Body.Close()
			var buf bytes.Buffer
			_, err = buf.ReadFrom(resp.Body)
			waiting <- result{buf.Bytes(), err}
		}()
		waitFor(t, "the download to wait", func() bool {
			e.repo.mu.Lock()
			defer e.repo.mu.Unlock()
			return e.repo.waiters[uri.FileID] != nil
		})

		// Only the creator may upload.
		_, err = e.bob.UploadMedia(ctx, mautrix.ReqUploadMedia{MXC: uri, ContentBytes: []byte("bob's"), ContentType: "text/plain"})
		wantRespError(t, err, 403, "M_FORBIDDEN")

		data := []byte("uploaded later")
		if _, err := e.alice.UploadMedia(ctx, mautrix.ReqUploadMedia{MXC: uri, ContentBytes: data, ContentType: "text/plain", FileName: "later.txt"}); err != nil {
			t.Fatal(err)
		}
		res := <-waiting
		if res.err != nil || !bytes.Equal(res.body, data) {
			t.Errorf("waiting download: %q %v", res.body, res.err)
		}
		resp := e.get(downloadPath(uri), "bob")
		if resp.Header.Get("Content-Disposition") != `inline; filename="later.txt"` {
			t.Errorf("disposition %q", resp.Header.Get("Content-Disposition"))
		}

		// Once is enough.
		_, err = e.alice.UploadMedia(ctx, mautrix.ReqUploadMedia{MXC: uri, ContentBytes: []byte("again"), ContentType: "text/plain"})
		wantRespError(t, err, 409, "M_CANNOT_OVERWRITE_MEDIA")
		// Ids not made by /create, or of other servers, are unknown.
		_, err = e.alice.UploadMedia(ctx, mautrix.ReqUploadMedia{MXC: id.ContentURI{Homeserver: testServer, FileID: "nevercreated"}, ContentBytes: []byte("x")})
		wantRespError(t, err, 404, "M_NOT_FOUND")
		_, err = e.alice.UploadMedia(ctx, mautrix.ReqUploadMedia{MXC: id.ContentURI{Homeserver: "other.example", FileID: uri.FileID}, ContentBytes: []byte("x")})
		wantRespError(t, err, 404, "M_NOT_FOUND")

		// Over-size content for a created id is refused and leaves it pending.
		big, err := e.alice.CreateMXC(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.alice.UploadMedia(ctx, mautrix.ReqUploadMedia{MXC: big.ContentURI, ContentBytes: make([]byte, e.maxBytes+1)})
		wantRespError(t, err, 413, "M_TOO_LARGE")
		wantError(t, e.get(downloadPath(big.ContentURI)+"?timeout_ms=0", "alice"), 504, "M_NOT_YET_UPLOADED")

		// Pending ids per user are bounded (one is pending already).
		for i := 1; i < maxPendingPerUser; i++ {
			if _, err := e.alice.CreateMXC(ctx); err != nil {
				t.Fatalf("create %d: %v", i, err)
			}
		}
		_, err = e.alice.CreateMXC(ctx)
		wantRespError(t, err, 429, "M_LIMIT_EXCEEDED")
		if _, err := e.bob.CreateMXC(ctx); err != nil {
			t.Errorf("bob's limit is his own: %v", err)
		}
	})
}

func TestUnusedIDsExpire(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		created, err := e.alice.CreateMXC(ctx)
		if err != nil {
			t.Fatal(err)
		}
		later := created.UnusedExpiresAt.Time.Add(1)
		e.repo.now = func() time.Time { return later }
		wantError(t, e.get(downloadPath(created.ContentURI), "alice"), 404, "M_NOT_FOUND")
		_, err = e.alice.UploadMedia(ctx, mautrix.ReqUploadMedia{MXC: created.ContentURI, ContentBytes: []byte("late")})
		wantRespError(t, err, 404, "M_NOT_FOUND")
		// Lapsed ids no longer count against the limit, and are swept.
		for i := range maxPendingPerUser {
			if _, err := e.alice.CreateMXC(ctx); err != nil {
				t.Fatalf("create %d: %v", i, err)
			}
		}
		if n := e.mediaRows(); n != maxPendingPerUser {
			t.Errorf("%d rows, want the lapsed one swept", n)
		}
	})
}
