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

ml-preprocess fit --target price --drop doors -o "$T/recipe.json" <"$CARS"
run_in "$CARS" ml-baseline --schema "$T/recipe.json" -o "$T/by-recipe"
expect_rc 0 "--schema takes a recipe"
expect_no_match "$(cat "$T/by-recipe/statistics.json")" '"name": "doors"' "a column the recipe drops is not in the baseline"
ml-train -a linear --target price --wd 0.01 -o "$T/model.json" <"$CARS" 2>/dev/null
run_in "$CARS" ml-baseline --schema "$T/model.json" -o "$T/by-model"
expect_rc 0 "--schema takes a model"

run_in "$CARS" ml-baseline --model-quality --label price --prediction p -o "$T/mq"
expect_rc 69 "the model-quality baseline is not built yet (69)"
touch "$T/file"
run_in "$CARS" ml-baseline -o "$T/file"
expect_rc 64 "-o naming a file, not a directory, is a usage error"
{ head -3 "$CARS"; echo "1,2"; } >"$T/ragged.csv"
run ml-baseline -o "$T/bad" "$T/ragged.csv"
expect_rc 65 "a ragged row exits 65"
expect_eq "$(ls "$T/bad" 2>/dev/null)" "" "nothing is written when the input is bad"
done_testing
