"""Test RMSE of scikit-learn's Ridge on the used-car split, against mlpipe's.

usage: linear_split_ref.py TRAIN.csv TEST.csv MLPIPE_RMSE
Same features as ml-train's default recipe for linear (mean imputation,
one-hot), standardized, Ridge(alpha = n * 0.001); exits 1 if mlpipe's test
RMSE is not within 1% of it.
"""
import csv, sys
import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
def load(p):
    rows = list(csv.DictReader(open(p)))
    y = np.array([float(r.pop("price")) for r in rows])
    return rows, y
tr, ytr = load(sys.argv[1]); te, yte = load(sys.argv[2])
num = ["mileage", "cylinder", "doors", "cruise", "sound", "leather"]; cat = ["make", "type"]
def frame(rows):
    return np.array([[float(r[c]) for c in num] + [r[c] for c in cat] for r in rows], dtype=object)
pre = ColumnTransformer([("n", SimpleImputer(strategy="mean"), list(range(6))),
                         ("c", OneHotEncoder(handle_unknown="ignore", sparse_output=False), [6, 7])])
xtr = pre.fit_transform(frame(tr)).astype(float); xte = pre.transform(frame(te)).astype(float)
sc = StandardScaler().fit(xtr)
m = Ridge(alpha=len(ytr) * 0.001).fit(sc.transform(xtr), ytr)
ref = float(np.sqrt(np.mean((yte - m.predict(sc.transform(xte))) ** 2)))
ours = float(sys.argv[3])
print(f"mlpipe {ours:.6g} ridge {ref:.6g}")
sys.exit(0 if abs(ours - ref) / ref < 0.01 else 1)
