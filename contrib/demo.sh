#!/usr/bin/env bash
# contrib/demo.sh - the used-car price loop on the bundled data (make demo).
#
# Runs every step that this release builds, on tests/data/used_cars.csv
# (804 used 2005 GM cars with Kelley Blue Book prices), in a scratch
# directory it prints.  A step whose tool is not built yet exits 69; the
# demo says so and stops there rather than faking a result.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$ROOT/build/bin:$PATH"
CARS=$ROOT/tests/data/used_cars.csv
OUT=${DEMO_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/mlpipe-demo.XXXXXX")}
mkdir -p "$OUT"
cd "$OUT" || exit 1

step() { printf '\n== %s\n$ %s\n' "$1" "$2"; }
# run_step TITLE COMMAND: show it, run it, stop the demo honestly if the tool is not built yet.
run_step() {
	step "$1" "$2"
	bash -c "$2"
	local rc=$?
	if [ $rc -eq 69 ]; then
		printf '\n(this step is not built yet in mlpipe %s; the demo stops here)\n' \
			"$(ml-train --version | awk '{print $NF}')"
		printf 'Outputs so far are in %s\n' "$OUT"
		exit 0
	fi
	[ $rc -eq 0 ] || { echo "demo: step failed with exit status $rc" >&2; exit $rc; }
}

echo "mlpipe demo in $OUT, on $(($(wc -l <"$CARS") - 1)) cars from $CARS"

run_step "split the raw data 70/15/15, deterministically" \
	"ml-preprocess split --train train.csv --validation validation.csv --test test.csv --seed 1 -v < '$CARS'"
run_step "fit the feature recipe on the training share only" \
	"ml-preprocess fit --target price --numeric-impute median --scale standard -o recipe.json -v < train.csv"
run_step "the recipe's features" \
	"jq -r '.features // empty | join(\", \")' recipe.json 2>/dev/null || grep -o '\"name\": \"[^\"]*\"' recipe.json | head -20"
run_step "apply it to the test share, keeping the make to join predictions back" \
	"ml-preprocess apply recipe.json --keep make < test.csv > test-features.csv && head -3 test-features.csv | cut -c1-150"
run_step "SageMaker's training CSV (label first, no header)" \
	"ml-preprocess apply recipe.json --label-first --no-header < train.csv > train-sagemaker.csv && head -2 train-sagemaker.csv | cut -c1-120"
run_step "train a linear learner on the raw rows (its recipe is fitted and stored in the model)" \
	"ml-train -a linear --target price --wd 0.001 --validation validation.csv -o model.json < train.csv"
run_step "train gradient-boosted trees on the raw rows, stopping early on the validation share" \
	"ml-train -a gbtree --target price --num_round 500 --eta 0.1 --max_depth 4 --early_stopping_rounds 20 --validation validation.csv -o trees.json < train.csv 2> trees.log && tail -2 trees.log"
run_step "the features the trees use most (XGBoost's gain)" \
	"jq -r '.model.feature_importance.gain | to_entries | sort_by(-.value) | .[:5][] | \"\\(.key)\\t\\(.value)\"' trees.json 2>/dev/null || grep -A6 '\"gain\"' trees.json"
run_step "both models behind one scorer, keeping the higher price as the seed's endpoint does" \
	"ml-score -m model.json -m trees.json --combine max --each --evaluate price < test.csv > ensemble.csv && head -4 ensemble.csv"
run_step "score the held-out test share with the model's own recipe" \
	"ml-score -m model.json --keep make --evaluate price < test.csv > predictions.csv && head -4 predictions.csv"
run_step "a quality gate: exit 1 when validation RMSE is above the threshold" \
	"ml-train -a linear --target price --wd 0.001 --validation validation.csv --max-rmse 5000 -o gated.json < train.csv && echo accepted"
run_step "the training data's baseline, in SageMaker Model Monitor's format" \
	"ml-baseline -o baseline/ < train.csv && ls baseline/"
run_step "monitoring: the test share against the baseline (no drift expected)" \
	"ml-drift -b baseline/ -o monitor-ok/ test.csv > /dev/null && echo 'no violations'"
run_step "monitoring: next month's cars, with 60% more mileage, drift; the alert goes to a file" \
	"awk -F, 'BEGIN {OFS=\",\"} NR == 1 {print; next} {\$2 = int(\$2 * 1.6); print}' test.csv > drifted.csv
	 ml-drift -b baseline/ -o monitor/ --report monitor/report.html drifted.csv > drift.ndjson ||
	 ml-notify --to file:alerts.jsonl --to - < monitor/constraint_violations.json"
echo
echo "demo finished; outputs in $OUT:"
echo "  models: model.json (linear), trees.json (gbtree); predictions: predictions.csv, ensemble.csv"
echo "  baseline/: statistics.json, constraints.json; monitor/: constraint_violations.json, report.html"
echo "  alerts.jsonl: the drift alert"
