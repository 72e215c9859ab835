#!/usr/bin/env bash
# contrib/pipelines: training, batch scoring and monitoring as shell scripts of filters.
. "$(dirname "$0")/../lib.sh"
P=$ROOT/contrib/pipelines
CARS=$DATA/used_cars.csv

run "$P/train.sh" "$CARS" "$T/run"
expect_rc 0 "train.sh exits 0"
expect_eq "$out" "$T/run/model.json" "train.sh prints the model it made"
for f in model.json predictions.csv baseline/statistics.json metrics.ndjson; do
	if [ -s "$T/run/$f" ]; then ok "train.sh wrote $f"; else not_ok "train.sh wrote $f" "missing or empty"; fi
done
expect_match "$(cat "$T/run/metrics.ndjson")" '"event":"evaluation"' "the test-set evaluation is in metrics.ndjson"
run "$P/train.sh" "$CARS" "$T/gated" 100
expect_rc 1 "train.sh with an RMSE gate of 100: the gate stops it (exit 1)"
expect_eq "$(test -e "$T/gated/baseline" && echo baseline || echo none)" "none" "nothing after a rejected model"

mkdir -p "$T/incoming"
head -101 "$CARS" >"$T/incoming/monday.csv"
{ head -1 "$CARS"; tail -n 50 "$CARS"; } >"$T/incoming/tuesday.csv"
ls "$T"/incoming/*.csv | xargs -n1 "$P/batch-score.sh" "$T/run/model.json" "$T/scored"
expect_eq "$(wc -l <"$T/scored/monday.predictions.csv" | tr -d ' ')" "101" "batch-score.sh: one prediction per row (monday)"
expect_eq "$(wc -l <"$T/scored/tuesday.predictions.csv" | tr -d ' ')" "51" "batch-score.sh: one prediction per row (tuesday)"

run "$P/monitor.sh" "$T/run/baseline" "$T/run/test.csv" "file:$T/alerts.jsonl"
expect_rc 0 "monitor.sh on data like the training data: exit 0"
expect_eq "$(test -e "$T/alerts.jsonl" && echo alert || echo none)" "none" "no alert without drift"
awk -F, 'BEGIN {OFS = ","} NR == 1 {print; next} {$2 = int($2 * 1.6); print}' "$T/run/test.csv" >"$T/drifted.csv"
run "$P/monitor.sh" "$T/run/baseline" "$T/drifted.csv" "file:$T/alerts.jsonl"
expect_rc 1 "monitor.sh on drifted data: exit 1"
expect_match "$(cat "$T/alerts.jsonl")" 'mileage: baseline_drift_check' "the alert was delivered"
run "$P/monitor.sh" "$T/nowhere" "$T/drifted.csv" "file:$T/alerts.jsonl"
expect_rc 66 "monitor.sh with a missing baseline: ml-drift's exit status (66)"
done_testing
