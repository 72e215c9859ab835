"""Reference for XGBoost interop: Debian's python3-xgboost (1.7) trains and predicts.

usage:
  xgboost_ref.py train DATA.csv TARGET OUTDIR [OPTIONS]
      Train XGBoost (hist) on DATA's numeric columns but TARGET (missing
      values kept missing) and write OUTDIR/m.json (save_model) and
      OUTDIR/pred.csv (a "prediction" column for every row of DATA, from
      Booster.predict).  OPTIONS: --rounds N (20), --depth N (4),
      --objective NAME (reg:squarederror), --no-names (a model without
      feature names), --booster NAME (gbtree), --categorical COL (an
      enable_categorical model splitting on COL's codes).
  xgboost_ref.py predict MODEL.json DATA.csv OUT.csv
      Load MODEL.json (e.g. written by ml-train --export-xgboost) with
      xgb.Booster(model_file=...) and write its predictions for DATA's
      columns named by the model's feature_names, in that order.
  xgboost_ref.py compare GOT.csv WANT.csv TOL
      Compare the "prediction" columns row by row: prints the largest
      relative difference |got - want| / max(|want|, 1e-12) and exits 1
      above TOL (or when the row counts differ).
"""
import argparse
import os
import sys

import numpy as np
import pandas as pd
import xgboost as xgb


def write_predictions(path, pred):
    with open(path, "w") as f:
        f.write("prediction\n")
        for p in pred:
            f.write(f"{float(p):.9g}\n")


def train(args):
    os.makedirs(args.outdir, exist_ok=True)
    df = pd.read_csv(args.data)
    y = df[args.target].to_numpy(dtype=float)
    x = df.drop(columns=[args.target]).select_dtypes("number")
    if args.categorical:
        x = x.copy()
        x[args.categorical] = df[args.categorical].astype("category")
    dm = xgb.DMatrix(x if not args.no_names else x.to_numpy(dtype=float), label=y,
                     missing=np.nan, enable_categorical=bool(args.categorical))
    params = {"tree_method": "hist", "max_depth": args.depth, "eta": 0.3, "seed": 0,
              "objective": args.objective, "booster": args.booster, "nthread": 1}
    bst = xgb.train(params, dm, num_boost_round=args.rounds)
    bst.save_model(f"{args.outdir}/m.json")
    write_predictions(f"{args.outdir}/pred.csv", bst.predict(dm))


def predict(args):
    bst = xgb.Booster(model_file=args.model)
    names = bst.feature_names
    df = pd.read_csv(args.data)
    dm = xgb.DMatrix(df[names].to_numpy(dtype=float), missing=np.nan, feature_names=names)
    write_predictions(args.out, bst.predict(dm))


def compare(args):
    got = pd.read_csv(args.got)["prediction"].to_numpy(dtype=float)
    want = pd.read_csv(args.want)["prediction"].to_numpy(dtype=float)
    if len(got) != len(want):
        print(f"rows: got {len(got)}, want {len(want)}")
        sys.exit(1)
    rel = np.abs(got - want) / np.maximum(np.abs(want), 1e-12)
    worst = float(rel.max()) if len(rel) else 0.0
    print(f"rows={len(got)} max_rel_diff={worst:.3g}")
    sys.exit(0 if worst <= float(args.tol) else 1)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("data")
    t.add_argument("target")
    t.add_argument("outdir")
    t.add_argument("--rounds", type=int, default=20)
    t.add_argument("--depth", type=int, default=4)
    t.add_argument("--objective", default="reg:squarederror")
    t.add_argument("--booster", default="gbtree")
    t.add_argument("--no-names", action="store_true")
    t.add_argument("--categorical")
    p = sub.add_parser("predict")
    p.add_argument("model")
    p.add_argument("data")
    p.add_argument("out")
    c = sub.add_parser("compare")
    c.add_argument("got")
    c.add_argument("want")
    c.add_argument("tol")
    args = ap.parse_args()
    {"train": train, "predict": predict, "compare": compare}[args.cmd](args)


if __name__ == "__main__":
    main()
