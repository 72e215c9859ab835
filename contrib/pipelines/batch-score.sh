#!/bin/sh
# contrib/pipelines/batch-score.sh - the seed's batch transform: score one
# new file with the latest registered model and write the results beside it.
#
#   batch-score.sh CONFIG.yaml INPUT          (see batch-score.yaml)
#
# Made to run once per new file, from a trigger:
#
#   ml-watch /srv/ml/incoming --bookmark /srv/ml/incoming.seen --once |
#       xargs -n1 contrib/pipelines/batch-score.sh /etc/mlpipe/batch-score.yaml
#
# The model: pipeline.model, a registry reference (price, price@latest,
# price@best, price@3) fetched from pipeline.registry with its SHA-256
# checked, or a model file when no registry is set.  The scoring - input
# filter, join, output filter, kept columns, data capture - is the score:
# section's (ml-score's options).  The result goes to pipeline.output
# (a directory or s3:// prefix) as NAME.predictions.EXT for INPUT NAME.EXT.
#
# Prints the result's path.  Exit 0 when the file was scored; otherwise the
# failing tool's status (65 bad rows, 66 no such input or model, ...).
set -eu
. "$(dirname "$0")/lib.sh"
[ $# -eq 2 ] || { echo "usage: ${0##*/} CONFIG.yaml INPUT" >&2; exit 64; }
pipeline_config "$1"
input=$2

out=$(conf_need pipeline.output)
model=$(conf_need pipeline.model)
registry=$(conf_get pipeline.registry "")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mlpipe-batch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
if [ -n "$registry" ]; then
	ml-model fetch --config "$cfg" --registry "$registry" -o "$tmp/model.json" "$model"
	model=$tmp/model.json
fi

base=${input##*/}
stem=${base%.*}
ext=${base##*.}
[ "$stem" != "$base" ] && [ -n "$stem" ] || { stem=$base ext=csv; }
local_dir "$out"
result=${out%/}/$stem.predictions.$ext
ml-score --config "$cfg" -m "$model" -o "$result" "$input"
echo "$result"
