package mxhttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"unicode/utf8"

	"maunium.net/go/mautrix"
)

// MaxJSONBody bounds a JSON request body. Events are limited to 65,536 bytes
// by the spec; other bodies (filters, device lists, push rules) stay well
// within this.
const MaxJSONBody = 1 << 20

// ReadJSON decodes r's body into v. It reads at most limit bytes (0 means
// MaxJSONBody) and answers with the error the spec names: M_TOO_LARGE for a
// body over the limit, M_NOT_JSON for a body that is not JSON (or not a JSON
// object, or not UTF-8), M_BAD_JSON for JSON whose fields have the wrong
// types. An empty body decodes as {}.
func ReadJSON(r *http.Request, v any, limit int64) error {
	data, err := ReadBody(r, limit)
	if err != nil {
		return err
	}
	return DecodeJSON(data, v)
}

// ReadBody reads r's body, up to limit bytes (0 means MaxJSONBody).
func ReadBody(r *http.Request, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = MaxJSONBody
	}
	if r.ContentLength > limit {
		return nil, mautrix.MTooLarge.WithMessage("Request body is larger than %d bytes", limit)
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, mautrix.MUnknown.WithStatus(http.StatusBadRequest).WithMessage("Could not read the request body")
	}
	if int64(len(data)) > limit {
		return nil, mautrix.MTooLarge.WithMessage("Request body is larger than %d bytes", limit)
	}
	return data, nil
}

// DecodeJSON is ReadJSON for a body already read.
func DecodeJSON(data []byte, v any) error {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		trimmed = []byte("{}")
	}
	if !utf8.Valid(trimmed) {
		return mautrix.MNotJSON.WithMessage("Request body is not valid UTF-8")
	}
	if trimmed[0] != '{' {
		return mautrix.MNotJSON.WithMessage("Request body must be a JSON object")
	}
	if !json.Valid(trimmed) {
		return mautrix.MNotJSON.WithMessage("Request body is not valid JSON")
	}
	if err := json.Unmarshal(trimmed, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return mautrix.MBadJSON.WithMessage("%s: expected %s", typeErr.Field, typeErr.Type)
		}
		return mautrix.MBadJSON.WithMessage("Request body has the wrong shape: %s", shortJSONError(err))
	}
	return nil
}

func shortJSONError(err error) string {
	msg := err.Error()
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return fmt.Sprint(msg)
}
