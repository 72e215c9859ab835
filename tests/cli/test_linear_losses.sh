#!/usr/bin/env bash
# ml-train -a linear: L1, absolute, huber and quantile losses, SGD/Adam and
# num_models, against scikit-learn on the same standardized features.
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3
REF="$ROOT/tests/cli/ref/linear_losses_ref.py"
CARS=$DATA/used_cars.csv
export SOURCE_DATE_EPOCH=1700000000
have_sklearn() { [ -x $PY ] && $PY -c 'import sklearn' 2>/dev/null; }
skip() { ok "# SKIP $1 (python3-sklearn not installed)"; }

ml-preprocess fit --target price --numeric-impute median --categorical-impute most-frequent \
	-o "$T/recipe.json" <"$CARS"
ml-preprocess apply "$T/recipe.json" -o "$T/features.csv" <"$CARS"
train() { run_in "$CARS" ml-train -a linear --target price --recipe "$T/recipe.json" "$@"; }
field() { $PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["model"][sys.argv[2]])' "$1" "$2"; }

# ---- squared loss with L1: Lasso and ElasticNet ----
for cfg in "0 0.01" "0 0.001" "0.01 0.01" "0.001 0.05"; do
	set -- $cfg
	train --wd "$1" --l1 "$2" -o "$T/en.json"
	expect_rc 0 "wd $1 l1 $2 trains"
	expect_eq "$(field "$T/en.json" solver)" coordinate_descent "wd $1 l1 $2: solved by coordinate descent"
	if have_sklearn; then
		run $PY "$REF" elasticnet "$T/features.csv" price "$T/en.json" "$1" "$2"
		expect_rc 0 "wd $1 l1 $2: coefficients equal $([ "$1" = 0 ] && echo Lasso || echo ElasticNet)'s to 1e-4 ($out)"
	else skip "Lasso/ElasticNet reference"; fi
done

# ---- absolute and quantile losses: QuantileRegressor (an exact LP) ----
train --loss absolute_loss -o "$T/abs.json"
expect_rc 0 "absolute_loss trains"
expect_eq "$(field "$T/abs.json" solver)" newton "absolute_loss: solved by smoothed Newton"
if have_sklearn; then
	run $PY "$REF" absolute "$T/features.csv" price "$T/abs.json" 0
	expect_rc 0 "absolute_loss: objective equals QuantileRegressor(quantile=0.5, alpha=0)'s within 0.5% ($out)"
else skip "QuantileRegressor reference"; fi
train --loss absolute_loss --l1 0.01 -o "$T/abs-l1.json"
if have_sklearn; then
	run $PY "$REF" absolute "$T/features.csv" price "$T/abs-l1.json" 0.01
	expect_rc 0 "absolute_loss l1 0.01: objective equals QuantileRegressor(alpha=0.005)'s within 0.5% ($out)"
else skip "QuantileRegressor reference"; fi
for cfg in "0.8 0" "0.1 0" "0.3 0.005"; do
	set -- $cfg
	rm -f "$T/q.json"
	train --loss quantile_loss --quantile "$1" --l1 "$2" -o "$T/q.json"
	expect_rc 0 "quantile_loss $1 l1 $2 trains"
	expect_eq "$(field "$T/q.json" quantile)" "$1" "quantile_loss $1: the model records its quantile"
	if have_sklearn; then
		run $PY "$REF" quantile "$T/features.csv" price "$T/q.json" "$1" "$2"
		expect_rc 0 "quantile_loss $1 l1 $2: objective equals QuantileRegressor's within 0.5% ($out)"
	else skip "QuantileRegressor reference"; fi
done

# ---- huber loss: HuberRegressor's problem at its fitted scale ----
for cfg in "1.35 0.0001" "1.35 10" "1.1 1"; do
	if ! have_sklearn; then
		skip "HuberRegressor reference"
		continue
	fi
	read -r delta wd < <($PY "$REF" huber-map "$T/features.csv" price - $cfg)
	train --loss huber_loss --huber_delta "$delta" --wd "$wd" -o "$T/h.json"
	expect_rc 0 "huber_loss (HuberRegressor epsilon, alpha = $cfg) trains"
	run $PY "$REF" huber "$T/features.csv" price "$T/h.json" $cfg
	expect_rc 0 "huber_loss: coefficients equal HuberRegressor's to 1e-4, objective within 0.5% ($out)"
done
train --loss huber_loss -o "$T/h1.json"
expect_rc 0 "huber_loss with the default huber_delta trains"
expect_match "$(field "$T/h1.json" huber_delta)" '^1(\.0)?$' "the default huber_delta is 1"

# ---- SGD and Adam, asked for, reach the optimum's objective within 1% ----
sgd() { train --early_stopping_patience 0 --mini_batch_size 32 --epochs 200 "$@"; }
train --wd 0.001 --l1 0.01 -o "$T/en-opt.json"
sgd --wd 0.001 --l1 0.01 --optimizer adam -o "$T/en-adam.json"
expect_rc 0 "Adam trains"
expect_eq "$(field "$T/en-adam.json" solver)" adam "the model names its solver"
expect_match "$err" '"event":"epoch","epoch":200,' "an event per epoch"
sgd --loss absolute_loss --optimizer sgd -o "$T/abs-sgd.json"
expect_rc 0 "SGD trains"
sgd --loss huber_loss --optimizer adam -o "$T/h1-adam.json"
sgd --loss quantile_loss --quantile 0.8 --optimizer sgd -o "$T/q-sgd.json"
train --loss quantile_loss --quantile 0.8 -o "$T/q-opt.json"
if have_sklearn; then
	run $PY "$REF" near "$T/features.csv" price "$T/en-adam.json" squared_loss 0.001 0.01 0.01 "$T/en-opt.json"
	expect_rc 0 "Adam, squared loss with wd and l1: objective within 1% of the exact optimum ($out)"
	run $PY "$REF" near "$T/features.csv" price "$T/abs-sgd.json" absolute_loss 0 0 0.01 "$T/abs.json"
	expect_rc 0 "SGD, absolute loss: objective within 1% of the optimum ($out)"
	run $PY "$REF" near "$T/features.csv" price "$T/h1-adam.json" huber_loss 0 0 0.01 "$T/h1.json" 1
	expect_rc 0 "Adam, huber loss: objective within 1% of the optimum ($out)"
	run $PY "$REF" near "$T/features.csv" price "$T/q-sgd.json" quantile_loss 0 0 0.01 "$T/q-opt.json" 0.8
	expect_rc 0 "SGD, quantile loss 0.8: objective within 1% of the optimum ($out)"
else skip "optimum objective"; fi
sgd --wd 0.001 --l1 0.01 --optimizer adam --seed 5 -o "$T/en-adam5.json"
run_in "$CARS" ml-train -a linear --target price --recipe "$T/recipe.json" --early_stopping_patience 0 \
	--mini_batch_size 32 --epochs 200 --wd 0.001 --l1 0.01 --optimizer adam --seed 5 --threads 1 -o "$T/en-adam5b.json"
params() { $PY -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["model"], sort_keys=True))' "$1"; }
expect_eq "$(params "$T/en-adam5b.json")" "$(params "$T/en-adam5.json")" "SGD with the same seed gives the same model (any thread count)"
expect_eq "$([ "$(params "$T/en-adam.json")" != "$(params "$T/en-adam5.json")" ] && echo differs)" differs "another seed shuffles otherwise"
sgd --optimizer adam --epochs 200 --early_stopping_patience 2 --early_stopping_tolerance 0.01 -o "$T/es.json"
expect_rc 0 "early stopping trains"
epochs=$(field "$T/es.json" epochs)
expect_match "$epochs" '^[0-9]+$' "early stopping: the model records the epochs run"
expect_eq "$([ "$epochs" -lt 200 ] && echo stopped)" stopped "early stopping (patience 2, tolerance 1%) stops before 200 epochs ($epochs)"

# ---- num_models: variants of wd, l1 and learning rate; the best on validation is kept ----
ml-preprocess split --train "$T/tr.csv" --validation "$T/va.csv" --ratios 0.7,0.3 --seed 3 <"$CARS"
ml-preprocess apply "$T/recipe.json" -o "$T/trf.csv" <"$T/tr.csv"
ml-preprocess apply "$T/recipe.json" -o "$T/vaf.csv" <"$T/va.csv"
nm() { run_in "$T/tr.csv" ml-train -a linear --target price --recipe "$T/recipe.json" --validation "$T/va.csv" "$@"; }
nm --wd 0.1 --num_models 6 -o "$T/nm.json"
expect_rc 0 "num_models 6 trains"
expect_eq "$(field "$T/nm.json" num_models)" 6 "the model records num_models"
sel=$(field "$T/nm.json" selected_model)
expect_eq "$([ "$sel" != 0 ] && echo other)" other "wd 0.1 over-regularizes: another variant is selected ($sel)"
if have_sklearn; then
	run $PY "$REF" validation "$T/trf.csv" price "$T/nm.json" squared_loss "$T/vaf.csv"
	expect_rc 0 "num_models: the selected variant has the least validation loss, and it is the model's ($out)"
	nm --loss huber_loss --wd 0.1 --l1 0.01 --num_models 5 -o "$T/nm-h.json"
	run $PY "$REF" validation "$T/trf.csv" price "$T/nm-h.json" huber_loss "$T/vaf.csv" 1
	expect_rc 0 "num_models with huber_loss and l1: the least validation loss wins ($out)"
	nm --optimizer adam --epochs 30 --mini_batch_size 32 --num_models 4 -o "$T/nm-a.json"
	run $PY "$REF" validation "$T/trf.csv" price "$T/nm-a.json" squared_loss "$T/vaf.csv"
	expect_rc 0 "num_models with Adam: the variants share the mini-batches, the least validation loss wins ($out)"
else skip "num_models validation loss"; fi
wd=$(field "$T/nm.json" wd)
nm --wd "$wd" -o "$T/nm1.json"
same=$($PY -c '
import json, sys
a, b = (json.load(open(f))["model"] for f in sys.argv[1:3])
print(max(abs(x - y) for x, y in zip(a["weights"] + [a["bias"]], b["weights"] + [b["bias"]])) <= 1e-9 * max(abs(v) for v in b["weights"] + [b["bias"]]))
' "$T/nm.json" "$T/nm1.json")
expect_eq "$same" True "the selected variant is the model trained alone with its wd ($wd)"

# ---- bad settings ----
train --loss quantile_loss --quantile 1
expect_rc 64 "quantile 1 is a usage error"
train --loss huber_loss --huber_delta 0
expect_rc 64 "huber_delta 0 is a usage error"
train --num_models 33
expect_rc 64 "num_models above 32 is a usage error"
train --optimizer rmsprop
expect_rc 69 "optimizer rmsprop is not supported yet (69)"
train --optimizer newton
expect_rc 64 "an unknown optimizer is a usage error"
train --epochs 5 -o "$T/warn.json"
expect_match "$err" 'epochs is ignored: optimizer auto' "epochs without sgd/adam: a warning says it is ignored"
done_testing
