#!/usr/bin/env bash
# ml-score --serve: the SageMaker inference container contract on 127.0.0.1,
# checked with curl: /ping, /invocations in CSV, JSON and JSON Lines, Accept,
# 4xx bodies, concurrent clients against batch-mode answers, capture, SIGHUP
# reload while requests run, graceful SIGTERM.
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3
CARS=$DATA/used_cars.csv
command -v curl >/dev/null || { echo "ok - skipped: no curl"; exit 0; }

ml-train -a linear --target price --wd 0.01 -o "$T/a.json" <"$CARS" 2>/dev/null
ml-train -a linear --target price --wd 10 -o "$T/b.json" <"$CARS" 2>/dev/null
ml-score -m "$T/a.json" <"$CARS" | tail -n +2 >"$T/a.pred"
ml-score -m "$T/b.json" <"$CARS" | tail -n +2 >"$T/b.pred"
cut -d, -f2- "$CARS" | tail -n +2 >"$T/rows.csv"	# features only, no header: SageMaker's CSV
cp "$T/a.json" "$T/model.json"

free_port() { $PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
start() { # extra options
	ml-score -m "$T/model.json" --serve "127.0.0.1:$PORT" -v "$@" >/dev/null 2>"$T/server.err" &
	SERVER=$!
	trap 'kill $SERVER 2>/dev/null; rm -rf "$T"' EXIT
	for _ in $(seq 100); do
		curl -s -o /dev/null "$URL/ping" && return 0
		sleep 0.05
	done
	return 1
}
post() { # content-type body-file [accept]: sets code and body
	local args=(-s -o "$T/resp" -w '%{http_code}' -H "Content-Type: $1" --data-binary "@$2")
	[ $# -gt 2 ] && args+=(-H "Accept: $3")
	code=$(curl "${args[@]}" "$URL/invocations")
	body=$(cat "$T/resp")
}
rows() { sed -n "$1,$2p" "$T/rows.csv"; }

if start --capture "$T/cap"; then ok "the server starts and answers"; else not_ok "the server starts" "$(cat "$T/server.err")"; fi
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/ping")
expect_eq "$code" "200" "GET /ping is 200"

rows 1 20 >"$T/req.csv"
post text/csv "$T/req.csv"
expect_eq "$code" "200" "text/csv: 200"
expect_eq "$body" "$(sed -n 1,20p "$T/a.pred")" "text/csv, headerless: one prediction a line, as in batch mode"
{ head -1 "$CARS"; sed -n 2,11p "$CARS"; } >"$T/hdr.csv"
post text/csv "$T/hdr.csv"
expect_eq "$body" "$(sed -n 1,10p "$T/a.pred")" "text/csv with a header line: columns by name"
post "text/csv; charset=utf-8" "$T/req.csv" application/json
expect_eq "$(printf '%s' "$body" | $PY -c 'import json, sys; print("\n".join(repr(p["prediction"]) for p in json.load(sys.stdin)["predictions"]))')" \
	"$(sed -n 1,20p "$T/a.pred" | $PY -c 'import sys; print("\n".join(repr(float(l)) for l in sys.stdin))')" \
	"Accept: application/json: {\"predictions\": [{\"prediction\": ...}]}"

$PY - "$T/rows.csv" "$T" <<'EOF'
import json, sys
names = ["mileage", "make", "type", "cylinder", "doors", "cruise", "sound", "leather"]
rows = [l.rstrip("\n").split(",") for l in open(sys.argv[1])][:20]
conv = [[float(v) if i != 1 and i != 2 else v for i, v in enumerate(r)] for r in rows]
json.dump({"instances": [{"features": r} for r in conv[:10]] + [dict(zip(names, r)) for r in conv[10:]]},
          open(sys.argv[2] + "/req.json", "w"))
with open(sys.argv[2] + "/req.jsonl", "w") as f:
    for r in conv:
        f.write(json.dumps(dict(zip(names, r))) + "\n")
EOF
post application/json "$T/req.json"
expect_eq "$code" "200" "application/json: 200"
expect_eq "$(printf '%s' "$body" | $PY -c 'import json, sys; print("\n".join(repr(p["prediction"]) for p in json.load(sys.stdin)["predictions"]))')" \
	"$(sed -n 1,20p "$T/a.pred" | $PY -c 'import sys; print("\n".join(repr(float(l)) for l in sys.stdin))')" \
	"application/json {\"instances\": [...]} with features arrays and objects: batch-mode answers"
post application/jsonlines "$T/req.jsonl"
expect_eq "$(printf '%s\n' "$body" | $PY -c 'import json, sys; print("\n".join(repr(json.loads(l)["prediction"]) for l in sys.stdin))')" \
	"$(sed -n 1,20p "$T/a.pred" | $PY -c 'import sys; print("\n".join(repr(float(l)) for l in sys.stdin))')" \
	"application/jsonlines: one object a line, batch-mode answers"
post application/jsonlines "$T/req.jsonl" text/csv
expect_eq "$body" "$(sed -n 1,20p "$T/a.pred")" "Accept: text/csv on a JSON Lines request"

printf 'x' >"$T/x"
post text/plain "$T/x"
expect_eq "$code" "415" "an unknown Content-Type is 415"
expect_match "$body" "text/plain is not scored: send text/csv, application/json or application/jsonlines" "... saying what is"
post text/csv "$T/req.csv" image/png
expect_eq "$code" "406" "an Accept nothing can satisfy is 406"
{ rows 1 2; echo "12x3,Buick,sedan,6,4,1,0,0"; } >"$T/bad.csv"
post text/csv "$T/bad.csv"
expect_eq "$code" "400" "a bad value is 400"
expect_eq "$body" 'body:3:1: expected a number in column "c0", got "12x3"' "... with the line and column"
rows 1 1 | cut -d, -f1-7 >"$T/short.csv"
post text/csv "$T/short.csv"
expect_eq "$code" "400" "a row missing a feature is 400"
expect_match "$body" 'rows have 7 fields; the model reads 8 features' "... saying how many"
printf '{"mileage": 1' >"$T/bad.json"
post application/json "$T/bad.json"
expect_eq "$code" "400" "bad JSON is 400"
expect_match "$body" '^body:1:[0-9]+: invalid JSON' "... with the line and column"
: >"$T/empty"
post text/csv "$T/empty"
expect_eq "$code" "400" "an empty body is 400"
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/invocations")
expect_eq "$code" "405" "GET /invocations is 405"
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/other")
expect_eq "$code" "404" "another path is 404"

# Eight clients at once, each row its own request: the answers are batch mode's.
: >"$T/fails"
for c in $(seq 0 7); do
	(
		for i in $(seq $((c * 25 + 1)) $((c * 25 + 25))); do
			rows "$i" "$i" >"$T/c$c.req"
			got=$(curl -s -H 'Content-Type: text/csv' --data-binary "@$T/c$c.req" "$URL/invocations")
			[ "$got" = "$(sed -n "${i}p" "$T/a.pred")" ] || echo "row $i: $got" >>"$T/fails"
		done
	) &
done
wait_clients() { for p in $(jobs -p); do [ "$p" = "$SERVER" ] || wait "$p"; done; }
wait_clients
expect_eq "$(cat "$T/fails")" "" "8 concurrent clients x 25 one-row requests: every answer equals batch mode's"

# Capture: one record per request answered 200 (6 + 200 so far).
n=$(cat "$T"/cap/*/*/*/*/*.jsonl | wc -l)
expect_eq "$n" "206" "--capture: a record per successful request (6 + 200)"
run $PY -c '
import glob, json, sys
for f in glob.glob(sys.argv[1] + "/*/*/*/*/*.jsonl"):
    for line in open(f):
        r = json.loads(line)
        i, o = r["captureData"]["endpointInput"], r["captureData"]["endpointOutput"]
        assert i["mode"] == "INPUT" and o["mode"] == "OUTPUT" and r["eventVersion"] == "0"
        assert i["encoding"] == {"text/csv": "CSV", "text/csv; charset=utf-8": "CSV"}.get(i["observedContentType"], "JSON")
' "$T/cap"
expect_rc 0 "captured requests keep their content types and encodings"

# SIGHUP while clients run: no request fails, each answer is one model's, then the new model's.
: >"$T/fails"
for c in 0 1 2 3; do
	(
		for k in $(seq 60); do
			i=$((c * 60 + k))
			rows "$i" "$i" >"$T/h$c.req"
			got=$(curl -s -H 'Content-Type: text/csv' --data-binary "@$T/h$c.req" "$URL/invocations")
			[ "$got" = "$(sed -n "${i}p" "$T/a.pred")" ] || [ "$got" = "$(sed -n "${i}p" "$T/b.pred")" ] ||
				echo "row $i: $got" >>"$T/fails"
		done
	) &
done
sleep 0.3
cp "$T/b.json" "$T/model.json.tmp" && mv "$T/model.json.tmp" "$T/model.json"
kill -HUP $SERVER
wait_clients
expect_eq "$(cat "$T/fails")" "" "SIGHUP while 4 clients send 240 requests: none fails, each answer is a model's"
rows 5 5 >"$T/one.csv"
post text/csv "$T/one.csv"
expect_eq "$body" "$(sed -n 5p "$T/b.pred")" "after SIGHUP the new model answers"
expect_match "$(cat "$T/server.err")" "reloaded the models" "the reload is logged"
echo '{"format": "mlpipe.model/1"' >"$T/model.json"
kill -HUP $SERVER
sleep 0.3
post text/csv "$T/one.csv"
expect_eq "$body" "$(sed -n 5p "$T/b.pred")" "a reload that fails keeps the models that were serving"
expect_match "$(cat "$T/server.err")" "reload failed, still serving the models loaded before" "... and says so"

# SIGTERM with a slow upload in flight: it is answered, then the server exits 0.
for i in $(seq 100); do cat "$T/rows.csv"; done >"$T/big.csv"
curl -s -o "$T/big.out" -w '%{http_code}' --limit-rate 2M -H 'Content-Type: text/csv' --data-binary "@$T/big.csv" \
	"$URL/invocations" >"$T/big.code" &
CURL=$!
sleep 0.5
kill -TERM $SERVER
wait $CURL
wait $SERVER
rc=$?
expect_eq "$(cat "$T/big.code")" "200" "a request in flight at SIGTERM is answered 200"
expect_eq "$(wc -l <"$T/big.out")" "$(wc -l <"$T/big.csv")" "... in full ($(wc -l <"$T/big.csv") rows)"
expect_eq "$rc" "0" "the server exits 0 after SIGTERM"
run $PY -c '
import glob, json, sys
n = sum(1 for f in glob.glob(sys.argv[1] + "/*/*/*/*/*.jsonl") for l in open(f) if json.loads(l))
print(n)' "$T/cap"
expect_eq "$out" "$((206 + 240 + 2 + 1))" "capture holds every answered request, the last one too"

# Limits: --max-request-size gives 413, before or while the body is read.
cp "$T/a.json" "$T/model.json"
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
start --max-request-size 1000 --capture "$T/cap2"
rows 1 100 >"$T/100.csv"
post text/csv "$T/100.csv"
expect_eq "$code" "413" "a body over --max-request-size is 413"
expect_match "$body" "at most 1000 are accepted" "... saying the limit"
code=$(rows 1 100 | curl -s -o "$T/resp" -w '%{http_code}' -H 'Content-Type: text/csv' -H 'Transfer-Encoding: chunked' \
	--data-binary @- "$URL/invocations")
expect_eq "$code" "413" "a chunked body passing the limit is 413"
body=$(curl -s -H 'Content-Type: text/csv' -H 'X-Amzn-SageMaker-Inference-Id: req-42' --data-binary "@$T/one.csv" \
	"$URL/invocations")
expect_eq "$body" "$(sed -n 5p "$T/a.pred")" "a small request still works"
expect_match "$(cat "$T"/cap2/*/*/*/*/*.jsonl)" '"inferenceId":"req-42"' \
	"X-Amzn-SageMaker-Inference-Id is captured as eventMetadata.inferenceId"
kill -TERM $SERVER
wait $SERVER
expect_eq "$?" "0" "stopped with SIGTERM: exit 0"

run ml-score -m "$T/a.json" --serve "127.0.0.1:$PORT" "$CARS"
expect_rc 64 "--serve with FILE operands is a usage error"
run ml-score -m "$T/a.json" --serve "127.0.0.1:99999"
expect_rc 64 "a bad port is a usage error"
done_testing
