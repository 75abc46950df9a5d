package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/hordebot/hordebot/horde"
)

// Moving a horde's data to another database (hordebot migrate-data): every
// row of every table, ids kept, from a source store into an empty target
// store of the same schema version, SQLite or PostgreSQL on either side,
// and the result images from the source's blob backend into the target's.
//
// The source is read in one transaction (one consistent snapshot: SQLite's
// read transaction, PostgreSQL's REPEATABLE READ), table by table, each a
// single streaming query whose rows go to the target as they come (COPY on
// PostgreSQL, multi-row INSERTs of a bounded size on SQLite:
// migrate_data_writers.go), so memory does not grow with a table. The target is
// written in ONE transaction: it holds a full copy or, after any failure,
// nothing but what its migrations put there, so that a failed copy can be
// run again as it is. The images are copied first, outside that
// transaction (a file, a bucket object or a blobs row is stored before the
// row naming it commits, as the store always does); after a failure they
// are images no row names, which the target's sweep deletes and a second
// run stores again.
//
// The copy knows every table (copyTables): a table the schema holds that it
// does not know, a trigger it does not know, or a column only one side has
// stops it before it writes anything, so that a future migration cannot be
// skipped silently. Columns go by name, values are converted to the target
// column's type (SQLite returns what it stored; PostgreSQL is strict), and
// PostgreSQL's identity columns are set past the largest id copied.

// copyRule says how a table is copied.
type copyRule int

const (
	// copyRows: every row, as it is.
	copyRows copyRule = iota
	// copyAfterTrigger: a table a trigger on an earlier table fills in
	// (generation_stats, generation_totals from generations): what the
	// trigger wrote while the earlier table was copied is deleted, then the
	// source's rows are copied as they are (its totals outlive purged rows).
	copyAfterTrigger
	// rebuildQueue: PostgreSQL's shared queue (queue_entries), one row per
	// waiting request and model: rebuilt in the target from the requests and
	// items copied, as migration 00028 builds it; SQLite has none (its queue
	// is the scheduler's memory, rebuilt at start).
	rebuildQueue
	// copyBlobs: PostgreSQL's blobs table, the result images of a store
	// with no other blob backend: copied through the blob backends, not as
	// rows.
	copyBlobs
	// recomputed: a cache the target's processes write again by themselves
	// (queue_estimates: the sweeps lease's holder rewrites it every sweep):
	// neither copied nor required empty.
	recomputed
)

// copyTable is one table the copy knows.
type copyTable struct {
	name string
	rule copyRule
	// pgOnly: only the PostgreSQL schema has it.
	pgOnly bool
}

// copyTables are the tables of the schema in the order the copy writes
// them: a table after every table it references (CopyData checks this
// against the schema's foreign keys) and after the tables whose triggers
// write it. A migration that adds a table adds it here.
var copyTables = []copyTable{
	{name: "users"},
	{name: "workers"},
	{name: "api_keys"},
	{name: "requests"},
	{name: "items"},
	{name: "jobs"},
	{name: "generations"},
	{name: "generation_stats", rule: copyAfterTrigger},
	{name: "generation_totals", rule: copyAfterTrigger},
	{name: "uploads"},
	{name: "pending_submits"},
	{name: "previews"},
	{name: "request_extras"},
	{name: "result_reports"},
	{name: "ratings"},
	{name: "interrogations"},
	{name: "interrogation_forms"},
	{name: "ledger"},
	{name: "balances"},
	{name: "ledger_days"},
	{name: "ledger_totals"},
	{name: "awards"},
	{name: "transfers"},
	{name: "art_reactions"},
	{name: "art_reactors"},
	{name: "tally_runs"},
	{name: "escrow"},
	{name: "strikes"},
	{name: "strike_counts"},
	{name: "suspicions"},
	{name: "suspicion_counts"},
	{name: "discord_deliveries"},
	{name: "discord_interactions"},
	{name: "discord_settings"},
	{name: "shared_posts"},
	{name: "worker_messages"},
	{name: "styles"},
	{name: "style_collections"},
	{name: "shared_keys"},
	{name: "teams"},
	{name: "team_members"},
	{name: "horde_modes"},
	{name: "ip_timeouts"},
	{name: "status_snapshots"},
	{name: "status_hours"},
	{name: "worker_uptime"},
	{name: "parties"},
	{name: "party_generations"},
	{name: "party_awards"},
	{name: "member_settings"},
	{name: "queue_entries", rule: rebuildQueue, pgOnly: true},
	{name: "blobs", rule: copyBlobs, pgOnly: true},
	{name: "queue_estimates", rule: recomputed, pgOnly: true},
}

// copyTriggers are the triggers the copy knows, by name, with the table
// they are on: each writes only tables marked copyAfterTrigger.
var copyTriggers = map[string]string{
	"generations_stats": "generations",
}

// blobRefColumns are the columns naming result images (blobs_gc.go's
// blobRefQueries, which a test holds to the same list): the images the copy
// moves are the ones these name.
var blobRefColumns = [][2]string{
	{"generations", "blob_ref"},
	{"uploads", "blob_ref"},
	{"interrogations", "source_ref"},
	{"interrogation_forms", "blob_ref"},
	{"interrogation_forms", "upload_ref"},
}

// gooseTable is goose's version table: the target's migrations wrote its
// own, and it is not copied.
const gooseTable = "goose_db_version"

// qRebuildQueue fills queue_entries from the requests and items, as
// migration postgres/00028_shared_queue.sql does (the key is
// horde.PriorityScore's).
const qRebuildQueue = `INSERT INTO queue_entries (request_id, model, kind, user_id, score, created_at)
SELECT r.id, m.model, r.kind, r.user_id,
       LEAST(GREATEST(r.priority, -1000000000000), 1000000000000) * 1000 - 5 * (r.created_at / 1000000),
       r.created_at
FROM requests r
CROSS JOIN LATERAL (
    SELECT DISTINCT e.model FROM jsonb_array_elements_text(r.models::jsonb) AS e(model)
    UNION ALL
    SELECT '' WHERE jsonb_array_length(r.models::jsonb) = 0
) m
WHERE r.state IN ('waiting', 'processing')
  AND EXISTS (SELECT 1 FROM items i WHERE i.request_id = r.id AND i.state = 'waiting')
ON CONFLICT DO NOTHING`

// SQLite's batches: at most copyBatchRows rows and copyBatchParams values per
// INSERT (below SQLite's limit of 32766 parameters), and a
// batch is sent once it holds copyBatchBytes of values (previews and
// Discord payloads are kilobytes each).
const (
	copyBatchRows   = 256
	copyBatchParams = 16384
	copyBatchBytes  = 4 << 20
)

// CopyOptions tune CopyData.
type CopyOptions struct {
	// Progress, if set, is told of each table once it is copied and of
	// the images every thousand and at their end.
	Progress func(step string, n int64)
}

// TableCopy is one table's part of a copy.
type TableCopy struct {
	Table string
	// Rows is what the target holds after the copy: the source's rows, or
	// for the rebuilt queue the entries built.
	Rows int64
	// Note says how the table was copied when not row for row ("rebuilt
	// from requests and items", "not in a SQLite schema").
	Note string
}

// CopyReport is what CopyData did.
type CopyReport struct {
	Tables []TableCopy
	// Blobs and BlobBytes: the result images copied.
	Blobs     int64
	BlobBytes int64
	// MissingBlobs are images rows of the source name that the source's
	// blob backend does not hold (lost before the copy): not copied.
	MissingBlobs []string
	// BlobsShared: source and target keep images in the same place (one
	// bucket), so none were copied.
	BlobsShared bool
}

// Rows is the rows of table in the report, and whether it was copied.
func (r CopyReport) Rows(table string) (int64, bool) {
	for _, t := range r.Tables {
		if t.Table == table {
			return t.Rows, true
		}
	}
	return 0, false
}

// CopyData copies everything src holds into dst, which must be a different
// database with no data: no row in any table but the anonymous user and its
// key, which every migrated schema has (a target holding more is
// KindConflict; a target that is the source is KindInvalid). Both must be
// at the same schema version (both were opened, so both are migrated to
// this binary's). A table, trigger or column the copy does not know is an
// error before anything is written. Nothing else may write to either while
// it runs: open a SQLite source with Options.Exclusive, and stop the
// processes of a PostgreSQL one (the copy reads one snapshot: what they
// write after it is not copied).
//
// After the copy commits, the rows of every table in dst are counted and
// compared with the rows copied; a difference is an error.
func CopyData(ctx context.Context, src, dst *Store, opt CopyOptions) (CopyReport, error) {
	var rep CopyReport
	progress := opt.Progress
	if progress == nil {
		progress = func(string, int64) {}
	}
	if err := notSameDatabase(ctx, src, dst); err != nil {
		return rep, err
	}
	srcTx, err := src.snapshot(ctx)
	if err != nil {
		return rep, err
	}
	defer srcTx.Rollback() //nolint:errcheck // read-only

	plan, err := planCopy(ctx, srcTx, src.eng, dst.r, dst.eng)
	if err != nil {
		return rep, err
	}
	if err := requireEmpty(ctx, dst, plan); err != nil {
		return rep, err
	}

	if src.remote != nil && src.remote == dst.remote {
		rep.BlobsShared = true
	} else if err := copyBlobRefs(ctx, srcTx, src, dst, &rep, progress); err != nil {
		return rep, err
	}

	var idents [][2]string
	if dst.eng == postgresEngine {
		if idents, err = identityColumns(ctx, dst.r); err != nil {
			return rep, err
		}
	}
	err = dst.withCopyWriter(ctx, func(w copyWriter) error {
		// The anonymous user and its key, which the target's migrations
		// seeded, come from the source with the rest.
		for _, q := range []string{`DELETE FROM api_keys`, `DELETE FROM users`} {
			if _, err := w.exec(ctx, q); err != nil {
				return fmt.Errorf("empty the target's seed rows: %w", err)
			}
		}
		for _, t := range plan.tables {
			tc := TableCopy{Table: t.name}
			switch {
			case t.rule == copyBlobs, t.rule == recomputed:
				continue
			case t.rule == rebuildQueue && dst.eng != postgresEngine:
				continue
			case t.rule == rebuildQueue:
				n, err := w.exec(ctx, qRebuildQueue)
				if err != nil {
					return fmt.Errorf("rebuild the shared queue (%s): %w", t.name, err)
				}
				tc.Rows, tc.Note = n, "rebuilt from the waiting requests"
			default:
				if t.rule == copyAfterTrigger {
					if _, err := w.exec(ctx, `DELETE FROM `+quoteIdent(t.name)); err != nil {
						return fmt.Errorf("empty %s (written by a trigger) before its copy: %w", t.name, err)
					}
				}
				n, err := copyTableRows(ctx, srcTx, w, dst.eng, t)
				if err != nil {
					return err
				}
				tc.Rows = n
			}
			rep.Tables = append(rep.Tables, tc)
			progress(t.name, tc.Rows)
		}
		for _, tc := range idents {
			t, c := quoteIdent(tc[0]), quoteIdent(tc[1])
			q := `SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT max(` + c + `) FROM ` + t + `), 0) + 1, false)`
			if _, err := w.exec(ctx, q, t, tc[1]); err != nil {
				return fmt.Errorf("set the sequence of %s.%s past the ids copied: %w", tc[0], tc[1], err)
			}
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	return rep, checkCounts(ctx, dst, rep.Tables)
}

// snapshot begins the read transaction the whole copy reads the source in.
func (s *Store) snapshot(ctx context.Context) (*sql.Tx, error) {
	var opts *sql.TxOptions
	if s.eng == postgresEngine {
		opts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	tx, err := s.r.BeginTx(ctx, opts)
	if err != nil {
		return nil, unavailable(fmt.Errorf("begin reading the source: %w", err))
	}
	return tx, nil
}

// notSameDatabase refuses a copy of a database into itself.
func notSameDatabase(ctx context.Context, src, dst *Store) error {
	if src == dst {
		return horde.Invalidf("to", "the source and the target are the same database")
	}
	if src.eng != dst.eng {
		return nil
	}
	if src.eng == sqliteEngine {
		a, aerr := filepath.Abs(src.dir)
		b, berr := filepath.Abs(dst.dir)
		if aerr == nil && berr == nil && a == b {
			return horde.Invalidf("to", "the source and the target are the same data directory %s", a)
		}
		return nil
	}
	const q = `SELECT current_database() || '/' || current_schema() || '@' || COALESCE(inet_server_addr()::text, 'socket') || ':' || COALESCE(inet_server_port(), 0)`
	var a, b string
	if err := src.r.QueryRowContext(ctx, q).Scan(&a); err != nil {
		return unavailable(fmt.Errorf("name the source database: %w", err))
	}
	if err := dst.r.QueryRowContext(ctx, q).Scan(&b); err != nil {
		return unavailable(fmt.Errorf("name the target database: %w", err))
	}
	if a == b {
		return horde.Invalidf("to", "the source and the target are the same database (%s)", a)
	}
	return nil
}

// copyPlan is the tables to copy, in order, with the target's columns.
type copyPlan struct {
	tables []plannedTable
}

// plannedTable is a table of copyTables in the target's schema.
type plannedTable struct {
	copyTable
	cols []column // the target's, in its order; the source has the same names
}

// column is a table's column and the kind of value the target stores in it.
type column struct {
	name string
	kind valueKind
}

// valueKind is what a target column takes.
type valueKind int

const (
	kindInt valueKind = iota
	kindFloat
	kindText
	kindBytes
	kindAny // SQLite's untyped (BLOB affinity) and NUMERIC columns: stored as read
)

// planCopy reads both schemas and checks them against what the copy knows:
// every table and trigger known, the same columns on both sides, the same
// migrations applied, and copyTables' order after the target's foreign keys.
func planCopy(ctx context.Context, src rowQuerier, srcEng engine, dst rowQuerier, dstEng engine) (copyPlan, error) {
	srcSchema, err := readSchema(ctx, src, srcEng)
	if err != nil {
		return copyPlan{}, fmt.Errorf("the source's schema: %w", err)
	}
	dstSchema, err := readSchema(ctx, dst, dstEng)
	if err != nil {
		return copyPlan{}, fmt.Errorf("the target's schema: %w", err)
	}
	if srcSchema.version != dstSchema.version {
		return copyPlan{}, fmt.Errorf("the source's schema is at migration %d and the target's at %d: both must be at this hordebot's", srcSchema.version, dstSchema.version)
	}
	known := make(map[string]copyTable, len(copyTables))
	for _, t := range copyTables {
		known[t.name] = t
	}
	for _, sc := range []struct {
		where  string
		schema schemaInfo
	}{{"the source (" + srcEng.String() + ")", srcSchema}, {"the target (" + dstEng.String() + ")", dstSchema}} {
		for _, name := range sortedKeys(sc.schema.tables) {
			if _, ok := known[name]; !ok {
				return copyPlan{}, fmt.Errorf("table %s of %s is not one migrate-data knows how to copy: a migration added it; teach store/migrate_data.go (copyTables) to copy it", name, sc.where)
			}
		}
		for _, name := range sortedKeys(sc.schema.triggers) {
			if on, ok := copyTriggers[name]; !ok || on != sc.schema.triggers[name] {
				return copyPlan{}, fmt.Errorf("trigger %s on %s of %s is not one migrate-data knows: a migration added it; teach store/migrate_data.go (copyTriggers) what it writes", name, sc.schema.triggers[name], sc.where)
			}
		}
	}
	var plan copyPlan
	pos := make(map[string]int, len(copyTables))
	for i, t := range copyTables {
		pos[t.name] = i
		dcols, inDst := dstSchema.tables[t.name]
		scols, inSrc := srcSchema.tables[t.name]
		if t.pgOnly {
			if inDst {
				plan.tables = append(plan.tables, plannedTable{copyTable: t, cols: dcols})
			}
			continue
		}
		if !inDst || !inSrc {
			return copyPlan{}, fmt.Errorf("table %s is missing from the %s: its migrations differ from this hordebot's", t.name, map[bool]string{true: "source", false: "target"}[inDst])
		}
		if err := sameColumns(t.name, scols, dcols); err != nil {
			return copyPlan{}, err
		}
		plan.tables = append(plan.tables, plannedTable{copyTable: t, cols: dcols})
	}
	for _, fk := range dstSchema.refs {
		from, to := fk[0], fk[1]
		if from != to && pos[to] > pos[from] {
			return copyPlan{}, fmt.Errorf("table %s references %s, which the copy writes after it: reorder copyTables in store/migrate_data.go", from, to)
		}
	}
	return plan, nil
}

// sameColumns checks that the source and the target name the same columns.
func sameColumns(table string, src, dst []column) error {
	names := func(cols []column) []string {
		out := make([]string, len(cols))
		for i, c := range cols {
			out[i] = c.name
		}
		slices.Sort(out)
		return out
	}
	a, b := names(src), names(dst)
	for _, n := range a {
		if _, ok := slices.BinarySearch(b, n); !ok {
			return fmt.Errorf("column %s.%s is in the source and not in the target: their migrations differ", table, n)
		}
	}
	for _, n := range b {
		if _, ok := slices.BinarySearch(a, n); !ok {
			return fmt.Errorf("column %s.%s is in the target and not in the source: their migrations differ", table, n)
		}
	}
	return nil
}

// schemaInfo is what readSchema reads of a database.
type schemaInfo struct {
	tables   map[string][]column // goose's table and SQLite's own left out
	triggers map[string]string   // trigger -> its table
	refs     [][2]string         // foreign keys: table -> table it references
	version  int64               // the latest migration applied
}

// readSchema reads the tables, columns, triggers, foreign keys and
// migration version of the database q reads, on engine eng.
func readSchema(ctx context.Context, q rowQuerier, eng engine) (schemaInfo, error) {
	si := schemaInfo{tables: map[string][]column{}, triggers: map[string]string{}}
	if eng == postgresEngine {
		if err := scanEach(ctx, q, `SELECT c.table_name, c.column_name, c.data_type
FROM information_schema.columns c
JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
ORDER BY c.table_name, c.ordinal_position`, func(r scanner) error {
			var table, name, typ string
			if err := r.Scan(&table, &name, &typ); err != nil {
				return err
			}
			if table == gooseTable {
				return nil
			}
			k, err := pgKind(typ)
			if err != nil {
				return fmt.Errorf("column %s.%s: %w", table, name, err)
			}
			si.tables[table] = append(si.tables[table], column{name: name, kind: k})
			return nil
		}); err != nil {
			return si, err
		}
		if err := scanEach(ctx, q, `SELECT DISTINCT trigger_name, event_object_table FROM information_schema.triggers
WHERE trigger_schema = current_schema()`, func(r scanner) error {
			var name, table string
			err := r.Scan(&name, &table)
			si.triggers[name] = table
			return err
		}); err != nil {
			return si, err
		}
		if err := scanEach(ctx, q, `SELECT t.relname, r.relname FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid JOIN pg_class r ON r.oid = c.confrelid
WHERE c.contype = 'f' AND t.relnamespace = current_schema()::regnamespace`, func(r scanner) error {
			var from, to string
			err := r.Scan(&from, &to)
			si.refs = append(si.refs, [2]string{from, to})
			return err
		}); err != nil {
			return si, err
		}
	} else {
		var names []string
		if err := scanEach(ctx, q, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`, func(r scanner) error {
			var name string
			err := r.Scan(&name)
			if name != gooseTable {
				names = append(names, name)
			}
			return err
		}); err != nil {
			return si, err
		}
		for _, table := range names {
			if err := scanEach(ctx, q, `SELECT name, type FROM pragma_table_info(?) ORDER BY cid`, func(r scanner) error {
				var name, typ string
				if err := r.Scan(&name, &typ); err != nil {
					return err
				}
				si.tables[table] = append(si.tables[table], column{name: name, kind: sqliteKind(typ)})
				return nil
			}, table); err != nil {
				return si, err
			}
			if err := scanEach(ctx, q, `SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)`, func(r scanner) error {
				var to string
				err := r.Scan(&to)
				si.refs = append(si.refs, [2]string{table, to})
				return err
			}, table); err != nil {
				return si, err
			}
		}
		if err := scanEach(ctx, q, `SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'`, func(r scanner) error {
			var name, table string
			err := r.Scan(&name, &table)
			si.triggers[name] = table
			return err
		}); err != nil {
			return si, err
		}
	}
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(max(version_id), 0) FROM `+gooseTable+` WHERE is_applied`).Scan(&si.version); err != nil {
		return si, fmt.Errorf("migration version: %w", err)
	}
	return si, nil
}

// rowQuerier is a querier that also reads one row: *sql.DB and *sql.Tx.
type rowQuerier interface {
	querier
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// scanEach runs query on q and calls fn with each row.
func scanEach(ctx context.Context, q querier, query string, fn func(scanner) error, args ...any) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// pgKind is the kind of a PostgreSQL column of type typ (information_schema's
// data_type); a type the copy does not convert is an error.
func pgKind(typ string) (valueKind, error) {
	switch typ {
	case "bigint", "integer", "smallint":
		return kindInt, nil
	case "double precision", "real":
		return kindFloat, nil
	case "text", "character varying":
		return kindText, nil
	case "bytea":
		return kindBytes, nil
	}
	return 0, fmt.Errorf("type %s is not one migrate-data converts: teach store/migrate_data.go (pgKind)", typ)
}

// sqliteKind is the kind of a SQLite column declared typ, by SQLite's
// affinity rules (https://sqlite.org/datatype3.html, 3.1).
func sqliteKind(typ string) valueKind {
	t := strings.ToUpper(typ)
	switch {
	case strings.Contains(t, "INT"):
		return kindInt
	case strings.Contains(t, "CHAR"), strings.Contains(t, "CLOB"), strings.Contains(t, "TEXT"):
		return kindText
	case strings.Contains(t, "BLOB"):
		return kindBytes
	case t == "":
		return kindAny
	case strings.Contains(t, "REAL"), strings.Contains(t, "FLOA"), strings.Contains(t, "DOUB"):
		return kindFloat
	}
	return kindAny
}

// requireEmpty refuses a target that holds data: a row in any table but
// the anonymous user and its key (the rows the migrations seed) and the
// images (a failed copy's, which the sweep deletes and a new copy stores
// again).
func requireEmpty(ctx context.Context, dst *Store, plan copyPlan) error {
	var full []string
	for _, t := range plan.tables {
		if t.rule == copyBlobs || t.rule == recomputed {
			continue
		}
		where := ""
		switch t.name {
		case "users":
			where = " WHERE id != 0"
		case "api_keys":
			where = " WHERE user_id != 0 OR worker_id IS NOT NULL"
		}
		var has bool
		if err := dst.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM `+quoteIdent(t.name)+where+`)`).Scan(&has); err != nil {
			return unavailable(fmt.Errorf("look for rows in the target's %s: %w", t.name, err))
		}
		if has {
			full = append(full, t.name)
		}
	}
	if len(full) == 0 {
		return nil
	}
	if len(full) > 5 {
		full = append(full[:5], fmt.Sprintf("and %d more", len(full)-5))
	}
	return &horde.Error{Kind: horde.KindConflict, Code: "TargetNotEmpty",
		Message: fmt.Sprintf("the target database already holds data (in %s): migrate-data copies into an empty database only, "+
			"so that nothing is mixed or overwritten; give a new database (or data directory), or drop and recreate this one", strings.Join(full, ", "))}
}

// copyBlobRefs copies the images rows of the source name from the source's
// blob backend to the target's, each once.
func copyBlobRefs(ctx context.Context, srcTx *sql.Tx, src, dst *Store, rep *CopyReport, progress func(string, int64)) error {
	parts := make([]string, len(blobRefColumns))
	for i, c := range blobRefColumns {
		parts[i] = fmt.Sprintf(`SELECT %[2]s AS ref FROM %[1]s WHERE %[2]s != ''`, quoteIdent(c[0]), quoteIdent(c[1]))
	}
	rows, err := srcTx.QueryContext(ctx, strings.Join(parts, " UNION ")+" ORDER BY ref")
	if err != nil {
		return unavailable(fmt.Errorf("list the source's images: %w", err))
	}
	defer rows.Close()
	for rows.Next() {
		var ref string
		if err := rows.Scan(&ref); err != nil {
			return fmt.Errorf("list the source's images: %w", err)
		}
		data, err := src.Blob(ctx, ref)
		if errors.Is(err, horde.ErrNotFound) || horde.IsKind(err, horde.KindInvalid) {
			rep.MissingBlobs = append(rep.MissingBlobs, ref)
			continue
		}
		if err != nil {
			return fmt.Errorf("read the source's image %s: %w", ref, err)
		}
		got, err := dst.PutBlob(ctx, data)
		if err != nil {
			return fmt.Errorf("store image %s in the target: %w", ref, err)
		}
		// Nothing sweeps the target during the copy, and the rows naming the
		// image come later in one transaction: the pin is not needed.
		dst.unpinBlob(got)
		rep.Blobs++
		rep.BlobBytes += int64(len(data))
		if rep.Blobs%1000 == 0 {
			progress("images", rep.Blobs)
		}
	}
	if err := rows.Err(); err != nil {
		return unavailable(fmt.Errorf("list the source's images: %w", err))
	}
	progress("images", rep.Blobs)
	return nil
}

// valuesList is rows placeholder groups of cols values each.
func valuesList(rows, cols int) string {
	group := "(" + strings.Repeat("?,", cols-1) + "?)"
	return strings.Repeat(group+",", rows-1) + group
}

// convertValue turns v, as the source's driver read it, into what the
// target column of kind k takes: SQLite hands back what it stored (an
// integer, a float, text, bytes), PostgreSQL refuses a value of another
// type, so text stored as bytes becomes text, and so on. A value that does
// not convert (text in an integer column) is an error, never a guess.
func convertValue(v any, k valueKind, dst engine) (any, error) {
	if v == nil || k == kindAny {
		return v, nil
	}
	switch k {
	case kindInt:
		switch x := v.(type) {
		case int64:
			return x, nil
		case bool:
			if x {
				return int64(1), nil
			}
			return int64(0), nil
		case float64:
			if x == math.Trunc(x) && math.Abs(x) < 1<<63 {
				return int64(x), nil
			}
		}
	case kindFloat:
		switch x := v.(type) {
		case float64:
			return x, nil
		case int64:
			return float64(x), nil
		}
	case kindText:
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case []byte:
			s = string(x)
		default:
			return nil, fmt.Errorf("a %T where text belongs", v)
		}
		if dst == postgresEngine && (!utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0) {
			return nil, fmt.Errorf("text that is not valid UTF-8 or holds a NUL byte, which PostgreSQL does not store")
		}
		return s, nil
	case kindBytes:
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
	}
	return nil, fmt.Errorf("a %T value (%.40v) where the target stores %s", v, v, k)
}

func (k valueKind) String() string {
	switch k {
	case kindInt:
		return "integers"
	case kindFloat:
		return "floats"
	case kindText:
		return "text"
	case kindBytes:
		return "bytes"
	}
	return "anything"
}

// valueSize is about what v takes in a batch.
func valueSize(v any) int {
	switch x := v.(type) {
	case string:
		return len(x)
	case []byte:
		return len(x)
	}
	return 8
}

// identityColumns are the identity (or serial) columns of PostgreSQL's
// schema: their sequences are set past the largest id the copy wrote, so
// that the next row gets a new id.
func identityColumns(ctx context.Context, q querier) ([][2]string, error) {
	var cols [][2]string
	if err := scanEach(ctx, q, `SELECT table_name, column_name FROM information_schema.columns
WHERE table_schema = current_schema() AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')
ORDER BY table_name, column_name`, func(r scanner) error {
		var t, c string
		err := r.Scan(&t, &c)
		cols = append(cols, [2]string{t, c})
		return err
	}); err != nil {
		return nil, unavailable(fmt.Errorf("identity columns of the target: %w", err))
	}
	return cols, nil
}

// checkCounts counts the rows of every table copied in dst and compares
// them with the report.
func checkCounts(ctx context.Context, dst *Store, tables []TableCopy) error {
	var bad []string
	for _, t := range tables {
		var n int64
		if err := dst.r.QueryRowContext(ctx, `SELECT count(*) FROM `+quoteIdent(t.Table)).Scan(&n); err != nil {
			return unavailable(fmt.Errorf("count the target's %s: %w", t.Table, err))
		}
		if n != t.Rows {
			bad = append(bad, fmt.Sprintf("%s holds %d rows, %d were copied", t.Table, n, t.Rows))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("the copy committed but the target's rows differ: %s", strings.Join(bad, "; "))
	}
	return nil
}

// quoteIdent quotes a table or column name for both engines.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// sortedKeys is m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
