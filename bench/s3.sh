#!/usr/bin/env bash
# bench/s3.sh - an S3 round trip through ml-score, against a real
# S3-compatible server on 127.0.0.1 (npm's @20minutes/s3rver, as in
# tests/integration/test_s3.sh): a CSV of BENCH_S3_SMALL_MB (default 100) and
# of BENCH_S3_GB (default 1) goes up with bench/s3_copy (our `aws s3 cp`:
# libcommon streams over the store-s3 plugin, multipart PUT), then
#
#     ml-score -m model.json --join-source input s3://bench/in.csv -o s3://bench/out.csv
#
# (streaming GET, multipart PUT of each row with its prediction, a little
# larger than the input), and the result comes back down and is
# compared byte for byte with ml-score of the same file read locally.  Peak
# RSS (/usr/bin/time) of each whole process is printed beside the local
# run's: memory must stay flat as the object grows.  Everything lives in a
# temporary folder under BENCH_S3_TMP (default ${TMPDIR:-/tmp}), s3rver's
# objects included, removed at exit.
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
B=$ROOT/build/bench
MODULES=${MLPIPE_NODE_MODULES:-$ROOT/build/node_modules}
SMALL_MB=${BENCH_S3_SMALL_MB:-100}
GB=${BENCH_S3_GB:-1}
[ "$GB" != 0 ] || { echo "== s3 round trip: skipped (BENCH_S3_GB=0)"; exit 0; }
command -v node >/dev/null && [ -d "$MODULES/@20minutes/s3rver" ] ||
	{ echo "== s3 round trip: skipped (no node or no $MODULES/@20minutes/s3rver)"; exit 0; }
mkdir -p "$B"
[ -x "$B/gen_csv" ] || cc -O2 -o "$B/gen_csv" bench/gen_csv.c -lm
[ -x "$B/s3_copy" ] || { echo "build/bench/s3_copy is missing: run make bench"; exit 1; }

# Room: the big file, s3rver's copy of it, the output (its parts and the
# assembled object), the local run's output: budget six times the big file.
TMPROOT=${BENCH_S3_TMP:-${TMPDIR:-/tmp}}
need_kb=$(awk -v gb="$GB" 'BEGIN {printf "%d", 6 * gb * 1e6}')
have_kb=$(df -Pk "$TMPROOT" | awk 'NR == 2 {print $4}')
if [ "$have_kb" -lt "$need_kb" ]; then
	echo "== s3 round trip: skipped ($TMPROOT has $((have_kb / 1024)) MB free, needs $((need_kb / 1024)) MB; set BENCH_S3_TMP)"
	exit 0
fi
W=$(mktemp -d "$TMPROOT/mlpipe-bench-s3.XXXXXX")
S3PID=
cleanup() { [ -z "$S3PID" ] || kill "$S3PID" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

node --openssl-legacy-provider tests/integration/s3rver.js "$MODULES" "$W/s3data" "$W/s3.port" bench \
	>"$W/s3rver.log" 2>&1 &
S3PID=$!
for _ in $(seq 100); do [ -s "$W/s3.port" ] && break; sleep 0.1; done
[ -s "$W/s3.port" ] || { echo "s3rver did not start: $(cat "$W/s3rver.log")"; exit 1; }
export MLPIPE_S3_ENDPOINT=http://127.0.0.1:$(cat "$W/s3.port") AWS_ACCESS_KEY_ID=S3RVER \
	AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
unset AWS_SESSION_TOKEN AWS_PROFILE MLPIPE_S3_PART_SIZE MLPIPE_S3_RETRIES

# A linear model of the Friedman data (the scoring itself is not what is measured).
"$B/gen_csv" 20000 3 --friedman >"$W/train.csv"
build/bin/ml-train -a linear --target y -o "$W/model.json" "$W/train.csv" 2>/dev/null

# measure NAME CMD...: wall seconds and peak RSS (kB) of one process, into $secs and $rss.
measure() {
	local name=$1
	shift
	if ! /usr/bin/time -f '%e %M' -o "$W/time" "$@" 2>"$W/err"; then
		echo "$name failed: $(cat "$W/err")"
		exit 1
	fi
	read -r secs rss <"$W/time"
}

echo "== s3 round trip through ml-score (s3rver on 127.0.0.1, 8 MiB parts); load: $(uptime | sed 's/.*load average: //')"
printf '%-10s %-34s %9s %9s %12s\n' size step seconds MB/s "peak RSS kB"
declare -A RSS
BIG_MB=$(awk -v gb="$GB" 'BEGIN {printf "%d", gb * 1000}')
for mb in "$SMALL_MB" "$BIG_MB"; do
	rows=$(awk -v mb="$mb" 'BEGIN {printf "%d", mb * 1e6 / 147.8}')	# gen_csv --friedman: 147.8 bytes a row
	"$B/gen_csv" "$rows" 11 --friedman >"$W/in.csv"
	bytes=$(stat -c %s "$W/in.csv")
	label="$(awk -v b="$bytes" 'BEGIN {printf "%.0f MB", b / 1e6}')"
	row() { printf '%-10s %-34s %9s %9s %12s\n' "$label" "$1" "$secs" \
		"$(awk -v b="$2" -v s="$secs" 'BEGIN {printf "%.0f", (s > 0 ? b / s / 1e6 : 0)}')" "$rss"; }

	measure "upload" "$B/s3_copy" "$W/in.csv" s3://bench/in.csv
	row "s3_copy local -> s3:// (PUT)" "$bytes"
	stored=$(stat -c %s "$W/s3data/bench/in.csv._S3rver_object")
	[ "$stored" = "$bytes" ] || { echo "the object holds $stored bytes, the file $bytes"; exit 1; }
	measure "ml-score local" build/bin/ml-score -m "$W/model.json" --join-source input -o "$W/local.csv" "$W/in.csv"
	row "ml-score local -> local" "$bytes"
	RSS[local-$mb]=$rss
	measure "ml-score s3" build/bin/ml-score -m "$W/model.json" --join-source input -o s3://bench/out.csv s3://bench/in.csv
	row "ml-score s3:// -> s3://" "$bytes"
	RSS[s3-$mb]=$rss
	rm -f "$W/in.csv"	# room for the way back
	measure "download" "$B/s3_copy" s3://bench/out.csv "$W/back.csv"
	row "s3_copy s3:// -> local (GET)" "$(stat -c %s "$W/back.csv")"
	lines=$(wc -l <"$W/back.csv")
	if ! cmp -s "$W/back.csv" "$W/local.csv" || [ "$lines" != $((rows + 1)) ]; then
		echo "the rows that came back differ from the local run's ($lines lines, want $((rows + 1)))"
		exit 1
	fi
	echo "           back: $lines lines ($rows rows + header), $(stat -c %s "$W/back.csv") bytes, identical to the local run's"
	rm -f "$W/back.csv" "$W/local.csv"
	rm -rf "$W/s3data/bench/"*
done
echo "peak RSS of ml-score s3:// -> s3://: ${RSS[s3-$SMALL_MB]} kB at $SMALL_MB MB, ${RSS[s3-$BIG_MB]} kB at $BIG_MB MB" \
	"(local files: ${RSS[local-$SMALL_MB]} kB, ${RSS[local-$BIG_MB]} kB);" \
	"growth $(awk -v a="${RSS[s3-$SMALL_MB]}" -v b="${RSS[s3-$BIG_MB]}" 'BEGIN {printf "%+.1f%%", 100 * (b - a) / a}')"
