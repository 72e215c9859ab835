"""The reference for ml-baseline's benchmark: pandas describe() and numpy
quantiles of every column, whole process.

usage: baseline_ref.py IN.csv
"""
import sys

import numpy as np
import pandas as pd

df = pd.read_csv(sys.argv[1])
summary = df.describe()
quantiles = {c: np.quantile(df[c].dropna(), [0.1, 0.25, 0.5, 0.75, 0.9]) for c in df.columns}
print(len(summary.columns), len(quantiles))
