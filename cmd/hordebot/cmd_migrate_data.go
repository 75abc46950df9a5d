package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/hordebot/hordebot/store"
)

// migrateDataUsage is the one line of `hordebot migrate-data`'s usage.
const migrateDataUsage = "usage: hordebot migrate-data --from sqlite:DIR --to postgres://... [--config FILE] [--from-results database|s3] [--to-results database|s3] [--force]"

// cmdMigrateData moves a horde's data to another database (README, "Moving
// from SQLite to PostgreSQL"): `--from` must hold a hordebot database
// (SQLite: opened alone, refused while a running process has it open);
// PostgreSQL: refused while running hordebot processes use it, unless
// --force); `--to` is migrated to the same schema and must hold no data
// (refused otherwise, whatever --force says; to start over, drop and
// recreate it or give a new data directory). Every table is copied in one
// transaction of the target, the result images through the blob backends
// (skipped when both sides are the one bucket), then the rows are
// counted on both sides and `kudos verify` runs on the target. Any
// difference is an error (exit status 1). --from-results and --to-results
// say where each side keeps its images (the database's own or the bucket
// of results.s3), so that they can move between backends with the rows.
func cmdMigrateData(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("migrate-data", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "the database to copy: sqlite:DIR or postgres://... (must hold a hordebot database)")
	to := fs.String("to", "", "the database to copy into: postgres://... or sqlite:DIR (migrated, and must hold no data)")
	force := fs.Bool("force", false, "copy out of a PostgreSQL database even while hordebot processes use it (what they write after the copy's snapshot is not copied)")
	config := fs.String("config", "", "configuration file (YAML): results.store (s3: the images stay in the bucket), log_level, data_max_mib, database.max_conns")
	fromResults := fs.String("from-results", "", "where the source's result images are: database (its data folder on SQLite, its blobs table on PostgreSQL) or s3 (the bucket of --config's results.s3); default: --config's results.store")
	toResults := fs.String("to-results", "", "where the target's result images go: database or s3, as --from-results; default: --config's results.store")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from == "" || *to == "" || fs.NArg() > 0 {
		return fmt.Errorf("%s: --from and --to are both needed", migrateDataUsage)
	}
	srcURL, err := store.ParseDatabaseURL(*from)
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	dstURL, err := store.ParseDatabaseURL(*to)
	if err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	if sameDatabase(srcURL, dstURL) {
		return fmt.Errorf("--from and --to name the same database (%s): give an empty one as --to", srcURL)
	}
	cfg, err := LoadConfig(*config, getenv)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg)
	switch ok, err := store.DatabaseExists(ctx, *from); {
	case err != nil:
		return fmt.Errorf("--from %s: %w", srcURL, err)
	case !ok && srcURL.Engine == store.EngineSQLite:
		return fmt.Errorf("--from %s holds no hordebot database (%s): check the path; migrate-data copies an existing horde", srcURL, store.DBFile)
	case !ok:
		return fmt.Errorf("--from %s holds no hordebot database (no hordebot tables in the schema its search_path names first): check the URL", srcURL)
	}
	srcBlobs, dstBlobs, err := migrateBlobs(ctx, cfg.Results, *fromResults, *toResults, log)
	if err != nil {
		return err
	}
	srcOpt := store.Options{Logger: log, Blobs: srcBlobs, Exclusive: true, MaxConns: cfg.Database.MaxConns}
	source, err := openDatabase(ctx, *from, srcOpt)
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	defer source.Close()
	if err := refuseLiveSource(ctx, source, srcURL, *force, stderr); err != nil {
		return err
	}
	dstOpt := cfg.StoreOptions()
	dstOpt.Logger, dstOpt.Blobs = log, dstBlobs
	target, err := openDatabase(ctx, *to, dstOpt)
	if err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	defer target.Close()

	fmt.Fprintf(stdout, "copying %s into %s\n", srcURL, dstURL)
	began := time.Now()
	rep, err := store.CopyData(ctx, source, target, store.CopyOptions{
		Progress: func(step string, n int64) { log.Info("copied", "step", step, "rows", n) },
	})
	if err != nil {
		return fmt.Errorf("migrate-data: %w", err)
	}
	printCopyReport(stdout, rep, time.Since(began))
	if err := verifyKudos(ctx, target, stdout); err != nil {
		return fmt.Errorf("the copy in %s: %w", dstURL, err)
	}
	fmt.Fprintf(stdout, "ok: the data is in %s; point database.url (or --database) at it, and keep %s until you no longer need it\n", dstURL, srcURL)
	return nil
}

// Where migrate-data's sides keep their result images (--from-results,
// --to-results).
const (
	resultsInDatabase = "database" // the data folder on SQLite, the blobs table on PostgreSQL
	resultsInBucket   = "s3"       // the bucket of results.s3
)

// migrateBlobs opens the blob backends of migrate-data's source and target:
// nil for a side whose images are the database's own, the bucket of
// c.S3 for a side in s3. A side not given follows c.Store. Both in s3 is
// one backend: the images are already where the target reads them, and
// none are copied; otherwise CopyData copies every image rows name from
// one to the other.
func migrateBlobs(ctx context.Context, c ResultsConfig, from, to string, log *slog.Logger) (src, dst store.BlobBackend, err error) {
	inBucket := func(flag, v string) (bool, error) {
		switch v {
		case "":
			return c.Store == resultsS3, nil
		case resultsInDatabase:
			return false, nil
		case resultsInBucket:
			return true, nil
		}
		return false, fmt.Errorf("--%s %q: want %s (the database's own: a data folder or PostgreSQL's blobs table) or %s (the bucket of results.s3 in --config)",
			flag, v, resultsInDatabase, resultsInBucket)
	}
	srcS3, err := inBucket("from-results", from)
	if err != nil {
		return nil, nil, err
	}
	dstS3, err := inBucket("to-results", to)
	if err != nil {
		return nil, nil, err
	}
	if !srcS3 && !dstS3 {
		return nil, nil, nil
	}
	bc := c
	bc.Store = resultsS3
	bucket, err := openBlobs(ctx, bc, log)
	if err != nil {
		return nil, nil, err
	}
	if srcS3 {
		src = bucket
	}
	if dstS3 {
		dst = bucket
	}
	return src, dst, nil
}

// refuseLiveSource refuses a PostgreSQL source that running hordebot
// processes still use (their event listeners on its channel, or sessions
// holding its leases, in pg_stat_activity and pg_locks), naming them; with
// force it warns and goes on. A SQLite source needs no check: it is opened
// alone, and refused while anything has it open.
func refuseLiveSource(ctx context.Context, source *store.Store, where store.DatabaseURL, force bool, stderr io.Writer) error {
	live, err := source.LiveSessions(ctx, allLeases)
	if err != nil {
		return fmt.Errorf("--from %s: %w", where, err)
	}
	if len(live) == 0 {
		return nil
	}
	var list strings.Builder
	for i, ls := range live {
		if i == 3 {
			fmt.Fprintf(&list, ", and %d more", len(live)-i)
			break
		}
		if i > 0 {
			list.WriteString(", ")
		}
		fmt.Fprintf(&list, "pid %d %q from %s since %s", ls.PID, ls.Application, ls.Client, ls.Since.UTC().Format(time.RFC3339))
	}
	if force {
		fmt.Fprintf(stderr, "warning: --force: copying while hordebot processes use %s (%s); what they write after the snapshot is not copied\n", where, list.String())
		return nil
	}
	return fmt.Errorf("--from %s is in use by running hordebot processes (%s): stop them first, or give --force to copy a snapshot anyway (what they write after it is not copied)", where, list.String())
}

// sameDatabase reports whether a and b name one database: one data
// directory, or one PostgreSQL URL. (CopyData also compares what the two
// servers say they are, which catches two spellings of one.)
func sameDatabase(a, b store.DatabaseURL) bool {
	if a.Engine != b.Engine {
		return false
	}
	if a.Engine == store.EnginePostgres {
		return a.DSN == b.DSN
	}
	x, xerr := filepath.Abs(a.Dir)
	y, yerr := filepath.Abs(b.Dir)
	return xerr == nil && yerr == nil && filepath.Clean(x) == filepath.Clean(y)
}

// printCopyReport prints the rows of each table, the images and the time
// the copy took.
func printCopyReport(w io.Writer, rep store.CopyReport, took time.Duration) {
	var rows int64
	for _, t := range rep.Tables {
		rows += t.Rows
		if t.Note != "" {
			fmt.Fprintf(w, "  %-20s %10d  (%s)\n", t.Table, t.Rows, t.Note)
			continue
		}
		fmt.Fprintf(w, "  %-20s %10d\n", t.Table, t.Rows)
	}
	fmt.Fprintf(w, "ok: %d rows in %d tables copied, and counted again in the target\n", rows, len(rep.Tables))
	switch {
	case rep.BlobsShared:
		fmt.Fprintln(w, "ok: result images copied: none, both databases use the one bucket (results.store: s3)")
	default:
		fmt.Fprintf(w, "ok: result images copied: %d (%.1f MiB)\n", rep.Blobs, float64(rep.BlobBytes)/(1<<20))
	}
	if n := len(rep.MissingBlobs); n > 0 {
		fmt.Fprintf(w, "warning: %d images named by rows were already missing from the source, e.g. %s: their results show no image there either\n", n, rep.MissingBlobs[0])
	}
	fmt.Fprintf(w, "copied in %s\n", took.Round(time.Millisecond))
}
