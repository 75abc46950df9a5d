package store

import (
	"errors"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/errs"
)

// The store classifies SQLite failures by their result codes (primary and
// extended, modernc.org/sqlite/lib), never by the text of the message: the
// one thing only the text says is which column a constraint names.

// sqliteCode returns the extended result code of the SQLite error in err's
// chain, or 0 when there is none.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

// constraintError returns err as a SQLite constraint failure, or nil.
// It accepts both primary and extended result codes.
func constraintError(err error) *sqlite.Error {
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT {
		return se
	}
	return nil
}

// isUniqueViolation reports whether err is a UNIQUE or PRIMARY KEY constraint
// failure (SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY); when
// column is not empty, only one on that column as SQLite names it (e.g.
// "workers.name"), which only the message says.
func isUniqueViolation(err error, column string) bool {
	se := constraintError(err)
	if se == nil {
		return false
	}
	if c := se.Code(); c != sqlite3.SQLITE_CONSTRAINT_UNIQUE && c != sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
		return false
	}
	return column == "" || strings.Contains(se.Error(), column)
}

// isForeignKeyViolation reports whether err is a FOREIGN KEY constraint
// failure (SQLITE_CONSTRAINT_FOREIGNKEY).
func isForeignKeyViolation(err error) bool {
	return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// isStorageFailure reports whether err says the database cannot be written
// now: full (or at its quota: SQLITE_FULL), read-only (SQLITE_READONLY),
// failing I/O (SQLITE_IOERR), or held by another process past the busy
// timeout (SQLITE_BUSY).
func isStorageFailure(err error) bool {
	switch sqliteCode(err) & 0xff {
	case sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_BUSY:
		return true
	}
	return false
}

// unavailable marks storage failures (isStorageFailure) as KindUnavailable
// so that the API answers 503 and the bot says so; other errors, and errors
// that already have a kind other than internal, pass through.
func unavailable(err error) error {
	if err == nil {
		return nil
	}
	if k := errs.As(err); k != nil && k.Kind != errs.KindInternal {
		return err
	}
	if isStorageFailure(err) {
		return &horde.Error{Kind: horde.KindUnavailable, Code: "StoreUnavailable", Message: "storage is unavailable; try again later", Err: err}
	}
	return err
}

// invalidEntry is a ledger entry that fails kudos.Entry.Validate: a bug in
// the caller that built it, so KindInternal (logged, shown generically),
// never a member's or a worker's bad input.
func invalidEntry(err error) error {
	return errs.Internalf("InvalidLedgerEntry", err, "invalid ledger entry")
}

// invalidHold is an escrow hold that fails kudos.Hold.Validate (KindInvalid,
// as it has always been; unlike a ledger entry, not reclassified here).
func invalidHold(err error) error {
	return &horde.Error{Kind: horde.KindInvalid, Code: "InvalidEscrowHold", Message: "invalid escrow hold", Err: err}
}

// conflict builds the KindConflict error for a taken unique value.
func conflict(code, format string, args ...any) *horde.Error {
	return horde.Errorf(horde.KindConflict, code, format, args...)
}
