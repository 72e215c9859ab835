"""Ground truth joined to predictions, for ml-drift --ground-truth's tests.

usage: truth_ref.py check PRED GT KEY LABEL PREDICTION RECORD
       (PRED, GT: CSV or NDJSON; RECORD: ml-drift's NDJSON line.  The inner
        join on KEY, computed with pandas, scored with scikit-learn; exit 1
        when ml-drift's metrics or counts differ)
       truth_ref.py capture SCORED.csv KEY LABEL PREDICTION DIR GT.ndjson
       (SCORED's rows as SageMaker capture records of one row each under DIR,
        keyed by inferenceId on even rows and by eventId on odd ones; and
        their labels as SageMaker ground-truth records, in reverse order)
"""
import json
import math
import os
import sys

import pandas as pd
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score


def load(path, key):
    with open(path) as f:
        first = f.read(1)
    df = pd.read_json(path, lines=True) if first == "{" else pd.read_csv(path, dtype={key: str})
    df[key] = df[key].astype(str)
    return df


def check(pred_path, gt_path, key, label, prediction, record_path):
    pred = load(pred_path, key)[[key, prediction]].dropna()
    gt = load(gt_path, key)[[key, label]].dropna()
    joined = pred.merge(gt, on=key, how="inner")
    y, f = joined[label].to_numpy(float), joined[prediction].to_numpy(float)
    want = {"mae": mean_absolute_error(y, f), "mse": mean_squared_error(y, f),
            "rmse": math.sqrt(mean_squared_error(y, f)), "r2": r2_score(y, f)}
    rec = json.loads(open(record_path).read())
    got = {k: v["value"] for k, v in rec["regression_metrics"].items()}
    fails = [f"{k}: {got[k]!r} vs scikit-learn {want[k]!r}" for k in want
             if not math.isclose(got[k], want[k], rel_tol=1e-9, abs_tol=1e-12)]
    gtj = rec["ground_truth"]
    counts = {"matched": len(joined), "without_ground_truth": len(pred) - len(joined), "labels": len(gt)}
    fails += [f"{k}: {gtj[k]} vs {v}" for k, v in counts.items() if gtj[k] != v]
    if rec["dataset"]["item_count"] != len(joined):
        fails.append(f"item_count {rec['dataset']['item_count']} vs {len(joined)}")
    print(f"{len(joined)} joined, {counts['without_ground_truth']} without ground truth; "
          + ", ".join(f"{k} {want[k]:.10g}" for k in want))
    for m in fails:
        print("FAIL", m)
    return 1 if fails else 0


def capture(scored, key, label, prediction, out, gt_path):
    df = pd.read_csv(scored, dtype={key: str})
    features = [c for c in df.columns if c not in (key, label, prediction)]
    d = f"{out}/2026/11/25/10"
    os.makedirs(d, exist_ok=True)
    with open(f"{d}/capture.jsonl", "w") as f:
        for i, row in enumerate(df.itertuples(index=False)):
            r = row._asdict()
            x = ",".join(str(r[c]) for c in features) + "\n"
            meta = {"eventId": f"ev-{r[key]}", "inferenceTime": "2026-11-25T10:00:00Z"}
            if i % 2 == 0:
                meta["inferenceId"] = r[key]
            else:
                meta["eventId"] = r[key]
            rec = {"captureData": {
                "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": x, "encoding": "CSV"},
                "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT",
                                   "data": repr(r[prediction]) + "\n", "encoding": "CSV"}},
                "eventMetadata": meta, "eventVersion": "0"}
            f.write(json.dumps(rec) + "\n")
    with open(gt_path, "w") as f:
        for row in reversed(list(df.itertuples(index=False))):
            r = row._asdict()
            f.write(json.dumps({"groundTruthData": {"data": repr(r[label]), "encoding": "CSV"},
                                "eventMetadata": {"eventId": r[key]}, "eventVersion": "0"}) + "\n")
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "check":
        sys.exit(check(*sys.argv[2:8]))
    sys.exit(capture(*sys.argv[2:8]))
