"""Reference for ml-preprocess: the same transformation with scikit-learn.

usage: preprocess_ref.py TRAIN.csv FEATURES.csv TARGET SCALE NUM_IMPUTE CAT_IMPUTE

Fits SimpleImputer + StandardScaler/MinMaxScaler on the numeric columns and
SimpleImputer + OneHotEncoder on the string columns of TRAIN (read with the
csv module: Debian's python3 may lack pandas), and compares every column of
ml-preprocess's output FEATURES by name.  Prints the largest difference and
exits 1 if it exceeds 1e-9.
"""
import csv
import sys

import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def is_number(s):
    try:
        float(s)
        return True
    except ValueError:
        return False


def main():
    train, features, target, scale, num_impute, cat_impute = sys.argv[1:7]
    header, rows = read(train)
    cols = {h: [r[i] for r in rows] for i, h in enumerate(header)}
    numeric = [h for h in header if h != target and all(v == "" or is_number(v) for v in cols[h])]
    categorical = [h for h in header if h != target and h not in numeric]

    ref = {}
    x = np.array([[float(v) if v != "" else np.nan for v in cols[h]] for h in numeric]).T
    if num_impute != "none":
        x = SimpleImputer(strategy=num_impute.replace("-", "_")).fit_transform(x)
    scaler = {"standard": StandardScaler(), "minmax": MinMaxScaler(), "none": None}[scale]
    if scaler is not None:
        x = scaler.fit_transform(x)
    for j, h in enumerate(numeric):
        ref[h] = x[:, j]

    c = np.array([[v if v != "" else None for v in cols[h]] for h in categorical], dtype=object).T
    if cat_impute != "none":
        c = SimpleImputer(strategy="most_frequent", missing_values=None).fit_transform(c)
    enc = OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(c)
    onehot = enc.transform(c)
    names = enc.get_feature_names_out(categorical)
    for j, name in enumerate(names):
        col, level = name.split("_", 1)
        if level == "None":  # not imputed: mlpipe keeps it missing in every column
            continue
        values = onehot[:, j].copy()
        values[c[:, categorical.index(col)] == None] = np.nan  # noqa: E711
        ref[col + "=" + level] = values

    out_header, out_rows = read(features)
    got = {h: np.array([float(r[i]) if r[i] != "" else np.nan for r in out_rows])
           for i, h in enumerate(out_header)}
    worst = 0.0
    for name, want in ref.items():
        if name not in got:
            print(f"missing feature {name}; have {sorted(got)}")
            return 1
        if not np.array_equal(np.isnan(got[name]), np.isnan(want)):
            print(f"{name}: missing values differ")
            return 1
        diff = np.abs(got[name] - want)
        worst = max(worst, float(np.max(diff[~np.isnan(diff)], initial=0.0)))
    extra = [h for h in got if h not in ref and h != target]
    for h in extra:  # only the "(other)" buckets, and all zero on the training data
        if not h.endswith("=(other)") or np.any(got[h][~np.isnan(got[h])] != 0):
            print(f"unexpected feature {h}")
            return 1
    print(f"features={len(ref)} rows={len(out_rows)} max_abs_diff={worst:.3g}")
    return 0 if worst <= 1e-9 else 1


sys.exit(main())
