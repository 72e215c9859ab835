"""Check ml-baseline's statistics.json and constraints.json against numpy.

usage: baseline_ref.py DATA.csv DIR
Counts must be exact, mean/sum/std_dev/min/max equal numpy's (population
std) to 1e-9 relative, KLL bucket counts must add up to the present count,
string value counts exact; constraints follow the statistics.  Prints what
it checked; exits 1 on the first difference.
"""
import csv
import json
import math
import sys

import numpy as np

data, out = sys.argv[1:3]
rows = list(csv.DictReader(open(data, newline="")))
stats = json.load(open(f"{out}/statistics.json"))
cons = json.load(open(f"{out}/constraints.json"))


def fail(msg):
    print(msg)
    sys.exit(1)


def close(a, b):
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))


if stats["dataset"]["item_count"] != len(rows):
    fail("item_count")
by_name = {f["name"]: f for f in cons["features"]}
for f in stats["features"]:
    name = f["name"]
    values = [r[name] for r in rows]
    present = [v for v in values if v not in ("", "NA")]
    c = by_name[name]
    if not close(c["completeness"], len(present) / len(values)):
        fail(f"{name}: completeness {c['completeness']}")
    if "numerical_statistics" in f:
        s = f["numerical_statistics"]
        x = np.array([float(v) for v in present])
        if s["common"] != {"num_present": len(x), "num_missing": len(values) - len(x)}:
            fail(f"{name}: counts {s['common']}")
        for key, want in (("mean", x.mean()), ("sum", x.sum()), ("std_dev", x.std()),
                          ("min", x.min()), ("max", x.max())):
            if not close(s[key], float(want)):
                fail(f"{name}: {key} {s[key]} != {want}")
        buckets = s["distribution"]["kll"]["buckets"]
        if len(buckets) != 10 or sum(b["count"] for b in buckets) != len(x):
            fail(f"{name}: buckets")
        want_type = "Integral" if all(float(v).is_integer() for v in present) else "Fractional"
        if f["inferred_type"] != want_type:
            fail(f"{name}: inferred_type {f['inferred_type']}")
        if c["num_constraints"]["is_non_negative"] != bool(x.min() >= 0):
            fail(f"{name}: is_non_negative")
    else:
        s = f["string_statistics"]
        counts = {}
        for v in present:
            counts[v] = counts.get(v, 0) + 1
        got = {b["value"]: b["count"] for b in s["distribution"]["categorical"]["buckets"]}
        if got != counts or s["distinct_count"] != len(counts):
            fail(f"{name}: value counts")
        if sorted(c["string_constraints"]["domains"]) != sorted(counts):
            fail(f"{name}: domains")
mc = cons["monitoring_config"]
if mc["distribution_constraints"]["comparison_method"] != "Robust" or not math.isclose(
        mc["distribution_constraints"]["comparison_threshold"], 0.1):
    fail("monitoring_config")
print(f"{len(stats['features'])} features checked")
