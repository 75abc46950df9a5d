#!/usr/bin/env bash
# Runs the benchmarks and prints one table, each figure beside the limit it
# is measured against in the same run, as a ratio where there is one: HTTP
# job lifecycles/s beside the loopback round trips/s of a trivial handler
# with the same client; durable async accepts/s beside raw one-row SQLite
# commits/s with the store's settings on the same disk; the /imagine grid
# (PNG in, posted file out) beside ImageMagick's `montage -tile 2x2` of the
# same four images (when montage is installed: this script installs
# nothing). Then pop latency, memory per waiting request (Go heap of the
# horde, and RSS of `hordebot api`, with 100,000 waiting), ledger
# throughput, deferred ACK latency and the API under abuse (peak RSS of
# `hordebot api` and heartbeat p99 during each attack; each attack lasts
# HORDEBOT_ABUSE_SECONDS, default 5). Takes several minutes.
#
#   scripts/bench.sh            # all of it (make bench)
#   BENCH_SCALE=0.2 scripts/bench.sh   # fewer iterations, for a quick look
#
# The raw `go test -bench` output is kept in $BENCH_OUT (default: a temp file).
set -euo pipefail
cd "$(dirname "$0")/.."

GO="${GO:-go}"
scale="${BENCH_SCALE:-1}"
out="${BENCH_OUT:-$(mktemp -t hordebot-bench.XXXXXX)}"
work="$(mktemp -d -t hordebot-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
: >"$out"

# n ITERATIONS: the iteration count scaled by BENCH_SCALE, at least 1.
n() { awk -v n="$1" -v s="$scale" 'BEGIN { v = int(n * s); if (v < 1) v = 1; print v }'; }

# bench PACKAGE BENCHMARK ITERATIONS: runs one benchmark a fixed number of
# times. A failure is reported and remembered; the other benchmarks still run.
failed=()
bench() {
	local pkg="$1" name="$2" iters
	iters="$(n "$3")"
	echo "bench: $pkg $name (${iters}x)" >&2
	if ! "$GO" test -run '^$' -bench "^${name}\$" -benchtime "${iters}x" -count 1 -timeout 15m "$pkg" >>"$out" 2>&1; then
		echo "bench: $pkg $name failed; see $out" >&2
		failed+=("$name")
	fi
}

# metric BENCHMARK UNIT: the value reported in UNIT by BENCHMARK ("-" if none).
metric() {
	awk -v b="$1" -v u="$2" '
		$1 ~ "^"b"(-[0-9]+)?$" { for (i = 3; i < NF; i++) if ($(i+1) == u) { v = $i } }
		END { print (v == "" ? "-" : v) }' "$out"
}

# scaled VALUE FACTOR FORMAT: VALUE*FACTOR printed with FORMAT ("-" stays "-").
scaled() {
	if [ "$1" = "-" ]; then echo "-"; return; fi
	awk -v v="$1" -v f="$2" -v fmt="$3" 'BEGIN { printf fmt, v * f }'
}

# PostgreSQL: the server HORDEBOT_TEST_POSTGRES_URL names, or else a
# throwaway cluster of scripts/pg-test-cluster.sh on a port of its own
# (BENCH_PG_PORT, default 55499) when its binaries are installed (this script
# installs nothing); without either the PostgreSQL rows say "skipped".
pg_note=""
pg_started=""
if [ -z "${HORDEBOT_TEST_POSTGRES_URL:-}" ]; then
	if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
		echo "bench: starting a throwaway PostgreSQL cluster on port ${BENCH_PG_PORT:-55499}" >&2
		if pg_env="$(PGTEST_PORT="${BENCH_PG_PORT:-55499}" scripts/pg-test-cluster.sh start)"; then
			eval "$pg_env"
			pg_started="$PGTEST_DIR"
			trap 'rm -rf "$work"; scripts/pg-test-cluster.sh stop "$pg_started"' EXIT
		else
			pg_note="the throwaway cluster did not start"
		fi
	else
		pg_note="no PostgreSQL server binaries (/usr/lib/postgresql/*/bin); set HORDEBOT_TEST_POSTGRES_URL"
	fi
fi
[ -n "$pg_note" ] && echo "bench: PostgreSQL rows skipped: $pg_note" >&2

bench ./horde/ BenchmarkPop 20000
# Each figure right after its limit, so that both see the same machine.
bench ./cmd/hordebot/ BenchmarkHTTPRoundTrip 40000
bench ./cmd/hordebot/ BenchmarkHTTPLifecycles 20000
# The lifecycle's store writes alone, from as many callers (the floor of the above).
bench ./store/ BenchmarkLifecycleWrites 20000
# The same on PostgreSQL when HORDEBOT_TEST_POSTGRES_URL names a server (scripts/pg-test-cluster.sh).
if [ -n "${HORDEBOT_TEST_POSTGRES_URL:-}" ]; then
	bench ./cmd/hordebot/ BenchmarkHTTPLifecyclesPostgres 20000
	# 1 and 2 `hordebot api` processes on one database, 3 rounds, medians.
	bench ./cmd/hordebot/ BenchmarkHTTPLifecyclesProcesses 5000
	# Pop latency on the shared queue with BENCH_PG_WAITING waiting requests
	# (default 100,000; the setup submits them all through the horde).
	pg_waiting="${BENCH_PG_WAITING:-$(n 100000)}"
	HORDEBOT_TEST_ENGINE=postgres HORDE_BENCH_REQUESTS="$pg_waiting" bench ./horde/ BenchmarkPopStored 5000
fi
bench ./store/ BenchmarkSQLiteCommit 20000
bench ./cmd/hordebot/ BenchmarkHTTPAsync 20000
# Memory: 100,000 waiting requests (scaled); one run each.
waiting="$(n 100000)"
echo "bench: memory with $waiting waiting requests" >&2
HORDE_BENCH_WAITING="$waiting" bench ./horde/ BenchmarkWaitingMemory 1
HORDEBOT_BENCH_WAITING="$waiting" bench ./cmd/hordebot/ BenchmarkWaitingRSS 1
bench ./kudos/ BenchmarkAwardBatched 20000
bench ./kudos/ BenchmarkAwardSingle 2000
bench ./store/ BenchmarkLedgerApplySingle 20000
bench ./bot/ BenchmarkDeferredAck 300
# The web pages at 100k requests and 10k members (seeding takes a minute).
bench ./horde/web/ BenchmarkPages 20
# One run each: an attack lasts a fixed time, whatever BENCH_SCALE says.
bench ./cmd/hordebot/ BenchmarkAbuseUploads 1
bench ./cmd/hordebot/ BenchmarkAbuseJSONBodies 1
bench ./cmd/hordebot/ BenchmarkAbuseTrickle 1

# The grid, then ImageMagick's montage on four 1024x1024 noise images like
# the benchmark's, one right after the other.
bench ./commands/ BenchmarkComposeGrid 30
bench ./commands/ BenchmarkGridFromPNG 20
montage_ms="montage not installed"
montage_mean="-" # milliseconds
if command -v montage >/dev/null 2>&1; then
	mkdir -p "$work/gen" "$work/img"
	cat >"$work/gen/main.go" <<'EOF'
// Command gen writes four 1024x1024 noise PNGs, like BenchmarkComposeGrid's.
package main

import (
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
)

func main() {
	for i := uint64(1); i <= 4; i++ {
		r := rand.New(rand.NewPCG(i, i))
		img := image.NewNRGBA(image.Rect(0, 0, 1024, 1024))
		for p := range img.Pix {
			img.Pix[p] = byte(r.Uint32())
		}
		for p := 3; p < len(img.Pix); p += 4 {
			img.Pix[p] = 255
		}
		f, err := os.Create(filepath.Join(os.Args[1], fmt.Sprintf("%d.png", i)))
		if err == nil {
			err = png.Encode(f, img)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
EOF
	(cd "$work/gen" && GOFLAGS= GOWORK=off "$GO" run main.go "$work/img")
	cmd=(montage "$work"/img/1.png "$work"/img/2.png "$work"/img/3.png "$work"/img/4.png -tile 2x2 -geometry +0+0 "$work/grid.png")
	echo "bench: montage -tile 2x2 -geometry +0+0 (10 runs)" >&2
	if command -v hyperfine >/dev/null 2>&1; then
		hyperfine --warmup 1 --runs 10 --export-json "$work/hf.json" "${cmd[*]}" >&2
		montage_mean="$(awk -F'[:,]' '/"mean"/ { printf "%.1f", $2 * 1000; exit }' "$work/hf.json")"
		montage_ms="$montage_mean ms (mean, hyperfine)"
	else
		"${cmd[@]}"
		start=$(date +%s%N)
		for _ in 1 2 3 4 5 6 7 8 9 10; do "${cmd[@]}"; done
		end=$(date +%s%N)
		montage_mean="$(awk -v d=$((end - start)) 'BEGIN { printf "%.1f", d / 10 / 1e6 }')"
		montage_ms="$montage_mean ms (mean of 10)"
	fi
fi

row() { printf '| %-66s | %-30s | %-34s |\n' "$1" "$2" "$3"; }

# ratio A B FORMAT: A/B printed with FORMAT ("-" when either is missing).
ratio() {
	if [ "$1" = "-" ] || [ "$2" = "-" ]; then echo "-"; return; fi
	awk -v a="$1" -v b="$2" -v fmt="$3" 'BEGIN { if (b == 0) print "-"; else printf fmt, a / b }'
}

# verdict VALUE OP GOAL: "met" or "NOT met" for VALUE OP GOAL ("-" stays "-").
verdict() {
	if [ "$1" = "-" ]; then echo "-"; return; fi
	awk -v v="$1" -v op="$2" -v g="$3" 'BEGIN { ok = (op == ">=") ? v >= g : v <= g; print (ok ? "met" : "NOT met") }'
}

rt="$(metric BenchmarkHTTPRoundTrip roundtrips/s)"
lc="$(metric BenchmarkHTTPLifecycles lifecycles/s)"
lc_limit="$(scaled "$rt" 0.5 '%.0f')" # a lifecycle is two round trips
lc_ratio="$(ratio "$lc" "$lc_limit" '%.2f')"
# The writes alone: what lifecycles/s could reach with an HTTP side that cost nothing.
lw="$(ratio 1000000000 "$(metric BenchmarkLifecycleWrites ns/op)" '%.0f')"
lw_ratio="$(ratio "$lw" "$lc_limit" '%.2f')"
# The CPU a lifecycle may cost for the goal: 0.5 of RT/2 is a lifecycle for
# every 4 round trips, so (both bound by CPU) 4 trivial round trips' CPU.
lc_budget="$(scaled "$(metric BenchmarkHTTPRoundTrip cpu-µs/op)" 4 '%.0f')"
commits="$(metric BenchmarkSQLiteCommit commits/s)"
accepts="$(metric BenchmarkHTTPAsync requests/s)"
grid_ms="$(scaled "$(metric BenchmarkGridFromPNG ns/op)" 0.000001 '%.1f')"
grid_ratio="$(ratio "$grid_ms" "$montage_mean" '%.2f')"
heap="$(metric BenchmarkWaitingMemory heap-MiB)"
rss="$(metric BenchmarkWaitingRSS rss-MB)"
# The memory goals are for 100,000 waiting requests: a scaled run says so.
memgoal() {
	if [ "$waiting" != 100000 ]; then echo "goal < 250 $2 at 100,000 (scaled run)"; return; fi
	echo "goal < 250 $2 at 100,000: $(verdict "$1" '<=' 250)"
}

echo
# Throughput figures depend on what else the machine runs: say how busy it was.
echo "hordebot benchmarks ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc 2>/dev/null || echo '?') cores, $("$GO" env GOVERSION), load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?'))"
echo
echo "Figures against their limits, measured in this run:"
echo
row "figure" "measured" "limit, ratio, goal"
row "----" "----" "----"
row "loopback HTTP round trips/s, trivial handler, same client (32)" \
	"$(scaled "$rt" 1 '%.0f /s')" "the HTTP limit"
row "HTTP job lifecycles/s (pop+submit, durable; 32 workers)" \
	"$(scaled "$lc" 1 '%.0f /s')" "$lc_ratio of $(scaled "$lc_limit" 1 '%.0f')/s (RT/2); goal >= 0.5: $(verdict "$lc_ratio" '>=' 0.5)"
row "  its store writes alone, same callers, no HTTP (the one writer)" \
	"$(scaled "$lw" 1 '%.0f /s'), $(metric BenchmarkLifecycleWrites cpu-µs/op) µs CPU" "$lw_ratio of RT/2: the most lifecycles could reach"
row "  CPU a lifecycle: measured / what 0.5 allows (4 round trips')" \
	"$(metric BenchmarkHTTPLifecycles cpu-µs/op) / $lc_budget µs" "of which the store writes $(metric BenchmarkLifecycleWrites cpu-µs/op) µs; a round trip $(metric BenchmarkHTTPRoundTrip cpu-µs/op) µs"
if [ -n "${HORDEBOT_TEST_POSTGRES_URL:-}" ]; then
	lc_pg="$(metric BenchmarkHTTPLifecyclesPostgres lifecycles/s)"
	row "HTTP job lifecycles/s on PostgreSQL (one process; 32 workers)" \
		"$(scaled "$lc_pg" 1 '%.0f /s')" "$(ratio "$lc_pg" "$lc" '%.2f') of the SQLite figure above (the server as HORDEBOT_TEST_POSTGRES_URL runs it)"
	p1="$(metric BenchmarkHTTPLifecyclesProcesses procs1-lifecycles/s)"
	p2="$(metric BenchmarkHTTPLifecyclesProcesses procs2-lifecycles/s)"
	pr="$(metric BenchmarkHTTPLifecyclesProcesses procs2/procs1)"
	row "PostgreSQL, 1 hordebot api process (32 workers; median of 3)" \
		"$(scaled "$p1" 1 '%.0f /s')" "$(ratio "$p1" "$lc" '%.2f') of the SQLite figure"
	row "PostgreSQL, 2 hordebot api processes (workers spread over both)" \
		"$(scaled "$p2" 1 '%.0f /s')" "$(scaled "$pr" 1 '%.2f') of 1 process; goal >= 1.6: $(verdict "$pr" '>=' 1.6)"
	# busy N: the share of the machine's cores the N-process run kept busy
	# (its lifecycles/s times the CPU a lifecycle of hordebot, PostgreSQL and
	# the load generator), and what 1.6x one process would need.
	busy() {
		local m=BenchmarkHTTPLifecyclesProcesses
		awk -v r="$(metric $m "procs$1-lifecycles/s")" -v h="$(metric $m "procs$1-hordebot-cpu-µs")" \
			-v p="$(metric $m "procs$1-pg-cpu-µs")" -v l="$(metric $m "procs$1-loadgen-cpu-µs")" \
			-v c="$(nproc 2>/dev/null || echo 1)" -v f="${2:-1}" \
			'BEGIN { if (r == "-" || h == "-") print "-"; else printf "%.0f%%", 100 * f * r * (h + p + l) / 1e6 / c }'
	}
	row "  CPU a lifecycle, 1 process: hordebot / PostgreSQL / load gen" \
		"$(metric BenchmarkHTTPLifecyclesProcesses procs1-hordebot-cpu-µs) / $(metric BenchmarkHTTPLifecyclesProcesses procs1-pg-cpu-µs) / $(metric BenchmarkHTTPLifecyclesProcesses procs1-loadgen-cpu-µs) µs" \
		"$(busy 1) of the $(nproc 2>/dev/null || echo '?') cores busy; 1.6x this would need $(busy 1 1.6)"
	row "  CPU a lifecycle, 2 processes: hordebot / PostgreSQL / load gen" \
		"$(metric BenchmarkHTTPLifecyclesProcesses procs2-hordebot-cpu-µs) / $(metric BenchmarkHTTPLifecyclesProcesses procs2-pg-cpu-µs) / $(metric BenchmarkHTTPLifecyclesProcesses procs2-loadgen-cpu-µs) µs" \
		"$(busy 2) of the cores busy; statements a lifecycle (in-process run): $(metric BenchmarkHTTPLifecyclesPostgres statements/lifecycle)"
	pgpop="BenchmarkPopStored/waiting=$pg_waiting"
	pg99="$(scaled "$(metric "$pgpop" p99-ns)" 0.000001 '%.2f')"
	row "pop p50 / p99 on PostgreSQL, $pg_waiting waiting (50 models, 2,000 workers)" \
		"$(scaled "$(metric "$pgpop" p50-ns)" 0.000001 '%.2f') / $pg99 ms" "goal p99 < 5 ms at 100,000: $(verdict "$pg99" '<=' 5)"
else
	row "HTTP job lifecycles/s on PostgreSQL (1 and 2 processes), pop at 100k" "skipped" "${pg_note:-set HORDEBOT_TEST_POSTGRES_URL}"
fi
row "raw one-row SQLite commits/s (store's DSN: WAL, synchronous=NORMAL)" \
	"$(scaled "$commits" 1 '%.0f /s')" "the durable-write limit"
row "HTTP async requests/s accepted (durable 202; 32 clients)" \
	"$(scaled "$accepts" 1 '%.0f /s')" "$(ratio "$accepts" "$commits" '%.2f') of raw commits (group commit)"
row "ImageMagick montage -tile 2x2 of four 1024x1024 PNGs (files)" "$montage_ms" "the grid limit"
row "/imagine grid: 4 PNGs decoded, composed, posted file (JPEG) out" \
	"$(scaled "$grid_ms" 1 '%.1f ms')" "$grid_ratio of montage; goal <= 0.25: $(verdict "$grid_ratio" '<=' 0.25)"
row "Go heap after GC, $waiting waiting requests (horde over SQLite)" \
	"$(scaled "$heap" 1 '%.1f MiB') ($(scaled "$(metric BenchmarkWaitingMemory B/request)" 1 '%.0f') B/request)" "$(memgoal "$heap" MiB)"
row "RSS of hordebot api, $waiting waiting (async over HTTP)" \
	"$(scaled "$rss" 1 '%.0f MB') ($(scaled "$(metric BenchmarkWaitingRSS rss-B/request)" 1 '%.0f') B/request)" "$(memgoal "$rss" MB)"
echo
echo "Web pages, server time per page at 100,000 requests and 10,000 members. served: a running server's"
echo "page with the page cache off (every request renders; the leaderboards and the month's charts as the"
echo "pages' 2-minute memo keeps them, refreshed in the background); cold: a first view, nothing memoised,"
echo "everything read from the store (mean of the run; the run's first load in brackets):"
echo
row "page" "served / cold (first)" "goal < 50 ms: served / cold"
row "----" "----" "----"
for p in status leaderboard-week leaderboard-all gallery-new gallery-top member worker request; do
	v="$(metric "BenchmarkPages/$p/served" ms/page)"
	c="$(metric "BenchmarkPages/$p/cold" ms/page)"
	f="$(metric "BenchmarkPages/$p/cold" first-ms)"
	row "$p" "$(scaled "$v" 1 '%.1f ms') / $(scaled "$c" 1 '%.1f ms') ($(scaled "$f" 1 '%.1f'))" \
		"$(verdict "$v" '<=' 50) / $(verdict "$c" '<=' 50)"
done
echo
echo "Other figures:"
echo
row "figure" "measured" "target"
row "----" "----" "----"
row "pop latency p50, in memory (100k requests/50 models/10k workers)" \
	"$(scaled "$(metric BenchmarkPop p50-ns)" 0.001 '%.1f µs')" "microseconds, not a scan"
row "pop latency p99, in memory (same queue)" \
	"$(scaled "$(metric BenchmarkPop p99-ns)" 0.001 '%.1f µs')" "< 1 ms"
row "HTTP lifecycle p50 / p99 (32 workers)" \
	"$(metric BenchmarkHTTPLifecycles p50-ms) / $(metric BenchmarkHTTPLifecycles p99-ms) ms" ""
row "HTTP lifecycle CPU (server + load generator; trivial RT: $(metric BenchmarkHTTPRoundTrip cpu-µs/op) µs)" \
	"$(metric BenchmarkHTTPLifecycles cpu-µs/op) µs" ""
row "HTTP lifecycle group commits (a pop and a submit: 2 writes)" \
	"$(metric BenchmarkHTTPLifecycles commits/lifecycle) a lifecycle" "fewer: more writes share a commit"
row "HTTP async p50 / p99 (32 clients)" \
	"$(metric BenchmarkHTTPAsync p50-ms) / $(metric BenchmarkHTTPAsync p99-ms) ms" ""
row "ledger awards/s, batched (AwardMany, settled)" \
	"$(scaled "$(metric BenchmarkAwardBatched awards/s)" 1 '%.0f /s')" "> 20,000 /s"
row "ledger awards/s, single Apply from parallel callers" \
	"$(scaled "$(metric BenchmarkLedgerApplySingle awards/s)" 1 '%.0f /s')" ""
row "single reaction award p99" \
	"$(metric BenchmarkAwardSingle p99-ms) ms" "< 2 ms"
row "deferred ACK p50 / p99 (fake Discord)" \
	"$(metric BenchmarkDeferredAck p50-ms) / $(metric BenchmarkDeferredAck p99-ms) ms" "p99 < 20 ms (3 s limit)"
row "2x2 grid of four 1024x1024 images, composed only" \
	"$(scaled "$(metric BenchmarkComposeGrid ns/op)" 0.000001 '%.1f ms')" ""
# abuse NAME LABEL: the RSS peak and heartbeat p99 rows of one attack.
abuse() {
	row "$2: RSS peak of hordebot api (resting $(scaled "$(metric "$1" rss-rest-MB)" 1 '%.0f MB'))" \
		"$(scaled "$(metric "$1" rss-peak-MB)" 1 '%.0f MB')" "< 200 MB"
	row "$2: heartbeat p99 (server CPU $(scaled "$(metric "$1" server-cpu-s)" 1 '%.1f s'))" \
		"$(metric "$1" hb-p99-ms) ms" "< 50 ms"
}
abuse BenchmarkAbuseUploads "40 concurrent 19 MB PUTs to unknown r2 jobs"
abuse BenchmarkAbuseJSONBodies "40 concurrent 10 MB JSON bodies"
abuse BenchmarkAbuseTrickle "1,500 trickling connections"
if [ -n "${HORDEBOT_TEST_POSTGRES_URL:-}" ]; then
	echo
	echo "On PostgreSQL the database, the hordebot processes and the load generator share this machine's"
	echo "$(nproc 2>/dev/null || echo '?') cores: when one process's run keeps more than 1/1.6 of them busy, two cannot show 1.6x"
	echo "here, whatever they share; the CPU a lifecycle above says who would need fewer cycles."
fi
echo
echo "raw output: $out"
if [ "${#failed[@]}" -gt 0 ]; then
	echo "failed: ${failed[*]}" >&2
	exit 1
fi
