#!/usr/bin/env bash
# bench/run.sh - mlpipe beside its references, in one run, as ratios.
#
#   record stream   sum one column of a 1,000,000 x 21 numeric CSV:
#                   libcommon's reader (bench/stream_sum) vs mawk -F,
#   preprocess      ml-preprocess fit + apply on 1,000,000 x (20 numeric +
#                   3 categorical) vs pandas + scikit-learn (bench/preprocess_ref.py)
#   linear          ml-train -a linear CSV -> model vs pandas + Ridge
#                   (bench/linear_ref.py, same RMSE); ml-score vs mawk
#   baseline        ml-baseline of the 1,000,000 x 21 file vs mawk (and pandas
#                   describe() + numpy quantiles, bench/baseline_ref.py)
#   memory          the same reader over a 10 GB stream on a pipe: peak RSS
#                   (BENCH_STREAM_GB to change the size; 0 skips it)
#   gbtree          bench/gbtree.sh: ml-train -a gbtree vs the xgboost CLI,
#                   scoring kernel vs inplace_predict, ml-score vs pandas +
#                   XGBoost and mawk, ml-score's memory over 1M and 10M rows
#   endpoint        bench/serve.sh: ml-score --serve vs a Python endpoint
#                   calling XGBoost, wrk with one-row CSV requests
#   s3              bench/s3.sh: a 100 MB and a 1 GB object through ml-score
#                   s3:// -> s3:// on a local s3rver and back, beside the same
#                   run on local files: time and peak RSS (flat) of each
#
# Times are the best of BENCH_RUNS (default 5) alternating runs.  Later
# issues add their benchmarks (scoring, training) to this script.
set -eu
cd "$(dirname "$0")/.."
B=build/bench
PY=/usr/bin/python3	# Debian's interpreter: it sees python3-sklearn and python3-pandas
RUNS=${BENCH_RUNS:-5}
GB=${BENCH_STREAM_GB:-10}
mkdir -p "$B"
[ -x "$B/gen_csv" ] || cc -O2 -o "$B/gen_csv" bench/gen_csv.c -lm
DATA=$B/numeric-1m.csv
[ -s "$DATA" ] || "$B/gen_csv" 1000000 42 >"$DATA"

# best_time CMD...: the fastest of $RUNS runs, in seconds; output kept in $B/out.
best_time() {
	local best=999999 t
	for _ in $(seq "$RUNS"); do
		/usr/bin/time -f %e -o "$B/time" "$@" >"$B/out" 2>/dev/null
		t=$(tail -1 "$B/time")
		best=$(echo "$t $best" | awk '{print ($1 < $2) ? $1 : $2}')
	done
	echo "$best"
}

echo "== record stream: sum column x1 of $(wc -l <"$DATA") lines ($(du -m "$DATA" | cut -f1) MB)"
ours=$(best_time "$B/stream_sum" x1 "$DATA"); our_sum=$(cat "$B/out")
ref=$(best_time mawk -F, 'NR > 1 {s += $2} END {printf "%.17g\n", s}' "$DATA"); ref_sum=$(cat "$B/out")
[ "$our_sum" = "$ref_sum" ] || { echo "sums differ: mlpipe $our_sum, mawk $ref_sum"; exit 1; }
printf '%-28s %8s s\n' "mlpipe reader" "$ours" "mawk -F," "$ref"
echo "ratio mlpipe/mawk: $(echo "$ours $ref" | awk '{printf "%.2f", $1 / $2}') (target <= 1.5; sums equal: $our_sum)"

# ---- ml-preprocess: fit + apply, whole process, vs pandas + scikit-learn ----

CAT=$B/categorical-1m.csv
[ -s "$CAT" ] || "$B/gen_csv" 1000000 42 --categorical >"$CAT"
if $PY -c 'import pandas, sklearn' 2>/dev/null; then
	echo "== ml-preprocess fit + apply: $(wc -l <"$CAT") lines, 20 numeric + 3 categorical columns"
	PREP="build/bin/ml-preprocess fit --target y --numeric-impute median --scale standard -o $B/recipe.json <$CAT &&
	      build/bin/ml-preprocess apply $B/recipe.json -o $B/features.csv <$CAT"
	ours=$(best_time sh -c "$PREP")
	ref=$(best_time $PY bench/preprocess_ref.py "$CAT" "$B/features-ref.csv")
	printf '%-28s %8s s\n' "ml-preprocess fit+apply" "$ours" "pandas+scikit-learn" "$ref"
	echo "ratio reference/mlpipe: $(echo "$ours $ref" | awk '{printf "%.1f", $2 / $1}')x faster (target >= 5)"
else
	echo "== ml-preprocess: skipped (Debian's python3-pandas / python3-sklearn not installed)"
fi

# ---- linear learner: CSV -> model vs pandas + Ridge; scoring vs mawk ----
if $PY -c 'import pandas, sklearn' 2>/dev/null; then
	echo "== ml-train -a linear (squared loss, wd 0.001): $(wc -l <"$DATA") lines x 20 features"
	ours=$(best_time build/bin/ml-train -a linear --target y --wd 0.001 -o "$B/linear.json" "$DATA")
	our_rmse=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["metrics"]["train"]["rmse"])' "$B/linear.json")
	ref=$(best_time $PY bench/linear_ref.py "$DATA" 0.001); ref_rmse=$(cat "$B/out")
	printf '%-28s %8s s (RMSE %s)\n' "ml-train -a linear" "$ours" "$our_rmse" "pandas + Ridge" "$ref" "$ref_rmse"
	echo "ratio mlpipe/reference: $(echo "$ours $ref" | awk '{printf "%.2f", $1 / $2}') (target <= 0.5);" \
		"RMSE differs by $(echo "$our_rmse $ref_rmse" | awk '{d = ($1 - $2) / $2; printf "%.2g%%", 100 * (d < 0 ? -d : d)}') (target <= 0.1%)"
	ours=$(best_time build/bin/ml-score -m "$B/linear.json" -o /dev/null "$DATA")
	mawk_time=$(best_time mawk -F, 'NR > 1 {s += $2} END {print s}' "$DATA")	# measured again, beside it
	printf '%-28s %8s s\n' "ml-score (linear)" "$ours" "mawk -F, (sum a column)" "$mawk_time"
	echo "ratio ml-score/mawk: $(echo "$ours $mawk_time" | awk '{printf "%.2f", $1 / $2}') (target <= 1.5)"
	# memory: the same training on a 10x larger file, spooled past --buffer-size, must not grow
	BIG=$B/numeric-10m.csv
	[ -s "$BIG" ] || "$B/gen_csv" 10000000 43 >"$BIG"
	echo "== ml-train -a linear peak memory: $(wc -l <"$DATA") vs $(wc -l <"$BIG") lines ($(du -m "$BIG" | cut -f1) MB)"
	for f in "$DATA" "$BIG"; do
		/usr/bin/time -f '%e %M' -o "$B/time" build/bin/ml-train -a linear --target y --wd 0.001 -o "$B/linear-mem.json" "$f" 2>/dev/null
		read -r secs kb <"$B/time"
		printf '%-28s %8s s, peak RSS %s KB, train RMSE %s\n' "$(basename "$f")" "$secs" "$kb" \
			"$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["metrics"]["train"]["rmse"])' "$B/linear-mem.json")"
		echo "$kb" >>"$B/linear-rss"
	done
	echo "peak RSS 10x larger / 1x: $(tail -2 "$B/linear-rss" | tr '\n' ' ' | awk '{printf "%.2f", $2 / $1}') (target: flat, <= 1.1)"
	rm -f "$B/linear-rss"
fi

# ---- ml-baseline: statistics of every column vs mawk summing one, and pandas describe ----
echo "== ml-baseline: $(wc -l <"$DATA") lines x 21 columns"
ours=$(best_time build/bin/ml-baseline -o "$B/baseline" "$DATA")
rss=$( { /usr/bin/time -f %M build/bin/ml-baseline -o "$B/baseline" "$DATA" >/dev/null; } 2>&1 | tail -1)
ref=$(best_time mawk -F, 'NR > 1 {s += $2} END {print s}' "$DATA")
printf '%-28s %8s s (peak RSS %s KB)\n' "ml-baseline" "$ours" "$rss"
printf '%-28s %8s s\n' "mawk -F, (sum a column)" "$ref"
echo "ratio ml-baseline/mawk: $(echo "$ours $ref" | awk '{printf "%.2f", $1 / $2}') (target <= 2)"
if $PY -c 'import pandas' 2>/dev/null; then
	pd_time=$(best_time $PY bench/baseline_ref.py "$DATA")
	printf '%-28s %8s s\n' "pandas describe + quantiles" "$pd_time"
fi
# Memory flat in the input's size: 1 and 10 copies of the rows through a pipe.
for n in 1 10; do
	rss=$( { head -1 "$DATA"; for i in $(seq $n); do tail -n +2 "$DATA"; done; } |
		{ /usr/bin/time -f %M build/bin/ml-baseline -o "$B/baseline-pipe" - >/dev/null; } 2>&1 | tail -1)
	printf 'ml-baseline peak RSS over %2d million rows: %s KB\n' "$n" "$rss"
done

if [ "$GB" != 0 ]; then
	copies=$(awk -v gb="$GB" -v sz="$(stat -c %s "$DATA")" 'BEGIN {print int(gb * 1e9 / sz + 0.999)}')
	echo "== memory: $copies copies of the file (~$GB GB) through a pipe"
	for n in 1 "$copies"; do
		rss=$( { /usr/bin/time -f %M bash -c "head -1 '$DATA'; for i in \$(seq $n); do tail -n +2 '$DATA'; done" \
			| /usr/bin/time -f %M "$B/stream_sum" x1 - >/dev/null; } 2>&1 | tail -1)
		printf 'peak RSS reading %5.1f GB: %s KB\n' "$(echo "$n $(stat -c %s "$DATA")" | awk '{print $1 * $2 / 1e9}')" "$rss"
	done
fi

bench/gbtree.sh
bench/serve.sh
bench/s3.sh
