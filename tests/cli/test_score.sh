#!/usr/bin/env bash
# ml-score with several models: --combine and --each, models with different recipes.
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3
CARS=$DATA/used_cars.csv

ml-train -a linear --target price --wd 0.01 -o "$T/a.json" <"$CARS" 2>/dev/null
ml-preprocess fit --target price --drop make --numeric-impute mean -o "$T/r2.json" <"$CARS"
ml-train -a linear --target price --wd 0.1 --recipe "$T/r2.json" -o "$T/b.json" <"$CARS" 2>/dev/null
ml-train -a linear --target price --wd 1 -o "$T/c.json" <"$CARS" 2>/dev/null
for m in a b c; do ml-score -m "$T/$m.json" <"$CARS" | tail -n +2 >"$T/$m.pred"; done
paste -d, "$T/a.pred" "$T/b.pred" "$T/c.pred" >"$T/all.pred"

for how in mean max min median sum; do
	run_in "$CARS" ml-score -m "$T/a.json" -m "$T/b.json" -m "$T/c.json" --combine $how --each
	expect_rc 0 "--combine $how exits 0"
	printf '%s\n' "$out" | tail -n +2 >"$T/got.csv"
	run $PY -c '
import statistics, sys
how = sys.argv[1]
f = {"mean": statistics.fmean, "max": max, "min": min, "median": statistics.median, "sum": sum}[how]
worst = 0.0
for want, got in zip(open(sys.argv[2]), open(sys.argv[3])):
    p = [float(v) for v in want.split(",")]
    g = [float(v) for v in got.split(",")]
    assert g[:3] == p, (g, p)          # --each: each model as scored alone
    worst = max(worst, abs(g[3] - f(p)) / abs(f(p)))
print(f"{worst:.1e}")
sys.exit(0 if worst < 1e-12 else 1)
' $how "$T/all.pred" "$T/got.csv"
	expect_rc 0 "--combine $how --each: each model's prediction as alone, combined as Python's $how ($out)"
done
run_in "$CARS" ml-score -m "$T/a.json" -m "$T/b.json" --each --keep make
expect_eq "$(printf '%s\n' "$out" | head -1)" "make,prediction_1,prediction_2,prediction" "--each column names"
expect_eq "$(($(printf '%s\n' "$out" | wc -l) - 1))" "804" "one row out per row in"
run_in "$CARS" ml-score -m "$T/a.json" -m "$T/b.json" --evaluate price -o /dev/null
expect_match "$err" '"event":"evaluation"' "--evaluate scores the combined prediction"

awk 'NR == 1 || NR > 1' "$CARS" "$CARS" "$CARS" "$CARS" "$CARS" | awk 'NR == 1 || !/^price/' >"$T/many.csv"
ml-score -m "$T/a.json" -m "$T/b.json" --each --keep make --threads 1 <"$T/many.csv" >"$T/t1.csv"
ml-score -m "$T/a.json" -m "$T/b.json" --each --keep make --threads 4 --batch-size 1000 <"$T/many.csv" >"$T/t4.csv"
expect_file_eq "$T/t4.csv" "$T/t1.csv" "--threads 4 writes the same bytes as --threads 1"

# ---- a big input is cut into parts, each scored on a core: the same bytes and messages as one thread ----
awk 'NR == 1 || FNR > 1' $(yes "$CARS" | head -120) >"$T/big.csv"	# 96,480 rows, 4.4 MB: five parts
ml-score -m "$T/a.json" -m "$T/b.json" --each --keep make,type --threads 1 <"$T/big.csv" >"$T/big1.csv"
ml-score -m "$T/a.json" -m "$T/b.json" --each --keep make,type --threads 2 <"$T/big.csv" >"$T/big2.csv"
expect_file_eq "$T/big2.csv" "$T/big1.csv" "in parts on two threads: the same bytes as one thread, categories kept"
expect_eq "$(wc -l <"$T/big2.csv")" "96481" "... every row once"
ml-score -m "$T/a.json" --join-source input --output-filter '$[0,2,-1]' --threads 1 <"$T/big.csv" >"$T/join1.csv"
ml-score -m "$T/a.json" --join-source input --output-filter '$[0,2,-1]' --threads 2 <"$T/big.csv" >"$T/join2.csv"
expect_file_eq "$T/join2.csv" "$T/join1.csv" "in parts: a join with the input and an output filter, the same bytes"
awk -F, -v OFS=, 'NR == 90001 { $2 = "lots" } 1' "$T/big.csv" >"$T/bad.csv"	# in the last part
run_in "$T/bad.csv" ml-score -m "$T/a.json" --threads 1 -o "$T/bad1.csv"
one=$err
run_in "$T/bad.csv" ml-score -m "$T/a.json" --threads 2 -o "$T/bad2.csv"
expect_rc 65 "a bad value in a late part exits 65"
expect_eq "$err" "$one" "... with the message one thread gives"
expect_match "$err" '<stdin>:90001:[0-9]+: .*"lots"' "... naming its line and the value"
awk -F, -v OFS=, 'NR > 50000 { $4 = "\"" $4 ", 4 doors\"" } 1' "$T/big.csv" >"$T/quoted.csv"	# quotes from 2.3 MB on
ml-score -m "$T/a.json" --keep type --threads 1 <"$T/quoted.csv" >"$T/q1.csv"
ml-score -m "$T/a.json" --keep type --threads 2 <"$T/quoted.csv" >"$T/q2.csv"
expect_file_eq "$T/q2.csv" "$T/q1.csv" "quoted fields past the first parts: read on by one reader, the same bytes"
expect_match "$(sed -n 50001p "$T/q2.csv")" '^"sedan, 4 doors",' "... the quoted field read whole"

# ---- a co-process (--line-buffered) gets each answer before it sends the next row ----
mkfifo "$T/to" "$T/from"
ml-score -m "$T/a.json" --line-buffered --batch-size 1 <"$T/to" >"$T/from" &
cop=$!
exec 7>"$T/to" 8<"$T/from"
head -2 "$CARS" >&7
IFS= read -r -t 10 hdr <&8
IFS= read -r -t 10 first <&8
expect_eq "$hdr" "prediction" "co-process: the header comes before more input"
expect_match "$first" '^[0-9]+\.[0-9]+$' "co-process: the first row is answered while the writer waits"
sed -n 3p "$CARS" >&7
IFS= read -r -t 10 second <&8
expect_match "$second" '^[0-9]+\.[0-9]+$' "co-process: and the next"
exec 7>&- 8<&-
wait "$cop"
expect_eq "$?" "0" "co-process: exits 0 when its input closes"
expect_eq "$(($(wc -l <"$T/t1.csv") - 1))" "$(($(wc -l <"$T/many.csv") - 1))" "every row of a multi-batch input is scored"

# A model that reads "doors" as categorical cannot share a batch with one reading it as a number.
ml-preprocess fit --target price --categorical doors --numeric-impute mean --categorical-impute most-frequent \
	-o "$T/r3.json" <"$CARS"
ml-train -a linear --target price --wd 0.1 --recipe "$T/r3.json" -o "$T/d.json" <"$CARS" 2>/dev/null
run_in "$CARS" ml-score -m "$T/a.json" -m "$T/d.json"
expect_rc 65 "models disagreeing on a column's type exit 65"
expect_match "$err" 'read column "doors" as numeric and categorical' "the disagreement is named"
done_testing
