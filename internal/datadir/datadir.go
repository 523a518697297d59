package datadir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Prepare creates dir (mode 0700) when it is missing and proves it writable
// by creating and removing a file in it, so that a bad data_dir ends start-up
// with one clear line instead of failing later, deep inside the database or a
// secret.
func Prepare(dir string) error {
	if dir == "" {
		return errors.New("data_dir: empty; set data_dir or SWITCHBOARD_DATA_DIR to a writable directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data_dir %s: cannot create it (%s); choose a writable directory with data_dir or SWITCHBOARD_DATA_DIR", dir, cause(err))
	}
	probe, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return fmt.Errorf("data_dir %s: not writable (%s); choose a writable directory with data_dir or SWITCHBOARD_DATA_DIR", dir, cause(err))
	}
	name := probe.Name()
	probe.Close()
	return os.Remove(name)
}

// Secret returns the contents of the file name in dir, creating it first
// with the bytes generate returns when it does not exist yet. The file is
// written to a temporary name and linked into place, so a crash never leaves
// a half-written secret and two processes starting at once agree on one.
// An existing file readable by group or others is tightened to 0600.
func Secret(dir, name string, generate func() ([]byte, error)) ([]byte, error) {
	path := filepath.Join(dir, name)
	if data, err := readSecret(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return data, err
	}
	data, err := generate()
	if err != nil {
		return nil, fmt.Errorf("generate %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("write %s: %s", path, cause(err))
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("write %s: %s", path, cause(err))
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("write %s: %s", path, cause(err))
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("write %s: %s", path, cause(err))
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("write %s: %s", path, cause(err))
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			// Another process won the race: use its secret.
			return readSecret(path)
		}
		return nil, fmt.Errorf("write %s: %s", path, cause(err))
	}
	return data, nil
}

func readSecret(path string) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("secret %s: not a regular file; remove it and restart to generate a new one", path)
	}
	if info.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, 0o600); err != nil {
			return nil, fmt.Errorf("secret %s: readable by others and cannot be restricted (%s); chmod 600 it", path, cause(err))
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %s", path, cause(err))
	}
	return data, nil
}

// cause reduces an *fs.PathError to its errno text: callers put the path in
// their own message, and repeating it makes a line hard to read.
func cause(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return pathErr.Err.Error()
	}
	return err.Error()
}
