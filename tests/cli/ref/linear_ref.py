"""Reference for the linear learner: scikit-learn's Ridge on standardized data.

usage: linear_ref.py FEATURES.csv MODEL.json PREDICTIONS.csv WD TARGET

FEATURES is ml-preprocess apply's output (label and features), MODEL the
ml-train model trained on the same rows, PREDICTIONS ml-score's output.
Compares the coefficients in standardized units (Ridge with alpha = n * wd)
and the predictions, relative to their scale; prints the worst difference
and exits 1 above 1e-6.
"""
import csv
import json
import sys

import numpy as np
from sklearn.linear_model import Ridge
from sklearn.preprocessing import StandardScaler

features, model, predictions, wd, target = sys.argv[1:6]
with open(features, newline="") as f:
    rows = list(csv.reader(f))
header, data = rows[0], np.array(rows[1:], dtype=float)
t = header.index(target)
y = data[:, t]
x = np.delete(data, t, axis=1)
n = len(y)

scaler = StandardScaler().fit(x)
ridge = Ridge(alpha=n * float(wd)).fit(scaler.transform(x), y)

m = json.load(open(model))["model"]
ours_std = np.array(m["weights"]) * scaler.scale_  # back to standardized units
coef_err = np.max(np.abs(ours_std - ridge.coef_)) / np.max(np.abs(ridge.coef_))

with open(predictions, newline="") as f:
    pred = np.array([float(r["prediction"]) for r in csv.DictReader(f)])
want = ridge.predict(scaler.transform(x))
pred_err = np.max(np.abs(pred - want)) / np.max(np.abs(want))
rmse = float(np.sqrt(np.mean((y - want) ** 2)))
print(f"coef_rel_err={coef_err:.2e} pred_rel_err={pred_err:.2e} ridge_rmse={rmse:.6g}")
sys.exit(0 if coef_err <= 1e-6 and pred_err <= 1e-6 else 1)
