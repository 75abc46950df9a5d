package store

import (
	"errors"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/errs"
)

// The store classifies SQLite failures by their result codes (primary and
// extended, modernc.org/sqlite/lib), and PostgreSQL's by their SQLSTATE,
// never by the text of the message: the one thing only the text says is
// which column a constraint names (SQLite's message, PostgreSQL's detail).

// PostgreSQL's SQLSTATEs the store tells apart.
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
	pgDeadlockDetected    = "40P01"
)

// isDeadlock reports whether err is PostgreSQL ending a statement to break
// a deadlock between transactions (two processes' batches locking requests
// in crossed orders): the write is sound and is run again (runBatch).
func isDeadlock(err error) bool {
	pe := pgError(err)
	return pe != nil && pe.Code == pgDeadlockDetected
}

// pgError returns the PostgreSQL error in err's chain, or nil.
func pgError(err error) *pgconn.PgError {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe
	}
	return nil
}

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
//
// On PostgreSQL the column is matched as table and key: "workers.name"
// matches a violation on table workers whose detail names the key (name)
// or an expression of it (lower(name)).
func isUniqueViolation(err error, column string) bool {
	if pe := pgError(err); pe != nil {
		if pe.Code != pgUniqueViolation {
			return false
		}
		if column == "" {
			return true
		}
		table, col, _ := strings.Cut(column, ".")
		return pe.TableName == table && (strings.Contains(pe.Detail, "("+col+")") || strings.Contains(pe.Detail, "("+col+",") ||
			strings.Contains(pe.ConstraintName, col))
	}
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
	if pe := pgError(err); pe != nil {
		return pe.Code == pgForeignKeyViolation
	}
	return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// isStorageFailure reports whether err says the database cannot be written
// now: full (or at its quota: SQLITE_FULL), read-only (SQLITE_READONLY),
// failing I/O (SQLITE_IOERR), or held by another process past the busy
// timeout (SQLITE_BUSY); on PostgreSQL, a server that cannot be reached,
// has gone away or is out of resources (SQLSTATE classes 08, 53, 57; a
// failed connection).
func isStorageFailure(err error) bool {
	if pe := pgError(err); pe != nil {
		switch pe.Code[:2] {
		case "08", "53", "57":
			return true
		}
		return pe.Code == "25006" // read_only_sql_transaction: a standby
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	if errors.As(err, &ce) || errors.As(err, &ne) {
		return true
	}
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
