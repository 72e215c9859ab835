"""The reference for ml-preprocess's benchmark: the same fit + apply in
pandas + scikit-learn, whole process, reading CSV and writing CSV.

usage: preprocess_ref.py IN.csv OUT.csv
"""
import sys

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

src, dst = sys.argv[1:3]
df = pd.read_csv(src)
y = df.pop("y")
categorical = [c for c in df.columns if df[c].dtype == object]
numeric = [c for c in df.columns if c not in categorical]
prep = ColumnTransformer([
    ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
    ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical),
])
x = prep.fit_transform(df)
out = pd.DataFrame(x, columns=prep.get_feature_names_out())
out.insert(0, "y", y)
out.to_csv(dst, index=False)
