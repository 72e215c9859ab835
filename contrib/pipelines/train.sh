#!/bin/sh
# contrib/pipelines/train.sh - the seed's training pipeline (a Step Functions
# state machine there) as one shell script of mlpipe filters.
#
#   train.sh CONFIG.yaml              (see train.yaml; runnable from cron)
#
# 1. ml-preprocess split: pipeline.input -> train/validation/test shares in
#    pipeline.workdir (the preprocess: section: seed, fractions, --by ...);
#    ml-preprocess fit: the feature recipe, on the training share only.
# 2. ml-train, once per pipeline.algorithms (default gbtree, then linear),
#    each with the train: section's hyperparameters and gate (max-rmse).
#    The candidates take turns: each must beat (--must-beat) the best so far,
#    starting from the registry's best when pipeline.registry is set.  The
#    winner is model.json.
# 3. ml-score --evaluate on the test share; ml-baseline of the training data
#    (baseline/, for data drift) and of the test predictions' quality
#    (quality/, for model drift).
# 4. With pipeline.registry: ml-model push --best, with baseline/.
# 5. ml-notify to the notify: section's destinations (if any): the new model,
#    or why every candidate was rejected.
#
# Prints the winning model's path.  Exit 0: a new model was accepted (and
# registered).  Exit 1: every candidate was rejected by a gate (the
# registry's best does not move).  Other statuses are the failing tool's
# (sysexits); 78 for a missing setting.
set -eu
. "$(dirname "$0")/lib.sh"
[ $# -eq 1 ] || { echo "usage: ${0##*/} CONFIG.yaml" >&2; exit 64; }
pipeline_config "$1"

input=$(conf_need pipeline.input)
work=$(conf_need pipeline.workdir)
target=$(conf_need pipeline.target)
registry=$(conf_get pipeline.registry "")
name=$(conf_get pipeline.model-name "$target")
algorithms=$(conf_get pipeline.algorithms "gbtree
linear")

mkdir -p "$work"
log=$work/train.log
: >"$log"
rm -f "$work/model.json" "$work/previous-best.json"

ml-preprocess split --config "$cfg" --train "$work/train.csv" --validation "$work/validation.csv" \
	--test "$work/test.csv" "$input"
ml-preprocess fit --config "$cfg" --target "$target" -o "$work/recipe.json" "$work/train.csv"

# The model to beat: the registry's best, if the name has one yet.
best=""
if [ -n "$registry" ]; then
	if ml-model fetch --config "$cfg" --registry "$registry" "$name@best" \
		-o "$work/previous-best.json" 2>"$work/fetch.err"; then
		best=$work/previous-best.json
	else
		rc=$?
		# 66: no such registry or name yet, a first run
		[ "$rc" -eq 66 ] || { cat "$work/fetch.err" >&2; exit "$rc"; }
	fi
fi
previous=$best

for algo in $algorithms; do
	set --
	[ -z "$best" ] || set -- --must-beat "$best"
	rc=0
	ml-train --config "$cfg" -a "$algo" --target "$target" --recipe "$work/recipe.json" \
		--validation "$work/validation.csv" "$@" -o "$work/$algo.json" "$work/train.csv" \
		2>>"$log" || rc=$?
	case $rc in
	0) best=$work/$algo.json ;;
	1) ;;	# rejected by a gate: the reason is in the log
	*) tail -n 5 "$log" >&2; exit "$rc" ;;
	esac
done

if [ "$best" = "$previous" ]; then
	{
		echo "train.sh: no new model for \"$name\": every candidate ($(echo $algorithms)) was rejected"
		grep '"event":"gate"' "$log" || true
	} | tee -a "$log" | notify --subject "mlpipe train: $name: rejected" || exit $?
	echo "train.sh: every candidate was rejected; see $log" >&2
	exit 1
fi
cp "$best" "$work/model.json"

ml-score --config "$cfg" -m "$work/model.json" --keep "$target" --evaluate "$target" \
	-o "$work/predictions.csv" "$work/test.csv" 2>>"$log"
ml-baseline --config "$cfg" -o "$work/baseline" "$work/train.csv"
ml-baseline --config "$cfg" --model-quality --label "$target" --prediction prediction \
	-o "$work/quality" "$work/predictions.csv"

registered=""
if [ -n "$registry" ]; then
	registered=$(ml-model push --config "$cfg" --registry "$registry" --name "$name" \
		--baseline "$work/baseline" --best "$work/model.json")
	echo "$registered" >>"$log"
fi

{
	echo "train.sh: new model for \"$name\": $(basename "$best" .json)${registry:+, registered in $registry}"
	[ -z "$registered" ] || echo "$registered"
	grep '"event":"evaluation"' "$log" || true
} | notify --subject "mlpipe train: $name: new model" || exit $?
echo "$work/model.json"
