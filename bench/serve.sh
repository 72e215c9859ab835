#!/usr/bin/env bash
# bench/serve.sh - ml-score --serve beside a Python endpoint calling XGBoost
# (bench/serve_ref.py, the shape of the SageMaker XGBoost container) on the
# same 100-tree model: wrk, one-row text/csv requests on 127.0.0.1, for
# BENCH_SERVE_SECONDS (default 10) with BENCH_SERVE_CONNECTIONS (default 16)
# connections.  Prints requests/s and latency percentiles of both.
set -eu
cd "$(dirname "$0")/.."
B=build/bench
PY=/usr/bin/python3
SECS=${BENCH_SERVE_SECONDS:-10}
CONNS=${BENCH_SERVE_CONNECTIONS:-16}
command -v wrk >/dev/null || { echo "== serve: skipped (no wrk; apt-get install wrk)"; exit 0; }
$PY -c 'import xgboost' 2>/dev/null || { echo "== serve: skipped (no python3-xgboost)"; exit 0; }
mkdir -p "$B"
[ -x "$B/gen_csv" ] || cc -O2 -o "$B/gen_csv" bench/gen_csv.c -lm
[ -s "$B/serve-train.csv" ] || "$B/gen_csv" 50000 7 >"$B/serve-train.csv"
# 100 trees of depth 6, trained by XGBoost and scored by both servers.
$PY - "$B/serve-train.csv" "$B/serve-xgb.json" <<'PYEOF'
import sys
import numpy as np
import xgboost as xgb
d = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
m = xgb.train({"max_depth": 6, "eta": 0.1, "tree_method": "hist", "base_score": 0.5},
              xgb.DMatrix(d[:, 1:], label=d[:, 0], feature_names=["x%d" % i for i in range(1, d.shape[1])]),
              num_boost_round=100)
m.save_model(sys.argv[2])
PYEOF
sed -n 2p "$B/serve-train.csv" | cut -d, -f2- >"$B/serve-row.csv"
cat >"$B/serve.lua" <<LUA
wrk.method = "POST"
wrk.body = "$(cat "$B/serve-row.csv")\n"
wrk.headers["Content-Type"] = "text/csv"
LUA
free_port() { $PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_ping() { for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$1/ping" && return 0; sleep 0.05; done; return 1; }
load() { # port name
	local want got
	want=$(curl -s -H 'Content-Type: text/csv' --data-binary "@$B/serve-row.csv" "http://127.0.0.1:$1/invocations")
	echo "$2: one answer $want"
	wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s "$B/serve.lua" "http://127.0.0.1:$1/invocations" >"$B/wrk.out"
	got=$(awk '/Requests\/sec/ { print $2 }' "$B/wrk.out")
	printf '%-34s %10s req/s   p50 %8s   p99 %8s   %s\n' "$2" "$got" \
		"$(awk '$1 == "50%" { print $2 }' "$B/wrk.out")" "$(awk '$1 == "99%" { print $2 }' "$B/wrk.out")" \
		"$(grep -E 'Non-2xx|errors' "$B/wrk.out" | tr -s ' ' | tr '\n' ' ')"
}

echo "== endpoint: one-row text/csv requests, 100 trees of depth 6, wrk -t2 -c$CONNS -d${SECS}s"
P=$(free_port)
build/bin/ml-score -m "$B/serve-xgb.json" --serve "127.0.0.1:$P" 2>"$B/serve.err" &
S=$!
wait_ping "$P" && load "$P" "ml-score --serve"
kill -TERM $S; wait $S || true
P=$(free_port)
$PY bench/serve_ref.py "$B/serve-xgb.json" "$P" 2>"$B/serve-ref.err" &
S=$!
wait_ping "$P" && load "$P" "Python http.server + XGBoost 1.7"
kill $S; wait $S 2>/dev/null || true
