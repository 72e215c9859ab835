"""Reference for ml-drift's distances (--numeric-method, --categorical-method),
computed with scipy/numpy on the raw rows.

usage: drift_methods_ref.py gen DIR
           writes DIR/base.csv (30000 rows) and DIR/cur.csv (20000 rows):
           numbers "steady" N(50, 10) in both, "shifted" N(50, 10) then
           N(56, 10); categories "tint" the same shares in both, "colour"
           with red going from 30% to 55% of the rows.
       drift_methods_ref.py check BASE.csv CUR.csv RECORDS.ndjson
           compares every record's distance (and p-value) with the reference
           and prints the worst difference per method; exit 1 if one is
           outside its tolerance.

Tolerances come from the sketch: ml-drift sees each numeric sample through
a KLL sketch (k = 2048), exact while it holds <= 2048 values, otherwise each
CDF value within EPS = 1.65/k (kll.h) of the true one.  So the CDF
difference D moves by at most eps_b + eps_c, a bucket's share by twice a
sample's eps, the Wasserstein area by (eps_b + eps_c) * (range) / std_dev,
PSI and JS by their gradient times the share errors (first order, with a 1.5
margin for the second), and the KS p-value stays between scipy's at D +/- the
D bound.  The KS p-value is ks_2samp's default method="auto": exact when
neither sample has more than 10000 values, else asymptotic.  Category counts are exact: chi-square, categorical PSI, JS and
L-infinity must agree to 1e-9.
"""
import csv
import json
import math
import sys

import numpy as np
from scipy import stats
from scipy.spatial import distance
from scipy.stats._stats_py import _attempt_exact_2kssamp  # ks_2samp's exact p-value at a given D

K = 2048
EPS = 1.65 / K
NBINS = 10
FLOOR = 1e-4
EXACT = 1e-9


def gen(d):
    rng = np.random.default_rng(20261125)

    def write(path, n, mu, red):
        steady = rng.normal(50, 10, n)
        shifted = rng.normal(mu, 10, n)
        tint = rng.choice(["pale", "deep", "matte"], n, p=[0.5, 0.3, 0.2])
        rest = (1 - red) / 3
        colour = rng.choice(["red", "blue", "green", "black"], n, p=[red, rest, rest, rest])
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["steady", "shifted", "tint", "colour"])
            for row in zip(steady, shifted, tint, colour):
                w.writerow([f"{row[0]:.6f}", f"{row[1]:.6f}", row[2], row[3]])

    write(f"{d}/base.csv", 30000, 50, 0.30)
    write(f"{d}/cur.csv", 20000, 56, 0.55)


def shares(x, lo, hi):
    width = (hi - lo) / NBINS
    b = np.floor((x - lo) / width) if width > 0 else np.zeros(len(x))
    b = np.clip(b, 0, NBINS - 1).astype(int)
    return np.bincount(b, minlength=NBINS) / len(x)


def psi(p, q):
    p = np.where(p == 0, FLOOR, p)
    q = np.where(q == 0, FLOOR, q)
    return float(np.sum((q - p) * np.log(q / p)))


def js(p, q):
    return float(distance.jensenshannon(p, q))


def grad_bound(f, p, q, dp, dq):
    """First-order bound of |f(p + e, q + e') - f(p, q)| for |e_i| <= dp, |e'_i| <= dq."""
    h = 1e-7
    base = f(p, q)
    total = 0.0
    for i in range(len(p)):
        if dp:
            e = np.zeros(len(p))
            e[i] = h
            total += abs(f(p + e, q) - base) / h * dp
        if dq:
            e = np.zeros(len(q))
            e[i] = h
            total += abs(f(p, q + e) - base) / h * dq
    return 1.5 * total


def numbers(col):
    return np.array([float(v) for v in col if v != ""])


def check(base_path, cur_path, records_path):
    base = list(csv.DictReader(open(base_path)))
    cur = list(csv.DictReader(open(cur_path)))
    worst = {}
    failed = []
    for line in open(records_path):
        r = json.loads(line)
        name, method = r["feature"], r["method"]
        a = [row[name] for row in base]
        b = [row[name] for row in cur]
        try:
            x, y = numbers(a), numbers(b)
            numeric = True
        except ValueError:
            numeric = False
        if numeric:
            ea = 0.0 if len(x) <= K else EPS
            eb = 0.0 if len(y) <= K else EPS
            d_tol = ea + eb
            lo, hi = x.min(), x.max()
            if method.startswith("linf"):
                want, tol = stats.ks_2samp(x, y).statistic, d_tol
            elif method == "ks":
                res = stats.ks_2samp(x, y)  # method="auto", as ml-drift
                want, tol = res.statistic, d_tol
                exact = max(len(x), len(y)) <= 10000
                if r["p_value_method"] != ("exact" if exact else "asymp"):
                    failed.append(f"{name} ks p-value method {r['p_value_method']}")
                n, m = sorted([float(len(x)), float(len(y))], reverse=True)
                en = np.round(n * m / (n + m))

                def p_at(d):
                    d = min(max(d, 0), 1)
                    if exact:
                        return _attempt_exact_2kssamp(len(x), len(y), math.gcd(len(x), len(y)), d, "two-sided")[2]
                    return stats.kstwo.sf(d, en)
                hi_p, lo_p = p_at(want - d_tol), p_at(want + d_tol)
                got = r["p_value"]
                ok = lo_p * (1 - EXACT) - 1e-300 <= got <= hi_p * (1 + EXACT) + 1e-300
                worst["ks p-value"] = max(worst.get("ks p-value", 0), abs(got - res.pvalue))
                if not ok:
                    failed.append(f"{name} ks p-value {got} outside [{lo_p}, {hi_p}] (scipy {res.pvalue})")
            elif method == "wasserstein":
                want = stats.wasserstein_distance(x, y) / x.std()
                tol = d_tol * (max(hi, y.max()) - min(lo, y.min())) / x.std()
            else:
                p, q = shares(x, lo, hi), shares(y, lo, hi)
                f = psi if method == "psi" else js
                want, tol = f(p, q), grad_bound(f, p, q, 2 * ea, 2 * eb)
        else:
            values = sorted(set(a) | set(b))
            ca = np.array([sum(v == s for v in a) for s in values], dtype=float)
            cb = np.array([sum(v == s for v in b) for s in values], dtype=float)
            tol = EXACT
            if method == "chi2":
                keep = (ca + cb) > 0
                chi = stats.chi2_contingency(np.array([ca[keep], cb[keep]]), correction=False)
                want = chi[0]
                rel = abs(r["p_value"] - chi[1]) / max(chi[1], 1e-300)
                worst["chi2 p-value (relative)"] = max(worst.get("chi2 p-value (relative)", 0), rel)
                if rel > EXACT:
                    failed.append(f"{name} chi2 p-value {r['p_value']} vs scipy {chi[1]}")
            else:
                p, q = ca / ca.sum(), cb / cb.sum()
                want = {"psi": psi, "js": js}.get(method, lambda p, q: float(np.max(np.abs(p - q))))(p, q)
        diff = abs(r["distance"] - want)
        key = method + (" (numeric)" if numeric else " (categorical)")
        worst[key] = max(worst.get(key, 0), diff)
        if diff > tol + EXACT * max(1, abs(want)):
            failed.append(f"{name} {method}: {r['distance']} vs {want} (tolerance {tol:.3g})")
    for k in sorted(worst):
        print(f"{k}: worst difference {worst[k]:.2e}")
    for f in failed:
        print("FAIL", f)
    return 1 if failed else 0


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2])
    else:
        sys.exit(check(*sys.argv[2:5]))
