#!/usr/bin/env bash
# ml-baseline: SageMaker Model Monitor statistics.json and constraints.json, checked with numpy.
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3
CARS=$DATA/used_cars.csv

run_in "$CARS" ml-baseline -o "$T/bl"
expect_rc 0 "ml-baseline on used_cars.csv exits 0"
run $PY "$ROOT/tests/cli/ref/baseline_ref.py" "$CARS" "$T/bl"
expect_rc 0 "statistics and constraints of used_cars.csv equal numpy's ($out)"

# Generated data: missing values, a compacted sketch (more than 2048 values), negatives.
awk 'BEGIN {srand(5); print "id,x,y,c"
	for (i = 0; i < 30000; i++) printf "%d,%s,%.3f,%s\n", i, (i % 13 ? sprintf("%.4f", rand() * 100 - 20) : ""),
		rand() * 1000, (i % 17 ? "k" int(rand() * 7) : "")}' >"$T/gen.csv"
run ml-baseline -o "$T/gen" "$T/gen.csv"
expect_rc 0 "ml-baseline on 30,000 generated rows exits 0"
run $PY "$ROOT/tests/cli/ref/baseline_ref.py" "$T/gen.csv" "$T/gen"
expect_rc 0 "generated data with missing values and a compacted sketch: equal to numpy ($out)"

# ---- shards baselined apart, then merged ----
head -15001 "$T/gen.csv" >"$T/s1.csv"
{ head -1 "$T/gen.csv"; tail -n +15002 "$T/gen.csv"; } >"$T/s2.csv"
ml-baseline -o "$T/b1" "$T/s1.csv"
ml-baseline -o "$T/b2" "$T/s2.csv"
run ml-baseline --merge -o "$T/merged" "$T/b1" "$T/b2"
expect_rc 0 "--merge of two shards' baselines exits 0"
run $PY "$ROOT/tests/cli/ref/baseline_ref.py" "$T/gen.csv" "$T/merged"
expect_rc 0 "the merged baseline's counts, sums, means, deviations, ranges and values equal numpy's of the whole ($out)"
run $PY -c '
import csv, json, sys
import numpy as np
x = np.array([float(r["y"]) for r in csv.DictReader(open(sys.argv[1]))])
f = [f for f in json.load(open(sys.argv[2] + "/statistics.json"))["features"] if f["name"] == "y"][0]
data = f["numerical_statistics"]["distribution"]["kll"]["sketch"]["data"]
items = sorted((v, 2 ** h) for h, level in enumerate(data) for v in level)
total = sum(w for _, w in items); seen = 0
for v, w in items:
    seen += w
    if seen >= total / 2:
        break
rank_error = abs(np.searchsorted(np.sort(x), v) / len(x) - 0.5)
print(f"{rank_error:.4f}")
sys.exit(0 if rank_error < 0.01 else 1)' "$T/gen.csv" "$T/merged"
expect_rc 0 "the merged sketch's median is within the KLL bound (rank error $out < 1%)"
run ml-baseline --merge -o "$T/m2" "$T/b1" "$T/bl"
expect_rc 65 "merging baselines of different columns exits 65"

ml-preprocess fit --target price --drop doors -o "$T/recipe.json" <"$CARS"
run_in "$CARS" ml-baseline --schema "$T/recipe.json" -o "$T/by-recipe"
expect_rc 0 "--schema takes a recipe"
expect_no_match "$(cat "$T/by-recipe/statistics.json")" '"name": "doors"' "a column the recipe drops is not in the baseline"
ml-train -a linear --target price --wd 0.01 -o "$T/model.json" <"$CARS" 2>/dev/null
run_in "$CARS" ml-baseline --schema "$T/model.json" -o "$T/by-model"
expect_rc 0 "--schema takes a model"

# ---- model quality ----
ml-score -m "$T/model.json" --keep price <"$CARS" >"$T/scored.csv"
run_in "$T/scored.csv" ml-baseline --model-quality --label price --prediction prediction -o "$T/mq"
expect_rc 0 "the model-quality baseline exits 0"
run $PY -c '
import csv, json, math, sys
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
rows = list(csv.DictReader(open(sys.argv[1])))
y = [float(r["price"]) for r in rows]; p = [float(r["prediction"]) for r in rows]
want = {"mae": mean_absolute_error(y, p), "mse": mean_squared_error(y, p),
        "rmse": math.sqrt(mean_squared_error(y, p)), "r2": r2_score(y, p)}
stats = json.load(open(sys.argv[2] + "/statistics.json"))
cons = json.load(open(sys.argv[2] + "/constraints.json"))["regression_constraints"]
assert stats["dataset"]["item_count"] == len(y)
for k, v in want.items():
    m = stats["regression_metrics"][k]
    assert abs(m["value"] - v) <= 1e-9 * abs(v), (k, m, v)
    assert m["standard_deviation"] > 0, (k, m)
    sign = -1 if k == "r2" else 1
    assert abs(cons[k]["threshold"] - (v + sign * 3 * m["standard_deviation"])) <= 1e-9 * abs(v), (k, cons[k])
    assert cons[k]["comparison_operator"] == ("LessThanThreshold" if k == "r2" else "GreaterThanThreshold")
print("ok")' "$T/scored.csv" "$T/mq"
expect_eq "$out" "ok" "mae, mse, rmse, r2 equal scikit-learn's; thresholds three bootstrap deviations worse"
ml-baseline --model-quality --label price --prediction prediction -o "$T/mq2" <"$T/scored.csv"
expect_file_eq "$T/mq2/statistics.json" "$T/mq/statistics.json" "the bootstrap is deterministic: same data, same file"
run_in "$T/scored.csv" ml-baseline --model-quality --label price -o "$T/mq3"
expect_rc 64 "--model-quality without --prediction is a usage error"
run_in "$CARS" ml-baseline --model-quality --label price --prediction prediction -o "$T/mq4"
expect_rc 65 "--model-quality on data without the prediction column exits 65"
run_in "$T/scored.csv" ml-baseline --model-quality --label price --prediction prediction --ground-truth x --join-on id -o "$T/mq5"
expect_match "$rc:$err" '^66:.*x: cannot open' "a missing --ground-truth file exits 66 (the join itself: test_drift_truth.sh)"
touch "$T/file"
run_in "$CARS" ml-baseline -o "$T/file"
expect_rc 64 "-o naming a file, not a directory, is a usage error"
{ head -3 "$CARS"; echo "1,2"; } >"$T/ragged.csv"
run ml-baseline -o "$T/bad" "$T/ragged.csv"
expect_rc 65 "a ragged row exits 65"
expect_eq "$(ls "$T/bad" 2>/dev/null)" "" "nothing is written when the input is bad"
done_testing
