#!/usr/bin/env bash
# ml-drift --numeric-method / --categorical-method: PSI, KS p-value, Wasserstein,
# Jensen-Shannon and chi-square against scipy/numpy on generated data with a
# known shift (tests/cli/ref/drift_methods_ref.py: tolerances from the sketch's
# error bound), and on small samples the sketch holds exactly (1e-9).
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3
REF=$ROOT/tests/cli/ref/drift_methods_ref.py
$PY "$REF" gen "$T"
ml-baseline -o "$T/bl" <"$T/base.csv"
flagged() { $PY -c 'import json,sys
print(" ".join(r["feature"] for r in map(json.loads, open(sys.argv[1])) if r["drifted"]))' "$1"; }

for pair in "linf linf" "psi psi" "ks chi2" "wasserstein js" "js linf"; do
	set -- $pair
	run ml-drift -b "$T/bl" -o "$T/o" --numeric-method "$1" --categorical-method "$2" "$T/cur.csv"
	expect_rc 1 "$1/$2: the shifted data drifts (exit 1)"
	printf '%s\n' "$out" >"$T/r.ndjson"
	expect_eq "$(flagged "$T/r.ndjson")" "shifted colour" "$1/$2: exactly the shifted number and category drift"
	expect_match "$(head -1 "$T/r.ndjson")" "\"method\":\"$([ "$1" = linf ] && echo linf_robust || echo "$1")\"" \
		"$1/$2: the record names the method"
	run $PY "$REF" check "$T/base.csv" "$T/cur.csv" "$T/r.ndjson"
	expect_rc 0 "$1/$2: distances agree with scipy within the sketch's bound: $(echo $out | tr '\n' ' ')"
	run_in "$T/base.csv" ml-drift -b "$T/bl" -o "$T/o" --numeric-method "$1" --categorical-method "$2"
	expect_rc 0 "$1/$2: the baseline's own data does not drift"
done

# Samples of at most 2048 values: the sketch is exact, so is every figure.
head -n 2001 "$T/base.csv" >"$T/bs.csv"
head -n 1501 "$T/cur.csv" >"$T/cs.csv"
ml-baseline -o "$T/bls" <"$T/bs.csv"
for pair in "ks chi2" "psi psi" "wasserstein js" "js linf"; do
	set -- $pair
	ml-drift -b "$T/bls" -o "$T/o" --numeric-method "$1" --categorical-method "$2" "$T/cs.csv" >"$T/r.ndjson" 2>/dev/null
	run $PY "$REF" check "$T/bs.csv" "$T/cs.csv" "$T/r.ndjson"
	expect_rc 0 "$1/$2 on exact sketches: $(echo $out | tr '\n' ' ')"
done
# 5000 and 4000 values: sketched, yet scipy's "auto" is exact there, and so is ml-drift's p-value.
head -n 5001 "$T/base.csv" >"$T/bm.csv"
head -n 4001 "$T/cur.csv" >"$T/cm.csv"
ml-baseline -o "$T/blm" <"$T/bm.csv"
ml-drift -b "$T/blm" -o "$T/o" --numeric-method ks --categorical-method chi2 "$T/cm.csv" >"$T/r.ndjson" 2>/dev/null
run $PY "$REF" check "$T/bm.csv" "$T/cm.csv" "$T/r.ndjson"
expect_rc 0 "ks/chi2 on 5000 and 4000 rows (exact p-value at the sketch's D): $(echo $out | tr '\n' ' ')"
ml-drift -b "$T/bls" -o "$T/o" --numeric-method ks "$T/cs.csv" >"$T/r0.ndjson" 2>/dev/null
expect_eq "$($PY -c 'import json,sys,csv
from scipy.stats import ks_2samp
r = [r for r in map(json.loads, open(sys.argv[1])) if r["feature"] == "steady"][0]
a = [float(x["steady"]) for x in csv.DictReader(open(sys.argv[2]))]
b = [float(x["steady"]) for x in csv.DictReader(open(sys.argv[3]))]
want = ks_2samp(a, b).pvalue
print("ok" if abs(r["p_value"] - want) <= 1e-9 * want and 0.01 < want < 0.99 and r["p_value_method"] == "exact" else (r["p_value"], want))' "$T/r0.ndjson" "$T/bs.csv" "$T/cs.csv")" ok \
	"a KS p-value away from 0 and 1 (2000 and 1500 values: exact) equals scipy's ks_2samp default to 1e-9"

# Thresholds: per type, each method's own default otherwise.
run ml-drift -b "$T/bl" -o "$T/o" --numeric-method psi --numeric-threshold 5 --categorical-method psi --categorical-threshold 5 "$T/cur.csv"
expect_rc 0 "--numeric-threshold and --categorical-threshold override the defaults"
expect_match "$out" '"method":"psi","distance":[0-9.e-]+,"threshold":5' "the record carries the threshold used"
run ml-drift -b "$T/bl" -o "$T/o" --numeric-method ks "$T/cur.csv"
expect_match "$out" '"feature":"shifted","method":"ks",.*"threshold":0.05,.*"p_value":' "ks: p-value and the 0.05 default"
expect_match "$(cat "$T/o/constraint_violations.json")" 'Kolmogorov-Smirnov test p-value: .* is below threshold: 0.05' "ks: the violation says p < threshold"
run ml-drift -b "$T/bl" -o "$T/o" --numeric-method chi2 "$T/cur.csv"
expect_rc 64 "chi2 is not a numeric method (64)"
run ml-drift -b "$T/bl" -o "$T/o" --categorical-method ks "$T/cur.csv"
expect_rc 64 "ks is not a categorical method (64)"
done_testing
