// Package media is the built-in homeserver's media repository: it stores
// what users and bridges upload and serves it back to Matrix clients.
//
// Files live under DataDir/media/, named by the SHA-256 of their bytes, so
// the same content uploaded twice is stored once. Each upload still gets its
// own media id (and row in hs_media) with its own uploader, file name and
// content type: handing one user the id another user created would tell
// them that someone else already holds the same file, and would tie the two
// uploads' fates together once media can be deleted or quarantined.
//
// It answers the Client-Server API's content repository:
//
//   - POST /_matrix/media/v3/upload, POST /_matrix/media/v1/create and
//     PUT /_matrix/media/v3/upload/{serverName}/{mediaId} (asynchronous
//     upload), all authenticated;
//   - the authenticated download, thumbnail and config endpoints under
//     /_matrix/client/v1/media/ (spec v1.11);
//   - the deprecated unauthenticated /_matrix/media/v3/download and
//     thumbnail endpoints, still served for old clients and bridges, and the
//     (authenticated) /_matrix/media/v3/config.
//
// Media of other servers answers 404 M_NOT_FOUND until federation exists.
//
// Thumbnails are made from JPEG, PNG, GIF (first frame) and WebP images,
// cached on disk and in hs_media_thumbnail. Images whose header claims more
// than MaxThumbnailPixels are refused before they are decoded.
//
// It may import homeserver/mxhttp and internal/. It must not import the
// homeserver package itself, bridge/, portal/, puppet/, appservice/ or
// connectors/.
package media
