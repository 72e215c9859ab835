#!/usr/bin/env bash
# ml-drift against ml-baseline: Model Monitor's checks, distances checked with scipy.
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3
CARS=$DATA/used_cars.csv
ml-baseline -o "$T/bl" <"$CARS"
# "feature:check: description", one line per violation in DIR/constraint_violations.json
violations() { $PY -c 'import json,sys
for v in json.load(open(sys.argv[1] + "/constraint_violations.json"))["violations"]:
    print(v["feature_name"] + ":" + v["constraint_check_type"] + ": " + v["description"])' "$1"; }

run_in "$CARS" ml-drift -b "$T/bl" -o "$T/same"
expect_rc 0 "the baseline's own data: no violation, exit 0"
expect_eq "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["violations"])' "$T/same/constraint_violations.json")" "[]" \
	"constraint_violations.json lists nothing"
expect_eq "$(printf '%s\n' "$out" | wc -l | tr -d ' ')" "9" "one NDJSON drift record per feature"

# Mileage shifted by 60%, every third car relabelled Chevy; nothing else touched.
awk -F, 'BEGIN {OFS = ","} NR == 1 {print; next} {$2 = int($2 * 1.6); if (NR % 3 == 0) $3 = "Chevy"; print}' \
	"$CARS" >"$T/shift.csv"
run ml-drift -b "$T/bl" -o "$T/shift" "$T/shift.csv"
expect_rc 1 "drifted data: exit 1"
checks=$($PY -c 'import json,sys; print(" ".join(sorted(v["feature_name"] + ":" + v["constraint_check_type"] for v in json.load(open(sys.argv[1]))["violations"])))' "$T/shift/constraint_violations.json")
expect_eq "$checks" "make:baseline_drift_check mileage:baseline_drift_check" "exactly the shifted features drift"
printf '%s\n' "$out" >"$T/records.ndjson"
run $PY "$ROOT/tests/cli/ref/drift_ref.py" "$CARS" "$T/shift.csv" "$T/records.ndjson"
expect_rc 0 "distances equal scipy's two-sample KS statistic and the largest share difference ($out)"

run ml-drift -b "$T/bl" -o "$T/t" --threshold 0.9 "$T/shift.csv"
expect_rc 0 "--threshold 0.9 overrides the baseline's 0.1"

# The other checks, each on its own.
cut -d, -f1,3- "$CARS" >"$T/nomileage.csv"
run ml-drift -b "$T/bl" -o "$T/v1" "$T/nomileage.csv"
expect_rc 1 "a missing column: exit 1"
expect_match "$(violations "$T/v1")" '^mileage:missing_column_check: ' "missing_column_check names the column"
awk -F, 'BEGIN {OFS = ","} {print $0, (NR == 1 ? "color" : "red")}' "$CARS" >"$T/extra.csv"
run ml-drift -b "$T/bl" -o "$T/v2" "$T/extra.csv"
expect_match "$(violations "$T/v2")" ':extra_column_check: .*current dataset: 10, .*constraints: 9' "an extra column: extra_column_check"
awk -F, 'BEGIN {OFS = ","} NR > 1 && NR % 10 == 0 {$2 = "unknown"} {print}' "$CARS" >"$T/types.csv"
run ml-drift -b "$T/bl" -o "$T/v3" "$T/types.csv"
expect_match "$(violations "$T/v3")" '^mileage:data_type_check: .*Only 90.0% of data is Integral' "words in a numeric column: data_type_check with the share"
awk -F, 'BEGIN {OFS = ","} NR > 1 && NR % 20 == 0 {$4 = ""} {print}' "$CARS" >"$T/holes.csv"
run ml-drift -b "$T/bl" -o "$T/v4" "$T/holes.csv"
expect_match "$(violations "$T/v4")" '^type:completeness_check: .*Observed: 95.0%' "missing values: completeness_check"
awk -F, 'BEGIN {OFS = ","} NR > 1 && NR % 50 == 0 {$3 = "Tesla"} {print}' "$CARS" >"$T/tesla.csv"
run ml-drift -b "$T/bl" -o "$T/v5" "$T/tesla.csv"
expect_match "$(violations "$T/v5")" '^make:categorical_values_check: .*Observed: 98.0%' "a value outside the domain: categorical_values_check"

# ---- model drift ----
ml-train -a linear --target price --wd 0.01 -o "$T/model.json" <"$CARS" 2>/dev/null
ml-score -m "$T/model.json" --keep price <"$CARS" >"$T/scored.csv"
ml-baseline --model-quality --label price --prediction prediction -o "$T/mq" <"$T/scored.csv"
run_in "$T/scored.csv" ml-drift -b "$T/mq" --model-quality --label price --prediction prediction -o "$T/q1"
expect_rc 0 "model quality as good as the baseline's: exit 0"
expect_match "$out" '^\{"version":0.0,"dataset":\{"item_count":804\},"regression_metrics":' "the current metrics on stdout"
awk -F, 'BEGIN {OFS = ","} NR == 1 {print; next} {$2 = $2 * 1.1; print}' "$T/scored.csv" >"$T/worse.csv"
run_in "$T/worse.csv" ml-drift -b "$T/mq" --model-quality --label price --prediction prediction -o "$T/q2"
expect_rc 1 "predictions 10% too high: model drift, exit 1"
expect_eq "$($PY -c 'import json,sys; print(" ".join(v["metric_name"] + ":" + v["constraint_check_type"] for v in json.load(open(sys.argv[1]))["violations"]))' "$T/q2/constraint_violations.json")" \
	"mae:GreaterThanThreshold mse:GreaterThanThreshold rmse:GreaterThanThreshold r2:LessThanThreshold" \
	"every metric's violation, with Model Monitor's operator"

run ml-drift -b "$T/nowhere" "$CARS"
expect_rc 66 "a missing baseline directory exits 66"
run ml-drift -b "$T/bl" --merge "$CARS"
expect_rc 64 "--merge is no ml-drift option (shard baselines merge with ml-baseline --merge): 64"
run ml-drift "$CARS"
expect_rc 64 "no --baseline is a usage error"
done_testing
