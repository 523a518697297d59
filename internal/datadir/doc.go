// Package datadir prepares the data directory (data_dir) and keeps the
// secrets Switchboard generates on first start there: each is created once,
// with mode 0600, and reused on every later start.
//
// It must not import any other Switchboard package.
package datadir
