#!/usr/bin/env bash
# contrib/docker/entrypoint.sh, SageMaker's bring-your-own-container contract,
# run without Docker against a temporary /opt/ml-like tree (SM_ROOT).
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3
CARS=$DATA/used_cars.csv
EP=$ROOT/contrib/docker/entrypoint.sh
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$T"' EXIT

if ! command -v jq >/dev/null; then
	echo "not ok - jq is needed by the entrypoint (the image installs it)"
	exit 1
fi
sh -n "$EP" && ok "entrypoint.sh parses" || not_ok "entrypoint.sh parses"

# tree ROOT: SageMaker's layout with a train and a validation channel.
tree() {
	mkdir -p "$1/input/config" "$1/input/data/train" "$1/input/data/validation"
	ml-preprocess split --seed 3 --train "$1/train.csv" --validation "$1/valid.csv" <"$CARS" 2>/dev/null
}

# ---- train: SageMaker's headerless CSV, label first ----
tree "$T/ml"
tail -n +2 "$T/ml/train.csv" | head -300 >"$T/ml/input/data/train/part-0.csv"
tail -n +2 "$T/ml/train.csv" | tail -n +301 >"$T/ml/input/data/train/part-1.csv"
tail -n +2 "$T/ml/valid.csv" >"$T/ml/input/data/validation/valid.csv"
echo '{"num_round": "20", "max_depth": "4", "eta": "0.3"}' >"$T/ml/input/config/hyperparameters.json"
SM_ROOT=$T/ml run sh "$EP" train
expect_rc 0 "train exits 0"
expect_match "$err" '"event":"metrics","set":"validation"' "the metrics are on stderr (the job's log)"
if [ -s "$T/ml/model/model.json" ]; then ok "train writes model/model.json"; else not_ok "train writes model/model.json"; fi
expect_match "$(cat "$T/ml/model/model.json")" '"num_round": "20"' "the hyperparameters reached ml-train"
expect_match "$(cat "$T/ml/model/model.json")" '"target": "c0"' "headerless CSV: the label is the first column"
if [ -e "$T/ml/output/failure" ]; then not_ok "no failure file on success"; else ok "no failure file on success"; fi
rows=$(grep -o '"set":"train","rows":[0-9]*' <<<"$err" | grep -o '[0-9]*$')
expect_eq "$rows" "$(cat "$T/ml/input/data/train/"*.csv | wc -l | tr -d ' ')" "every file of the train channel is read"

# ---- train: CSV with a header, target and algorithm from hyperparameters.json ----
tree "$T/h"
cp "$T/h/train.csv" "$T/h/input/data/train/a.csv"
head -1 "$T/h/train.csv" >"$T/h/input/data/train/b.csv"
tail -n 20 "$T/h/train.csv" >>"$T/h/input/data/train/b.csv"
rmdir "$T/h/input/data/validation"
echo '{"algorithm": "linear", "target": "price", "wd": "0.01"}' >"$T/h/input/config/hyperparameters.json"
SM_ROOT=$T/h run sh "$EP" train
expect_rc 0 "train with a header and target exits 0"
expect_match "$(cat "$T/h/model/model.json")" '"algorithm": "linear"' "the algorithm hyperparameter chooses the plugin"
expect_eq "$($PY -c 'import json,sys; print(sorted(json.load(open(sys.argv[1]))["hyperparameters"]))' "$T/h/model/model.json")" \
	"['wd']" "mlpipe's own keys are not passed on as hyperparameters"
rows=$(grep -o '"set":"train","rows":[0-9]*' <<<"$err" | grep -o '[0-9]*$')
expect_eq "$rows" "$(($(wc -l <"$T/h/train.csv") - 1 + 20))" "a second file's header is not a row"

# ---- failures go to output/failure ----
tree "$T/f"
echo '{"target": "price", "max_rmse": "1"}' >"$T/f/input/config/hyperparameters.json"
cp "$T/f/train.csv" "$T/f/input/data/train/"
SM_ROOT=$T/f run sh "$EP" train
expect_rc 1 "a model the max_rmse gate rejects fails the job (exit 1)"
expect_match "$(cat "$T/f/output/failure" 2>/dev/null)" 'ml-train exited 1: .*gate: rejected' "output/failure says why"
if [ -e "$T/f/model/model.json" ]; then not_ok "no model after a failure"; else ok "no model after a failure"; fi

mkdir -p "$T/e/input/config"
SM_ROOT=$T/e run sh "$EP" train
expect_rc 66 "train without a train channel exits 66"
expect_match "$(cat "$T/e/output/failure" 2>/dev/null)" 'no training data' "output/failure names the missing channel"
echo '[1, 2]' >"$T/e/input/config/hyperparameters.json"
mkdir -p "$T/e/input/data/train" && cp "$CARS" "$T/e/input/data/train/"
SM_ROOT=$T/e run sh "$EP" train
expect_rc 78 "a hyperparameters.json that is not an object exits 78"
echo '{"target": "no_such_column"}' >"$T/e/input/config/hyperparameters.json"
SM_ROOT=$T/e run sh "$EP" train
expect_match "$(cat "$T/e/output/failure" 2>/dev/null)" 'ml-train exited [0-9]+: ' "an ml-train error is in output/failure"
run sh "$EP"
expect_rc 64 "no command exits 64"

# ---- serve: ml-score --serve on the trained model ----
port=$((20000 + RANDOM % 20000))
SM_ROOT=$T/ml SM_SERVE_ADDR=127.0.0.1:$port sh "$EP" serve 2>"$T/serve.err" &
pids+=($!)
ping=""
for _ in $(seq 100); do
	ping=$($PY -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).status)' \
		"http://127.0.0.1:$port/ping" 2>/dev/null) && break
	sleep 0.1
done
expect_eq "$ping" 200 "serve answers GET /ping"
row=$(sed -n 1p "$T/ml/input/data/validation/valid.csv" | cut -d, -f2-)
answer=$($PY -c '
import sys, urllib.request
r = urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), headers={"Content-Type": "text/csv"})
print(urllib.request.urlopen(r).read().decode().strip())' "http://127.0.0.1:$port/invocations" "$row" 2>&1)
want=$(sed -n 1p "$T/ml/input/data/validation/valid.csv" | ml-score --no-header -m "$T/ml/model/model.json" 2>/dev/null)
expect_eq "$answer" "$want" "POST /invocations with a headerless CSV row gives ml-score's prediction"

done_testing
