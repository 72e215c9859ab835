#!/usr/bin/env bash
# ml-drift --bookmark: incremental runs read only new files and appended
# lines; nothing new exits 0 "no new data"; the bookmark is written only
# after a run that succeeded, atomically, so a failed or killed run is redone.
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3
CARS=$DATA/used_cars.csv
GEN=$ROOT/tests/cli/ref/capture_gen.py
BM=$T/drift.bookmark
ml-baseline -o "$T/bl" <"$CARS"
$PY "$GEN" "$CARS" "$T/all"
mkdir -p "$T/cap/2026/11/25"
cp -r "$T/all/2026/11/25/10" "$T/cap/2026/11/25/"
rows() { $PY -c 'import json,sys; print(int(json.loads(sys.stdin.readline())["current_count"]))'; }
records() { wc -l <"$1" | tr -d ' '; }
drift() { run ml-drift -b "$T/bl" -o "$T/o" --prediction price --bookmark "$BM" "$@"; }

drift "$T/cap"
expect_rc 0 "first run: everything is new"
first=$(printf '%s\n' "$out" | rows)
expect_match "$first" '^2[0-9][0-9]$' "the first hour's rows are read ($first)"
expect_eq "$($PY -c 'import json,sys; d = json.load(open(sys.argv[1])); print(d["format"], [(k.split("/")[-2], v["consumed"] == v["size"]) for k, v in d["files"].items()])' "$BM")" \
	"mlpipe.bookmark/1 [('10', True)]" "the bookmark holds the file, consumed to its end"
cp "$BM" "$T/bm.before"
drift "$T/cap"
expect_rc 0 "nothing new: exit 0"
expect_match "$err" 'no new data' "and says \"no new data\""
expect_eq "$out" "" "no drift records for no data"

cp -r "$T/all/2026/11/25/11" "$T/cap/2026/11/25/"
drift "$T/cap"
expect_rc 0 "a new hourly file"
expect_eq "$(printf '%s\n' "$out" | rows)" \
	"$(ml-drift -b "$T/bl" -o "$T/o2" --prediction price "$T/cap/2026/11/25/11" 2>/dev/null | rows)" "only the new file's rows are read"

# Lines appended to a file: only they are read; a line without its newline waits.
f=$T/cap/2026/11/25/11/00-00-000-capture.jsonl
head -5 "$T/all/2026/11/25/12/00-00-000-capture.jsonl" >>"$f"
sed -n 6p "$T/all/2026/11/25/12/00-00-000-capture.jsonl" | tr -d '\n' >>"$f"
want=$(head -5 "$T/all/2026/11/25/12/00-00-000-capture.jsonl" >"$T/five.jsonl"; ml-drift -b "$T/bl" -o "$T/o2" --prediction price "$T/five.jsonl" 2>/dev/null | rows)
drift "$T/cap"
expect_eq "$(printf '%s\n' "$out" | rows)" "$want" "appended records: only they are read ($want rows of 5 records)"
printf '\n' >>"$f"
want=$(sed -n 6p "$T/all/2026/11/25/12/00-00-000-capture.jsonl" >"$T/six.jsonl"; ml-drift -b "$T/bl" -o "$T/o2" --prediction price "$T/six.jsonl" 2>/dev/null | rows)
drift "$T/cap"
expect_eq "$(printf '%s\n' "$out" | rows)" "$want" "a half-written last line is read once it is complete"

# A new file whose last line is not finished: the finished ones only.
head -11 "$CARS" >"$T/part.csv"
sed -n 12p "$CARS" | tr -d '\n' >>"$T/part.csv"
drift "$T/part.csv"
expect_eq "$(printf '%s\n' "$out" | rows)" 10 "a new file with a half-written last line: its 10 whole rows"
expect_match "$out" '"inputs":\["[^"]*part.csv"\]' "the records name the files read"
printf '\n' >>"$T/part.csv"
drift "$T/part.csv"
expect_eq "$(printf '%s\n' "$out" | rows)" 1 "the finished line, once, under the header"

# CSV appended: the header is given again to the new lines.
head -401 "$CARS" >"$T/cars.csv"
drift "$T/cars.csv"
expect_eq "$(printf '%s\n' "$out" | rows)" 400 "a CSV file: 400 rows"
tail -n +402 "$CARS" >>"$T/cars.csv"
drift "$T/cars.csv"
expect_rc 0 "rows appended to a CSV file"
expect_eq "$(printf '%s\n' "$out" | rows)" 404 "only the 404 appended rows, read under the file's header"

# A failed run leaves the bookmark as it was; the next run reads the same data.
cp "$BM" "$T/bm.before"
cp -r "$T/all/2026/11/25/12" "$T/cap/2026/11/25/"
echo '{"captureData": {"endpointInput": {"observedContentType": "text/csv", "data": "@@@", "encoding": "BASE64"}}}' >>"$T/cap/2026/11/25/12/00-00-000-capture.jsonl"
drift "$T/cap"
expect_rc 65 "a bad record: the run fails (65)"
expect_file_eq "$BM" "$T/bm.before" "the bookmark is untouched by the failed run"
: >"$T/o.file"
run ml-drift -b "$T/bl" -o "$T/o.file" --prediction price --bookmark "$BM" --on-error skip "$T/cap"
expect_rc 64 "a run that cannot write its violations (-o names a file) fails after reading"
expect_file_eq "$BM" "$T/bm.before" "the bookmark is untouched"
drift --on-error skip "$T/cap"
expect_rc 0 "the next run reads the new hour after all"
expect_match "$(printf '%s\n' "$out" | rows)" '^2[0-9][0-9]$' "the whole new hour"

# Killed mid-run (kill -9): the bookmark is the old one, whole.
$PY - "$T/big.csv" "$CARS" <<'PYEOF'
import sys
lines = open(sys.argv[2]).read().splitlines()
with open(sys.argv[1], "w") as f:
    f.write(lines[0] + "\n")
    for i in range(800):
        f.write("\n".join(lines[1:]) + "\n")
PYEOF
cp "$BM" "$T/bm.before"
ml-drift -b "$T/bl" -o "$T/o" --bookmark "$BM" "$T/big.csv" >/dev/null 2>&1 &
pid=$!
sleep 0.15
if kill -9 "$pid" 2>/dev/null; then
	wait "$pid" 2>/dev/null
	expect_file_eq "$BM" "$T/bm.before" "killed mid-run: the bookmark is the old one"
	drift "$T/big.csv"
	expect_eq "$(printf '%s\n' "$out" | rows)" 643200 "the next run reads the whole file (643200 rows)"
else
	wait "$pid"
	echo "ok - # SKIP the run finished before it could be killed"
fi

# A file replaced by another: read from its start again.
cp "$T/cars.csv" "$T/cars2.csv"
mv "$T/cars2.csv" "$T/cars.csv"
drift "$T/cars.csv"
expect_match "$err" 'replaced or truncated since the last run' "a replaced file is noticed"
expect_eq "$(printf '%s\n' "$out" | rows)" 804 "and read whole"

# One run at a time on a bookmark: a second one exits 75 (try again later).
exec 9>"$BM.lock"
flock 9
run ml-drift -b "$T/bl" -o "$T/o" --bookmark "$BM" "$CARS"
expect_rc 75 "a bookmark in use by another run: exit 75"
expect_match "$err" 'another run is using this bookmark' "saying so"
exec 9>&-

run ml-drift -b "$T/bl" --bookmark "$BM" <"$CARS"
expect_rc 64 "--bookmark with standard input is a usage error"
echo '{"format": "mlpipe.bookmark/9", "files": {}}' >"$T/new.bookmark"
run ml-drift -b "$T/bl" -o "$T/o" --bookmark "$T/new.bookmark" "$CARS"
expect_rc 65 "a bookmark from a newer mlpipe is refused"
done_testing
