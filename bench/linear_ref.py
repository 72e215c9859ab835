"""The reference for the linear learner's benchmark: pandas read_csv and
scikit-learn Ridge on standardized features, whole process; prints the
training RMSE so the run can check both fitted the same model.

usage: linear_ref.py IN.csv WD
"""
import sys

import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge
from sklearn.preprocessing import StandardScaler

df = pd.read_csv(sys.argv[1])
y = df.pop("y").values
x = StandardScaler().fit_transform(df.values)
model = Ridge(alpha=len(y) * float(sys.argv[2])).fit(x, y)
print(f"{np.sqrt(np.mean((y - model.predict(x)) ** 2)):.10g}")
