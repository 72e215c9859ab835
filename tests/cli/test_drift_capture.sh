#!/usr/bin/env bash
# ml-drift on data-capture files (SageMaker's JSON Lines): detected, decoded
# (CSV, BASE64, JSON payloads of several rows, endpointOutput as the
# prediction), hourly folders walked in order; the same figures as the CSV.
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3
CARS=$DATA/used_cars.csv
GEN=$ROOT/tests/cli/ref/capture_gen.py
ml-baseline -o "$T/bl" <"$CARS"
$PY "$GEN" "$CARS" "$T/cap"
ml-drift -b "$T/bl" -o "$T/csv" "$CARS" >"$T/csv.ndjson" 2>/dev/null
# The records without run_time and inputs.
strip() { $PY -c 'import json,sys
for l in sys.stdin:
    r = json.loads(l); r.pop("run_time"); r.pop("inputs"); print(json.dumps(r, sort_keys=True))'; }

expect_eq "$(find "$T/cap" -name '*.jsonl' | sort | sed "s|$T/cap/||" | tr '\n' ' ')" \
	"2026/11/25/10/00-00-000-capture.jsonl 2026/11/25/11/00-00-000-capture.jsonl 2026/11/25/12/00-00-000-capture.jsonl " \
	"the generator wrote three hourly folders"
run ml-drift -b "$T/bl" -o "$T/o1" --prediction price "$T/cap"
expect_rc 0 "a capture folder of the baseline's own rows: no violation"
expect_eq "$(printf '%s\n' "$out" | strip)" "$(strip <"$T/csv.ndjson")" \
	"every record equals the one from the CSV (804 rows decoded from CSV, BASE64, JSON and JSON Lines payloads)"
expect_match "$out" '"inputs":\[[^]]*/10/00-00-000-capture.jsonl","[^]]*/11/[^]]*/12/' "the hourly files, in time order, are the inputs"
run_in "$T/cap/2026/11/25/10/00-00-000-capture.jsonl" ml-drift -b "$T/bl" -o "$T/o2" --prediction price -v
expect_match "$out" '"feature":"mileage"' "a capture file on standard input is detected"
expect_match "$(printf '%s\n' "$out" | head -1)" '"current_count":2[0-9][0-9]\.0' "about a third of the rows in the first hour"

# ml-score --capture's own files (the whole input row, price included, then the prediction).
if ml-score --help 2>/dev/null | grep -q -- '--capture'; then
	ml-train -a linear --target price -o "$T/model.json" <"$CARS" 2>/dev/null
	ml-score -m "$T/model.json" --capture "$T/scored" <"$CARS" >/dev/null 2>&1
	run ml-drift -b "$T/bl" -o "$T/o10" "$T/scored"
	expect_rc 0 "ml-score --capture's files: no drift from the baseline's own rows"
	expect_eq "$(printf '%s\n' "$out" | strip)" "$(strip <"$T/csv.ndjson")" "the same records as from the CSV"
else
	echo "ok - # SKIP ml-score has no --capture in this build"
fi

# Shifted: mileage up 60%, every third make Chevy, written as captures.
awk -F, 'BEGIN {OFS = ","} NR == 1 {print; next} {$2 = int($2 * 1.6); if (NR % 3 == 0) $3 = "Chevy"; print}' "$CARS" >"$T/shift.csv"
$PY "$GEN" "$T/shift.csv" "$T/capshift"
run ml-drift -b "$T/bl" -o "$T/o3" --prediction price "$T/capshift"
expect_rc 1 "shifted captures drift: exit 1"
expect_eq "$($PY -c 'import json,sys; print(" ".join(sorted(v["feature_name"] + ":" + v["constraint_check_type"] for v in json.load(open(sys.argv[1]))["violations"])))' "$T/o3/constraint_violations.json")" \
	"make:baseline_drift_check mileage:baseline_drift_check" "exactly the shifted features drift"

# Column mapping.
run ml-drift -b "$T/bl" -o "$T/o4" "$T/cap"
expect_rc 65 "CSV payloads with 8 fields for 9 baseline columns: a data error"
expect_match "$err" '2026/11/25/10/00-00-000-capture.jsonl:1:.*8 fields where 9 columns were expected .*--capture-columns' \
	"the message names the file, the line and the way out"
run ml-drift -b "$T/bl" -o "$T/o5" --capture-columns mileage,make,type,cylinder,doors,cruise,sound,leather "$T/cap"
expect_rc 1 "--capture-columns without the price: price is missing"
expect_eq "$($PY -c 'import json,sys; print(" ".join(v["feature_name"] + ":" + v["constraint_check_type"] for v in json.load(open(sys.argv[1]))["violations"]))' "$T/o5/constraint_violations.json")" \
	"price:missing_column_check" "missing_column_check for price, nothing else"
run ml-drift -b "$T/bl" -o "$T/o6" --prediction nosuch "$T/cap"
expect_rc 64 "--prediction must name a baseline column"

# Bad records: an error with file and line, or skipped with --on-error skip.
cp -r "$T/cap" "$T/bad"
f=$T/bad/2026/11/25/11/00-00-000-capture.jsonl
$PY - "$f" <<'PYEOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
r = json.loads(lines[2]); r["captureData"]["endpointInput"] = {"observedContentType": "text/csv", "data": "@@@", "encoding": "BASE64"}
lines[2] = json.dumps(r)
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PYEOF
run ml-drift -b "$T/bl" -o "$T/o7" --prediction price "$T/bad"
expect_rc 65 "a record with bad BASE64: exit 65"
expect_match "$err" '11/00-00-000-capture.jsonl:3:.*BASE64 data holds' "the message names file and line"
run ml-drift -b "$T/bl" -o "$T/o8" --prediction price --on-error skip "$T/bad"
expect_rc 0 "--on-error skip: the record is skipped and the rest checked"
expect_match "$err" 'warning: .*:3:' "with a warning"
mkdir -p "$T/empty"
run ml-drift -b "$T/bl" -o "$T/o9" "$T/empty"
expect_rc 66 "a folder without capture files: exit 66"
done_testing
