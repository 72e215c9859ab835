#!/bin/sh
# contrib/pipelines/train.sh - the seed's training pipeline (a Step Functions
# state machine there) as one shell script of mlpipe filters.
#
#   train.sh RAW.csv OUTDIR [MAX_RMSE [REGISTRY]]
#
# Splits the raw rows 70/15/15, trains the linear learner on the training
# share, gates it on the validation RMSE (exit 1 when it is above MAX_RMSE),
# scores the test share, and writes the data baseline that monitoring
# compares new data with.  With a REGISTRY (a directory or s3:// prefix,
# see ml-model(1)), the model must also beat the registry's best "price"
# model on the same validation rows (exit 1 otherwise), and an accepted one
# is registered there as the new latest and best.  Every step is a filter; the first failure stops
# the pipeline with that filter's exit status.
set -eu
raw=$1 out=$2 max_rmse=${3:-1e300} registry=${4:-}
mkdir -p "$out"
set --
[ -z "$registry" ] || set -- --registry "$registry" --must-beat best
ml-preprocess split --train "$out/train.csv" --validation "$out/validation.csv" \
	--test "$out/test.csv" --seed 1 "$raw"
ml-train -a linear --target price --wd 0.001 --validation "$out/validation.csv" \
	--max-rmse "$max_rmse" "$@" -o "$out/model.json" "$out/train.csv" 2>"$out/metrics.ndjson"
ml-score -m "$out/model.json" --keep make --evaluate price -o "$out/predictions.csv" \
	"$out/test.csv" 2>>"$out/metrics.ndjson"
ml-baseline -o "$out/baseline" "$out/train.csv"
echo "$out/model.json"
