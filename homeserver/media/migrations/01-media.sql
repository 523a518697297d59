-- v1: media repository
-- One row per media id of this server. sha256 names the file under
-- DataDir/media/ holding the bytes; several rows may share one file. A row
-- made by POST /_matrix/media/v1/create has no sha256 until its content is
-- uploaded, and lapses at expires_ts if it never is.
CREATE TABLE hs_media (
	media_id     TEXT   PRIMARY KEY,
	uploader     TEXT   NOT NULL,
	content_type TEXT   NOT NULL DEFAULT '',
	file_name    TEXT   NOT NULL DEFAULT '',
	sha256       TEXT,
	size         BIGINT NOT NULL DEFAULT 0,
	created_ts   BIGINT NOT NULL,
	uploaded_ts  BIGINT,
	expires_ts   BIGINT
);
CREATE INDEX hs_media_sha256_idx ON hs_media (sha256);
CREATE INDEX hs_media_pending_idx ON hs_media (uploader, expires_ts) WHERE sha256 IS NULL;

-- Thumbnails made so far, keyed by the (rounded) size and method asked for.
-- sha256 names a file in the same store: a generated thumbnail, or the
-- original itself when it already fitted.
CREATE TABLE hs_media_thumbnail (
	media_id     TEXT    NOT NULL REFERENCES hs_media (media_id) ON DELETE CASCADE,
	width        INTEGER NOT NULL,
	height       INTEGER NOT NULL,
	method       TEXT    NOT NULL,
	sha256       TEXT    NOT NULL,
	size         BIGINT  NOT NULL,
	content_type TEXT    NOT NULL,
	thumb_width  INTEGER NOT NULL,
	thumb_height INTEGER NOT NULL,
	created_ts   BIGINT  NOT NULL,
	PRIMARY KEY (media_id, width, height, method)
);
