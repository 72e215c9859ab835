#!/usr/bin/env bash
# ml-preprocess against scikit-learn, and the split/recipe guarantees users rely on.
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3	# Debian's interpreter: it sees python3-sklearn
CARS=$DATA/used_cars.csv
export SOURCE_DATE_EPOCH=1700000000

# Holes to impute: mileage blank on every 7th row, make on every 11th.
awk -F, 'BEGIN{OFS=","} NR>1 && NR%7==0 {$2=""} NR>1 && NR%11==0 {$3=""} {print}' "$CARS" >"$T/holes.csv"

# ---- fit + apply equal scikit-learn ----
for scale in standard minmax; do
	run_in "$T/holes.csv" ml-preprocess fit --target price --scale $scale \
		--numeric-impute median --categorical-impute most-frequent -o "$T/r-$scale.json"
	expect_rc 0 "fit --scale $scale exits 0"
	run_in "$T/holes.csv" ml-preprocess apply "$T/r-$scale.json" -o "$T/f-$scale.csv"
	expect_rc 0 "apply --scale $scale exits 0"
	if [ -x $PY ] && $PY -c 'import sklearn' 2>/dev/null; then
		run $PY "$ROOT/tests/cli/ref/preprocess_ref.py" "$T/holes.csv" "$T/f-$scale.csv" price $scale median most-frequent
		expect_rc 0 "--scale $scale with imputation equals scikit-learn to 1e-9 ($out)"
	else
		ok "# SKIP scikit-learn reference (python3-sklearn not installed)"
	fi
done

run_in "$T/holes.csv" ml-preprocess fit --target price --numeric-impute mean -o "$T/r-mean.json"
run_in "$T/holes.csv" ml-preprocess apply "$T/r-mean.json" -o "$T/f-mean.csv"
run $PY "$ROOT/tests/cli/ref/preprocess_ref.py" "$T/holes.csv" "$T/f-mean.csv" price none mean none
expect_rc 0 "mean imputation, missing categories kept missing, equals scikit-learn ($out)"

# ---- the recipe is an artifact ----
run $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["format"], len(d["sha256"]), d["created"])' "$T/r-standard.json"
expect_eq "$out" "mlpipe.recipe/1 64 2023-11-14T22:13:20Z" "recipe has format, SHA-256 and created"
run_in "$T/holes.csv" ml-preprocess fit --target price --scale standard \
	--numeric-impute median --categorical-impute most-frequent
expect_file_eq <(printf '%s\n' "$out") "$T/r-standard.json" "fit is byte-reproducible (stdout = -o file)"

sed 's/"rows": 804/"rows": 805/' "$T/r-standard.json" >"$T/tampered.json"
run_in "$CARS" ml-preprocess apply "$T/tampered.json"
expect_rc 65 "tampered recipe exits 65"
expect_match "$err" 'tampered.json: SHA-256 mismatch' "tampered recipe: message names the file"
sed 's#mlpipe.recipe/1#mlpipe.recipe/9#' "$T/r-standard.json" >"$T/newer.json"
run_in "$CARS" ml-preprocess apply "$T/newer.json"
expect_rc 65 "recipe from a newer mlpipe exits 65"
expect_match "$err" 'written by a newer mlpipe' "newer recipe: says so"
head -c 300 "$T/r-standard.json" >"$T/trunc.json"
run_in "$CARS" ml-preprocess apply "$T/trunc.json"
expect_rc 65 "truncated recipe exits 65"
expect_match "$err" 'trunc.json:[0-9]+:[0-9]+: ' "truncated recipe: line and column"
run_in "$CARS" ml-preprocess apply "$T/missing.json"
expect_rc 66 "missing recipe exits 66"

# ---- apply on new data ----
{ head -1 "$CARS"; echo "15000,30000,Tesla,sedan,4,4,1,1,1"; } >"$T/new.csv"
run_in "$T/new.csv" ml-preprocess apply "$T/r-standard.json" --keep make
expect_rc 0 "an unseen level does not fail apply"
hdr=$(printf '%s\n' "$out" | head -1 | tr ',' '\n' | grep -n '^make=(other)$' | cut -d: -f1)
val=$(printf '%s\n' "$out" | sed -n 2p | cut -d, -f"${hdr:-1}")
expect_eq "$val" "1" "an unseen level goes to make=(other)"
expect_match "$(printf '%s\n' "$out" | sed -n 2p)" '^Tesla,15000,' "--keep columns come first, then the label"

cut -d, -f2- "$CARS" >"$T/nolabel.csv"
run_in "$T/nolabel.csv" ml-preprocess apply "$T/r-standard.json"
expect_rc 0 "apply works on data without the label column"
expect_no_match "$(printf '%s\n' "$out" | head -1)" '(^|,)price(,|$)' "no label column in the output when the input has none"

run_in "$CARS" ml-preprocess apply "$T/r-standard.json" --label-first --no-header
expect_rc 0 "--label-first --no-header exits 0"
expect_eq "$(printf '%s\n' "$out" | wc -l | tr -d ' ')" "804" "SageMaker CSV: one line per row, no header"
expect_eq "$(printf '%s\n' "$out" | head -1 | cut -d, -f1)" "22661.05" "SageMaker CSV: label first"

$PY -c '
import csv, json, sys
for row in csv.DictReader(open(sys.argv[1])):
    print(json.dumps({k: (float(v) if k in ("price", "mileage") else v) for k, v in row.items()}))
' "$CARS" >"$T/cars.ndjson"
run_in "$T/cars.ndjson" ml-preprocess apply "$T/r-standard.json" --output-format csv
ndjson_out=$out
run_in "$CARS" ml-preprocess apply "$T/r-standard.json"
expect_eq "$ndjson_out" "$out" "NDJSON input gives the same features as CSV"

# ---- settings from --config and the environment ----
printf 'preprocess:\n  target: price\n  scale: standard\n  numeric-impute: median\n  categorical_impute: most-frequent\n' >"$T/p.yaml"
run_in "$T/holes.csv" ml-preprocess fit --config "$T/p.yaml"
expect_file_eq <(printf '%s\n' "$out") "$T/r-standard.json" "--config preprocess: section gives the same recipe"
MLPIPE_PREPROCESS_SCALE=minmax run_in "$T/holes.csv" ml-preprocess fit --config "$T/p.yaml" \
	--categorical-impute most-frequent
expect_file_eq <(printf '%s\n' "$out") "$T/r-minmax.json" "environment overrides the config file"

# ---- kept columns, missing columns, shared config ----
ml-preprocess fit --target price --keep make <"$CARS" >"$T/r-keep.json"
run_in "$CARS" ml-preprocess apply "$T/r-keep.json"
expect_match "$(printf '%s\n' "$out" | head -2 | tr '\n' ' ')" '^make,price,.* Buick,22661.05,' "fit --keep columns are written first by apply"
expect_no_match "$(printf '%s\n' "$out" | head -1)" 'make=' "a kept column is not a feature"
run_in "$T/nolabel.csv" ml-preprocess apply "$T/r-standard.json" --keep model
expect_rc 65 "--keep of a column the input lacks exits 65"
expect_match "$err" 'no column "model" to keep' "--keep of a missing column: says which"
cut -d, -f1,3- "$CARS" >"$T/nomileage.csv"
run_in "$T/nomileage.csv" ml-preprocess apply "$T/r-standard.json"
expect_rc 65 "a feature column missing from the input exits 65"
expect_match "$err" 'no column "mileage", which the recipe needs' "missing feature column: named"
run_in "$T/nomileage.csv" ml-preprocess apply "$T/r-keep.json" --allow-missing-columns
expect_rc 0 "--allow-missing-columns goes on"
expect_eq "$(printf '%s\n' "$out" | sed -n 2p | cut -d, -f3)" "" "--allow-missing-columns: the feature is missing (no imputation fitted)"
{ head -1 "$CARS" | sed 's/$/,extra/'; tail -n +2 "$CARS" | sed 's/$/,x/'; } >"$T/extra.csv"
run_in "$T/extra.csv" ml-preprocess apply "$T/r-standard.json"
expect_eq "$out" "$(ml-preprocess apply "$T/r-standard.json" <"$CARS")" "extra input columns are ignored"
{ head -1 "$CARS"; echo "15000,lots,Buick,sedan,4,4,1,1,1"; } >"$T/wrongtype.csv"
run_in "$T/wrongtype.csv" ml-preprocess apply "$T/r-standard.json"
expect_rc 65 "a word in a numeric column exits 65"
expect_match "$err" '<stdin>:2:7: ' "wrong type: line and column named"
printf 'preprocess:\n  target: price\n  keep: make\n  train: %s\n' "$T/x.csv" >"$T/shared.yaml"
run_in "$CARS" ml-preprocess apply --config "$T/shared.yaml" "$T/r-standard.json" -o "$T/shared.csv"
expect_rc 0 "apply accepts the keys fit and split take from the shared preprocess: section"
run_in "$CARS" ml-preprocess split --train "$T/a" --test "$T/b" --output-format ndjson
expect_rc 64 "split refuses --output-format (rows are copied verbatim)"
run_in /dev/null ml-preprocess fit --target price
expect_rc 65 "fit on empty input exits 65"
expect_match "$err" '<stdin>: empty input' "fit on empty input: says so"
head -1 "$CARS" >"$T/header-only.csv"
run_in "$T/header-only.csv" ml-preprocess fit --target price
expect_rc 65 "fit on a header alone exits 65"
expect_match "$err" 'no data rows' "fit on a header alone: says so"
mkfifo "$T/fifo"
cat "$T/fifo" >"$T/from-fifo" &
ml-preprocess fit --target price -o "$T/fifo" <"$CARS"
wait
expect_eq "$(test -p "$T/fifo" && head -2 "$T/from-fifo" | tail -1)" '  "format": "mlpipe.recipe/1",' "-o to a FIFO writes through it, not over it"

# ---- bad input ----
{ head -3 "$CARS"; echo "1,2,3"; tail -n +4 "$CARS"; } >"$T/ragged.csv"
run_in "$T/ragged.csv" ml-preprocess apply "$T/r-standard.json"
expect_rc 65 "a ragged row fails apply with 65"
expect_match "$err" '<stdin>:4:[0-9]+: expected 9 fields as in the header, found 3' "ragged row: line and column named"
run_in "$T/ragged.csv" ml-preprocess apply "$T/r-standard.json" --on-error skip --rejects "$T/rej.csv" -o "$T/ok.csv"
expect_rc 0 "--on-error skip goes on"
expect_eq "$(tail -1 "$T/rej.csv")" "1,2,3" "the bad row is kept verbatim in --rejects"
expect_eq "$(($(wc -l <"$T/ok.csv") - 1))" "804" "every good row is written"

# ---- split ----
run_in "$CARS" ml-preprocess split --train "$T/tr.csv" --validation "$T/va.csv" --test "$T/te.csv" --seed 7
expect_rc 0 "split exits 0"
for f in tr va te; do expect_eq "$(head -1 "$T/$f.csv")" "$(head -1 "$CARS")" "split: $f has the header"; done
cat <(tail -n +2 "$T/tr.csv") <(tail -n +2 "$T/va.csv") <(tail -n +2 "$T/te.csv") | sort >"$T/all.sorted"
tail -n +2 "$CARS" | sort >"$T/cars.sorted"
expect_file_eq "$T/all.sorted" "$T/cars.sorted" "split: every row lands in exactly one output"
ntr=$(($(wc -l <"$T/tr.csv") - 1))
expect_match "$ntr" '^(5[3-9][0-9]|60[0-9])$' "split: train share near 70% ($ntr of 804)"
cp "$T/tr.csv" "$T/tr.first"
ml-preprocess split --train "$T/tr.csv" --validation "$T/va.csv" --test "$T/te.csv" --seed 7 <"$CARS"
expect_file_eq "$T/tr.csv" "$T/tr.first" "split: same seed, same output"
ml-preprocess split --train "$T/tr.csv" --validation "$T/va.csv" --test "$T/te.csv" --seed 8 <"$CARS"
if cmp -s "$T/tr.csv" "$T/tr.first"; then not_ok "split: another seed, another split"; else ok "split: another seed, another split"; fi

ml-preprocess split --train "$T/tr.csv" --test "$T/te.csv" --ratios 0.5,0.5 --by make <"$CARS"
both=$(comm -12 <(tail -n +2 "$T/tr.csv" | cut -d, -f3 | sort -u) <(tail -n +2 "$T/te.csv" | cut -d, -f3 | sort -u))
expect_eq "$both" "" "split --by make: no make in both outputs"

awk 'BEGIN{print "id,x"; for(i=0;i<100000;i++) print i "," i%97}' >"$T/100k.csv"
ml-preprocess split --train "$T/tr.csv" --validation "$T/va.csv" --test "$T/te.csv" --seed 3 <"$T/100k.csv"
shares=$(for f in tr va te; do echo $(($(wc -l <"$T/$f.csv") - 1)); done | tr '\n' ' ')
expect_match "$(echo "$shares" | awk '{t=$1+$2+$3; d1=$1/t-0.7; d2=$2/t-0.15; d3=$3/t-0.15;
	print (t==100000 && d1*d1<1e-4 && d2*d2<1e-4 && d3*d3<1e-4) ? "within" : "off"}')" '^within$' \
	"split of 100,000 rows: every share within 1% of its ratio ($shares)"

run_in "$CARS" ml-preprocess split --train "$T/a" --test "$T/b" --ratios 0.6,0.6
expect_rc 64 "ratios that do not add up to 1 are a usage error"
run_in "$CARS" ml-preprocess split --train "$T/a"
expect_rc 64 "split with one output is a usage error"
run_in "$CARS" ml-preprocess frobnicate
expect_rc 64 "an unknown command exits 64"

# ---- the progress line: only when asked for, or on a terminal ----
run ml-preprocess fit --target price --progress "$CARS"
expect_match "$err" $'\rreading \\[#+\\] 100% ' "--progress draws a bar for a file of known size"
run ml-preprocess fit --target price "$CARS"
expect_no_match "$err" 'reading' "no progress line when stderr is not a terminal"
MLPIPE_PROGRESS=1 run ml-preprocess fit --target price --no-progress "$CARS"
expect_no_match "$err" 'reading' "--no-progress wins"

# ---- streaming: memory does not grow with the input ----
if [ -x /usr/bin/time ]; then
	awk 'BEGIN{srand(1); print "price,mileage,make"; for(i=0;i<400000;i++) printf "%d,%d,m%d\n", 1000+i%5000, i, i%30}' >"$T/big.csv"
	/usr/bin/time -f '%M' -o "$T/rss" ml-preprocess fit --target price <"$T/big.csv" >/dev/null
	rss=$(cat "$T/rss")
	expect_match "$rss" '^[0-9]+$' "fit reports its memory"
	if [ "$rss" -lt 40000 ]; then ok "fit on 400,000 rows stays under 40 MB (${rss} KB)"; else not_ok "fit memory" "${rss} KB"; fi
else
	ok "# SKIP memory check (no /usr/bin/time)"
fi
# ---- a big input is cut into parts, each transformed on a core: the same bytes and messages ----
awk 'NR == 1 || FNR > 1' $(yes "$CARS" | head -120) >"$T/big.csv"	# 96,480 rows, 4.4 MB
ml-preprocess fit --target price --scale standard -o "$T/parts-recipe.json" <"$CARS"
ml-preprocess apply -r "$T/parts-recipe.json" --keep make,type --threads 1 <"$T/big.csv" >"$T/apply1.csv"
ml-preprocess apply -r "$T/parts-recipe.json" --keep make,type --threads 2 <"$T/big.csv" >"$T/apply2.csv"
expect_file_eq "$T/apply2.csv" "$T/apply1.csv" "apply in parts on two threads: the same bytes as one thread (one-hot levels, kept columns)"
awk -F, -v OFS=, 'NR == 90001 { $2 = "lots" } 1' "$T/big.csv" >"$T/big-bad.csv"
run_in "$T/big-bad.csv" ml-preprocess apply -r "$T/parts-recipe.json" --threads 1 -o "$T/bad1.csv"
one=$err
run_in "$T/big-bad.csv" ml-preprocess apply -r "$T/parts-recipe.json" --threads 2 -o "$T/bad2.csv"
expect_rc 65 "apply in parts: a bad value in a late part exits 65"
expect_eq "$err" "$one" "... with one thread's message"
done_testing
