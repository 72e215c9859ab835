#!/usr/bin/env bash
# ml-train -a linear and ml-score against scikit-learn's Ridge.
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3
CARS=$DATA/used_cars.csv
export SOURCE_DATE_EPOCH=1700000000
have_sklearn() { [ -x $PY ] && $PY -c 'import sklearn' 2>/dev/null; }

ml-preprocess fit --target price --numeric-impute median --categorical-impute most-frequent \
	-o "$T/recipe.json" <"$CARS"
ml-preprocess apply "$T/recipe.json" -o "$T/features.csv" <"$CARS"

for wd in 0.01 0.0001; do
	run_in "$CARS" ml-train -a linear --target price --recipe "$T/recipe.json" --wd $wd -o "$T/m-$wd.json"
	expect_rc 0 "train --wd $wd exits 0"
	expect_match "$err" '"event":"metrics".*"set":"train"' "train --wd $wd logs its metrics as NDJSON"
	run_in "$CARS" ml-score -m "$T/m-$wd.json" -o "$T/p-$wd.csv"
	expect_rc 0 "score with the wd $wd model exits 0"
	if have_sklearn; then
		run $PY "$ROOT/tests/cli/ref/linear_ref.py" "$T/features.csv" "$T/m-$wd.json" "$T/p-$wd.csv" $wd price
		expect_rc 0 "wd $wd: coefficients and predictions equal Ridge(alpha = n wd) to 1e-6 ($out)"
	else
		ok "# SKIP Ridge reference (python3-sklearn not installed)"
	fi
done

# ---- a held-out test set, the raw data straight in (default recipe) ----
ml-preprocess split --train "$T/train.csv" --test "$T/test.csv" --ratios 0.8,0.2 --seed 11 <"$CARS"
run_in "$T/train.csv" ml-train -a linear --target price --wd 0.001 --validation "$T/test.csv" -o "$T/m.json"
expect_rc 0 "train on raw rows with the default recipe"
expect_match "$err" '"set":"validation"' "validation metrics are logged"
run_in "$T/test.csv" ml-score -m "$T/m.json" --keep make --evaluate price -o "$T/pred.csv"
expect_rc 0 "score --evaluate exits 0"
rmse=$(printf '%s' "$err" | sed -n 's/.*"rmse":\([0-9.e+-]*\).*/\1/p')
val=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["metrics"]["validation"]["rmse"])' "$T/m.json")
expect_match "$($PY -c "print(abs($rmse - $val) / $val < 1e-6)")" True "score --evaluate RMSE equals training's validation RMSE ($rmse)"
expect_eq "$(head -1 "$T/pred.csv")" "make,prediction" "predictions: kept columns, then prediction"
expect_eq "$(($(wc -l <"$T/pred.csv") - 1))" "$(($(wc -l <"$T/test.csv") - 1))" "one prediction per input row"
if have_sklearn; then
	run $PY "$ROOT/tests/cli/ref/linear_split_ref.py" "$T/train.csv" "$T/test.csv" "$rmse"
	expect_rc 0 "test RMSE within 1% of scikit-learn Ridge on the same one-hot features ($out)"
fi

# ---- singular designs: a message, not NaN ----
run_in "$CARS" ml-train -a linear --target price --recipe "$T/recipe.json" --wd 0 -o "$T/m0.json"
expect_rc 0 "wd 0 with one-hot columns (collinear) still trains"
expect_match "$err" 'collinear' "collinear features: a warning says so"
finite_weights() { $PY -c 'import json,math,sys; w=json.load(open(sys.argv[1]))["model"]["weights"]; print(all(isinstance(v,(int,float)) and math.isfinite(v) for v in w))' "$1"; }
expect_eq "$(finite_weights "$T/m0.json")" True "collinear features: every weight is a finite number"
awk -F, 'BEGIN{OFS=","} NR==1 {print $0, "mileage2", "constant"} NR>1 {print $0, $2, 7}' "$CARS" >"$T/dup.csv"
run_in "$T/dup.csv" ml-train -a linear --target price --wd 0 -o "$T/mdup.json"
expect_rc 0 "a duplicated and a constant column still train"
expect_eq "$(finite_weights "$T/mdup.json")" True "duplicate and constant columns: every weight is a finite number"

# ---- SageMaker's hyperparameters.json, config, determinism ----
printf '{"predictor_type": "regressor", "wd": "0.01", "normalize_data": "true"}\n' >"$T/hp.json"
run_in "$CARS" ml-train -a linear --target price --recipe "$T/recipe.json" --hyperparameters "$T/hp.json" -o "$T/m-hp.json"
params() { $PY -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["model"], sort_keys=True))' "$1"; }
expect_eq "$(params "$T/m-hp.json")" "$(params "$T/m-0.01.json")" "hyperparameters.json (strings) gives the same weights as --wd 0.01"
printf '{"wd": 0.01, "l1": "auto", "normalize_data": true}\n' >"$T/hp-typed.json"
run_in "$CARS" ml-train -a linear --target price --recipe "$T/recipe.json" --hyperparameters "$T/hp-typed.json" -o "$T/m-typed.json"
expect_eq "$(params "$T/m-typed.json")" "$(params "$T/m-0.01.json")" "hyperparameters.json with numbers, booleans and auto gives the same weights"
printf 'train:\n  algorithm: linear\n  target: price\n  wd: "0.01"\n  recipe: %s\n' "$T/recipe.json" >"$T/p.yaml"
run_in "$CARS" ml-train --config "$T/p.yaml"
expect_file_eq <(printf '%s\n' "$out") "$T/m-0.01.json" "--config train: section gives the same model"

# ---- what this version refuses ----
run_in "$CARS" ml-train -a linear --target price --loss logistic
expect_rc 69 "loss logistic (a classifier's) is not supported yet (69)"
expect_match "$err" 'loss logistic is not supported yet' "logistic: says so"
printf '{"predictor_type": "binary_classifier"}\n' >"$T/hp-bin.json"
run_in "$CARS" ml-train -a linear --target price --hyperparameters "$T/hp-bin.json"
expect_rc 69 "predictor_type binary_classifier is not supported yet (69)"
run_in "$CARS" ml-train -a linear --target price --loss nosuch_loss
expect_rc 64 "an unknown loss is a usage error"
run_in "$CARS" ml-train -a linear --target price --wd minus
expect_rc 64 "a bad wd is a usage error"
run_in "$CARS" ml-train -a linear --target nosuch
expect_rc 64 "an unknown target column exits 64"

# ---- the gate ----
run_in "$CARS" ml-train -a linear --target price --wd 0.01 --max-rmse 100 -o "$T/gated.json"
expect_rc 1 "--max-rmse below the model's RMSE: the gate rejects (exit 1)"
expect_match "$err" '"event":"gate","accepted":false' "the gate's reason as JSON on stderr"
run_in "$CARS" ml-train -a linear --target price --wd 0.01 --max-rmse 1e9 -o "$T/gated.json"
expect_rc 0 "a generous --max-rmse accepts"

# ---- ml-score on bad input ----
sed 's/"bias": /"bias": 1/' "$T/m-0.01.json" >"$T/tampered.json"
run_in "$CARS" ml-score -m "$T/tampered.json"
expect_rc 65 "a tampered model exits 65"
run_in "$CARS" ml-score -m "$T/none.json"
expect_rc 66 "a missing model exits 66"
cut -d, -f1,3- "$CARS" >"$T/nomileage.csv"
run_in "$T/nomileage.csv" ml-score -m "$T/m-0.01.json"
expect_rc 65 "input without a feature column exits 65"
run_in "$CARS" ml-score -m "$T/m-0.01.json" --evaluate mileage
expect_rc 64 "--evaluate of a column the model was not trained on exits 64"
$PY -c '
import csv, json, sys
for row in csv.DictReader(open(sys.argv[1])):
    print(json.dumps({k: (float(v) if k not in ("make", "type") else v) for k, v in row.items()}))
' "$CARS" >"$T/cars.ndjson"
run_in "$T/cars.ndjson" ml-score -m "$T/m-0.01.json" --output-format csv
expect_file_eq <(printf '%s\n' "$out") "$T/p-0.01.csv" "NDJSON input scores the same as CSV"
run_in "$T/cars.ndjson" ml-score -m "$T/m-0.01.json"
expect_match "$(printf '%s\n' "$out" | head -1)" '^\{"prediction":[0-9.-]+\}$' "NDJSON in, NDJSON out"
# ---- data larger than --buffer-size: trained in passes over a temporary file ----
weights_close() { # a.json b.json: the largest relative difference of weights and bias
	$PY -c '
import json, sys
a, b = (json.load(open(f))["model"] for f in sys.argv[1:3])
va, vb = a["weights"] + [a["bias"]], b["weights"] + [b["bias"]]
print(max(abs(x - y) / max(abs(x), abs(y), 1e-300) for x, y in zip(va, vb)) < 1e-8 and len(va) == len(vb))' "$1" "$2"
}
mkdir -p "$T/spool"
for opts in "--wd 0.001" "--wd 0.001 --l1 0.01" "--wd 0.001 --num_models 4" "--wd 0.001 --fit_intercept false"; do
	ml-train -a linear --target price $opts --validation "$T/test.csv" -o "$T/mem.json" "$T/train.csv" 2>/dev/null
	run_in "$T/train.csv" env TMPDIR="$T/spool" ml-train -v -a linear --target price $opts --validation "$T/test.csv" \
		--buffer-size 16K -o "$T/passes.json"
	expect_rc 0 "$opts, from a pipe, past --buffer-size 16K: exits 0"
	expect_match "$err" "larger than --buffer-size: linear trains in passes" "... and says it trains in passes"
	expect_eq "$(weights_close "$T/mem.json" "$T/passes.json")" True "... the same weights and bias as in memory (1e-8)"
	expect_eq "$($PY -c 'import json,sys; a,b=(json.load(open(f))["metrics"] for f in sys.argv[1:]); print(abs(a["validation"]["rmse"]-b["validation"]["rmse"]) < 1e-6 * a["validation"]["rmse"] and a["train"]["rows"] == b["train"]["rows"])' "$T/mem.json" "$T/passes.json")" True \
		"... the same training rows and validation RMSE"
done
expect_eq "$(ls -A "$T/spool")" "" "the temporary file is gone afterwards"
if have_sklearn; then
	ml-train -a linear --target price --recipe "$T/recipe.json" --wd 0.01 --buffer-size 0 -o "$T/m-passes.json" "$CARS" 2>/dev/null
	ml-score -m "$T/m-passes.json" -o "$T/p-passes.csv" <"$CARS"
	run $PY "$ROOT/tests/cli/ref/linear_ref.py" "$T/features.csv" "$T/m-passes.json" "$T/p-passes.csv" 0.01 price
	expect_rc 0 "--buffer-size 0 (every row on disk): coefficients equal Ridge(alpha = n wd) to 1e-6 ($out)"
fi
for opts in "--loss absolute_loss" "--loss huber_loss --l1 0.01" "--optimizer adam --epochs 3" "--optimizer sgd --loss quantile_loss --num_models 3 --validation $T/test.csv"; do
	ml-train -a linear --target price $opts -o "$T/mem.json" "$T/train.csv" 2>/dev/null
	run_in "$T/train.csv" env TMPDIR="$T/spool" ml-train -a linear --target price $opts --buffer-size 0 -o "$T/passes.json"
	expect_rc 0 "$opts past --buffer-size 0 (Newton: gathered into memory; Adam: an epoch a pass) exits 0"
	expect_eq "$(weights_close "$T/mem.json" "$T/passes.json")" True "... the same weights and bias as from memory"
done
# SGD over data sorted by the label: the batches are visited in a shuffled order each epoch
(head -1 "$T/train.csv"; tail -n +2 "$T/train.csv" | sort -t, -k1,1n) >"$T/sorted.csv"
objective() { $PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["model"]["objective"])' "$1"; }
for f in train sorted; do
	ml-train -a linear --target price --optimizer adam --epochs 30 --batch-size 64 --mini_batch_size 32 \
		-o "$T/adam-$f.json" "$T/$f.csv" 2>/dev/null
done
expect_eq "$($PY -c "print($(objective "$T/adam-sorted.json") < 1.025 * $(objective "$T/adam-train.json"))")" True \
	"Adam over rows sorted by price, in batches of 64: objective within 2.5% of the same rows in hash order"
run_in "$T/train.csv" ml-train -a linear --target price --buffer-size 12X
expect_rc 64 "--buffer-size 12X is a usage error"
expect_match "$err" 'expected a size such as 512M or 2G, got "12X"' "... naming the value"
run_in "$T/train.csv" env TMPDIR=/nonexistent ml-train -a linear --target price --buffer-size 16K
expect_rc 74 "a TMPDIR that does not exist: an I/O error (74)"
expect_match "$err" "/nonexistent.*set TMPDIR to a file system with room" "... naming it and what to do"

done_testing
