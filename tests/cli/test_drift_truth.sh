#!/usr/bin/env bash
# ml-drift --ground-truth FILE --join-on COL: predictions joined with labels
# arriving separately, metrics checked with pandas' merge and scikit-learn.
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3
REF=$ROOT/tests/cli/ref/truth_ref.py
CARS=$DATA/used_cars.csv
# The cars with a key, a model, its predictions and its model-quality baseline.
awk -F, 'BEGIN {OFS = ","} NR == 1 {print "id", $0; next} {print "car" NR - 1, $0}' "$CARS" >"$T/cars.csv"
ml-train -a linear --target price --wd 0.01 -o "$T/model.json" <"$CARS" 2>/dev/null
ml-score -m "$T/model.json" --keep id,price,mileage,make <"$T/cars.csv" >"$T/scored.csv"
ml-baseline --model-quality --label price --prediction prediction -o "$T/mq" <"$T/scored.csv"
cut -d, -f1,5 "$T/scored.csv" >"$T/pred.csv"			# id,prediction
awk -F, 'NR == 1 || NR % 10 != 0 {print $1 "," $2}' "$T/scored.csv" >"$T/gt.csv"	# id,price, every 10th missing
MQ=(ml-drift -b "$T/mq" --label price --prediction prediction)
violations() { $PY -c 'import json,sys; print(" ".join(v["metric_name"] + ":" + v["constraint_check_type"] for v in json.load(open(sys.argv[1] + "/constraint_violations.json"))["violations"]))' "$1"; }

run "${MQ[@]}" --ground-truth "$T/gt.csv" --join-on id -o "$T/o1" "$T/pred.csv"
expect_rc 0 "the model as good as its baseline: exit 0"
expect_match "$err" 'warning: 80 of 804 predictions have no ground truth in .*gt.csv \(joined on id\)' "stderr counts the predictions without ground truth"
printf '%s\n' "$out" >"$T/r1.json"
run $PY "$REF" check "$T/pred.csv" "$T/gt.csv" id price prediction "$T/r1.json"
expect_rc 0 "metrics of the join equal scikit-learn's on pandas' inner merge: $out"
expect_match "$(cat "$T/r1.json")" '"matched":724,"without_ground_truth":80,' "and so does the NDJSON record"
expect_eq "$(violations "$T/o1")" "" "no violation written"

# Predictions 10% too high: every metric is past its threshold.
awk -F, 'BEGIN {OFS = ","} NR == 1 {print; next} {$2 = $2 * 1.1; print}' "$T/pred.csv" >"$T/worse.csv"
run "${MQ[@]}" --ground-truth "$T/gt.csv" --join-on id -o "$T/o2" "$T/worse.csv"
expect_rc 1 "a degraded model: exit 1"
expect_eq "$(violations "$T/o2")" "mae:GreaterThanThreshold mse:GreaterThanThreshold rmse:GreaterThanThreshold r2:LessThanThreshold" \
	"its violations in constraint_violations.json"
printf '%s\n' "$out" >"$T/r2.json"
run $PY "$REF" check "$T/worse.csv" "$T/gt.csv" id price prediction "$T/r2.json"
expect_rc 0 "the degraded metrics equal scikit-learn's: $out"

# NDJSON ground truth in another order, predictions on stdin.
$PY -c 'import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
for r in reversed(rows):
    print(json.dumps({"id": r["id"], "price": float(r["price"])}))' "$T/gt.csv" >"$T/gt.ndjson"
run_in "$T/pred.csv" "${MQ[@]}" --ground-truth "$T/gt.ndjson" --join-on id -o "$T/o3"
expect_eq "$rc:$(printf '%s' "$out" | $PY -c 'import json,sys; print(json.load(sys.stdin)["regression_metrics"]["rmse"]["value"])')" \
	"0:$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["regression_metrics"]["rmse"]["value"])' "$T/r1.json")" \
	"NDJSON ground truth in reverse order: the same rmse"

# SageMaker's files: capture records keyed by inferenceId (else eventId), ground-truth records.
$PY "$REF" capture "$T/scored.csv" id price prediction "$T/cap" "$T/sm.ndjson"
run "${MQ[@]}" --ground-truth "$T/sm.ndjson" -o "$T/o4" "$T/cap"
expect_rc 0 "capture folder joined with SageMaker ground truth on inferenceId/eventId"
printf '%s\n' "$out" >"$T/r4.json"
run $PY "$REF" check "$T/scored.csv" "$T/scored.csv" id price prediction "$T/r4.json"
expect_rc 0 "every capture joined, metrics equal scikit-learn's: $out"

# Bad ground truth and bad joins.
{ cat "$T/gt.csv"; sed -n 5p "$T/gt.csv"; } >"$T/dup.csv"
run "${MQ[@]}" --ground-truth "$T/dup.csv" --join-on id -o "$T/o5" "$T/pred.csv"
expect_rc 65 "a key twice in the ground truth: exit 65"
expect_match "$err" "dup.csv:$(($(wc -l <"$T/gt.csv") + 1)):1: key \"car4\" is in the ground truth twice \(first on line 5\)" \
	"naming file:line:column and the first line"
run "${MQ[@]}" --ground-truth "$T/dup.csv" --join-on id --on-error skip -o "$T/o5" "$T/pred.csv"
expect_eq "$rc:$(printf '%s' "$err" | grep -c 'twice')" "0:1" "--on-error skip: the duplicate skipped with a warning"
{ cat "$T/pred.csv"; sed -n 3p "$T/pred.csv"; } >"$T/dup_pred.csv"
run "${MQ[@]}" --ground-truth "$T/gt.csv" --join-on id -o "$T/o6" "$T/dup_pred.csv"
expect_rc 65 "a key predicted twice: exit 65"
expect_match "$err" "dup_pred.csv:806:1: key \"car2\" has a prediction already" "naming the second prediction's file:line"
printf 'id,price\nx1,1\nx2,2\n' >"$T/other.csv"
run "${MQ[@]}" --ground-truth "$T/other.csv" --join-on id -o "$T/o7" "$T/pred.csv"
expect_rc 65 "no key in common: exit 65, not a vacuous pass"
expect_match "$err" 'no prediction has ground truth in .*other.csv \(joined on id\)' "saying so"
printf 'id,price\ncar1,abc\n' >"$T/badlabel.csv"
run "${MQ[@]}" --ground-truth "$T/badlabel.csv" --join-on id -o "$T/o8" "$T/pred.csv"
expect_match "$rc:$err" '^65:.*badlabel.csv:2:6: expected a number as the label, got "abc"' "a label that is not a number: file:line:column"
run "${MQ[@]}" --ground-truth "$T/gt.csv" --join-on key -o "$T/o9" "$T/pred.csv"
expect_match "$rc:$err" '^65:.*no column "key" in the ground truth' "a missing key column: exit 65"
run "${MQ[@]}" --join-on id -o "$T/o9" "$T/pred.csv"
expect_rc 64 "--join-on without --ground-truth: usage error"
run ml-drift -b "$T/mq" --ground-truth "$T/gt.csv" --join-on id -o "$T/o9" "$T/pred.csv"
expect_rc 64 "--ground-truth needs --label and --prediction"

# ml-baseline --ground-truth: the model-quality baseline of the joined rows.
cut -d, -f1,2 "$T/scored.csv" >"$T/gt_all.csv"
run ml-baseline --label price --prediction prediction --ground-truth "$T/gt_all.csv" --join-on id -o "$T/mq2" "$T/pred.csv"
expect_rc 0 "ml-baseline --ground-truth: exit 0"
expect_file_eq "$T/mq2/statistics.json" "$T/mq/statistics.json" "the same statistics.json as from rows holding both columns"
run ml-baseline --label price --prediction prediction --ground-truth "$T/gt.csv" --join-on id -o "$T/mq3" "$T/pred.csv"
expect_match "$rc:$err" '^0:.*80 of 804 predictions have no ground truth' "ml-baseline warns about predictions without ground truth too"
run ml-baseline --label price --prediction prediction --ground-truth "$T/other.csv" --join-on id -o "$T/mq4" "$T/pred.csv"
expect_eq "$rc:$([ -e "$T/mq4/statistics.json" ] && echo written || echo none)" "65:none" "no key in common: exit 65, nothing written"
run ml-baseline --label price --prediction prediction --join-on id -o "$T/mq4" "$T/pred.csv"
expect_rc 64 "ml-baseline --join-on without --ground-truth: usage error"
done_testing
