package database

import (
	"database/sql"
	"errors"

	"go.mau.fi/util/dbutil"
)

// One returns the single row of a query scanned by scan, or nil when there
// is none: the "nil, nil when missing" lookups of the stores.
func One[T any](row dbutil.Scannable, scan func(dbutil.Scannable) (*T, error)) (*T, error) {
	v, err := scan(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return v, err
}

// All returns every row of a query scanned by scan; an empty result is a
// nil slice. It closes rows.
func All[T any](rows dbutil.Rows, err error, scan func(dbutil.Scannable) (*T, error)) ([]*T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
