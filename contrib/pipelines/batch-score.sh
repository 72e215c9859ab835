#!/bin/sh
# contrib/pipelines/batch-score.sh - the seed's batch transform: score one
# new file of cars with the current model, keeping the make beside each
# prediction; made to run once per new file, e.g.
#
#   ls incoming/*.csv | xargs -n1 contrib/pipelines/batch-score.sh model.json out/
#
# (ml-watch, which prints each new file once across restarts, comes with
# issue #9.)
#
#   batch-score.sh MODEL OUTDIR INPUT
set -eu
model=$1 out=$2 input=$3
mkdir -p "$out"
ml-score -m "$model" --keep make -o "$out/$(basename "$input" .csv).predictions.csv" "$input"
