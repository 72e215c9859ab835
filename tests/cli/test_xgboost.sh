#!/usr/bin/env bash
# XGBoost interop: ml-score -m m.json (save_model() of Debian's XGBoost 1.7)
# predicts what XGBoost predicts; ml-train --export-xgboost writes a model
# XGBoost loads and predicts identically; hostile and unsupported models are
# refused with 65 and 69.  Reference: tests/cli/ref/xgboost_ref.py.
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3
REF=$ROOT/tests/cli/ref/xgboost_ref.py
FIX=$DATA/xgboost
TOL=1e-5
have_xgboost() { [ -x $PY ] && $PY -c 'import xgboost, pandas' 2>/dev/null; }
have_gbtree() { ml-score --list-plugins 2>/dev/null | grep -Eq '^algo	gbtree	.*	ok$'; }
ref() { $PY "$REF" "$@" 2>>"$T/ref.log"; }

# Numeric columns of the used cars with cells blanked: missing values in three columns.
awk -F, 'BEGIN { OFS = "," } NR == 1 { print $1, $2, $5, $6, $7, $8, $9; next }
	{ if (NR % 7 == 0) $2 = ""; if (NR % 11 == 0) $5 = ""; if (NR % 5 == 0) $9 = ""
	  print $1, $2, $5, $6, $7, $8, $9 }' "$DATA/used_cars.csv" >"$T/cars.csv"
FEATURES=mileage,cylinder,doors,cruise,sound,leather

# with a JSON file ($1) changed by a Python expression on j ($2), written to $3
mutate() { $PY -c 'import json,sys; j=json.load(open(sys.argv[1])); t=j["learner"]["gradient_booster"]["model"]["trees"]; exec(sys.argv[2]); json.dump(j, open(sys.argv[3], "w"))' "$@"; }

# ---- options and refusals (no plugin needed) ----
run ml-score --help
expect_match "$out" '--features=COLS' "ml-score --help lists --features"
run ml-train --help
expect_match "$out" '--export-xgboost=FILE' "ml-train --help lists --export-xgboost"
run_in "$T/cars.csv" ml-train -a linear --target price --export-xgboost "$T/x.json" -o "$T/lin.json"
expect_rc 64 "--export-xgboost with -a linear is a usage error"
expect_match "$err" 'export-xgboost.*needs -a gbtree' "... saying it needs -a gbtree"

run_in "$FIX/cars.csv" ml-score -m "$FIX/tweedie.json"
expect_rc 64 "a model without feature names and no --features: exit 64"
expect_match "$err" 'tweedie.json: the model has no feature names: give its 6 columns .*--features' \
	"... asking for --features"
run_in "$FIX/cars.csv" ml-score -m "$FIX/tweedie.json" --features mileage,cylinder
expect_rc 64 "--features naming 2 of 6 columns: exit 64"
expect_match "$err" '--features names 2 columns, the model has 6 features' "... saying how many"
run_in "$T/cars.csv" ml-train -a linear --target price -o "$T/lin.json"
run_in "$T/cars.csv" ml-score -m "$T/lin.json" --features $FEATURES
expect_rc 64 "--features with an mlpipe model: exit 64"
expect_match "$err" 'lin.json: --features names an XGBoost model' "... saying what --features is for"

mutate "$FIX/model.json" 't[0]["left_children"][1] = 999' "$T/bad_child.json"
mutate "$FIX/model.json" 't[3]["left_children"][4] = 1' "$T/cycle.json"
mutate "$FIX/model.json" 't[4]["split_conditions"].pop()' "$T/short.json"
mutate "$FIX/model.json" 't[7]["split_indices"][0] = 6' "$T/feature.json"
mutate "$FIX/model.json" 't[2]["split_conditions"][0] = "x"' "$T/text.json"
mutate "$FIX/model.json" 'j["learner"]["learner_model_param"]["num_feature"] = "99999999999"' "$T/huge.json"
head -c 3000 "$FIX/model.json" >"$T/truncated.json"
for c in "bad_child|bad_child.json: tree 0: node 1: child 999 is outside the tree" \
	"cycle|cycle.json: tree 3: node 1 is reached twice" \
	"short|short.json: tree 4: \"split_conditions\" holds 12 values" \
	"feature|feature.json: tree 7: node 0 splits on feature 6, the model has 6" \
	"text|text.json: tree 2: \"split_conditions\"\\[0\\] must be a number" \
	"huge|huge.json: num_feature must be a whole number" "truncated|truncated.json:1:[0-9]+: "; do
	name=${c%%|*} says=${c#*|}
	run_in "$FIX/cars.csv" ml-score -m "$T/$name.json"
	expect_rc 65 "hostile model ($name): exit 65"
	expect_match "$err" "$says" "... naming the file and the fault: $says"
done

if have_xgboost; then
	ref train "$T/cars.csv" price "$T/dart" --booster dart --rounds 3
	ref train "$T/cars.csv" price "$T/gblinear" --booster gblinear --rounds 3
	mkdir -p "$T/logistic"
	mutate "$FIX/model.json" 'j["learner"]["objective"] = {"name": "binary:logistic"}' "$T/logistic/m.json"
	cut -d, -f1-3 "$DATA/used_cars.csv" >"$T/cat.csv"
	ref train "$T/cat.csv" price "$T/categorical" --categorical make --rounds 3
	for c in "dart|the \"dart\" booster" "gblinear|the \"gblinear\" booster" \
		"logistic|objective \"binary:logistic\"" "categorical|categorical"; do
		name=${c%%|*} says=${c#*|}
		run_in "$T/cars.csv" ml-score -m "$T/$name/m.json"
		expect_rc 69 "XGBoost $name model: exit 69"
		expect_match "$err" "m.json: .*$says.*not supported yet" "... \"not supported yet\", saying what"
	done
else
	ok "# SKIP XGBoost-made unsupported models (python3-xgboost not installed)"
fi

if ! have_gbtree; then
	ok "# SKIP scoring and exporting: the gbtree plugin is not built"
	done_testing
	exit
fi
if ! have_xgboost; then
	ok "# SKIP comparisons with XGBoost (python3-xgboost or pandas not installed)"
	done_testing
	exit
fi

# ---- import: ml-score predicts what XGBoost predicts ----
run_in "$FIX/cars.csv" ml-score -m "$FIX/model.json" -o "$T/fix.csv"
expect_rc 0 "score the stored fixture model"
run ref compare "$T/fix.csv" "$FIX/pred.csv" $TOL
expect_rc 0 "fixture model: predictions equal XGBoost's to $TOL relative ($out)"

for obj in reg:squarederror reg:absoluteerror reg:pseudohubererror reg:tweedie; do
	dir=$T/$obj
	ref train "$T/cars.csv" price "$dir" --rounds 30 --depth 5 --objective $obj
	run_in "$T/cars.csv" ml-score -m "$dir/m.json" -o "$dir/ours.csv"
	expect_rc 0 "$obj: ml-score -m m.json (XGBoost 1.7, missing values) exits 0"
	run ref compare "$dir/ours.csv" "$dir/pred.csv" $TOL
	expect_rc 0 "$obj: predictions equal XGBoost's to $TOL relative ($out)"
done

ref train "$T/cars.csv" price "$T/nonames" --rounds 30 --depth 5 --no-names
run_in "$T/cars.csv" ml-score -m "$T/nonames/m.json" --features $FEATURES -o "$T/nonames/ours.csv"
expect_rc 0 "a model without names, scored with --features"
run ref compare "$T/nonames/ours.csv" "$T/nonames/pred.csv" $TOL
expect_rc 0 "... predictions equal XGBoost's to $TOL relative ($out)"

sed '1s/.*/y,a,b,c,d,e,f/' "$T/cars.csv" >"$T/renamed.csv"
run_in "$T/renamed.csv" ml-score -m "$T/reg:squarederror/m.json" --features a,b,c,d,e,f -o "$T/renamed_pred.csv"
expect_rc 0 "--features renames a named model's columns"
run ref compare "$T/renamed_pred.csv" "$T/reg:squarederror/pred.csv" $TOL
expect_rc 0 "... predictions unchanged ($out)"
run_in "$T/renamed.csv" ml-score -m "$T/reg:squarederror/m.json"
expect_rc 65 "the model's own names missing from the input: exit 65"
expect_match "$err" 'mileage' "... naming the missing column"

# ---- export: XGBoost loads what ml-train writes and predicts the same ----
ml-preprocess fit --target price -o "$T/recipe.json" <"$T/cars.csv"
for obj in reg:squarederror reg:tweedie reg:absoluteerror; do
	dir=$T/export-$obj
	mkdir -p "$dir"
	run_in "$T/cars.csv" ml-train -a gbtree --target price --recipe "$T/recipe.json" --objective $obj \
		--num_round 40 --max_depth 5 -o "$dir/model.json" --export-xgboost "$dir/x.json"
	expect_rc 0 "$obj: ml-train --export-xgboost exits 0"
	run_in "$T/cars.csv" ml-score -m "$dir/model.json" -o "$dir/ours.csv"
	ref predict "$dir/x.json" "$T/cars.csv" "$dir/theirs.csv"
	run ref compare "$dir/theirs.csv" "$dir/ours.csv" $TOL
	expect_rc 0 "$obj: XGBoost's predictions with the exported model equal ml-score's to $TOL ($out)"
	run_in "$T/cars.csv" ml-score -m "$dir/x.json" -o "$dir/again.csv"
	run ref compare "$dir/again.csv" "$dir/ours.csv" $TOL
	expect_rc 0 "$obj: the exported file scored by ml-score again ($out)"
done
expect_eq "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$T/export-reg:squarederror/x.json")" \
	"[1, 7, 4]" "the exported file says version 1.7.4"

# the default recipe (one-hot categoricals) on the raw cars: XGBoost sees the recipe's features
run_in "$DATA/used_cars.csv" ml-train -a gbtree --target price --num_round 30 -o "$T/raw.json" \
	--export-xgboost "$T/raw-x.json"
expect_rc 0 "raw used cars (default recipe): ml-train --export-xgboost exits 0"
$PY -c 'import json,sys; json.dump(json.load(open(sys.argv[1]))["recipe"], open(sys.argv[2], "w"))' \
	"$T/raw.json" "$T/raw-recipe.json"
ml-preprocess apply "$T/raw-recipe.json" -o "$T/raw-features.csv" <"$DATA/used_cars.csv"
run_in "$DATA/used_cars.csv" ml-score -m "$T/raw.json" -o "$T/raw-ours.csv"
ref predict "$T/raw-x.json" "$T/raw-features.csv" "$T/raw-theirs.csv"
run ref compare "$T/raw-theirs.csv" "$T/raw-ours.csv" $TOL
expect_rc 0 "one-hot features: XGBoost on the recipe's matrix equals ml-score on raw rows ($out)"

ml-preprocess fit --target price --log1p-target -o "$T/log-recipe.json" <"$T/cars.csv"
run_in "$T/cars.csv" ml-train -a gbtree --target price --recipe "$T/log-recipe.json" --num_round 5 \
	-o "$T/log.json" --export-xgboost "$T/log-x.json"
expect_rc 69 "a log1p(target) model cannot be exported: exit 69"
expect_match "$err" 'log-x.json.*log1p\(target\).*not supported yet' "... saying why"
[ -f "$T/log.json" ] && [ ! -e "$T/log-x.json" ] && ok "... the model is saved, no XGBoost file written" ||
	not_ok "... the model is saved, no XGBoost file written"

done_testing
