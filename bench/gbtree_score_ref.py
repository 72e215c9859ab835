"""The reference for gbtree's whole-process scoring benchmark: pandas
read_csv, XGBoost's inplace_predict and to_csv, CSV in and CSV out like
ml-score (one "prediction" column).

usage: gbtree_score_ref.py MODEL.json IN.csv OUT.csv
"""
import sys

import pandas as pd
import xgboost as xgb

model, src, dst = sys.argv[1:4]
bst = xgb.Booster(model_file=model)
df = pd.read_csv(src)
x = df[bst.feature_names] if bst.feature_names else df.drop(columns=["y"], errors="ignore")
pred = bst.inplace_predict(x.to_numpy())
pd.DataFrame({"prediction": pred}).to_csv(dst, index=False)
