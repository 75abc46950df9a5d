package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkSQLiteCommit is the limit the durable accepts are measured
// against: raw one-row commits (BEGIN IMMEDIATE, one INSERT of a row the
// size of a request's, COMMIT) one after another on the store's writer
// connection settings (the same DSN: WAL, synchronous=NORMAL, ...) in a
// temp dir on the same disk as the other benchmarks. It reports commits/s.
func BenchmarkSQLiteCommit(b *testing.B) {
	ctx := context.Background()
	w, err := openWriter(filepath.Join(b.TempDir(), DBFile), connPragmas())
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	if _, err := w.ExecContext(ctx, `CREATE TABLE raw (id TEXT PRIMARY KEY, user_id INTEGER NOT NULL, prompt TEXT NOT NULL, params TEXT NOT NULL, created_at INTEGER NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	ins, err := w.PrepareContext(ctx, `INSERT INTO raw (id, user_id, prompt, params, created_at) VALUES (?, ?, ?, ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	defer ins.Close()
	const prompt = "A detailed oil painting of the Lighthouse of Alexandria on a rocky coast at dusk, dramatic clouds, volumetric light, highly detailed ### blurry, lowres, watermark"
	const params = `{"width":512,"height":512,"steps":30,"sampler_name":"k_euler_a","cfg_scale":7.5,"seed":"1234567890"}`
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		tx, err := w.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tx.StmtContext(ctx, ins).ExecContext(ctx, fmt.Sprintf("%036d", i), i%100, prompt, params, i); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
}
