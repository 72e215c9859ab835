"""Check ml-drift's distances: numeric features against scipy's two-sample
KS statistic (the L-infinity distance of the CDFs; exact while the sketch
holds every value), categorical ones against the largest difference of a
value's share.

usage: drift_ref.py BASELINE.csv CURRENT.csv RECORDS.ndjson
"""
import csv
import json
import sys

from scipy.stats import ks_2samp

base = list(csv.DictReader(open(sys.argv[1])))
cur = list(csv.DictReader(open(sys.argv[2])))
worst = 0.0
for line in open(sys.argv[3]):
    r = json.loads(line)
    name = r["feature"]
    a = [row[name] for row in base]
    b = [row[name] for row in cur]
    try:
        want = ks_2samp([float(v) for v in a], [float(v) for v in b]).statistic
    except ValueError:
        share = lambda xs, v: sum(x == v for x in xs) / len(xs)
        want = max(abs(share(a, v) - share(b, v)) for v in set(a) | set(b))
    worst = max(worst, abs(r["distance"] - want))
print(f"worst difference {worst:.1e}")
sys.exit(0 if worst < 1e-12 else 1)
