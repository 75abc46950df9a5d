package store

import (
	"errors"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/hordebot/hordebot/horde"
)

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
// failure; when column is not empty, only one on that column as SQLite names
// it (e.g. "workers.name").
func isUniqueViolation(err error, column string) bool {
	se := constraintError(err)
	if se == nil {
		return false
	}
	msg := se.Error()
	unique := se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY ||
		strings.Contains(msg, "UNIQUE constraint") || strings.Contains(msg, "PRIMARY KEY constraint")
	return unique && (column == "" || strings.Contains(msg, column))
}

// isForeignKeyViolation reports whether err is a FOREIGN KEY constraint failure.
func isForeignKeyViolation(err error) bool {
	se := constraintError(err)
	return se != nil && (se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY || strings.Contains(se.Error(), "FOREIGN KEY"))
}

// conflict builds the KindConflict error for a taken unique value.
func conflict(code, format string, args ...any) *horde.Error {
	return horde.Errorf(horde.KindConflict, code, format, args...)
}
