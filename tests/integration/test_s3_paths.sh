#!/usr/bin/env bash
# s3:// wherever a tool takes a path, against a real S3-compatible server on
# 127.0.0.1 (npm's @20minutes/s3rver, as in test_s3.sh): recipes, models,
# baselines written to and read from a prefix ("folder" outputs), drift
# violations, data capture into a prefix and ml-drift over it, ml-drift
# --bookmark over capture objects and kept in the store, and credentials from
# AWS_PROFILE / AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE, never printed;
# drift reports and history, rejects, and capture from ml-score --serve.
# Every s3:// result is compared with the same command on local files.
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3
CARS=$DATA/used_cars.csv
. "$ROOT/tests/integration/s3rver.sh"

# A second key pair whose secret differs from its ID, to look for the secret in messages.
PKEY=MLPIPEPROFILEKEY
PSECRET=pr0file-s3cret-never-printed
S3RVER_KEYS="$PKEY:$PSECRET" s3rver_start mlpipe
# The keys under a prefix as the server holds them (s3rver's files), one a line.
keys() { (cd "$T/s3data/mlpipe" 2>/dev/null && find . -name '*._S3rver_object' | sed 's|^\./||; s|\._S3rver_object$||' | sort | grep "^$1"); }
stored() { cat "$T/s3data/mlpipe/$1._S3rver_object" 2>/dev/null; }
# Drift records without the fields that name the run.
strip() { $PY -c 'import json,sys
for l in sys.stdin:
    r = json.loads(l); r.pop("run_time"); r.pop("inputs"); print(json.dumps(r, sort_keys=True))'; }
# put FILE KEY: an object uploaded by botocore, not by the code under test.
put() { $PY - "$ENDPOINT" "$1" "$2" <<'EOF'
import sys, botocore.session
s3 = botocore.session.get_session().create_client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                                                   aws_access_key_id="S3RVER", aws_secret_access_key="S3RVER")
with open(sys.argv[2], "rb") as f:
    s3.put_object(Bucket="mlpipe", Key=sys.argv[3], Body=f.read())
EOF
}
mkdir "$T/work"
cd "$T/work" || exit 1

# ---- inputs, recipes, models ----
ml-preprocess split --train "$T/train.csv" --test "$T/test.csv" --ratios 0.8,0.2 "$CARS" 2>/dev/null
for f in train test; do put "$T/$f.csv" "data/$f.csv"; done
expect_eq "$(stored data/train.csv | cksum)" "$(cksum <"$T/train.csv")" "setup: the training share is in the store"
ml-preprocess fit --target price -o "$T/recipe.json" "$T/train.csv" 2>/dev/null
run ml-preprocess fit --target price -o s3://mlpipe/models/recipe.json s3://mlpipe/data/train.csv
expect_rc 0 "ml-preprocess fit: data from s3://, recipe to s3://"
expect_eq "$(stored models/recipe.json | jq -S 'del(.created, .sha256)')" "$(jq -S 'del(.created, .sha256)' "$T/recipe.json")" \
	"the recipe object is the local recipe (but for its creation time and digest)"
ml-preprocess apply "$T/recipe.json" -o "$T/features.csv" "$T/test.csv" 2>/dev/null
run ml-preprocess apply s3://mlpipe/models/recipe.json -o s3://mlpipe/data/features.csv s3://mlpipe/data/test.csv
expect_rc 0 "ml-preprocess apply: recipe and data from s3://, output to s3://"
expect_eq "$(stored data/features.csv | cksum)" "$(cksum <"$T/features.csv")" "the applied features equal the local run's"
ml-train -a gbtree --target price --num_round 20 -o "$T/model.json" "$T/train.csv" 2>/dev/null
run ml-train -a gbtree --target price --num_round 20 -o s3://mlpipe/models/gbtree.json s3://mlpipe/data/train.csv
expect_rc 0 "ml-train -a gbtree: model to s3://"
ml-score -m "$T/model.json" -o "$T/scored.csv" "$T/test.csv" 2>/dev/null
run ml-score -m s3://mlpipe/models/gbtree.json s3://mlpipe/data/test.csv
expect_rc 0 "ml-score -m s3://...gbtree.json"
expect_eq "$out" "$(cat "$T/scored.csv")" "scores with the s3:// model equal the local model's"

# ---- baselines: a "folder" output is a prefix ----
ml-baseline -o "$T/bl" "$T/train.csv" 2>/dev/null
run ml-baseline -o s3://mlpipe/baseline/ s3://mlpipe/data/train.csv
expect_rc 0 "ml-baseline -o s3://mlpipe/baseline/"
expect_eq "$(keys baseline/)" "$(printf 'baseline/%s\n' constraints.json statistics.json)" \
	"statistics.json and constraints.json right under the prefix (no double slash)"
expect_eq "$(stored baseline/statistics.json | cksum) $(stored baseline/constraints.json | cksum)" \
	"$(cksum <"$T/bl/statistics.json") $(cksum <"$T/bl/constraints.json")" "both are the local baseline's bytes"
expect_eq "$(ls)" "" "no local folder named after the URI (s3:) is made"
run ml-baseline -o s3://mlpipe/noslash "$T/train.csv"
expect_eq "$(keys noslash)" "$(printf 'noslash/%s\n' constraints.json statistics.json)" "a prefix without the trailing slash is the same folder"
ml-baseline -o "$T/bl-test" "$T/test.csv" 2>/dev/null
ml-baseline -o s3://mlpipe/bl-test/ "$T/test.csv" 2>/dev/null
ml-baseline --merge -o "$T/merged" "$T/bl" "$T/bl-test" 2>/dev/null
run ml-baseline --merge -o s3://mlpipe/merged/ s3://mlpipe/baseline/ s3://mlpipe/bl-test
expect_rc 0 "ml-baseline --merge of two s3:// baselines into a third"
expect_eq "$(stored merged/statistics.json | cksum)" "$(cksum <"$T/merged/statistics.json")" "the merged statistics equal the local merge's"

# ---- drift against an s3:// baseline, violations to s3:// ----
# The test share with mileage tripled: drift, so the comparison is not of two empty answers.
awk -F, -v OFS=, 'NR > 1 {$2 = $2 * 3} {print}' "$T/test.csv" >"$T/drifted.csv"
ml-drift -b "$T/bl" -o "$T/drift" "$T/drifted.csv" >"$T/drift.ndjson" 2>/dev/null
want_rc=$?
run ml-drift -b s3://mlpipe/baseline/ -o s3://mlpipe/drift/ "$T/drifted.csv"
expect_rc 1 "ml-drift -b s3://.../baseline/ finds the drift (exit 1)"
expect_eq "$want_rc" 1 "(as it does with the local baseline)"
expect_eq "$(printf '%s\n' "$out" | strip)" "$(strip <"$T/drift.ndjson")" "every drift record equals the local run's"
expect_eq "$(stored drift/constraint_violations.json)" "$(cat "$T/drift/constraint_violations.json")" \
	"constraint_violations.json in the s3:// output prefix equals the local one"
expect_match "$(stored drift/constraint_violations.json)" '"feature_name": *"mileage"' "and names the drifted column"
run ml-drift -b s3://mlpipe/nothere/ "$T/drifted.csv"
expect_rc 66 "a baseline prefix with nothing in it: exit 66"
expect_match "$err" 's3://mlpipe/nothere/statistics.json: NoSuchKey' "naming the object it looked for"

# ---- data capture into a prefix ----
cut -d, -f2- "$T/test.csv" >"$T/inputs.csv"
mkdir "$T/spool"
ml-score -m "$T/model.json" --capture "$T/cap" "$T/inputs.csv" >/dev/null 2>&1
run env TMPDIR="$T/spool" ml-score -m s3://mlpipe/models/gbtree.json --capture s3://mlpipe/capture/ "$T/inputs.csv"
expect_rc 0 "ml-score --capture s3://mlpipe/capture/"
expect_eq "$out" "$(cat "$T/scored.csv")" "the scores are written as without capture"
objs=$(keys capture/)
expect_match "$objs" '^capture/20[0-9]{2}/[01][0-9]/[0-3][0-9]/[0-2][0-9]/[0-9]{2}-[0-9]{2}-[0-9]{3}-[0-9a-f]{8}\.jsonl$' \
	"one object per hourly file: capture/YYYY/MM/DD/HH/<MM-SS-mmm>-<random>.jsonl"
rows=0
for o in $objs; do rows=$((rows + $(stored "$o" | wc -l))); done
expect_eq "$rows" "$(($(wc -l <"$T/inputs.csv") - 1))" "the objects hold one record per row"
expect_eq "$(stored "$(echo "$objs" | head -1)" | head -1 | jq -r '.captureData.endpointOutput.data')" \
	"$(sed -n 2p "$T/scored.csv")" "a record's endpointOutput is the row's prediction"
expect_eq "$(find "$T/spool" | wc -l)" "1" "the local spool is removed once uploaded"
ml-drift -b "$T/bl" -o "$T/o-local" --prediction price "$T/cap" >"$T/cap.ndjson" 2>/dev/null
run ml-drift -b s3://mlpipe/baseline/ -o "$T/o-s3" --prediction price s3://mlpipe/capture/
expect_rc 0 "ml-drift over the capture prefix (s3://.../capture/): every *.jsonl under it"
expect_eq "$(printf '%s\n' "$out" | strip)" "$(strip <"$T/cap.ndjson")" "the drift records equal those over the local capture folder"
expect_match "$(printf '%s\n' "$out" | head -1)" '"current_count":'"$rows"'\.0' "all $rows captured rows were read"
expect_match "$(printf '%s\n' "$out" | head -1)" '"inputs":\["s3://mlpipe/capture/20' "the inputs are the capture objects' URIs"
run ml-drift -b s3://mlpipe/baseline/ s3://mlpipe/data/
expect_rc 66 "a prefix without capture files: exit 66"
expect_match "$err" 'no capture files \(\*\.jsonl\) in this prefix' "and says so"

# ---- bookmarks: capture objects read once, the bookmark kept in the store ----
$PY "$ROOT/tests/cli/ref/capture_gen.py" "$CARS" "$T/gen"
hour() { echo "$T/gen/2026/11/25/$1/00-00-000-capture.jsonl"; }
key() { echo "cap-bm/2026/11/25/$1/00-00-000-capture.jsonl"; }
put "$(hour 10)" "$(key 10)"
put "$(hour 11)" "$(key 11)"
put "$T/test.csv" cap-bm/notes.csv	# not a capture file: never read
rows() { $PY -c 'import json,sys; print(int(json.loads(sys.stdin.readline())["current_count"]))'; }
local_rows() { ml-drift -b "$T/bl" -o "$T/o-l" --prediction price "$@" 2>/dev/null | rows; }
inputs() { printf '%s\n' "$1" | head -1 | jq -c '.inputs'; }
bm_drift() { run ml-drift -b s3://mlpipe/baseline/ -o "$T/o-bm" --prediction price --bookmark "$@"; }
SBM=s3://mlpipe/state/drift.bookmark
bm_drift $SBM s3://mlpipe/cap-bm/
expect_rc 0 "--bookmark s3://...: the first run over a capture prefix"
expect_eq "$(printf '%s\n' "$out" | rows)" "$(local_rows "$(hour 10)" "$(hour 11)")" "reads every capture object's rows"
expect_eq "$(inputs "$out")" "[\"s3://mlpipe/$(key 10)\",\"s3://mlpipe/$(key 11)\"]" "the records name the two objects"
expect_eq "$(keys state/)" "state/drift.bookmark" "the bookmark is one object (no lock object)"
expect_eq "$(stored state/drift.bookmark | jq -r '.format, (.objects | to_entries[] | "\(.key) \(.value.size) \(.value.etag)")')" \
	"$(echo mlpipe.bookmark/1; printf 's3://mlpipe/%s %s "%s"\n' "$(key 10)" "$(stat -c %s "$(hour 10)")" "$(md5sum <"$(hour 10)" | cut -c1-32)" \
		"$(key 11)" "$(stat -c %s "$(hour 11)")" "$(md5sum <"$(hour 11)" | cut -c1-32)")" \
	"it holds each object's URI, length and ETag (from the listing)"
before=$(stored state/drift.bookmark | cksum)
bm_drift $SBM s3://mlpipe/cap-bm/
expect_rc 0 "a second run with no new object: exit 0"
expect_match "$err" "no new data since the last run \\($SBM\\)" "and says \"no new data\""
expect_eq "$out" "" "no drift records"
expect_eq "$(stored state/drift.bookmark | cksum)" "$before" "the bookmark object is not rewritten"
bm_drift $SBM "s3://mlpipe/$(key 10)"
expect_rc 0 "a single s3:// object already read"
expect_match "$err" 'no new data' "is not read again"

put "$(hour 12)" "$(key 12)"
bm_drift $SBM s3://mlpipe/cap-bm/
expect_rc 0 "a new object under the prefix"
expect_eq "$(inputs "$out")" "[\"s3://mlpipe/$(key 12)\"]" "only it is read"
expect_eq "$(printf '%s\n' "$out" | rows)" "$(local_rows "$(hour 12)")" "its rows, no others"
expect_eq "$(stored state/drift.bookmark | jq '.objects | length')" 3 "the bookmark now knows three objects"

# A run that fails leaves the old bookmark: the next run reads the same objects again.
before=$(stored state/drift.bookmark | cksum)
head -3 "$(hour 10)" >"$T/three.jsonl"
put "$T/three.jsonl" cap-bm/2026/11/25/13/a.jsonl
printf '{"captureData": \n' >"$T/broken.jsonl"
put "$T/broken.jsonl" cap-bm/2026/11/25/13/b.jsonl
bm_drift $SBM s3://mlpipe/cap-bm/
expect_rc 65 "a new object that is not capture data: the run fails (65)"
expect_match "$err" 'cap-bm/2026/11/25/13/b.jsonl' "naming the object"
expect_eq "$(stored state/drift.bookmark | cksum)" "$before" "the bookmark object is unchanged"
run ml-drift -b s3://mlpipe/nothere/ --prediction price --bookmark $SBM s3://mlpipe/cap-bm/
expect_rc 66 "an unreadable baseline: the run fails (66)"
expect_eq "$(stored state/drift.bookmark | cksum)" "$before" "the bookmark object is unchanged"
put "$T/three.jsonl" cap-bm/2026/11/25/13/b.jsonl
ml-drift -b "$T/bl" -o "$T/o-l" --prediction price "$T/three.jsonl" "$T/three.jsonl" >/dev/null 2>&1
want=$?	# six rows: a violation (exit 1) is an answer, not a failure
bm_drift $SBM s3://mlpipe/cap-bm/
expect_rc $want "the broken object replaced: the next run succeeds (exit $want, as over the same rows locally)"
expect_eq "$(inputs "$out")" "[\"s3://mlpipe/cap-bm/2026/11/25/13/a.jsonl\",\"s3://mlpipe/cap-bm/2026/11/25/13/b.jsonl\"]" \
	"and reads both objects the failed run did not get to record"
expect_eq "$(printf '%s\n' "$out" | rows)" "$(local_rows "$T/three.jsonl" "$T/three.jsonl")" "their rows"

# An object replaced (S3 objects change only whole): another length or ETag, read whole again.
put "$(hour 11)" cap-bm/2026/11/25/13/a.jsonl
bm_drift $SBM s3://mlpipe/cap-bm/
expect_rc 0 "an object replaced by another one"
expect_match "$err" 'cap-bm/2026/11/25/13/a.jsonl was replaced since the last run' "is said to be replaced"
expect_eq "$(printf '%s\n' "$out" | rows)" "$(local_rows "$(hour 11)")" "and read whole again"

# A local bookmark over objects; a bookmark in the store over local files.
bm_drift "$T/local.bookmark" s3://mlpipe/cap-bm/
expect_rc 0 "a local bookmark over an s3:// prefix"
expect_eq "$(jq -r '.objects | keys[]' "$T/local.bookmark" | wc -l)" 5 "the local file records the five capture objects"
bm_drift "$T/local.bookmark" s3://mlpipe/cap-bm/
expect_match "$err" 'no new data' "its second run has no new data"
mkdir -p "$T/loc"
cp "$(hour 10)" "$T/loc/"
bm_drift s3://mlpipe/state/files.bookmark "$T/loc"
expect_rc 0 "a bookmark in the store over a local folder"
expect_eq "$(printf '%s\n' "$out" | rows)" "$(local_rows "$(hour 10)")" "the first run reads the file"
expect_eq "$(stored state/files.bookmark | jq -r '.files | keys[]')" "$T/loc/00-00-000-capture.jsonl" \
	"the bookmark object records the file by its absolute path"
head -5 "$(hour 12)" | tee "$T/five.jsonl" >>"$T/loc/00-00-000-capture.jsonl"
bm_drift s3://mlpipe/state/files.bookmark "$T/loc"
expect_rc 0 "lines appended to the local file"
expect_eq "$(printf '%s\n' "$out" | rows)" "$(local_rows "$T/five.jsonl")" "only they are read"
bm_drift s3://mlpipe/state/files.bookmark "$T/loc"
expect_match "$err" 'no new data' "then no new data"

# ---- the other paths: report, history, rejects; capture from the endpoint ----
run ml-drift -b s3://mlpipe/baseline/ -o "$T/o-r" --report s3://mlpipe/reports/r1.html "$T/drifted.csv"
expect_rc 1 "ml-drift --report s3://...html"
expect_match "$(stored reports/r1.html)" '<html' "the report object is the HTML page"
put "$T/drift.ndjson" reports/history.ndjson
run ml-drift -b s3://mlpipe/baseline/ -o "$T/o-r" --report s3://mlpipe/reports/r2.html --history s3://mlpipe/reports/history.ndjson \
	"$T/drifted.csv"
expect_rc 1 "ml-drift --history s3://... (earlier runs' records read from the store)"
expect_match "$(stored reports/r2.html)" '<html' "the report with history is written"
printf '%s\n' "$(head -1 "$T/inputs.csv")" "12k,Buick,sedan,6,4,1,0,0" "$(sed -n 2p "$T/inputs.csv")" >"$T/bad.csv"
run ml-score -m s3://mlpipe/models/gbtree.json --on-error skip --rejects s3://mlpipe/rejects/bad.csv "$T/bad.csv"
expect_rc 0 "ml-score --rejects s3://..."
expect_eq "$(stored rejects/bad.csv)" "$(head -2 "$T/bad.csv")" "the rejected row is in the object, under the header"
port=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
env TMPDIR="$T/spool" ml-score -m "$T/model.json" --serve "127.0.0.1:$port" --capture s3://mlpipe/endpoint/ 2>"$T/serve.err" &
spid=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/ping" && break; sleep 0.05; done
answer=$(curl -s -H 'Content-Type: text/csv' -H 'X-Amzn-SageMaker-Inference-Id: req-1' --data-binary "$(sed -n 2p "$T/inputs.csv")" \
	"http://127.0.0.1:$port/invocations")
kill -TERM $spid
wait $spid
rc=$?
expect_rc 0 "ml-score --serve --capture s3://...: exits 0 on SIGTERM"
obj=$(keys endpoint/)
expect_eq "$(stored "$obj" | jq -r '.eventMetadata.inferenceId + " " + .captureData.endpointOutput.data' | tr -d '\n')" \
	"req-1 $answer" "the request is captured in an object under the prefix, uploaded at exit"

# ---- credentials: profiles and files, as botocore reads them ----
printf '[default]\naws_access_key_id = %s\naws_secret_access_key = wrong-default\n[ci]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
	"$PKEY" "$PKEY" "$PSECRET" >"$T/credentials"
printf '[default]\nregion = us-east-1\n[profile fromconfig]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
	"$PKEY" "$PSECRET" >"$T/config"
noenv=(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY HOME="$T/nohome")
run "${noenv[@]}" AWS_SHARED_CREDENTIALS_FILE="$T/credentials" AWS_PROFILE=ci ml-score -m s3://mlpipe/models/gbtree.json s3://mlpipe/data/test.csv
expect_rc 0 "AWS_PROFILE=ci from AWS_SHARED_CREDENTIALS_FILE"
expect_eq "$out" "$(cat "$T/scored.csv")" "reads the model and the data with that profile's keys"
run "${noenv[@]}" AWS_SHARED_CREDENTIALS_FILE="$T/credentials" ml-score -m s3://mlpipe/models/gbtree.json s3://mlpipe/data/test.csv
expect_rc 78 "without AWS_PROFILE the default profile is used (its secret is wrong here: 78)"
expect_match "$err" 'SignatureDoesNotMatch' "refused by the server's signature check"
run "${noenv[@]}" AWS_CONFIG_FILE="$T/config" AWS_PROFILE=fromconfig ml-score -m s3://mlpipe/models/gbtree.json s3://mlpipe/data/test.csv
expect_rc 0 "a [profile fromconfig] section of AWS_CONFIG_FILE"
run "${noenv[@]}" AWS_SHARED_CREDENTIALS_FILE="$T/credentials" AWS_CONFIG_FILE="$T/config" AWS_PROFILE=nobody \
	ml-score -m s3://mlpipe/models/gbtree.json s3://mlpipe/data/test.csv
expect_rc 78 "a profile in neither file: exit 78"
expect_match "$err" "profile \"nobody\" \\(AWS_PROFILE\\) in $T/credentials or $T/config" "naming the profile and both files"
run env AWS_SHARED_CREDENTIALS_FILE="$T/credentials" AWS_PROFILE=default ml-score -m s3://mlpipe/models/gbtree.json \
	s3://mlpipe/data/test.csv
expect_rc 0 "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY win over AWS_PROFILE (botocore's order)"
run "${noenv[@]}" AWS_SHARED_CREDENTIALS_FILE="$T/credentials" AWS_PROFILE=ci ml-baseline -vv -o s3://mlpipe/vv/ \
	s3://mlpipe/data/train.csv
expect_rc 0 "-vv with profile credentials"
expect_match "$err" 'PUT s3://mlpipe/vv/statistics.json' "-vv logs each request"
expect_no_match "$err" "$PSECRET" "and the secret is not in it"
run "${noenv[@]}" AWS_ACCESS_KEY_ID="$PKEY" AWS_SECRET_ACCESS_KEY="$PSECRET-x" ml-score -vv -m s3://mlpipe/models/gbtree.json \
	s3://mlpipe/data/test.csv
expect_rc 78 "a wrong secret from the environment at -vv: 78"
expect_no_match "$err" "$PSECRET" "the (wrong) secret is not in the messages either"

# ---- credentials of a role: EC2 instance metadata (IMDSv2), a container endpoint ----
$PY "$ROOT/tests/integration/role_endpoint.py" "$T/role.port" "$T/role.log" "$PKEY" "$PSECRET" &
pids+=($!)
for _ in $(seq 100); do [ -s "$T/role.port" ] && break; sleep 0.1; done
role=http://127.0.0.1:$(cat "$T/role.port")
nofiles=(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY HOME="$T/nohome" AWS_SHARED_CREDENTIALS_FILE="$T/none"
	AWS_CONFIG_FILE="$T/none")
run "${nofiles[@]}" AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT="$role" ml-score -vv \
	-m s3://mlpipe/models/gbtree.json s3://mlpipe/data/test.csv
expect_rc 0 "no keys in the environment or files: the instance role's, from instance metadata"
expect_eq "$out" "$(cat "$T/scored.csv")" "... reads the model and the data with them"
expect_match "$(head -1 "$T/role.log")" '^PUT /latest/api/token$' "IMDSv2: a session token first"
expect_match "$(cat "$T/role.log")" 'GET /latest/meta-data/iam/security-credentials/mlpipe-ci-role' \
	"... then the role named by the metadata, with the token"
expect_no_match "$err" "$PSECRET|role-session-token|imds-session-token" "-vv shows no secret, session or metadata token"
run "${nofiles[@]}" AWS_EC2_METADATA_DISABLED=true AWS_EC2_METADATA_SERVICE_ENDPOINT="$role" \
	ml-score -m s3://mlpipe/models/gbtree.json s3://mlpipe/data/test.csv
expect_rc 78 "AWS_EC2_METADATA_DISABLED=true: instance metadata is not asked (exit 78)"
expect_match "$err" 'no AWS credentials: .*neither a container credentials endpoint nor EC2 instance metadata answered' \
	"... the message says where it looked"
run "${nofiles[@]}" AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:9/" \
	AWS_METADATA_SERVICE_TIMEOUT=0.5 ml-score -m s3://mlpipe/models/gbtree.json s3://mlpipe/data/test.csv
expect_rc 78 "no instance metadata service (not on EC2): no credentials, exit 78"
run "${nofiles[@]}" AWS_CONTAINER_CREDENTIALS_FULL_URI="$role/ecs/creds" AWS_CONTAINER_AUTHORIZATION_TOKEN=auth-token \
	ml-score -m s3://mlpipe/models/gbtree.json s3://mlpipe/data/test.csv
expect_rc 0 "a container endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI with an authorization token)"
expect_eq "$out" "$(cat "$T/scored.csv")" "... its keys read the objects"
printf 'auth-token\n' >"$T/auth"
run "${nofiles[@]}" AWS_CONTAINER_CREDENTIALS_FULL_URI="$role/ecs/creds" AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="$T/auth" \
	ml-score -m s3://mlpipe/models/gbtree.json s3://mlpipe/data/test.csv
expect_rc 0 "... the token from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
run "${nofiles[@]}" AWS_CONTAINER_CREDENTIALS_FULL_URI="$role/ecs/creds" AWS_CONTAINER_AUTHORIZATION_TOKEN=wrong \
	ml-score -m s3://mlpipe/models/gbtree.json s3://mlpipe/data/test.csv
expect_rc 78 "a token the endpoint refuses: exit 78"
expect_match "$err" "container credentials: GET $role/ecs/creds: HTTP 403" "... naming the endpoint and its answer"
run "${nofiles[@]}" AWS_CONTAINER_CREDENTIALS_FULL_URI="http://example.com/creds" \
	ml-score -m s3://mlpipe/models/gbtree.json s3://mlpipe/data/test.csv
expect_rc 78 "plain http to a host that is not local: refused (exit 78)"
expect_match "$err" 'use https' "... saying what to do"
for host in 127.evil.example localhost.evil.example 169.254.170.2.evil.example; do
	run "${nofiles[@]}" AWS_CONTAINER_CREDENTIALS_FULL_URI="http://$host/creds" \
		ml-score -m s3://mlpipe/models/gbtree.json s3://mlpipe/data/test.csv
	expect_match "$rc:$err" '^78:.*use https' "http://$host/ is not a local host: refused"
done

# ---- capture when the store goes away: the data stays in the spool ----
kill "${pids[0]}"
wait "${pids[0]}" 2>/dev/null
rm -rf "$T/spool" && mkdir "$T/spool"
run env TMPDIR="$T/spool" MLPIPE_S3_RETRIES=0 ml-score -m "$T/model.json" --capture s3://mlpipe/capture2/ "$T/inputs.csv"
expect_rc 75 "the store is down when the capture is uploaded: exit 75"
expect_match "$err" 'capture: 1 file not uploaded to s3://mlpipe/capture2/, kept in '"$T/spool"'/mlpipe-capture\.' \
	"the message says where the captured records are"
expect_eq "$(find "$T/spool" -name '*.jsonl' -exec cat {} + | wc -l)" "$(($(wc -l <"$T/inputs.csv") - 1))" \
	"and every record is there"
done_testing
