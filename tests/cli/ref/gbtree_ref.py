"""References for tests/cli/test_gbtree.sh (Debian's python3-xgboost 1.7).

  split CARS DIR [HOLES]     DIR/train.csv, DIR/test.csv: a fixed 80/20 split (every
                             5th row is test); HOLES: that share of mileage and make
                             blanked (seeded), so missing values are learned
  xgb DIR PARAMS_JSON        XGBoost hist on the same rows, categoricals one-hot as
                             pandas does (a missing category: missing in each of its
                             columns, as mlpipe's default recipe has it); prints the
                             test RMSE
  rmse PRED_CSV TEST_CSV     RMSE of ml-score's predictions
  metric NAME PRED_CSV DATA_CSV [PARAM]
                             the objective's metric by its definition, for
                             comparison with ml-train's last logged value
  coverage PRED_CSV DATA_CSV the share of labels below the predictions
  best LOG_NDJSON METRIC     the round with the least validation METRIC (1-based)
"""
import json
import sys

import numpy as np
import pandas as pd


def split(cars, out, holes=0.0):
    df = pd.read_csv(cars)
    if holes:
        rng = np.random.default_rng(7)
        df["mileage"] = df["mileage"].astype(float).mask(rng.random(len(df)) < holes)
        df["make"] = df["make"].mask(rng.random(len(df)) < holes)
    test = df.index % 5 == 0
    df[~test].to_csv(out + "/train.csv", index=False)
    df[test].to_csv(out + "/test.csv", index=False)


def xgb_rmse(out, params):
    import xgboost as xgb
    tr = pd.read_csv(out + "/train.csv")
    te = pd.read_csv(out + "/test.csv")
    raw = pd.concat([tr, te]).drop(columns=["price"])
    x = pd.get_dummies(raw, dtype=float)
    for col in raw.columns[raw.dtypes == object]:   # a missing category stays missing, as mlpipe's recipe has it
        x.loc[raw[col].isna().to_numpy(), [c for c in x.columns if c.startswith(col + "_")]] = np.nan
    xtr, xte = x[: len(tr)], x[len(tr):]
    p = dict(tree_method="hist", nthread=2)
    p.update(json.loads(params))
    rounds = p.pop("num_round")
    if p.get("base_score") == "mean":      # XGBoost 2.x's default; 1.7 starts at 0.5
        p["base_score"] = tr["price"].mean()
    bst = xgb.train(p, xgb.DMatrix(xtr, label=tr["price"]), rounds)
    pred = bst.predict(xgb.DMatrix(xte))
    print(f"{np.sqrt(np.mean((pred - te['price']) ** 2)):.6f}")


def predictions(pred_csv, data_csv):
    p = pd.read_csv(pred_csv)["prediction"].to_numpy()
    y = pd.read_csv(data_csv)["price"].to_numpy()
    return p, y


def metric(name, pred_csv, data_csv, param=None):
    p, y = predictions(pred_csv, data_csv)
    d = y - p
    if name == "mae":
        v = np.mean(np.abs(d))
    elif name == "mphe":
        s = float(param)
        v = np.mean(s * s * (np.sqrt(1 + (d / s) ** 2) - 1))
    elif name == "quantile":
        a = float(param)
        v = np.mean(np.where(d >= 0, a * d, (a - 1) * d))
    elif name == "tweedie-nloglik":
        rho = float(param)
        v = np.mean(-y * p ** (1 - rho) / (1 - rho) + p ** (2 - rho) / (2 - rho))
    else:
        v = np.sqrt(np.mean(d * d))
    print(f"{v:.10g}")


def main():
    cmd = sys.argv[1]
    if cmd == "split":
        split(sys.argv[2], sys.argv[3], float(sys.argv[4]) if len(sys.argv) > 4 else 0.0)
    elif cmd == "xgb":
        xgb_rmse(sys.argv[2], sys.argv[3])
    elif cmd == "rmse":
        p, y = predictions(sys.argv[2], sys.argv[3])
        print(f"{np.sqrt(np.mean((p - y) ** 2)):.6f}")
    elif cmd == "metric":
        metric(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] if len(sys.argv) > 5 else None)
    elif cmd == "coverage":
        p, y = predictions(sys.argv[2], sys.argv[3])
        print(f"{np.mean(y < p):.4f}")
    elif cmd == "best":
        rounds = [json.loads(line) for line in open(sys.argv[2]) if '"event":"round"' in line]
        key = "validation-" + sys.argv[3]
        print(min(rounds, key=lambda r: r[key])["round"])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
