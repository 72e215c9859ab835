#!/bin/sh
# contrib/docker/entrypoint.sh - mlpipe as a SageMaker bring-your-own
# container: SageMaker runs the image as "docker run IMAGE train" for a
# training job and "docker run IMAGE serve" for an endpoint.
#
#   train   reads   $SM_ROOT/input/config/hyperparameters.json (optional)
#                   $SM_ROOT/input/data/train/       (required: CSV or NDJSON files)
#                   $SM_ROOT/input/data/validation/  (optional)
#           writes  $SM_ROOT/model/model.json, and on failure
#                   $SM_ROOT/output/failure (the reason; SageMaker shows it)
#   serve   exec ml-score --serve 0.0.0.0:8080 -m $SM_ROOT/model/model.json
#   other   run as a command (ml-train --help, sh, ...)
#
# SM_ROOT defaults to /opt/ml; tests point it at a temporary tree.
#
# hyperparameters.json holds SageMaker's strings.  Besides the algorithm's
# own (num_round, eta, max_depth, ... for gbtree; epochs, wd, ... for
# linear), mlpipe reads and removes these:
#   algorithm   gbtree (default) or linear
#   target      the label column of CSV files with a header or of NDJSON;
#               without it the files are SageMaker's CSV: no header, label
#               in the first column
#   max_rmse    a gate: the job fails when the validation RMSE is above it
set -eu
root=${SM_ROOT:-/opt/ml}

fail() { # message
	mkdir -p "$root/output"
	printf '%s\n' "$1" >"$root/output/failure"
	echo "mlpipe-entrypoint: $1" >&2
	exit "${2:-1}"
}

# channel NAME OUT: the channel's files as one file (a header kept once);
# 1 when the channel is missing or empty.
channel() {
	dir=$root/input/data/$1
	[ -d "$dir" ] || return 1
	files=$(find "$dir" -type f ! -name '.*' | LC_ALL=C sort)
	[ -n "$files" ] || return 1
	# shellcheck disable=SC2086
	if [ "$header" = yes ]; then
		awk 'FNR == 1 && NR != 1 { next } { print }' $files >"$2"
	else
		cat $files >"$2"
	fi
}

hp_get() { jq -r --arg k "$1" '.[$k] // empty | tostring' "$hp"; }

train() {
	work=$(mktemp -d "${TMPDIR:-/tmp}/mlpipe-train.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	hp=$root/input/config/hyperparameters.json
	[ -f "$hp" ] || { echo '{}' >"$work/empty.json"; hp=$work/empty.json; }
	jq -e 'type == "object"' "$hp" >/dev/null 2>&1 ||
		fail "$hp is not a JSON object of hyperparameters" 78
	algorithm=$(hp_get algorithm)
	target=$(hp_get target)
	max_rmse=$(hp_get max_rmse)
	jq 'del(.algorithm, .target, .max_rmse)' "$hp" >"$work/hyperparameters.json"
	set -- --algorithm "${algorithm:-gbtree}" --hyperparameters "$work/hyperparameters.json"
	if [ -n "$target" ]; then
		header=yes
		set -- "$@" --target "$target"
	else
		header=no
		set -- "$@" --no-header --target c0
	fi
	[ -z "$max_rmse" ] || set -- "$@" --max-rmse "$max_rmse"
	channel train "$work/train.data" || fail "no training data: $root/input/data/train/ is missing or empty" 66
	if channel validation "$work/validation.data"; then
		set -- "$@" --validation "$work/validation.data"
	fi
	mkdir -p "$root/model"
	# Metrics (JSON lines) and messages go to stderr, which SageMaker keeps in CloudWatch.
	status=0
	ml-train "$@" -o "$work/model.json" "$work/train.data" 2>"$work/stderr" || status=$?
	cat "$work/stderr" >&2
	if [ "$status" -ne 0 ]; then
		reason=$(grep -v '^{' "$work/stderr" | tail -n 5)
		fail "ml-train exited $status: ${reason:-see the job's log}" "$status"
	fi
	mv "$work/model.json" "$root/model/model.json"
}

case ${1:-} in
train)
	shift
	train "$@"
	;;
serve)
	shift
	exec ml-score --serve "${SM_SERVE_ADDR:-0.0.0.0:8080}" -m "$root/model/model.json" "$@"
	;;
"")
	echo "usage: entrypoint.sh train|serve|COMMAND [ARG]..." >&2
	exit 64
	;;
*)
	exec "$@"
	;;
esac
