#!/usr/bin/env bash
# The model registry in an s3:// prefix, against a real S3-compatible server on
# 127.0.0.1 (npm's @20minutes/s3rver, as test_s3.sh): ml-model push / list /
# show / promote / fetch, the SHA-256 check, ml-train --registry --must-beat best.
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3
CARS=$DATA/used_cars.csv
. "$ROOT/tests/integration/s3rver.sh"
s3rver_start mlpipe
stored() { cat "$T/s3data/$1/$2._S3rver_object" 2>/dev/null; }
jget() { "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
R=s3://mlpipe/models

cd "$T" || exit 1
ml-preprocess split --seed 7 --train train.csv --validation valid.csv <"$CARS" 2>/dev/null
ml-train --target price --num_round 3 -o weak.json <train.csv 2>/dev/null
ml-train --target price --num_round 60 -o strong.json <train.csv 2>/dev/null

run ml-model list -r $R
expect_rc 0 "list of an empty s3:// registry exits 0"
expect_eq "$out" "" "an empty registry lists nothing"
run ml-model push weak.json -r $R
expect_rc 0 "push to s3:// exits 0"
expect_match "$out" '"version":1,.*"uri":"s3://mlpipe/models/price/1/model.json","latest":true,"best":true' "push names the s3:// object"
expect_eq "$(stored mlpipe models/price/1/model.json | cksum)" "$(cksum <weak.json)" "the object is the model, byte for byte"
run ml-model push strong.json -r $R/
expect_rc 0 "a second push (trailing '/' on the prefix)"
run ml-model push weak.json -r $R --name other
run ml-model list -r $R
expect_eq "$out" "$(printf 'NAME\tVERSIONS\tLATEST\tBEST\nother\t1\t1\t1\nprice\t2\t2\t1')" "list finds the names by listing the prefix"
run ml-model show -r $R price@best
expect_eq "$(echo "$out" | jget 'd["version"]')" 1 "show price@best"
run ml-model promote -r $R price@2
expect_rc 0 "promote in s3://"
run ml-model fetch -r $R price@best -o best.json
expect_rc 0 "fetch from s3://"
expect_file_eq best.json strong.json "fetch writes the promoted model"
run ml-model show -r $R price@5
expect_rc 66 "a missing version in s3:// exits 66"

# A changed object is refused (changed behind the plugin's back, in s3rver's files).
stored mlpipe models/price/2/model.json | sed '1s/{/{ /' >tampered.json
cp tampered.json "$T/s3data/mlpipe/models/price/2/model.json._S3rver_object"
run ml-model fetch -r $R price@2 -o x.json
expect_rc 65 "fetch of an s3:// object whose bytes changed exits 65"
expect_match "$err" 'SHA-256 mismatch' "the mismatch is reported"
stored mlpipe models/price/2/model.json | sed '1s/{ /{/' >"$T/s3data/mlpipe/models/price/2/model.json._S3rver_object"

# ml-train against the s3:// best.
run_in train.csv ml-train --target price --num_round 2 --validation valid.csv --registry $R --model-name other --must-beat best -o /dev/null
expect_rc 1 "ml-train --must-beat best with an s3:// registry rejects a worse model"
run_in train.csv ml-train --target price --num_round 80 --validation valid.csv --registry $R --model-name other --must-beat best -o /dev/null
expect_rc 0 "and accepts a better one"
run ml-model list -r $R --json
expect_match "$out" '\{"name":"other","versions":2,"latest":2,"best":2\}' "best moved in the s3:// registry"

done_testing
