#!/usr/bin/env bash
# bench/gbtree.sh - gradient-boosted trees beside XGBoost 1.7 (issue #3), in
# one run, as ratios.  Called at the end of bench/run.sh (make bench); also
# runs alone after `make all` (it makes build/bench/gen_csv and
# build/bench/tree_kernel).
#
#   data        gen_csv --friedman: 1,000,000 x 20 Friedman #1 regression
#               (5 informative features, 15 noise, N(0,1) noise) for training,
#               200,000 rows (another seed) for testing; header y,x1,...,x20
#   training    whole process, CSV -> model file, 100 rounds, depth 6, eta 0.1,
#               2 threads: ml-train -a gbtree vs the xgboost CLI (tree_method
#               hist).  1.7's CLI reads a CSV header as a data row, so it reads
#               a headerless copy made before the timing.  Test RMSE of both.
#   kernel      scoring in memory, one thread: bench/tree_kernel (ml_model_predict
#               after ml_recipe_apply, untimed) vs XGBoost's inplace_predict
#               (bench/gbtree_ref.py kernel), rows/s, on XGBoost's model
#               imported into mlpipe when ml_model_load reads it; otherwise
#               each on its own model (said in the output)
#   scoring     whole process, CSV in, CSV out, on the test file and on the
#               1,000,000-row file (the figure the issue names): ml-score vs pandas read_csv +
#               inplace_predict + to_csv (bench/gbtree_score_ref.py), and vs
#               mawk summing one column of the same file
#   memory      ml-score's peak RSS (GNU time) over 1M rows and 10M rows
#               streamed from the generator through a pipe
#
# Times are the best of alternating runs (BENCH_RUNS, default 5; training
# BENCH_TRAIN_RUNS, default 3), timed with bash's $EPOCHREALTIME: the
# machine's speed drifts, so the references run beside ours every time.
# BENCH_GBTREE_STREAM_ROWS (default 10000000; 0 skips) sizes the memory run.
set -eu
cd "$(dirname "$0")/.."
B=build/bench
PY=/usr/bin/python3	# Debian's interpreter: it sees python3-xgboost and python3-pandas
RUNS=${BENCH_RUNS:-5}
TRAIN_RUNS=${BENCH_TRAIN_RUNS:-3}
STREAM_ROWS=${BENCH_GBTREE_STREAM_ROWS:-10000000}
HP="--num_round 100 --max_depth 6 --eta 0.1"
mkdir -p "$B"

# tree_kernel links libmlpipe.a and dlopen()s the plugin: relink it when the library changed
make --no-print-directory -s "$B/gen_csv" "$B/tree_kernel" >/dev/null
TRAIN=$B/friedman-1m.csv
TEST=$B/friedman-test.csv
[ -s "$TRAIN" ] || "$B/gen_csv" 1000000 42 --friedman >"$TRAIN"
[ -s "$TEST" ] || "$B/gen_csv" 200000 7 --friedman >"$TEST"
# A probe on 1,000 rows: until the plugin trains, the rest is skipped, saying why.
if ! head -1001 "$TEST" | build/bin/ml-train -a gbtree --target y --num_round 2 -o "$B/gbtree-probe.json" \
	>/dev/null 2>"$B/gbtree-err"; then
	echo "== gbtree: skipped: ml-train -a gbtree fails: $(tail -1 "$B/gbtree-err")"
	exit 0
fi
REF=1
if [ ! -x /usr/bin/xgboost ] || ! $PY -c 'import xgboost, pandas' 2>/dev/null; then
	REF=0
	echo "== gbtree: XGBoost references skipped (Debian's xgboost / python3-xgboost / python3-pandas missing)"
fi

# best_alt CMD...: each CMD (a shell command line, output discarded) run
# $RUNS times, alternating; prints the fastest wall-clock time of each, in
# seconds, and leaves the least CPU time (user + system) of each in $B/gbtree-cpu.
# A command that fails stops the benchmark.
best_alt() {
	local i t0 t c best=() cpu=()
	for i in $(seq $#); do best[i]=999999 cpu[i]=999999; done
	for _ in $(seq "$RUNS"); do
		i=0
		for cmd in "$@"; do
			i=$((i + 1))
			t0=$EPOCHREALTIME
			/usr/bin/time -f '%U %S' -o "$B/gbtree-time" sh -c "$cmd" >/dev/null 2>"$B/gbtree-err" ||
				{ echo "failed: $cmd" >&2; cat "$B/gbtree-err" >&2; return 1; }
			t=$(echo "$EPOCHREALTIME $t0" | awk '{printf "%.3f", $1 - $2}')
			c=$(tail -1 "$B/gbtree-time" | awk '{printf "%.2f", $1 + $2}')
			best[i]=$(echo "$t ${best[i]}" | awk '{print ($1 < $2) ? $1 : $2}')
			cpu[i]=$(echo "$c ${cpu[i]}" | awk '{print ($1 < $2) ? $1 : $2}')
		done
	done
	echo "${cpu[@]}" >"$B/gbtree-cpu"
	echo "${best[@]}"
}
cpu() { cut -d' ' -f"$1" "$B/gbtree-cpu"; }	# cpu N: the Nth command's CPU seconds from the last best_alt
ratio() { echo "$1 $2" | awk '{printf "%.2f", $1 / $2}'; }

echo "== gbtree: $(date -u '+%F %H:%M UTC'), commit $(git log -1 --format=%h 2>/dev/null || echo '?'), load average $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- training: CSV -> model file ----
echo "== gbtree training: $(($(wc -l <"$TRAIN") - 1)) rows x 20 features, 100 rounds, depth 6, eta 0.1, 2 threads"
OURS="build/bin/ml-train -a gbtree --target y $HP --threads 2 -o $B/gbtree.json <$TRAIN"
if [ "$REF" = 1 ]; then
	tail -n +2 "$TRAIN" >"$B/friedman-1m-noheader.csv"	# untimed: the CLI cannot skip a header
	cat >"$B/xgb-train.conf" <<-EOF
		booster = gbtree
		tree_method = hist
		objective = reg:squarederror
		eta = 0.1
		max_depth = 6
		num_round = 100
		nthread = 2
		data = "$B/friedman-1m-noheader.csv?format=csv&label_column=0"
		model_out = "$B/xgb.json"
	EOF
	t=$(RUNS=$TRAIN_RUNS best_alt "$OURS" "/usr/bin/xgboost $B/xgb-train.conf")
	read -r ours ref <<<"$t"
else
	t=$(RUNS=$TRAIN_RUNS best_alt "$OURS")
	read -r ours <<<"$t"
fi
our_rmse=$(build/bin/ml-score -m "$B/gbtree.json" --evaluate y -o "$B/gbtree-test.csv" <"$TEST" 2>&1 |
	sed -n 's/.*"rmse":\([0-9.eE+-]*\).*/\1/p')
[ -n "$our_rmse" ] || { echo "ml-score --evaluate y failed on $TEST" >&2; exit 1; }
printf '%-34s %8s s (CPU %s s; test RMSE %s)\n' "ml-train -a gbtree" "$ours" "$(cpu 1)" "$our_rmse"
if [ "$REF" = 1 ]; then
	ref_rmse=$($PY bench/gbtree_ref.py rmse "$B/xgb.json" "$TEST")
	printf '%-34s %8s s (CPU %s s; test RMSE %s)\n' "xgboost CLI (hist)" "$ref" "$(cpu 2)" "$ref_rmse"
	echo "ratio ml-train/xgboost: $(ratio "$ours" "$ref") (target <= 0.7);" \
		"test RMSE ratio: $(echo "$our_rmse $ref_rmse" | awk '{printf "%.4f", $1 / $2}') (target <= 1.01)"
fi

# ---- scoring kernel, in memory, one thread ----
if [ "$REF" = 1 ]; then
	echo "== gbtree scoring kernel: $(($(wc -l <"$TEST") - 1)) rows in memory, 1 thread, best of $RUNS"
	$PY bench/gbtree_ref.py name "$B/xgb.json" "$B/xgb-named.json"	# the CLI's model, with feature names
	if "$B/tree_kernel" "$B/xgb-named.json" "$TEST" 1 >/dev/null 2>&1; then
		kmodel=$B/xgb-named.json xmodel=$B/xgb-named.json
		echo "(both on XGBoost's model: mlpipe reads it with ml_model_load)"
	else
		kmodel=$B/gbtree.json xmodel=$B/xgb-named.json
		echo "(XGBoost's model does not load into mlpipe yet: mlpipe times its own model, XGBoost its own, both 100 rounds of depth 6)"
	fi
	t=$("$B/tree_kernel" "$kmodel" "$TEST" "$RUNS" "$B/kernel-pred.txt")
	read -r ours_rps _ ours_s <<<"$t"
	if [ "$kmodel" = "$xmodel" ]; then
		t=$($PY bench/gbtree_ref.py kernel "$xmodel" "$TEST" "$RUNS" "$B/kernel-pred.txt")
		read -r ref_rps _ ref_s maxrel <<<"$t"
	else
		t=$($PY bench/gbtree_ref.py kernel "$xmodel" "$TEST" "$RUNS")
		read -r ref_rps _ ref_s <<<"$t"
		maxrel=
	fi
	printf '%-34s %12s rows/s (%s s)\n' "ml_model_predict" "$ours_rps" "$ours_s" \
		"XGBoost inplace_predict" "$ref_rps" "$ref_s"
	echo "ratio mlpipe/XGBoost: $(echo "$ours_rps $ref_rps" | awk '{printf "%.1f", $1 / $2}')x (target >= 3)${maxrel:+; predictions differ by at most $maxrel relative}"
else
	echo "== gbtree scoring kernel: $("$B/tree_kernel" "$B/gbtree.json" "$TEST" "$RUNS" | cut -d' ' -f1) rows/s (no reference)"
fi

# ---- scoring, whole process ----
# score_whole FILE TITLE: ml-score, mawk and (when there) the pandas reference on FILE.
score_whole() {
	local file=$1 t ours mawk_t ref
	echo "== gbtree scoring, CSV in, CSV out: $(($(wc -l <"$file") - 1)) rows$2"
	local score="build/bin/ml-score -m $B/gbtree.json <$file >$B/gbtree-out.csv"
	local mawk="mawk -F, 'NR > 1 {s += \$2} END {print s}' $file"
	if [ "$REF" = 1 ]; then
		t=$(best_alt "$score" "$mawk" "$PY bench/gbtree_score_ref.py $B/xgb-named.json $file $B/xgb-out.csv")
		read -r ours mawk_t ref <<<"$t"
		printf '%-34s %8s s (CPU %s s)\n' "ml-score" "$ours" "$(cpu 1)" "pandas + inplace_predict + to_csv" "$ref" \
			"$(cpu 3)" "mawk -F, (sum a column)" "$mawk_t" "$(cpu 2)"
		echo "ratio reference/ml-score: $(echo "$ours $ref" | awk '{printf "%.1f", $2 / $1}')x faster (target >= 10);" \
			"ratio ml-score/mawk: $(ratio "$ours" "$mawk_t") (target <= 1.5)"
	else
		t=$(best_alt "$score" "$mawk")
		read -r ours mawk_t <<<"$t"
		printf '%-34s %8s s (CPU %s s)\n' "ml-score" "$ours" "$(cpu 1)" "mawk -F, (sum a column)" "$mawk_t" "$(cpu 2)"
		echo "ratio ml-score/mawk: $(ratio "$ours" "$mawk_t") (target <= 1.5)"
	fi
}
score_whole "$TEST" ""
score_whole "$TRAIN" " (the training file: the issue's figure)"

# ---- memory ----
rss() { tail -1 "$B/gbtree-rss"; }
/usr/bin/time -f %M -o "$B/gbtree-rss" build/bin/ml-score -m "$B/gbtree.json" <"$TRAIN" >/dev/null
echo "== ml-score peak RSS: $(rss) KB over 1,000,000 rows (file)"
if [ "$STREAM_ROWS" != 0 ]; then
	"$B/gen_csv" "$STREAM_ROWS" 11 --friedman |
		/usr/bin/time -f %M -o "$B/gbtree-rss" build/bin/ml-score -m "$B/gbtree.json" >/dev/null
	echo "== ml-score peak RSS: $(rss) KB over $STREAM_ROWS rows (generated, through a pipe)"
fi
echo "== gbtree: done, load average $(cut -d' ' -f1-3 /proc/loadavg)"
