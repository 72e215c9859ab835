#!/bin/sh
# tests/data/xgboost/make.sh - the XGBoost fixtures of tests/unit/test_xgboost.c,
# made with Debian's python3-xgboost 1.7 by tests/cli/ref/xgboost_ref.py:
#   cars.csv           the numeric columns of the first 200 rows of
#                      tests/data/used_cars.csv, some cells blanked (missing)
#   model.json         save_model() of 10 rounds of depth 3 on cars.csv (price)
#   pred.csv           XGBoost's predictions for every row of cars.csv
#   tweedie.json, tweedie_pred.csv    the same with reg:tweedie, no feature names
set -eu
cd "$(dirname "$0")"
ref=../../cli/ref/xgboost_ref.py
awk -F, 'BEGIN { OFS = "," }
	NR == 1 { print $1, $2, $5, $6, $7, $8, $9; next }
	NR <= 201 {
		if (NR % 7 == 0) $2 = ""
		if (NR % 11 == 0) $5 = ""
		if (NR % 5 == 0) $9 = ""
		print $1, $2, $5, $6, $7, $8, $9
	}' ../used_cars.csv > cars.csv
tmp=$(mktemp -d)
/usr/bin/python3 $ref train cars.csv price "$tmp" --rounds 10 --depth 3
mv "$tmp/m.json" model.json; mv "$tmp/pred.csv" pred.csv
/usr/bin/python3 $ref train cars.csv price "$tmp" --rounds 10 --depth 3 --objective reg:tweedie --no-names
mv "$tmp/m.json" tweedie.json; mv "$tmp/pred.csv" tweedie_pred.csv
rmdir "$tmp"
