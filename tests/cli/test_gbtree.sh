#!/usr/bin/env bash
# ml-train -a gbtree and ml-score against XGBoost 1.7 (Debian's python3-xgboost)
# and against each objective's definition.
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3
REF="$PY $ROOT/tests/cli/ref/gbtree_ref.py"
CARS=$DATA/used_cars.csv
export SOURCE_DATE_EPOCH=1700000000
have_xgboost() { [ -x $PY ] && $PY -c 'import xgboost, pandas' 2>/dev/null; }
# within A B REL: |A - B| <= REL * |B|
within() { awk -v a="$1" -v b="$2" -v r="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; m = b < 0 ? -b : b; exit !(d <= r * m) }'; }

if ! have_xgboost; then
	echo "not ok - python3-xgboost and python3-pandas are needed (make deps)"
	exit 1
fi

# ---- accuracy: the fixed 80/20 split of used_cars.csv, depth 6, eta 0.1, 100 rounds ----
mkdir -p "$T/cars" "$T/holes"
$REF split "$CARS" "$T/cars"
HP='--num_round 100 --max_depth 6 --eta 0.1'
run_in "$T/cars/train.csv" ml-train -a gbtree --target price $HP -o "$T/cars/m.json"
expect_rc 0 "ml-train -a gbtree on the raw used_cars rows exits 0 (default recipe)"
expect_match "$err" '\{"event":"round","round":100,"train-rmse":[0-9.]+\}' "per-round metrics are NDJSON on stderr"
ml-score -m "$T/cars/m.json" -o "$T/cars/p.csv" <"$T/cars/test.csv"
ours=$($REF rmse "$T/cars/p.csv" "$T/cars/test.csv")
theirs=$($REF xgb "$T/cars" '{"num_round": 100, "max_depth": 6, "eta": 0.1, "base_score": "mean"}')
if within "$ours" "$theirs" 0.02; then ok "test RMSE $ours within 2% of XGBoost hist's $theirs (both starting at the mean)"
else not_ok "test RMSE within 2% of XGBoost hist's" "ours $ours, XGBoost $theirs"; fi

# XGBoost 1.7 starts at 0.5; with every distinct value a bin, the two agree closely
run_in "$T/cars/train.csv" ml-train -a gbtree --target price $HP --max_bin 1024 \
	--hyperparameters <(echo '{"base_score": "0.5"}') -o "$T/cars/m05.json"
ml-score -m "$T/cars/m05.json" -o "$T/cars/p05.csv" <"$T/cars/test.csv"
ours=$($REF rmse "$T/cars/p05.csv" "$T/cars/test.csv")
theirs=$($REF xgb "$T/cars" '{"num_round": 100, "max_depth": 6, "eta": 0.1, "base_score": 0.5, "max_bin": 1024}')
if within "$ours" "$theirs" 0.01; then ok "base_score 0.5, exact bins: test RMSE $ours within 1% of XGBoost's $theirs"
else not_ok "base_score 0.5, exact bins: within 1% of XGBoost" "ours $ours, XGBoost $theirs"; fi

# missing values: 15% of mileage and make blanked; the trees learn where they go
$REF split "$CARS" "$T/holes" 0.15
run_in "$T/holes/train.csv" ml-train -a gbtree --target price $HP -o "$T/holes/m.json"
expect_rc 0 "training with missing values exits 0"
ml-score -m "$T/holes/m.json" -o "$T/holes/p.csv" <"$T/holes/test.csv"
ours=$($REF rmse "$T/holes/p.csv" "$T/holes/test.csv")
theirs=$($REF xgb "$T/holes" '{"num_round": 100, "max_depth": 6, "eta": 0.1, "base_score": "mean"}')
if within "$ours" "$theirs" 0.02; then ok "with missing values: test RMSE $ours within 2% of XGBoost's $theirs"
else not_ok "with missing values: within 2% of XGBoost" "ours $ours, XGBoost $theirs"; fi
expect_match "$(grep -c '"default_left"' "$T/holes/m.json")" '^[1-9]' "the model records default directions"

# ---- the model artifact ----
M=$T/cars/m.json
expect_match "$(cat "$M")" '"algorithm": "gbtree"' "the model names its algorithm"
expect_match "$(cat "$M")" '"sha256": "[0-9a-f]{64}"' "the model carries its SHA-256"
expect_match "$(tr -d ' \n' <"$M")" '"feature_importance":\{"weight":\{[^}]*"mileage":[1-9]' "feature importance by name (weight)"
expect_match "$(tr -d ' \n' <"$M")" '"gain":\{[^}]*"mileage":[0-9.e+]+' "feature importance by name (gain)"
expect_match "$(tr -d ' \n' <"$M")" '"eta":"0.1"' "the hyperparameters are stored as given"
expect_match "$(tr -d ' \n' <"$M")" '"metrics":\{"train":\{"rows":643' "the training metrics are stored"

# ---- reproducible: the same seed and threads give the same bytes ----
for t in 1 2; do
	for k in a b; do
		ml-train -a gbtree --target price --num_round 20 --subsample 0.7 --colsample_bytree 0.6 --seed 5 \
			--threads $t -o "$T/r$t$k.json" <"$CARS" 2>/dev/null
	done
	expect_file_eq "$T/r${t}a.json" "$T/r${t}b.json" "--threads $t: the same seed gives a byte-identical model"
done
ml-train -a gbtree --target price --num_round 20 --subsample 0.7 --seed 6 -o "$T/r6.json" <"$CARS" 2>/dev/null
if cmp -s "$T/r1a.json" "$T/r6.json"; then not_ok "another seed gives another model"; else ok "another seed gives another model"; fi

# ---- scoring: threads, kernels, --keep ----
ml-score -m "$M" --threads 1 <"$CARS" >"$T/s1.csv"
ml-score -m "$M" --threads 4 <"$CARS" >"$T/s4.csv"
expect_file_eq "$T/s4.csv" "$T/s1.csv" "--threads 4 writes the same bytes as --threads 1, in order"
for k in avx2 portable; do
	MLPIPE_KERNEL=$k ml-score -m "$M" <"$CARS" >"$T/s-$k.csv"
	expect_file_eq "$T/s-$k.csv" "$T/s1.csv" "the $k kernel gives the same bytes as the best one"
done
# the vector kernels are what the compiler made of them: gathers, and lookups in registers
asm=$(objdump -d --no-show-raw-insn "$ROOT/build/lib/mlpipe/plugins/ml-algo-gbtree.so")
expect_match "$(printf '%s\n' "$asm" | grep -cE 'vgatherdps.*zmm')" '^[1-9]' "the AVX-512 kernel gathers 16 rows' features at a time"
expect_match "$(printf '%s\n' "$asm" | grep -cE 'vperm[it]2ps.*zmm')" '^[1-9]' "the AVX-512 kernel looks nodes and leaves up in registers (vpermt2ps)"
expect_match "$(printf '%s\n' "$asm" | grep -cE 'vgatherdps.*ymm')" '^[1-9]' "the AVX2 kernel gathers 8 rows' features at a time"
run_in "$CARS" ml-score -m "$M" --keep make,mileage
expect_match "$(printf '%s\n' "$out" | head -2 | tr '\n' '|')" '^make,mileage,prediction\|Buick,20105,[0-9.]+\|$' "--keep copies columns beside the prediction"
expect_eq "$(printf '%s\n' "$out" | wc -l)" "$(wc -l <"$CARS")" "every row is scored"

# ---- early stopping keeps the best round ----
ml-preprocess split --train "$T/es-train.csv" --test "$T/es-valid.csv" --ratios 0.8,0.2 --seed 3 <"$CARS"
run_in "$T/es-train.csv" ml-train -a gbtree --target price --eta 0.5 --max_depth 8 --num_round 300 \
	--early_stopping_rounds 10 --validation "$T/es-valid.csv" -o "$T/es.json"
expect_rc 0 "early stopping exits 0"
printf '%s\n' "$err" >"$T/es.log"
best=$($REF best "$T/es.log" rmse)
last=$(grep -o '"round":[0-9]*' "$T/es.log" | tail -1 | cut -d: -f2)
expect_eq "$last" "$((best + 10))" "training stops 10 rounds after the best validation round ($best)"
expect_match "$(tr -d ' \n' <"$T/es.json")" "\"best_iteration\":$((best - 1))," "best_iteration is the best round (0-based)"
ntrees=$($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["model"]["trees"]))' "$T/es.json")
expect_eq "$ntrees" "$best" "the trees after the best round are dropped"
run_in "$T/es-train.csv" ml-train -a gbtree --target price --early_stopping_rounds 5
expect_rc 64 "early_stopping_rounds without --validation is a usage error"
expect_match "$err" 'needs validation data' "the message says what is missing"

# ---- every objective against its definition ----
objective_case() { # objective metric param option...
	local obj=$1 metric=$2 param=$3
	shift 3
	run_in "$T/cars/train.csv" ml-train -a gbtree --target price --objective "$obj" --num_round 60 --eta 0.2 "$@" \
		-o "$T/$obj.json"
	expect_rc 0 "--objective $obj exits 0"
	logged=$(printf '%s\n' "$err" | grep '"round":60,' | grep -o "\"train-$metric\":[-0-9.e+]*" | cut -d: -f2)
	first=$(printf '%s\n' "$err" | grep '"round":1,' | grep -o "\"train-$metric\":[-0-9.e+]*" | cut -d: -f2)
	ml-score -m "$T/$obj.json" -o "$T/$obj.csv" <"$T/cars/train.csv"
	want=$($REF metric "$metric" "$T/$obj.csv" "$T/cars/train.csv" "$param")
	if within "$logged" "$want" 1e-6; then ok "$obj: the logged train-$metric $logged is the metric of the predictions"
	else not_ok "$obj: logged train-$metric matches its definition" "logged $logged, computed $want"; fi
	if awk -v a="$logged" -v b="$first" 'BEGIN { exit !(a < b) }'; then ok "$obj: train-$metric falls ($first -> $logged)"
	else not_ok "$obj: train-$metric falls" "$first -> $logged"; fi
}
objective_case reg:squarederror rmse ""
objective_case reg:absoluteerror mae ""
objective_case reg:pseudohubererror mphe 1000 --huber_slope 1000
objective_case reg:quantileerror quantile 0.9 --quantile_alpha 0.9
objective_case reg:tweedie tweedie-nloglik 1.5 --tweedie_variance_power 1.5
cover=$($REF coverage "$T/reg:quantileerror.csv" "$T/cars/train.csv")
if awk -v c="$cover" 'BEGIN { exit !(c >= 0.85 && c <= 0.95) }'; then ok "quantile_alpha 0.9: $cover of prices lie below the prediction"
else not_ok "quantile_alpha 0.9 covers about 90%" "coverage $cover"; fi
expect_no_match "$(cut -d, -f1 "$T/reg:tweedie.csv")" '^-' "reg:tweedie predicts positive prices"

# ---- hyperparameters: names, ranges, what is not built ----
run_in "$CARS" ml-train -a gbtree --target price --eta 2
expect_rc 64 "eta 2 is refused"
expect_match "$err" 'eta: expected a number from 0 to 1, got "2"' "the message names the range"
run_in "$CARS" ml-train -a gbtree --target price --max_depth 0
expect_rc 64 "max_depth 0 is refused"
run_in "$CARS" ml-train -a gbtree --target price --max_depth 17
expect_rc 64 "max_depth 17 is refused"
expect_match "$err" 'max_depth: expected a whole number from 1 to 16, got "17"' "the message names the depth range"
run_in "$CARS" ml-train -a gbtree --target price --objective binary:logistic
expect_rc 69 "a classification objective is not supported yet"
expect_match "$err" 'binary:logistic is not supported yet' "the message names the objective"
run_in "$CARS" ml-train -a gbtree --target price --objective reg:nonsense
expect_rc 64 "an unknown objective is a usage error"
printf '{"num_round": "3", "eta": "0.3", "max_depth": "2", "objective": "reg:squarederror"}' >"$T/hp.json"
run_in "$CARS" ml-train -a gbtree --target price --hyperparameters "$T/hp.json" -o "$T/hp-model.json"
expect_rc 0 "a SageMaker hyperparameters.json trains"
expect_match "$err" '"round":3,' "num_round from hyperparameters.json is honoured"
expect_no_match "$err" '"round":4,' "no more rounds than asked"
printf 'train:\n  algorithm: gbtree\n  num_round: "2"\n' >"$T/c.yaml"
run_in "$CARS" ml-train --config "$T/c.yaml" --target price
expect_match "$err" '"round":2,' "num_round from the YAML section train:"
run_in "$CARS" ml-train -a gbtree --target price --num_round 2 --log-format text
expect_match "$err" 'ml-train: round: round 2, train-rmse [0-9.]+' "--log-format text prints rounds for people"

done_testing
