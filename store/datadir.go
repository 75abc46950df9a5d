package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// The data directory holds the database and the result images: nobody but
// the user running hordebot should read them (prompts, results, API key
// hashes), so what the store creates is private: the folders 0700, the
// database and the images 0600 (SQLite gives its -wal and -shm files the
// database's mode).
// Folders and files that already exist keep their mode.
const (
	privateDirMode  = 0o700
	privateFileMode = 0o600
)

// prepareDataDir creates dir and its blob folder if needed, creates the
// database file with a private mode if it does not exist, and checks that
// all three can be written, so that a read-only or foreign data directory
// fails at start with a message that says so rather than with a SQLite code
// at the first write.
func prepareDataDir(dir, blobs, dbPath string) error {
	for _, d := range []string{dir, blobs} {
		if err := os.MkdirAll(d, privateDirMode); err != nil {
			return dataDirError(d, "cannot be created", err)
		}
		f, err := os.CreateTemp(d, ".tmp-probe-*")
		if err != nil {
			return dataDirError(d, "is not writable", err)
		}
		name := f.Name()
		f.Close()
		if err := os.Remove(name); err != nil {
			return dataDirError(d, "is not writable", err)
		}
	}
	f, err := os.OpenFile(dbPath, os.O_RDWR|os.O_CREATE, privateFileMode)
	if err != nil {
		return dataDirError(dbPath, "is not writable", err)
	}
	if err := f.Close(); err != nil {
		return dataDirError(dbPath, "is not writable", err)
	}
	return nil
}

// dataDirError explains a data directory the store cannot use: what, why in
// words (read-only file system, permission denied), and what to do.
func dataDirError(path, what string, err error) error {
	why := "an I/O error"
	var errno syscall.Errno
	switch {
	case errors.Is(err, syscall.EROFS):
		why = "the file system is read-only"
	case errors.Is(err, fs.ErrPermission):
		why = fmt.Sprintf("permission denied for user %d", os.Getuid())
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		why = "the disk is full"
	case errors.Is(err, syscall.ENOTDIR):
		why = "a file is in the way of a folder"
	case errors.As(err, &errno):
		why = errno.Error()
	}
	if abs, aerr := filepath.Abs(path); aerr == nil {
		path = abs
	}
	return &DataDirError{Path: filepath.Clean(path), Problem: what + ": " + why, Err: err}
}

// DataDirError is a data directory (or the database in it) the store cannot
// use at Open. Its message names the path, the problem and the fix.
type DataDirError struct {
	Path    string
	Problem string // e.g. "is not writable: the file system is read-only"
	Err     error
}

func (e *DataDirError) Error() string {
	return fmt.Sprintf("%s %s; hordebot keeps its database and result images in the data directory: "+
		"make it writable by this user, or choose another with --data (or data: in the config)", e.Path, e.Problem)
}

func (e *DataDirError) Unwrap() error { return e.Err }

// HasDatabase reports whether dir holds a hordebot database. The admin
// commands refuse a data dir without one, so that a mistyped --data does not
// quietly create a new, empty horde.
func HasDatabase(dir string) (bool, error) {
	_, err := os.Stat(filepath.Join(dir, DBFile))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("data dir %s: %w", dir, err)
}

// DatabaseExists reports whether database (as Open takes it) holds a
// hordebot database already: on SQLite a database file in the data
// directory (HasDatabase), on PostgreSQL goose's version table in the
// schema the URL's search_path puts first. It creates nothing, so that a
// command that reads a database can refuse one that is not there rather
// than migrate an empty one.
func DatabaseExists(ctx context.Context, database string) (bool, error) {
	u, err := ParseDatabaseURL(database)
	if err != nil {
		return false, err
	}
	if u.Engine == EngineSQLite {
		return HasDatabase(u.Dir)
	}
	return postgresHasSchema(ctx, u.DSN)
}
