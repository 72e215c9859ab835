#!/bin/sh
# contrib/pipelines/monitor.sh - the seed's monitoring pipeline: check new
# data against the training baseline and alert when it drifted.  For cron:
#
#   0 * * * *  contrib/pipelines/monitor.sh /srv/ml/baseline /srv/ml/new.csv file:/var/log/ml-alerts.jsonl
#
#   monitor.sh BASELINE_DIR INPUT DESTINATION...
#
# Exit 0: no drift.  Exit 1: drift found and the alert delivered.  Other
# statuses are errors (sysexits), from ml-drift or ml-notify.
set -u
baseline=$1 input=$2
shift 2
report=$(mktemp -d "${TMPDIR:-/tmp}/mlpipe-monitor.XXXXXX")
trap 'rm -rf "$report"' EXIT
ml-drift -b "$baseline" -o "$report" "$input" >"$report/drift.ndjson"
status=$?
[ "$status" -eq 0 ] && exit 0
[ "$status" -ne 1 ] && exit "$status"
to=""
for d in "$@"; do to="$to --to $d"; done
# shellcheck disable=SC2086 # one --to per destination, by design
ml-notify $to "$report/constraint_violations.json" || exit $?
exit 1
