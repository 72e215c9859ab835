#!/usr/bin/env bash
# ml-score as SageMaker batch transform: --input-filter, --join-source input,
# --output-filter (CSV with and without a header, NDJSON), and --combine
# weighted:... and plugin:NAME.
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3
CARS=$DATA/used_cars.csv

ml-train -a linear --target price --wd 0.01 -o "$T/m.json" <"$CARS" 2>/dev/null
ml-train -a linear --target price --wd 10 -o "$T/m2.json" <"$CARS" 2>/dev/null
ml-score -m "$T/m.json" <"$CARS" | tail -n +2 >"$T/plain.pred"
ml-score -m "$T/m2.json" <"$CARS" | tail -n +2 >"$T/plain2.pred"
rows=$(wc -l <"$T/plain.pred")

# The seed's input: an id first, then the columns (a header), and headerless with no label.
awk -F, 'NR == 1 { print "id," $0; next } { print "car" NR - 1 "," $0 }' "$CARS" >"$T/ids.csv"
cut -d, -f2- "$CARS" | awk 'NR > 1 { print "car" NR - 1 "," $0 }' >"$T/nohdr.csv"

# ---- CSV with a header ----
run_in "$T/ids.csv" ml-score -m "$T/m.json" --input-filter '$[1:]' --join-source input
expect_rc 0 "--input-filter '\$[1:]' --join-source input exits 0"
expect_eq "$(printf '%s\n' "$out" | head -1)" "$(head -1 "$T/ids.csv"),prediction" "the joined header is the input's and prediction"
printf '%s\n' "$out" | tail -n +2 >"$T/joined.csv"
expect_eq "$(cut -d, -f1-10 "$T/joined.csv" | cmp - <(tail -n +2 "$T/ids.csv") && echo same)" "same" \
	"each joined row starts with the input record as read"
expect_eq "$(cut -d, -f11 "$T/joined.csv" | cmp - "$T/plain.pred" && echo same)" "same" \
	"the prediction after it is the one without filters"

run_in "$T/ids.csv" ml-score -m "$T/m.json" --input-filter '$[1:]' --join-source input --output-filter '$[0,-1]'
expect_rc 0 "--output-filter '\$[0,-1]' exits 0"
expect_eq "$(printf '%s\n' "$out" | head -1)" "id,prediction" "'\$[0,-1]' keeps the id and the prediction"
expect_eq "$(printf '%s\n' "$out" | tail -n +2 | cut -d, -f2 | cmp - "$T/plain.pred" && echo same)" "same" \
	"'\$[0,-1]': the predictions are the plain ones"
expect_eq "$(printf '%s\n' "$out" | sed -n 2p | cut -d, -f1)" "car1" "'\$[0,-1]': the id is the input's"

run_in "$T/ids.csv" ml-score -m "$T/m.json" --join-source input --output-filter "\$['id','make','prediction']"
expect_eq "$(printf '%s\n' "$out" | sed -n '1p;2p' | tr '\n' '|')" "id,make,prediction|car1,Buick,$(head -1 "$T/plain.pred")|" \
	"--output-filter by name picks input columns and the prediction"

run_in "$T/ids.csv" ml-score -m "$T/m.json" --join-source input --output-filter '$[1:3]'
expect_eq "$(printf '%s\n' "$out" | sed -n '1p;2p' | tr '\n' '|')" "price,mileage|22661.05,20105|" \
	"--output-filter '\$[1:3]': a slice of the joined record, end excluded"

run_in "$T/ids.csv" ml-score -m "$T/m.json" --keep id --output-filter '$[-1]'
expect_eq "$(printf '%s\n' "$out" | tail -n +2 | cmp - "$T/plain.pred" && echo same)" "same" \
	"without a join, the output filter picks from the --keep columns and the prediction"

run_in "$T/ids.csv" ml-score -m "$T/m.json" --input-filter '$[2:]'
expect_rc 0 "'\$[2:]' leaving out the id and the label still gives every feature"
expect_eq "$(printf '%s\n' "$out" | tail -n +2 | cmp - "$T/plain.pred" && echo same)" "same" \
	"'\$[2:]': the same predictions"

run_in "$T/ids.csv" ml-score -m "$T/m.json" --input-filter '$[0:4]'
expect_rc 65 "an input filter leaving out a feature exits 65"
expect_match "$err" "leaves out column \"type\" that the model reads" "the left-out feature is named"
run_in "$T/ids.csv" ml-score -m "$T/m.json" --input-filter '$[0:4]' --allow-missing-columns
expect_rc 0 "... and with --allow-missing-columns it is scored as missing"
expect_eq "$(printf '%s\n' "$out" | tail -n +2 | cmp -s - "$T/plain.pred" || echo differs)" "differs" \
	"... which changes the predictions"

# ---- headerless CSV (SageMaker's convention): the picked fields are the features in order ----
run_in "$T/nohdr.csv" ml-score -m "$T/m.json" --no-header --input-filter '$[1:]' --join-source input
expect_rc 0 "headerless: --input-filter '\$[1:]' --join-source input exits 0"
expect_eq "$(printf '%s\n' "$out" | head -1)" "$(head -1 "$T/nohdr.csv"),$(head -1 "$T/plain.pred")" \
	"headerless: no header, the record then its prediction"
expect_eq "$(printf '%s\n' "$out" | awk -F, '{ print $NF }' | cmp - "$T/plain.pred" && echo same)" "same" \
	"headerless: every prediction equals the one scored by column names"
expect_eq "$(printf '%s\n' "$out" | wc -l)" "$rows" "headerless: one row out per row in"

run_in "$T/nohdr.csv" ml-score -m "$T/m.json" --no-header --input-filter '$[1:]' --join-source input --output-filter '$[0,-1]'
expect_eq "$(printf '%s\n' "$out" | head -1)" "car1,$(head -1 "$T/plain.pred")" "headerless: '\$[0,-1]' gives id,prediction"

run_in "$T/nohdr.csv" ml-score -m "$T/m.json" --no-header --input-filter '$[1:4]'
expect_rc 65 "headerless: picking fewer fields than features exits 65"
run_in "$T/nohdr.csv" ml-score -m "$T/m.json" --no-header --input-filter '$[0:]'
expect_rc 65 "headerless: picking more fields than features exits 65"
expect_match "$err" "picks 9 fields; the model reads 8 features" "... saying how many"
run_in "$T/nohdr.csv" ml-score -m "$T/m.json" --no-header --input-filter '$[0,2,3,4,5,6,7,8]'
expect_rc 65 "headerless: the id in place of the mileage is bad data (exit 65)"
expect_match "$err" ':1:1: expected a number in column "c0", got "car1"' "... named with line and column"

# ---- NDJSON ----
$PY - "$T/ids.csv" >"$T/cars.ndjson" <<'EOF'
import csv, json, sys
for r in csv.DictReader(open(sys.argv[1])):
    d = {"id": r["id"], "mileage": float(r["mileage"]), "make": r["make"], "type": r["type"]}
    d.update({k: int(r[k]) for k in ("cylinder", "doors", "cruise", "sound", "leather")})
    print(json.dumps(d))
EOF
check_json() { # expr name: expr over lines (each a dict d) and preds p
	run $PY -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
inp = [json.loads(l) for l in open(sys.argv[2])]
pred = [float(l) for l in open(sys.argv[3])]
ok = len(lines) == len(inp) and all(eval(sys.argv[4]) for d, i, p in zip(lines, inp, pred))
sys.exit(0 if ok else 1)' "$T/got.ndjson" "$T/cars.ndjson" "$T/plain.pred" "$1"
	expect_rc 0 "$2"
}
ml-score -m "$T/m.json" --join-source input <"$T/cars.ndjson" >"$T/got.ndjson"
check_json 'd == dict(i, SageMakerOutput={"prediction": p})' \
	"NDJSON join: each input object with \"SageMakerOutput\": {\"prediction\": ...} added"
ml-score -m "$T/m.json" --join-source input --output-filter "\$['id','SageMakerOutput']" <"$T/cars.ndjson" >"$T/got.ndjson"
check_json 'd == {"id": i["id"], "SageMakerOutput": {"prediction": p}}' \
	"NDJSON --output-filter \$['id','SageMakerOutput']"
ml-score -m "$T/m.json" --input-filter '$[1:]' --join-source input --output-filter '$[0,-1]' <"$T/cars.ndjson" >"$T/got.ndjson"
check_json 'd == {"id": i["id"], "SageMakerOutput": {"prediction": p}}' \
	"NDJSON --input-filter '\$[1:]' with '\$[0,-1]': keys by position"
ml-score -m "$T/m.json" --keep id --output-filter '$.prediction' <"$T/cars.ndjson" >"$T/got.ndjson"
check_json 'd == {"prediction": p}' "NDJSON --output-filter '\$.prediction'"
ml-score -m "$T/m.json" -m "$T/m2.json" --each --join-source input --output-filter '$.SageMakerOutput' \
	<"$T/cars.ndjson" >"$T/got.ndjson"
check_json 'set(d["SageMakerOutput"]) == {"prediction_1", "prediction_2", "prediction"} and d["SageMakerOutput"]["prediction_1"] == p' \
	"NDJSON join with --each: every model's prediction in SageMakerOutput"
ml-score -m "$T/m.json" --join-source input --output-filter '$.SageMakerOutput.prediction' \
	<"$T/cars.ndjson" >"$T/got.ndjson"
check_json 'd == {"prediction": p}' "NDJSON --output-filter '\$.SageMakerOutput.prediction': the member's value"
ml-score -m "$T/m.json" -m "$T/m2.json" --each --join-source input --output-filter '$.SageMakerOutput[0,-1]' \
	<"$T/cars.ndjson" >"$T/got.ndjson"
check_json 'set(d) == {"prediction_1", "prediction"} and d["prediction_1"] == p' \
	"NDJSON --output-filter '\$.SageMakerOutput[0,-1]': a selection inside SageMakerOutput"
run_in "$T/cars.ndjson" ml-score -m "$T/m.json" --join-source input --output-filter '$.SageMakerOutput.price'
expect_rc 65 "--output-filter naming no prediction inside SageMakerOutput exits 65"
expect_match "$err" "no field \"price\"" "... naming it"
run_in "$T/cars.ndjson" ml-score -m "$T/m.json" --join-source input --output-filter '$.SageMakerOutput.prediction.x'
expect_rc 65 "--output-filter into a prediction's members exits 65"
expect_match "$err" '"prediction" is a number, with no members' "... saying a prediction is a number"
run_in "$T/cars.ndjson" ml-score -m "$T/m.json" --input-filter "\$['id','mileage']"
expect_rc 65 "NDJSON: a filter by name leaving out features exits 65"
run_in "$T/cars.ndjson" ml-score -m "$T/m.json" --join-source input --output-format csv --output-filter '$[0,-1]'
expect_eq "$(printf '%s\n' "$out" | sed -n '1p;2p' | tr '\n' '|')" "id,prediction|car1,$(head -1 "$T/plain.pred")|" \
	"NDJSON in, CSV out: the join's fields by position"

# ---- NDJSON: a path into a member ($.features, $.a.b, $.a[...]) ----
$PY - "$T/cars.ndjson" "$T" <<'EOF'
import json, sys
with open(sys.argv[2] + "/nobj.ndjson", "w") as o, open(sys.argv[2] + "/narr.ndjson", "w") as a:
    for line in open(sys.argv[1]):
        d = json.loads(line)
        i = d.pop("id")
        o.write(json.dumps({"id": i, "features": d}) + "\n")
        a.write(json.dumps({"id": i, "req": {"meta": 1, "x": list(d.values())}}) + "\n")
EOF
ml-score -m "$T/m.json" --input-filter '$.features' --join-source input <"$T/nobj.ndjson" >"$T/got.ndjson"
check_json 'd["SageMakerOutput"] == {"prediction": p} and d["features"]["make"] == i["make"]' \
	"--input-filter '\$.features' (an object): the models read inside it, the join keeps the record"
ml-score -m "$T/m.json" --input-filter '$.req.x' --join-source input --output-filter "\$['id','SageMakerOutput']" \
	<"$T/narr.ndjson" >"$T/got.ndjson"
check_json 'd == {"id": i["id"], "SageMakerOutput": {"prediction": p}}' \
	"--input-filter '\$.req.x' (an array): the features in training order"
ml-score -m "$T/m.json" --input-filter '$.features' --join-source input --output-filter '$.features.make' <"$T/nobj.ndjson" >"$T/got.ndjson"
check_json 'd == {"make": i["make"]}' "--output-filter '\$.features.make': a member of an input member, named by the last step"
ml-score -m "$T/m.json" --input-filter '$.features' --join-source input --output-filter "\$.features['doors','make','nosuch']" \
	<"$T/nobj.ndjson" >"$T/got.ndjson"
check_json 'd == {"doors": i["doors"], "make": i["make"], "nosuch": None}' \
	"--output-filter \$.features['doors','make','nosuch']: each name an output field, typed; a missing one null (as jq)"
ml-score -m "$T/m.json" --input-filter '$.req.x' --join-source input --output-filter '$.req.x[0,-1]' <"$T/narr.ndjson" >"$T/got.ndjson"
check_json 'd == {"x": [list(i.values())[1], list(i.values())[-1]]}' "--output-filter '\$.req.x[0,-1]': the array's picked elements"
run_in "$T/narr.ndjson" ml-score -m "$T/m.json" --input-filter '$.req.x' --join-source input --output-filter "\$.req['meta']" --output-format csv
expect_eq "$(printf '%s\n' "$out" | sed -n '1p;2p' | tr '\n' '|')" "meta|1|" "... and into CSV: a header named by the pick, the value as text"
run_in "$T/nobj.ndjson" ml-score -m "$T/m.json" --input-filter '$.features' --join-source input --output-filter '$.nosuch.make'
expect_rc 65 "--output-filter into a field the record does not have exits 65"
expect_match "$err" "no field \"nosuch\"" "... naming it"
ml-score -m "$T/m.json" --input-filter '$.features' --join-source input --output-filter "\$['id','features']" <"$T/nobj.ndjson" >"$T/got.ndjson"
check_json 'd == {"id": i["id"], "features": {k: v for k, v in i.items() if k != "id"}}' \
	"--output-filter picking an input member that holds an object writes the object, not a string"
head -1 "$T/cars.ndjson" | sed 's/^{/{"n":7,"b":true,"s":"7","a":[1,2],/' >"$T/kinds.ndjson"
run_in "$T/kinds.ndjson" ml-score -m "$T/m.json" --keep n,b,s,a
expect_match "$out" '^\{"n":7,"b":true,"s":"7","a":\[1,2\],"prediction":' "--keep in NDJSON keeps each value's JSON type (7, true, \"7\", [1,2])"
ml-score -m "$T/m.json" --input-filter '$.req.x' --batch-size 100 <"$T/narr.ndjson" >"$T/got.ndjson"
check_json 'd == {"prediction": p}' "... the same over batches of 100 rows"
ml-score -m "$T/m.json" --input-filter "\$.features['mileage','make','type','cylinder','doors','cruise','sound','leather']" \
	--keep id <"$T/nobj.ndjson" >"$T/got.ndjson"
check_json 'd == {"id": i["id"], "prediction": p}' "a selector inside the member picks its fields by name"
run_in "$T/narr.ndjson" ml-score -m "$T/m.json" --input-filter '$.req.x[0:7]'
expect_rc 65 "a member's array one feature short exits 65"
expect_eq "$err" "ml-score: <stdin>:1: \$.req.x[0:7]: has 7 values; the model reads 8 features" "... naming the line"
run_in "$T/narr.ndjson" ml-score -m "$T/m.json" --input-filter '$.req'
expect_rc 65 "a member's object without the features exits 65"
expect_match "$err" '<stdin>:1: \$.req: no "mileage", which the model reads' "... naming the first missing"
sed '2s/"mileage": 13457.0/"mileage": "x13"/' "$T/nobj.ndjson" >"$T/nbad.ndjson"
run_in "$T/nbad.ndjson" ml-score -m "$T/m.json" --input-filter '$.features'
expect_rc 65 "a bad value inside the member exits 65"
expect_eq "$err" 'ml-score: <stdin>:2: in $.features: expected a number in column "mileage", got "x13"' \
	"... with the record's line"
run_in "$T/nobj.ndjson" ml-score -m "$T/m.json" --input-filter '$.nope'
expect_rc 65 "a member no record has exits 65"
run_in "$T/ids.csv" ml-score -m "$T/m.json" --input-filter '$.a.b'
expect_rc 64 "a path into a member of a CSV field is a usage error"

# ---- bad rows keep their place in --rejects ----
sed '3s/,13457,/,13x457,/' "$T/ids.csv" >"$T/bad.csv"
run_in "$T/bad.csv" ml-score -m "$T/m.json" --input-filter '$[1:]' --join-source input --on-error skip --rejects "$T/rej.csv"
expect_rc 0 "--on-error skip with a join exits 0"
expect_eq "$(printf '%s\n' "$out" | wc -l)" "$rows" "the bad row is left out (header + rows - 1)"
expect_eq "$(tail -n +2 "$T/rej.csv")" "$(sed -n 3p "$T/bad.csv")" "... and kept verbatim in --rejects"

# ---- option errors ----
run_in "$T/ids.csv" ml-score -m "$T/m.json" --input-filter 'foo'
expect_rc 64 "a path not starting with \$ is a usage error"
expect_match "$err" "JSONPath 'foo': a path starts with '\\$'" "... saying so"
run_in "$T/ids.csv" ml-score -m "$T/m.json" --output-filter '$[1:x]'
expect_rc 64 "a bad slice is a usage error"
run_in "$T/ids.csv" ml-score -m "$T/m.json" --output-filter '$[7]'
expect_rc 65 "an index past the output record's fields exits 65"
run_in "$T/ids.csv" ml-score -m "$T/m.json" --join-source input --keep id
expect_rc 64 "--keep with --join-source input is a usage error"

# ---- --combine weighted and plugin ----
paste -d, "$T/plain.pred" "$T/plain2.pred" >"$T/both.pred"
run_in "$CARS" ml-score -m "$T/m.json" -m "$T/m2.json" --combine weighted:3,1
expect_rc 0 "--combine weighted:3,1 exits 0"
printf '%s\n' "$out" | tail -n +2 >"$T/got.pred"
run $PY -c '
import sys
worst = max(abs(float(g) - (3 * float(a) + float(b)) / 4) / abs(float(g))
            for (a, b), g in zip((l.split(",") for l in open(sys.argv[1])), open(sys.argv[2])))
sys.exit(0 if worst < 1e-12 else 1)' "$T/both.pred" "$T/got.pred"
expect_rc 0 "weighted:3,1 is (3a + b) / 4 (Python)"
run_in "$CARS" ml-score -m "$T/m.json" -m "$T/m2.json" --combine weighted:1
expect_rc 64 "one weight for two models is a usage error"
expect_match "$err" "1 weights for 2 models" "... saying so"
run_in "$CARS" ml-score -m "$T/m.json" -m "$T/m2.json" --combine weighted:1,x
expect_rc 64 "a weight that is not a number is a usage error"
run_in "$CARS" ml-score -m "$T/m.json" -m "$T/m2.json" --combine plugin:spread --plugin-dir "$ROOT/build/tests/plugins"
expect_rc 0 "--combine plugin:spread (a combiner plugin) exits 0"
printf '%s\n' "$out" | tail -n +2 >"$T/got.pred"
run $PY -c '
import sys
ok = all(abs(float(g) - abs(float(a) - float(b))) <= 1e-9 * abs(float(a))
         for (a, b), g in zip((l.split(",") for l in open(sys.argv[1])), open(sys.argv[2])))
sys.exit(0 if ok else 1)' "$T/both.pred" "$T/got.pred"
expect_rc 0 "the plugin's combination is what it computes (max - min)"
run_in "$CARS" ml-score -m "$T/m.json" -m "$T/m2.json" --combine plugin:absent --plugin-dir "$ROOT/build/tests/plugins"
expect_rc 69 "an absent combiner plugin exits 69"
run_in "$CARS" ml-score -m "$T/m.json" -m "$T/m2.json" --combine mode
expect_rc 64 "an unknown --combine is a usage error"
done_testing
