#!/usr/bin/env bash
# tests/cli/test_registry.sh - the model registry: ml-model push / list / show /
# promote / fetch, SHA-256 checks, ml-train --registry and --must-beat, and
# consistency after kill -9 at every step of a registration (and at random).
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3
CARS=$DATA/used_cars.csv
cd "$T" || exit 1

# JSON member of a document on stdin, by a Python expression on "d".
jget() { "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

ml-preprocess split --seed 7 --train train.csv --validation valid.csv <"$CARS" 2>/dev/null
ml-train --target price --num_round 3 -o weak.json <train.csv 2>/dev/null
ml-train --target price --num_round 60 -o strong.json <train.csv 2>/dev/null
ml-baseline --schema strong.json -o baseline <train.csv 2>/dev/null
[ -s weak.json ] && [ -s strong.json ] && [ -s baseline/statistics.json ] ||
	not_ok "setup: models and baseline trained" "$(ls -la)"

# ---- push / list / show ----
run ml-model push weak.json --registry reg
expect_rc 0 "push exits 0"
expect_match "$out" '^\{"name":"price","version":1,"sha256":"[0-9a-f]{64}","uri":"reg/price/1/model.json","latest":true,"best":true\}$' \
	"push prints the new version; the name defaults to the target; the first version is the best"
expect_eq "$(sha256sum <reg/price/1/model.json | cut -c1-64)" "$(sha256sum <weak.json | cut -c1-64)" \
	"the registered model is the pushed file byte for byte"
run ml-model push strong.json -r reg --name price --baseline baseline
expect_rc 0 "push with --baseline exits 0"
expect_match "$out" '"version":2,.*"latest":true,"best":false' "a second version moves latest, not best"
expect_file_eq reg/price/2/baseline/statistics.json baseline/statistics.json "the baseline files are registered"
run ml-model push strong.json -r reg --name other-model
expect_rc 0 "push under another name"

run ml-model list -r reg
expect_rc 0 "list exits 0"
expect_eq "$out" "$(printf 'NAME\tVERSIONS\tLATEST\tBEST\nother-model\t1\t1\t1\nprice\t2\t2\t1')" "list shows each name's versions and pointers"
run ml-model list -r reg --json
expect_match "$out" '^\{"name":"other-model","versions":1,"latest":1,"best":1\}' "list --json gives JSON lines"
run ml-model list -r no-such-dir
expect_rc 66 "list of a registry directory that does not exist exits 66"
expect_match "$err" 'no-such-dir: no such registry' "the missing registry is named"
run ml-model list -r reg price
expect_match "$out" $'\n1\t[0-9T:Z-]+\tregistered\tgbtree\t[0-9.]+\t[0-9a-f]{12}\tbest\n2\t.*\tlatest$' "list NAME shows each version"

run ml-model show -r reg price@best
expect_rc 0 "show NAME@best exits 0"
expect_eq "$(echo "$out" | jget 'd["version"], d["best"], d["latest"], d["status"]')" "(1, True, False, 'registered')" \
	"show price@best is version 1"
expect_eq "$(echo "$out" | jget 'd["metrics"]["train"]["rmse"]')" "$(jget 'd["metrics"]["train"]["rmse"]' <weak.json)" \
	"the index keeps the model's metrics"
run ml-model show -r reg price
expect_eq "$(echo "$out" | jget 'd["version"], d["latest"], sorted(d["files"])')" \
	"(2, True, ['baseline/constraints.json', 'baseline/statistics.json', 'model.json'])" \
	"show NAME is the latest, with its files"
run ml-model show -r reg price@9
expect_rc 66 "show of a version that does not exist exits 66"
expect_match "$err" '"price" has no version 9' "the missing version is named"
run ml-model show -r reg nosuch
expect_rc 66 "show of a name that does not exist exits 66"
expect_match "$err" 'no model named "nosuch"' "the missing name is named"
run ml-model show -r reg 'bad/name'
expect_rc 64 "a bad model name exits 64"
run ml-model show price
expect_rc 64 "a command without --registry exits 64"
expect_match "$err" 'a registry is required' "the missing --registry is named"
MLPIPE_MODEL_REGISTRY=reg run ml-model show price@1
expect_rc 0 "MLPIPE_MODEL_REGISTRY names the registry"
printf 'model:\n  registry: reg\n' >conf.yaml
run ml-model list --config conf.yaml price
expect_rc 0 "the model: section of --config names the registry"
run ml-model
expect_rc 64 "ml-model without a command exits 64"
run ml-model frobnicate -r reg
expect_rc 64 "an unknown command exits 64"
expect_match "$err" 'unknown command "frobnicate"' "the unknown command is named"
run ml-model push garbage.json -r reg
expect_rc 66 "push of a missing file exits 66"
echo '{"not": "a model"}' >bad.json
run ml-model push bad.json -r reg --name price
expect_rc 65 "push of a file that is not a model exits 65"
run ml-model list -r reg price --json
expect_eq "$(echo "$out" | wc -l)" 2 "a refused push registers nothing"

# ---- fetch and SHA-256 ----
run ml-model fetch -r reg price@1 -o f1.json
expect_rc 0 "fetch exits 0"
expect_file_eq f1.json weak.json "fetch writes the registered model"
run ml-model fetch -r reg price@best
expect_eq "$out" "$(cat weak.json)" "fetch without -o writes standard output"
run ml-model fetch -r reg price --baseline-out bl -o f2.json
expect_file_eq bl/constraints.json baseline/constraints.json "fetch --baseline-out writes the baseline files"
run ml-model fetch -r reg price@1 --baseline-out bl1 -o /dev/null
expect_rc 66 "fetch --baseline-out of a version without a baseline exits 66"
run_in "$CARS" ml-score -m f2.json --evaluate price -o /dev/null
expect_rc 0 "a fetched model scores"

cp reg/price/1/model.json saved.json
sed "1s/{/{ /" saved.json >reg/price/1/model.json
run ml-model fetch -r reg price@1 -o tampered.json
expect_rc 65 "fetch of a model whose bytes changed exits 65"
expect_match "$err" 'SHA-256 mismatch: the registry says [0-9a-f]{64}, the file has [0-9a-f]{64}' "the mismatch is reported"
if [ -e tampered.json ]; then not_ok "nothing is written when the SHA-256 differs"; else ok "nothing is written when the SHA-256 differs"; fi
cp saved.json reg/price/1/model.json
cp reg/price/index.json saved-index.json
sed 's/"registered"/"accepted"/' saved-index.json >reg/price/index.json
run ml-model show -r reg price@1
expect_rc 65 "an index.json edited by hand is refused (65)"
cp saved-index.json reg/price/index.json

# ---- promote ----
run ml-model promote -r reg price@2
expect_rc 0 "promote exits 0"
expect_match "$out" '"version":2,.*"latest":true,"best":true' "promote makes the version the best"
run ml-model show -r reg price@best
expect_eq "$(echo "$out" | jget 'd["version"]')" 2 "best is now version 2"
run ml-model promote -r reg price@7
expect_rc 66 "promote of a missing version exits 66"
run ml-model promote -r reg price
expect_rc 64 "promote without a version exits 64"
run ml-model promote -r reg price@1
expect_rc 0 "promote back to version 1 (a rollback)"

# ---- ml-train --registry and --must-beat ----
run_in train.csv ml-train --target price --num_round 3 --validation valid.csv --registry treg -o t1.json
expect_rc 0 "ml-train --registry exits 0"
expect_match "$err" '\{"name":"price","version":1,.*"latest":true,"best":true,"event":"registered"\}' \
	"ml-train says what it registered"
run_in train.csv ml-train --target price --num_round 60 --validation valid.csv --registry treg --must-beat best -o t2.json
expect_rc 0 "a model better than the best is accepted"
expect_match "$err" '\{"event":"gate","accepted":true,"must_beat":"price@1","rmse":[0-9.e+]+,"data":"validation","other_rmse":[0-9.e+]+\}' \
	"the accepted gate is a JSON event"
run ml-model show -r treg price@best
expect_eq "$(echo "$out" | jget 'd["version"], d["status"], d["gate"]["must_beat"]')" "(2, 'accepted', 'price@1')" \
	"best moved to the better model, with the comparison in the index"
run_in train.csv ml-train --target price --num_round 2 --validation valid.csv --registry treg --must-beat best -o t3.json
expect_rc 1 "a model worse than the best is rejected (exit 1)"
expect_match "$err" 'gate: rejected: validation RMSE [0-9.]+ is not below price@2.s [0-9.]+ on the same validation data' \
	"the reason is on stderr"
gate_line=$(echo "$err" | grep '"event":"gate"')
expect_match "$err" '\{"event":"gate","accepted":false,"must_beat":"price@2",' "the rejection is a JSON event"
if [ -s t3.json ]; then ok "a rejected model is still written to -o"; else not_ok "a rejected model is still written to -o"; fi
run ml-model list -r treg --json
expect_eq "$out" '{"name":"price","versions":2,"latest":2,"best":2}' "a rejected model is not registered and best does not move"

# The best is scored on the same rows: its own validation RMSE, as ml-score computes it.
best_rmse=$(echo "$gate_line" | jget 'd["other_rmse"]')
score_rmse=$(ml-score -m t2.json --evaluate price -o /dev/null <valid.csv 2>&1 | grep '"evaluation"' | jget 'd["rmse"]')
if awk -v a="$best_rmse" -v b="$score_rmse" 'BEGIN { d = a - b; exit !(d < 1e-6 * b && -d < 1e-6 * b) }'; then
	ok "the best's RMSE is its RMSE on the validation file ($best_rmse)"
else
	not_ok "the best's RMSE is its RMSE on the validation file" "gate $best_rmse, ml-score $score_rmse"
fi

run ml-train --target price --num_round 2 --must-beat t2.json train.csv -o /dev/null
expect_rc 1 "--must-beat FILE without --validation compares on the training file"
expect_match "$err" 'on the same training data \(no --validation was given\)' "the message says the training data was used"
run ml-train --target price --num_round 60 --must-beat t1.json --validation valid.csv train.csv -o /dev/null
expect_rc 0 "--must-beat FILE accepts a better model"
run_in train.csv ml-train --target price --must-beat best
expect_rc 64 "--must-beat best without --registry exits 64"
run_in train.csv ml-train --target price --must-beat t1.json
expect_rc 64 "--must-beat on standard input without --validation exits 64"
run_in train.csv ml-train --target price --num_round 60 --validation valid.csv --max-rmse 1 --registry treg -o /dev/null
expect_rc 1 "a model the --max-rmse gate rejects exits 1"
run ml-model list -r treg --json
expect_eq "$out" '{"name":"price","versions":2,"latest":2,"best":2}' "a model rejected by --max-rmse is not registered"
run_in train.csv ml-train --target price --num_round 3 --registry treg --model-name cars -o /dev/null
expect_rc 0 "--model-name names the model in the registry"
run ml-model list -r treg
expect_match "$out" $'\ncars\t1\t1\t1\n' "the model is registered under --model-name"

# ---- push --best: a model compared by other means becomes the best at once ----
run ml-model push weak.json -r breg --name price
run ml-model push strong.json -r breg --name price
expect_match "$out" '"version":2,.*"best":false' "without --best a later version does not move best"
run ml-model push strong.json -r breg --name price --best
expect_rc 0 "push --best exits 0"
expect_match "$out" '"version":3,.*"latest":true,"best":true' "push --best moves best to the new version"
expect_eq "$(ml-model show price@best -r breg | jget 'd["version"]')" 3 "show price@best is version 3"
run ml-model push weak.json -r fresh-breg --name price --best
expect_match "$out" '"version":1,.*"best":true' "push --best of a first version"

# ---- config: a pipeline's settings for shell scripts ----
cat >p.yaml <<'YAML'
pipeline:
  registry: models/
  model_name: price
  unset:
  algorithms: [gbtree, linear]
  nested: {a: b}
train: {num_round: 10}
YAML
run ml-model config p.yaml pipeline.registry
expect_rc 0 "config prints a set key: exit 0"
expect_eq "$out" "models/" "config prints the value"
run ml-model config p.yaml pipeline.model-name
expect_eq "$out" "price" "config: '-' and '_' match alike"
run ml-model config p.yaml pipeline.algorithms
expect_eq "$out" "$(printf 'gbtree\nlinear')" "config prints a list one item a line"
run ml-model config p.yaml train.num_round
expect_eq "$out" "10" "config reads any tool's section too"
run ml-model config p.yaml pipeline.missing
expect_rc 1 "config of a missing key exits 1"
expect_eq "$out$err" "" "and prints nothing"
run ml-model config p.yaml pipeline.unset
expect_rc 1 "config of a null key exits 1 (unset)"
run ml-model config p.yaml pipeline.missing --default 'a b'
expect_rc 0 "config --default of a missing key exits 0"
expect_eq "$out" "a b" "and prints the default"
MLPIPE_PIPELINE_REGISTRY=s3://b/m run ml-model config p.yaml pipeline.registry
expect_eq "$out" "s3://b/m" "MLPIPE_PIPELINE_REGISTRY wins over the file"
MLPIPE_PIPELINE_REGISTRY= run ml-model config p.yaml pipeline.registry --default x
expect_rc 0 "an empty environment variable is a value"
expect_eq "$out" "" "an empty environment variable wins over the file and the default"
run ml-model config p.yaml pipeline.nested
expect_rc 78 "config of a mapping exits 78"
expect_match "$err" 'pipeline\.nested is a mapping' "the message says why"
run ml-model config no-such.yaml pipeline.registry
expect_rc 66 "config of a missing file exits 66"
printf 'pipeline: [unclosed\n' >bad.yaml
run ml-model config bad.yaml pipeline.registry
expect_rc 78 "config of a malformed file exits 78"
expect_match "$err" 'bad\.yaml:[0-9]+:[0-9]+' "with the line and column"
run ml-model config p.yaml
expect_rc 64 "config without a key exits 64"

# An XGBoost model enters the registry under a name; it cannot be the --must-beat yet.
ml-train --target price --num_round 5 --export-xgboost xgb.json -o /dev/null <train.csv 2>/dev/null
run ml-model push xgb.json -r treg
expect_rc 64 "push of an XGBoost model without --name exits 64 (it names no target)"
run ml-model push xgb.json -r treg --name xgb
expect_rc 0 "push of an XGBoost model with --name"
run_in train.csv ml-train --target price --num_round 5 --validation valid.csv --registry treg --model-name xgb --must-beat best -o /dev/null
expect_rc 69 "--must-beat an imported XGBoost model is not supported yet (69)"
expect_match "$err" 'is not supported yet' "and says so"

cp treg/price/2/model.json saved2.json
sed "1s/{/{ /" saved2.json >treg/price/2/model.json
run_in train.csv ml-train --target price --num_round 60 --validation valid.csv --registry treg --must-beat best -o /dev/null
expect_rc 65 "--must-beat best refuses a best whose SHA-256 differs (65)"
cp saved2.json treg/price/2/model.json

# contrib/pipelines/train.sh with a registry (a worse model rejected, kill -9
# while it registers): tests/cli/test_pipelines.sh.

# ---- kill -9 in the middle of a registration ----
# consistent REG NAME: every file whole, every version's model matching its
# SHA-256 and loadable, every pointer naming a version in the index.
consistent() {
	local reg=$1 name=$2 problems
	problems=$("$PY" - "$reg" "$name" <<'EOF'
import hashlib, json, os, sys
reg, name = sys.argv[1], sys.argv[2]
bad = []
def load(p):
    with open(p) as f:
        return json.load(f)
idx = load(os.path.join(reg, name, "index.json"))
vs = {e["version"]: e for e in idx["versions"]}
if sorted(vs) != list(range(1, len(vs) + 1)):
    bad.append("versions not 1..n: %s" % sorted(vs))
for v, e in vs.items():
    for f, d in e["files"].items():
        p = os.path.join(reg, name, str(v), f)
        if not os.path.exists(p) or hashlib.sha256(open(p, "rb").read()).hexdigest() != d:
            bad.append("version %d: %s missing or different" % (v, f))
for ptr in ("latest", "best"):
    p = os.path.join(reg, name, ptr)
    if os.path.exists(p):
        j = load(p)
        if j["version"] not in vs or vs[j["version"]]["sha256"] != j["model_sha256"]:
            bad.append("%s names version %s, not in the index" % (ptr, j["version"]))
    else:
        bad.append("no " + ptr)
print("; ".join(bad))
EOF
)
	[ -z "$problems" ] || { echo "$problems"; return 1; }
	ml-model list -r "$reg" "$name" >/dev/null 2>&1 || { echo "ml-model list fails"; return 1; }
	ml-model fetch -r "$reg" "$name@latest" -o "$T/c-latest.json" 2>/dev/null || { echo "fetch @latest fails"; return 1; }
	ml-model fetch -r "$reg" "$name@best" -o "$T/c-best.json" 2>/dev/null || { echo "fetch @best fails"; return 1; }
	ml-score -m "$T/c-latest.json" --evaluate price -o /dev/null <"$T/valid.csv" 2>/dev/null || { echo "latest does not score"; return 1; }
	return 0
}
versions() { ml-model list -r "$1" --json 2>/dev/null | grep "\"name\":\"$2\"" | jget 'd["versions"], d["latest"], d["best"]'; }

ml-train --target price --num_round 300 --max_depth 8 -o big.json <train.csv 2>/dev/null
ml-model push big.json -r kreg --name price >/dev/null 2>&1
# step -> versions, latest, best after the kill (the registry had one version)
declare -A after=([model-partial]="(1, 1, 1)" [files]="(1, 1, 1)" [index]="(2, 1, 1)" [latest]="(2, 2, 1)")
for step in model-partial files index latest; do
	rm -rf "kreg-$step"
	cp -a kreg "kreg-$step"
	# (in a shell of its own, whose "Killed" message is not wanted)
	rc=$(MLPIPE_REGISTRY_KILL_AT=$step bash -c '"$@" >/dev/null 2>&1; echo $?' _ \
		ml-model push big.json -r "kreg-$step" --name price 2>/dev/null)
	expect_rc 137 "kill -9 at '$step' ends the push (SIGKILL)"
	why=$(consistent "kreg-$step" price)
	expect_eq "$why" "" "after kill -9 at '$step' the registry is consistent and loadable"
	expect_eq "$(versions "kreg-$step" price)" "${after[$step]}" "after kill -9 at '$step': versions, latest, best"
	run ml-model push weak.json -r "kreg-$step" --name price
	expect_rc 0 "a push after the kill at '$step' works"
	want=$(("${after[$step]:1:1}" + 1))
	expect_match "$out" "\"version\":$want," "it registers version $want"
	expect_eq "$(consistent "kreg-$step" price)" "" "and the registry is consistent after it"
	expect_eq "$(find "kreg-$step" -name '.*.tmp-*' | wc -l)" 0 "no temporary files are left after '$step'"
done
expect_file_eq kreg-model-partial/price/2/model.json weak.json "the version a crash left unfinished is replaced whole"

# Random moments: a loop of pushes killed after a random delay (some finish).
cp -a kreg kreg-random
bad=0
for i in $(seq 1 15); do
	ml-model push big.json -r kreg-random --name price >/dev/null 2>&1 &
	pid=$!
	d=$((RANDOM % 1500))	# ms; a push of big.json takes about a second
	sleep "$((d / 1000)).$(printf %03d $((d % 1000)))"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	why=$(consistent kreg-random price) || { bad=$((bad + 1)); echo "    iteration $i: $why"; }
done
expect_eq "$bad" 0 "15 pushes killed at random moments leave the registry consistent ($(versions kreg-random price))"

done_testing
