"""XGBoost's side of the gbtree benchmark (bench/gbtree.sh), apart from
whole-process timings.

usage: gbtree_ref.py rmse MODEL.json TEST.csv
           XGBoost's test RMSE (label column y)
       gbtree_ref.py name MODEL.json OUT.json
           the model with feature names x1..xN (the CLI saves none), so
           ml-score can bind an imported model to the CSV's columns
       gbtree_ref.py kernel MODEL.json TEST.csv RUNS [PREDICTIONS]
           inplace_predict on the test rows in memory, one thread: prints
           "ROWS_PER_S ROWS SECONDS" (best of RUNS); with PREDICTIONS (one
           a line, e.g. tree_kernel's on the same model), also the largest
           relative difference from them
"""
import sys
import time

import numpy as np
import pandas as pd
import xgboost as xgb


def features(bst, df):
    """The model's features from df, as a C-ordered float32 matrix."""
    x = df[bst.feature_names] if bst.feature_names else df.drop(columns=["y"], errors="ignore")
    return np.ascontiguousarray(x.to_numpy(dtype=np.float32))


def main(argv):
    cmd, model = argv[1], argv[2]
    bst = xgb.Booster(model_file=model)
    if cmd == "rmse":
        df = pd.read_csv(argv[3])
        pred = bst.inplace_predict(features(bst, df)).astype(np.float64)
        print(f"{np.sqrt(np.mean((df['y'].to_numpy() - pred) ** 2)):.10g}")
    elif cmd == "name":
        bst.feature_names = [f"x{i + 1}" for i in range(bst.num_features())]
        bst.save_model(argv[3])
    elif cmd == "kernel":
        x = features(bst, pd.read_csv(argv[3]))
        bst.set_param({"nthread": 1})
        best = float("inf")
        for _ in range(int(argv[4])):
            t0 = time.perf_counter()
            pred = bst.inplace_predict(x)
            best = min(best, time.perf_counter() - t0)
        line = f"{len(x) / best:.0f} {len(x)} {best:.6f}"
        if len(argv) > 5:
            ours = np.loadtxt(argv[5])
            rel = np.abs(ours - pred) / np.maximum(np.abs(pred), 1e-6)
            line += f" {rel.max():.3g}"
        print(line)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
