#!/usr/bin/env bash
# Scale-out (README "Scale-out"): batch scoring and baselining fanned out over
# shards with GNU parallel --pipe and with xargs -P, the shard baselines
# merged with ml-baseline --merge.  The scored rows must be byte-identical to
# the single-process run, in order; the merged statistics equal to the
# single-process baseline's (counts, min, max and category counts exactly;
# sums, means and std_dev to 1e-12 relative, since shard sums are added in
# another order; the KLL quantile sketch within its rank-error bound).
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3
CARS=$DATA/used_cars.csv
cd "$T" || exit 1

# 30 copies of the cars with the mileage shifted per copy: 24,120 rows, enough
# distinct values for the sketches (k = 2048) to compact, as on real data.
awk -F, 'BEGIN {OFS = ","} NR == 1 {h = $0; next} {row[NR] = $0}
	END {print h; for (c = 0; c < 30; c++) for (i = 2; i <= NR; i++) {split(row[i], f, ","); f[2] += c * 37;
	     $0 = ""; for (j = 1; j <= 9; j++) $j = f[j]; print}}' "$CARS" >big.csv
expect_eq "$(wc -l <big.csv | tr -d ' ')" 24121 "the test data: 24,120 rows and a header"
ml-train --target price --num_round 20 -o model.json <"$CARS" 2>/dev/null

# The single-process reference.
ml-score -m model.json --keep make <big.csv >single.csv
ml-baseline -o single <big.csv
header=$(head -1 big.csv | ml-score -m model.json --keep make)
expect_eq "$header" "make,prediction" "a header alone scores to the output's header"

# check_baseline DIR NAME: DIR's statistics against single/'s.
check_baseline() {
	local problems
	problems=$("$PY" - single/statistics.json "$1/statistics.json" big.csv <<'PYEOF'
import csv, json, math, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
rows = list(csv.DictReader(open(sys.argv[3])))
bad = []
if a["dataset"]["item_count"] != b["dataset"]["item_count"]:
    bad.append("item_count %s != %s" % (a["dataset"]["item_count"], b["dataset"]["item_count"]))
fb = {f["name"]: f for f in b["features"]}
worst = 0.0
for fa in a["features"]:
    f = fb.get(fa["name"])
    if f is None or f["inferred_type"] != fa["inferred_type"]:
        bad.append("%s: missing or another type" % fa["name"]); continue
    if "numerical_statistics" in fa:
        sa, sb = fa["numerical_statistics"], f["numerical_statistics"]
        for k in ("num_present", "num_missing"):
            if sa["common"][k] != sb["common"][k]: bad.append("%s.%s" % (fa["name"], k))
        for k in ("min", "max"):
            if sa[k] != sb[k]: bad.append("%s.%s %r != %r" % (fa["name"], k, sa[k], sb[k]))
        # Shard sums added in another order than one running sum: equal to
        # the last digits of the 15 printed (e.g. 514796627.4 / 514796627.399999).
        for k in ("sum", "mean", "std_dev"):
            if not math.isclose(sa[k], sb[k], rel_tol=1e-12, abs_tol=1e-12):
                bad.append("%s.%s %r != %r" % (fa["name"], k, sa[k], sb[k]))
        # Every item of the merged sketch: its estimated rank against its true rank.
        sk = sb["distribution"]["kll"]["sketch"]
        items = sorted((x, 2 ** lvl) for lvl, level in enumerate(sk["data"]) for x in level)
        n = sum(w for _, w in items)
        if n != sb["common"]["num_present"]: bad.append("%s: sketch weight %d" % (fa["name"], n))
        true = sorted(float(r[fa["name"]]) for r in rows)
        import bisect
        acc = 0
        for x, w in items:
            acc += w
            lo, hi = bisect.bisect_left(true, x), bisect.bisect_right(true, x)
            err = 0 if lo <= acc <= hi else min(abs(acc - lo), abs(acc - hi))
            worst = max(worst, err / n)
    else:
        ca = {x["value"]: x["count"] for x in fa["string_statistics"]["distribution"]["categorical"]["buckets"]}
        cb = {x["value"]: x["count"] for x in f["string_statistics"]["distribution"]["categorical"]["buckets"]}
        if ca != cb: bad.append("%s: category counts differ" % fa["name"])
        if fa["string_statistics"]["distinct_count"] != f["string_statistics"]["distinct_count"]:
            bad.append("%s.distinct_count" % fa["name"])
# KLL with k = 2048: each cumulative share within about 1.65/2048 of the truth.
if worst > 1.65 / 2048: bad.append("a quantile's rank error %.5f is above 1.65/2048" % worst)
print("; ".join(bad))
print("worst rank error %.6f" % worst, file=sys.stderr)
PYEOF
) || problems="the check itself failed: $problems"
	expect_eq "$problems" "" "$2: the merged baseline equals the single-process one"
}

# ---- GNU parallel --pipe: shards of 5,000 rows, each with the header ----
if command -v parallel >/dev/null 2>&1; then
	{ echo "$header"; parallel --pipe --header 1 -N 5000 --keep-order -j 2 \
		'ml-score -m model.json --keep make | tail -n +2' <big.csv; } >parallel.csv
	expect_file_eq parallel.csv single.csv "parallel --pipe: the scored rows are byte-identical, in order"
	mkdir pshards
	parallel --pipe --header 1 -N 5000 -j 2 'ml-baseline -o pshards/{#}' <big.csv
	expect_eq "$(ls pshards | wc -l | tr -d ' ')" 5 "parallel --pipe: five shard baselines"
	run ml-baseline --merge -o pmerged pshards/*
	expect_rc 0 "ml-baseline --merge of the shards exits 0"
	check_baseline pmerged "parallel --pipe"
else
	echo "ok - # SKIP GNU parallel is not installed (make deps installs it)"
fi

# ---- xargs -P over shard files ----
tail -n +2 big.csv | split -l 5000 -d -a 2 --filter='{ head -1 big.csv; cat; } >$FILE.csv' - shard-
expect_eq "$(ls shard-*.csv | wc -l | tr -d ' ')" 5 "split: five shard files"
ls shard-*.csv | xargs -P 2 -I{} sh -c 'ml-score -m model.json --keep make {} | tail -n +2 >{}.scored'
{ echo "$header"; cat shard-*.csv.scored; } >xargs.csv
expect_file_eq xargs.csv single.csv "xargs -P: the scored rows are byte-identical, in order"
ls shard-*.csv | xargs -P 2 -I{} ml-baseline -o {}.baseline {}
run ml-baseline --merge -o xmerged shard-*.csv.baseline
expect_rc 0 "ml-baseline --merge of the xargs shards exits 0"
check_baseline xmerged "xargs -P"

# A shard baseline of other columns is refused, not merged.
cut -d, -f1-3 shard-00.csv | ml-baseline -o narrow
run ml-baseline --merge -o bad shard-01.csv.baseline narrow
expect_rc 65 "merging baselines of different columns exits 65"
done_testing
