#!/bin/sh
# contrib/pipelines/monitor.sh - the seed's monitoring pipeline: check new
# data against the training baseline, and the model's quality where the true
# values are known; write a report; alert when something drifted.
#
#   monitor.sh CONFIG.yaml                   (see monitor.yaml; for cron)
#
# 1. The baseline: the data baseline registered with pipeline.model in
#    pipeline.registry (ml-model fetch --baseline-out, SHA-256 checked), or
#    the directory pipeline.baseline.
# 2. ml-drift of pipeline.input (a file, or a folder of ml-score --capture
#    files) against it, with the drift: section's settings, incrementally
#    when pipeline.bookmark is set (only data that arrived since the last
#    run), into pipeline.workdir/RUN/ (constraint_violations.json,
#    drift.ndjson, report.html with the drift history of earlier runs).
# 3. Model drift, when pipeline.label is set: ml-drift --model-quality of
#    pipeline.quality-input (default pipeline.input), rows holding the true
#    value pipeline.label and the model's pipeline.prediction (default
#    prediction), against pipeline.quality-baseline (train.sh's quality/);
#    with pipeline.ground-truth (and pipeline.join-on) the labels come from
#    that file instead (ml-drift --ground-truth, once it is built: #7).
# 4. ml-notify of the violations to the notify: section's destinations.
#
# Prints the run's directory.  Exit 0: no drift, no violation.  Exit 1: drift
# or violations found (and the alert delivered).  Other statuses are the
# failing tool's (sysexits); 78 for a missing setting.
set -eu
. "$(dirname "$0")/lib.sh"
[ $# -eq 1 ] || { echo "usage: ${0##*/} CONFIG.yaml" >&2; exit 64; }
pipeline_config "$1"

input=$(conf_need pipeline.input)
work=$(conf_need pipeline.workdir)
registry=$(conf_get pipeline.registry "")
bookmark=$(conf_get pipeline.bookmark "")
label=$(conf_get pipeline.label "")

run=$work/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$run"
if [ -n "$registry" ]; then
	model=$(conf_need pipeline.model)
	ml-model fetch --config "$cfg" --registry "$registry" -o "$run/model.json" \
		--baseline-out "$run/baseline" "$model"
	baseline=$run/baseline
else
	baseline=$(conf_need pipeline.baseline)
fi

set --
[ -z "$bookmark" ] || set -- --bookmark "$bookmark"
drift=0
ml-drift --config "$cfg" -b "$baseline" -o "$run" --report "$run/report.html" \
	--history "$work/history.ndjson" "$@" "$input" >"$run/drift.ndjson" || drift=$?
[ "$drift" -le 1 ] || exit "$drift"
cat "$run/drift.ndjson" >>"$work/history.ndjson"

quality=0
if [ -n "$label" ]; then
	qbase=$(conf_need pipeline.quality-baseline)
	qinput=$(conf_get pipeline.quality-input "$input")
	prediction=$(conf_get pipeline.prediction prediction)
	truth=$(conf_get pipeline.ground-truth "")
	set --
	[ -z "$truth" ] || set -- --ground-truth "$truth" --join-on "$(conf_need pipeline.join-on)"
	ml-drift --config "$cfg" --model-quality --label "$label" --prediction "$prediction" \
		-b "$qbase" -o "$run/model-quality" "$@" "$qinput" >"$run/model-quality.ndjson" || quality=$?
	[ "$quality" -le 1 ] || exit "$quality"
fi

if [ "$drift" -eq 1 ]; then
	notify "$run/constraint_violations.json" || exit $?
fi
if [ "$quality" -eq 1 ]; then
	notify --subject "mlpipe monitor: model quality: {{violations}}" \
		"$run/model-quality/constraint_violations.json" || exit $?
fi
echo "$run"
[ "$drift" -eq 0 ] && [ "$quality" -eq 0 ]
