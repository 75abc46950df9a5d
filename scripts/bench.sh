#!/usr/bin/env bash
# Runs the benchmarks behind the figures the issues name and prints them as
# one table: pop latency, HTTP job lifecycles/s, durable async requests/s,
# ledger throughput, deferred ACK latency, grid composition (next to
# ImageMagick's montage when it is installed) and the API under abuse (peak
# RSS of `hordebot api` and heartbeat p99 during each attack; each attack
# lasts HORDEBOT_ABUSE_SECONDS, default 5). Takes a few minutes.
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

bench ./horde/ BenchmarkPop 20000
bench ./cmd/hordebot/ BenchmarkHTTPLifecycles 20000
bench ./cmd/hordebot/ BenchmarkHTTPAsync 20000
bench ./kudos/ BenchmarkAwardBatched 20000
bench ./kudos/ BenchmarkAwardSingle 2000
bench ./store/ BenchmarkLedgerApplySingle 20000
bench ./bot/ BenchmarkDeferredAck 300
bench ./commands/ BenchmarkComposeGrid 30
bench ./commands/ BenchmarkGridFromPNG 5
# One run each: an attack lasts a fixed time, whatever BENCH_SCALE says.
bench ./cmd/hordebot/ BenchmarkAbuseUploads 1
bench ./cmd/hordebot/ BenchmarkAbuseJSONBodies 1
bench ./cmd/hordebot/ BenchmarkAbuseTrickle 1

# ImageMagick's montage on four 1024x1024 noise images like the benchmark's.
montage_ms="montage not installed"
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
		montage_ms="$(awk -F'[:,]' '/"mean"/ { printf "%.1f ms (mean, hyperfine)", $2 * 1000; exit }' "$work/hf.json")"
	else
		"${cmd[@]}"
		start=$(date +%s%N)
		for _ in 1 2 3 4 5 6 7 8 9 10; do "${cmd[@]}"; done
		end=$(date +%s%N)
		montage_ms="$(awk -v d=$((end - start)) 'BEGIN { printf "%.1f ms (mean of 10)", d / 10 / 1e6 }')"
	fi
fi

row() { printf '| %-66s | %-28s | %-24s |\n' "$1" "$2" "$3"; }
echo
# Throughput figures depend on what else the machine runs: say how busy it was.
echo "hordebot benchmarks ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc 2>/dev/null || echo '?') cores, $("$GO" env GOVERSION), load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?'))"
echo
row "figure" "measured" "target"
row "----" "----" "----"
row "pop latency p50, in memory (100k requests/50 models/10k workers)" \
	"$(scaled "$(metric BenchmarkPop p50-ns)" 0.001 '%.1f µs')" "microseconds, not a scan"
row "pop latency p99, in memory (same queue)" \
	"$(scaled "$(metric BenchmarkPop p99-ns)" 0.001 '%.1f µs')" "< 1 ms"
row "HTTP job lifecycles/s (pop+submit, durable)" \
	"$(scaled "$(metric BenchmarkHTTPLifecycles lifecycles/s)" 1 '%.0f /s')" "> 5,000 /s"
row "HTTP lifecycle p50 / p99 (32 workers)" \
	"$(metric BenchmarkHTTPLifecycles p50-ms) / $(metric BenchmarkHTTPLifecycles p99-ms) ms" ""
row "HTTP lifecycle CPU (server + load generator)" \
	"$(metric BenchmarkHTTPLifecycles cpu-µs/op) µs" ""
row "HTTP async requests/s accepted (durable 202)" \
	"$(scaled "$(metric BenchmarkHTTPAsync requests/s)" 1 '%.0f /s')" ""
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
row "2x2 grid of four 1024x1024 images (imaging)" \
	"$(scaled "$(metric BenchmarkComposeGrid ns/op)" 0.000001 '%.1f ms')" "faster than montage"
row "same, from PNG bytes to grid PNG (decode + compose + encode)" \
	"$(scaled "$(metric BenchmarkGridFromPNG ns/op)" 0.000001 '%.1f ms')" "faster than montage"
row "same grid with ImageMagick montage (PNG files to PNG file)" "$montage_ms" ""
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
echo
echo "raw output: $out"
if [ "${#failed[@]}" -gt 0 ]; then
	echo "failed: ${failed[*]}" >&2
	exit 1
fi
