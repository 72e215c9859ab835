#!/usr/bin/env bash
# make demo's script runs the whole loop on the bundled data and leaves its outputs.
. "$(dirname "$0")/../lib.sh"
DEMO_DIR=$T/demo run bash "$ROOT/contrib/demo.sh"
expect_rc 0 "contrib/demo.sh exits 0"
for f in train.csv validation.csv test.csv recipe.json model.json trees.json ensemble.csv predictions.csv \
	baseline/statistics.json baseline/constraints.json monitor/constraint_violations.json monitor/report.html \
	alerts.jsonl; do
	if [ -s "$T/demo/$f" ]; then ok "demo wrote $f"; else not_ok "demo wrote $f" "missing or empty"; fi
done
expect_eq "$(($(wc -l <"$T/demo/predictions.csv") - 1))" "$(($(wc -l <"$T/demo/test.csv") - 1))" \
	"one prediction per test car"
expect_match "$(cat "$T/demo/alerts.jsonl")" 'mileage: baseline_drift_check' "the drift alert names mileage"
expect_match "$out" 'demo finished' "the demo runs to its end"
expect_match "$(cat "$T/demo/monitor/report.html")" '<svg' "the drift report has its plots inline"
expect_match "$(head -1 "$T/demo/ensemble.csv")" '^prediction_1,prediction_2,prediction$' "the ensemble writes each model's prediction and the combined one"
done_testing
