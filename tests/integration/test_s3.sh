#!/usr/bin/env bash
# s3:// through the store-s3 plugin against a real S3-compatible server on
# 127.0.0.1 (npm's @20minutes/s3rver, which checks SigV4 signatures; .ci/run
# installs it into build/node_modules), and ml-watch over a folder and a prefix.
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3
CARS=$DATA/used_cars.csv
. "$ROOT/tests/integration/s3rver.sh"
s3rver_start mlpipe raw
# What the server holds, read behind the plugin's back (s3rver's own files).
stored() { cat "$T/s3data/$1/$2._S3rver_object" 2>/dev/null; }
http_get() { $PY -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())' "$1"; }
fault() { http_get "$ENDPOINT/__fault?kind=$1&count=${2:-1}" >/dev/null; }

# ---- the lifecycle with s3:// inputs and outputs ----
cp "$CARS" "$T/cars.csv"
run ml-preprocess split --train s3://mlpipe/data/train.csv --test s3://mlpipe/data/test.csv --ratios 0.8,0.2 "$T/cars.csv"
expect_rc 0 "ml-preprocess split writes s3:// outputs"
ml-preprocess split --train "$T/train.csv" --test "$T/test.csv" --ratios 0.8,0.2 "$T/cars.csv" 2>/dev/null
expect_eq "$(stored mlpipe data/train.csv | cksum)" "$(cksum <"$T/train.csv")" "the s3:// train share is the same bytes as a local split's"

run ml-preprocess fit --target price -o s3://mlpipe/models/recipe.json s3://mlpipe/data/train.csv
expect_rc 0 "ml-preprocess fit reads s3:// and writes the recipe to s3://"
run ml-train -a linear --target price --recipe s3://mlpipe/models/recipe.json --wd 0.01 -o s3://mlpipe/models/model.json \
	s3://mlpipe/data/train.csv
expect_rc 0 "ml-train reads s3:// data and recipe, writes the model to s3://"
expect_match "$(stored mlpipe models/model.json)" '"format": *"mlpipe.model/1"' "the model object is a model artifact"
run ml-score -m s3://mlpipe/models/model.json -o s3://mlpipe/scored/test.csv s3://mlpipe/data/test.csv
expect_rc 0 "ml-score reads the model and data from s3:// and writes scores to s3://"
ml-train -a linear --target price --recipe <(stored mlpipe models/recipe.json) --wd 0.01 -o "$T/model.json" \
	"$T/train.csv" 2>/dev/null
ml-score -m "$T/model.json" -o "$T/scored.csv" "$T/test.csv" 2>/dev/null
expect_eq "$(stored mlpipe scored/test.csv | cksum)" "$(cksum <"$T/scored.csv")" "scores through s3:// equal scores from local files"
run ml-score -m s3://mlpipe/models/model.json --evaluate price s3://mlpipe/data/test.csv
expect_match "$err" '"rmse"' "ml-score --evaluate on s3:// data"

# ---- a large object: multipart upload, streamed read ----
$PY -c '
import random, sys
r = random.Random(7)
with open(sys.argv[1], "w") as f:
    f.write("price,mileage,make,type,cylinder,doors,cruise,sound,leather\n")
    while f.tell() < 22 * 2**20:
        f.write("%.2f,%d,%s,sedan,%d,4,1,0,1\n" % (r.uniform(8000, 70000), r.randint(0, 50000), r.choice("Buick Chevy Saab".split()), r.choice([4, 6, 8])))
' "$T/big.csv"
# copy SRC DST: the first half of a split (there is no plain copy tool); local twins in $T/twin.*
halves() { ml-preprocess split --train "$2" --test "$3" --ratios 0.5,0.5 "$1"; }
halves "$T/big.csv" "$T/big1.csv" "$T/big2.csv" 2>/dev/null
run env MLPIPE_S3_PART_SIZE=5 ml-preprocess split -vv --train s3://mlpipe/big/half1.csv --test s3://mlpipe/big/half2.csv \
	--ratios 0.5,0.5 "$T/big.csv"
expect_rc 0 "two 11 MB outputs go up"
expect_match "$err" 'half1.csv: written \([2-9] parts\)' "each as a multipart upload of 5 MiB parts"
expect_eq "$(stored mlpipe big/half1.csv | cksum)" "$(cksum <"$T/big1.csv")" "the multipart object is the whole output"
halves s3://mlpipe/big/half1.csv "$T/back1.csv" "$T/back2.csv" 2>/dev/null
halves "$T/big1.csv" "$T/twin1.csv" "$T/twin2.csv" 2>/dev/null
expect_file_eq "$T/back1.csv" "$T/twin1.csv" "and reads back whole through the streaming GET"
rss() { /usr/bin/time -o "$T/rss" -f %M "$@" >/dev/null 2>&1; cat "$T/rss"; }
small=$(rss ml-preprocess fit --target price s3://mlpipe/data/test.csv)
big=$(rss ml-preprocess fit --target price s3://mlpipe/big/half1.csv)
if [ $((big - small)) -lt 4096 ]; then ok "reading streams: an 11 MB object takes under 4 MB more memory than a 20 kB one"
else not_ok "reading streams: memory does not grow with the object" "RSS ${small} kB for 20 kB, ${big} kB for 11 MB"; fi

# ---- errors ----
run ml-score -m s3://mlpipe/models/model.json s3://mlpipe/data/nothere.csv
expect_rc 66 "a missing key: exit 66 (no input)"
expect_match "$err" 's3://mlpipe/data/nothere.csv: NoSuchKey: The specified key does not exist' "the message names the URI and S3's code"
run ml-score -m s3://nobucket/model.json s3://mlpipe/data/test.csv
expect_rc 66 "a missing bucket: exit 66"
expect_match "$err" 's3://nobucket/model.json: NoSuchBucket' "NoSuchBucket is named"
run env AWS_SECRET_ACCESS_KEY=wrong-secret ml-score -m s3://mlpipe/models/model.json s3://mlpipe/data/test.csv
expect_rc 78 "a wrong secret: exit 78 (configuration)"
expect_match "$err" 'SignatureDoesNotMatch: .*HTTP 403.*check AWS_SECRET_ACCESS_KEY' "the signature error says what to check"
expect_no_match "$err" 'wrong-secret' "the secret is never printed"
run env AWS_ACCESS_KEY_ID=NOBODY ml-score -m s3://mlpipe/models/model.json s3://mlpipe/data/test.csv
expect_rc 78 "an unknown access key: exit 78"
expect_match "$err" 'InvalidAccessKeyId' "InvalidAccessKeyId is named"
run env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SHARED_CREDENTIALS_FILE HOME="$T" ml-score -m s3://mlpipe/models/model.json s3://mlpipe/data/test.csv
expect_rc 78 "no credentials at all: exit 78"
expect_match "$err" 'no AWS credentials' "and says where they were looked for"
run ml-score -m s3://Bad_Bucket/m.json s3://mlpipe/data/test.csv
expect_rc 64 "a malformed bucket name is a usage error"

# ---- retries and faults ----
fault 503 2
run ml-score -m s3://mlpipe/models/model.json --evaluate price s3://mlpipe/data/test.csv
expect_rc 0 "503 SlowDown twice, then the object: read by retrying"
fault 503 9
run env MLPIPE_S3_RETRIES=2 ml-score -m s3://mlpipe/models/model.json --evaluate price s3://mlpipe/data/test.csv
expect_rc 75 "503 that does not stop: exit 75 (try again later)"
expect_match "$err" 'SlowDown: Please reduce your request rate. \(HTTP 503\)' "with S3's code and message"
fault clear
fault cutget 1
run ml-preprocess split --train "$T/cut1.csv" --test "$T/cut2.csv" --ratios 0.5,0.5 -vv s3://mlpipe/big/half1.csv
expect_file_eq "$T/cut1.csv" "$T/twin1.csv" "a connection lost mid-GET is resumed where it stopped (Range)"
expect_match "$err" 'resuming' "and says so at -vv"
fault reset 1
run env MLPIPE_S3_RETRIES=0 MLPIPE_S3_PART_SIZE=64 ml-preprocess split --train s3://mlpipe/big/reset.csv --test "$T/junk.csv" \
	--ratios 0.5,0.5 "$T/big.csv"
expect_rc 75 "a connection reset mid-upload without retries: exit 75"
expect_eq "$(ls "$T/s3data/mlpipe/big/" | grep -c '^reset.csv')" "0" "and no partial object is visible"
# parts go up on a thread while the next is written: a part that fails fails the whole upload
fault reset 1
run env MLPIPE_S3_RETRIES=0 MLPIPE_S3_PART_SIZE=5 ml-preprocess split --train s3://mlpipe/big/lostpart.csv \
	--test "$T/junk.csv" --ratios 0.5,0.5 "$T/big.csv"
expect_rc 75 "a part lost while the next one is written, without retries: exit 75"
expect_match "$err" 'lostpart.csv' "... naming the object"
expect_eq "$(ls "$T/s3data/mlpipe/big/" | grep -c '^lostpart.csv')" "0" "... and no object is visible (the upload was aborted)"
fault reset 1
run env MLPIPE_S3_PART_SIZE=5 ml-preprocess split --train s3://mlpipe/big/retried.csv --test "$T/junk.csv" \
	--ratios 0.5,0.5 "$T/big.csv"
expect_rc 0 "a reset part upload is retried"
expect_eq "$(stored mlpipe big/retried.csv | cksum)" "$(cksum <"$T/big1.csv")" "and the object is whole"
expect_match "$(http_get "$ENDPOINT/__log")" 'PUT /mlpipe/big/retried.csv\?partNumber=1&uploadId=' "(it was a part that was cut and sent again)"
kill "${pids[0]}"
wait "${pids[0]}" 2>/dev/null
run env MLPIPE_S3_RETRIES=1 ml-score -m s3://mlpipe/models/model.json s3://mlpipe/data/test.csv
expect_rc 75 "server down: exit 75"
expect_match "$err" "s3://mlpipe/models/model.json: GET $ENDPOINT/mlpipe/models/model.json: .* \\(2 attempts\\)" "naming the URI and the endpoint"

# ---- listing: ml-watch over a prefix (a new server on the same data) ----
s3rver_start mlpipe raw
for k in b/2.csv a.csv b/1.csv 'c d.csv' 'e+f=g.csv' z.csv; do
	halves "$T/test.csv" "s3://raw/in/$k" "$T/junk.csv" 2>/dev/null
done
halves "$T/test.csv" s3://raw/other.csv "$T/junk.csv" 2>/dev/null
run env MLPIPE_S3_LIST_PAGE=2 ml-watch --once s3://raw/in/
expect_eq "$out" "$(printf 's3://raw/in/%s\n' a.csv b/1.csv b/2.csv 'c d.csv' 'e+f=g.csv' z.csv)" \
	"ListObjectsV2 over pages of 2 (continuation tokens): every key under the prefix, in lexical order"
run ml-watch --once --bookmark s3://raw/state/seen.txt s3://raw/in/b/
expect_eq "$out" "$(printf 's3://raw/in/b/%s\n' 1.csv 2.csv)" "ml-watch with an s3:// bookmark: both new objects"
halves "$T/test.csv" s3://raw/in/b/3.csv "$T/junk.csv" 2>/dev/null
run ml-watch --once --bookmark s3://raw/state/seen.txt s3://raw/in/b/
expect_eq "$out" "s3://raw/in/b/3.csv" "after a restart, only the object that came since"
run ml-watch --once --remove s3://raw/in/b/ -- sh -c 'echo "$1" >>"$0"' "$T/queue.log"
expect_rc 0 "ml-watch --remove over a prefix"
expect_eq "$(cat "$T/queue.log")" "$(printf 's3://raw/in/b/%s\n' 1.csv 2.csv 3.csv)" "runs the command for each object"
run ml-watch --once s3://raw/in/b/
expect_eq "$out" "" "and deletes each one after (DELETE)"
expect_eq "$(ls "$T/s3data/raw/in/" | grep -c '^b$')" "0" "the objects are gone from the server"

# ---- ml-watch over a folder, running a command ----
mkdir -p "$T/inbox"
cp "$T/test.csv" "$T/inbox/day1.csv"
cp "$T/test.csv" "$T/inbox/.partial.tmp"
run ml-watch --once --bookmark "$T/seen.txt" "$T/inbox" -- sh -c 'echo "got $1 ($MLPIPE_WATCH_URI)" >>"$0"' "$T/ran.log"
expect_rc 0 "ml-watch --once runs the command"
expect_eq "$(cat "$T/ran.log")" "got $T/inbox/day1.csv ($T/inbox/day1.csv)" "once per new file, URI as argument and MLPIPE_WATCH_URI; dotfiles skipped"
cp "$T/test.csv" "$T/inbox/day2.csv"
run ml-watch --once --bookmark "$T/seen.txt" "$T/inbox" -- sh -c 'exit 3'
expect_rc 75 "a command that fails: exit 75"
run ml-watch --once --bookmark "$T/seen.txt" "$T/inbox" -- sh -c 'echo "got $1" >>"$0"' "$T/ran.log"
expect_eq "$(tail -1 "$T/ran.log")" "got $T/inbox/day2.csv" "the object whose command failed is handled at the next poll"
expect_eq "$(cat "$T/seen.txt")" "$(printf '%s\n' "$T/inbox/day1.csv" "$T/inbox/day2.csv")" "the bookmark lists what was handled"
mkdir "$T/queue"
cp "$T/test.csv" "$T/queue/q1.csv"
cp "$T/test.csv" "$T/queue/q2.csv"
run ml-watch --once --remove "$T/queue" -- sh -c 'test "$1" != "$0"' "$T/queue/q2.csv"
expect_rc 75 "--remove on a folder: a failed command is reported"
expect_eq "$(ls "$T/queue")" "q2.csv" "the file whose command succeeded is removed, the other kept"
touch "$T/inbox/day3.csv"
rm -f "$T/seen2.txt"
run ml-watch --once --skip-existing --bookmark "$T/seen2.txt" "$T/inbox"
expect_eq "$out" "" "--skip-existing on a first run records what is there without handling it"
ml-watch --interval 1 "$T/inbox" >"$T/live.out" 2>&1 &
wpid=$!
sleep 1.5
cp "$T/test.csv" "$T/inbox/day4.csv"
sleep 2.5
kill $wpid; wait $wpid 2>/dev/null
expect_eq "$(tail -1 "$T/live.out")" "$T/inbox/day4.csv" "polling: a file that arrives later is printed"
ml-watch --interval 3600 "$T/inbox" >"$T/live.out" 2>&1 &
wpid=$!
sleep 1
cp "$T/test.csv" "$T/inbox/.day5.tmp" && mv "$T/inbox/.day5.tmp" "$T/inbox/day5.csv"
cp "$T/test.csv" "$T/inbox/day6.csv"
for _ in $(seq 30); do [ "$(grep -c day "$T/live.out")" -ge 6 ] && break; sleep 0.1; done
kill $wpid; wait $wpid 2>/dev/null
expect_eq "$(tail -2 "$T/live.out" | tr '\n' ' ')" "$T/inbox/day5.csv $T/inbox/day6.csv " \
	"a folder is watched with inotify: files renamed in or written are printed at once, not after --interval 3600"
done_testing
