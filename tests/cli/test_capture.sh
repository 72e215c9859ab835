#!/usr/bin/env bash
# ml-score --capture: SageMaker data-capture JSON Lines in hourly folders,
# every field checked by a Python validator; sampling 0, 100 and 50 percent.
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3
CARS=$DATA/used_cars.csv

ml-train -a linear --target price -o "$T/m.json" <"$CARS" 2>/dev/null
ml-score -m "$T/m.json" <"$CARS" | tail -n +2 >"$T/plain.pred"

# validate DIR INPUT PREDICTIONS TYPE ENCODING: every record against the format;
# with INPUT, records are the rows in order (100%), else a subset of them.
cat >"$T/validate.py" <<'EOF'
import glob, json, os, re, sys, datetime
top, inp, preds, ctype, enc = sys.argv[1:6]
rows = [l.rstrip("\n") for l in open(inp)]
if rows and rows[0].startswith("price,"):
    rows = rows[1:]
preds = [l.strip() for l in open(preds)]
uuid = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
files = sorted(glob.glob(os.path.join(top, "**", "*"), recursive=True))
files = [f for f in files if os.path.isfile(f)]
records, ids = [], set()
for f in files:
    rel = os.path.relpath(f, top)
    m = re.fullmatch(r"(\d{4})/(\d{2})/(\d{2})/(\d{2})/[^/]+\.jsonl", rel)
    assert m, "not DIR/YYYY/MM/DD/HH/NAME.jsonl: " + rel
    hour = datetime.datetime(*map(int, m.groups()), tzinfo=datetime.timezone.utc)
    data = open(f, "rb").read()
    assert data.endswith(b"\n"), "a record without its line end in " + rel
    for line in data.decode().splitlines():
        r = json.loads(line)
        assert set(r) == {"captureData", "eventMetadata", "eventVersion"}, set(r)
        assert r["eventVersion"] == "0"
        md = r["eventMetadata"]
        assert set(md) >= {"eventId", "inferenceTime"} and uuid.match(md["eventId"]), md
        t = datetime.datetime.strptime(md["inferenceTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
        assert hour <= t < hour + datetime.timedelta(hours=1), (rel, md["inferenceTime"])
        assert abs((datetime.datetime.now(datetime.timezone.utc) - t).total_seconds()) < 600
        cd = r["captureData"]
        assert set(cd) == {"endpointInput", "endpointOutput"}, set(cd)
        for part, mode in (("endpointInput", "INPUT"), ("endpointOutput", "OUTPUT")):
            p = cd[part]
            assert set(p) == {"observedContentType", "mode", "data", "encoding"}, set(p)
            assert p["mode"] == mode and p["observedContentType"] == ctype and p["encoding"] == enc, p
            assert isinstance(p["data"], str)
        ids.add(md["eventId"])
        records.append((cd["endpointInput"]["data"], cd["endpointOutput"]["data"]))
assert len(ids) == len(records), "eventIds repeat"
want = dict(zip(rows, preds))
for i, o in records:
    assert i in want, "input not a row: " + i[:80]
    got = json.loads(o)["prediction"] if enc == "JSON" else float(o)
    assert abs(got - float(want[i])) <= 1e-12 * abs(got), (i, o)
if sys.argv[6:] == ["all"]:
    assert [i for i, _ in records] == rows, "not every row, in order"
print(len(records))
EOF

run_in "$CARS" ml-score -m "$T/m.json" --capture "$T/cap" -o "$T/out.csv"
expect_rc 0 "--capture exits 0"
expect_file_eq <(tail -n +2 "$T/out.csv") "$T/plain.pred" "the output is unchanged by capture"
run $PY "$T/validate.py" "$T/cap" "$CARS" "$T/plain.pred" text/csv CSV all
expect_rc 0 "CSV capture: SageMaker's fields and types, hourly path, one record a row, in order ($out; ${err: -300})"
expect_eq "$out" "804" "100%: every row captured"
expect_eq "$(find "$T/cap" -name '*.jsonl' | wc -l)" "1" "one file for one run within an hour"

awk -F, 'NR > 1 { printf "{\"mileage\":%s,\"make\":\"%s\",\"type\":\"%s\",\"cylinder\":%s,\"doors\":%s,\"cruise\":%s,\"sound\":%s,\"leather\":%s}\n", $2, $3, $4, $5, $6, $7, $8, $9 }' \
	"$CARS" >"$T/cars.ndjson"
run_in "$T/cars.ndjson" ml-score -m "$T/m.json" --capture "$T/capj" -o /dev/null
expect_rc 0 "NDJSON --capture exits 0"
run $PY "$T/validate.py" "$T/capj" "$T/cars.ndjson" "$T/plain.pred" application/jsonlines JSON all
expect_rc 0 "NDJSON capture: application/jsonlines, encoding JSON ($out; ${err: -300})"

run_in "$CARS" ml-score -m "$T/m.json" --capture "$T/cap0" --capture-percent 0 -o /dev/null
expect_rc 0 "--capture-percent 0 exits 0"
expect_eq "$(cat "$T"/cap0/*/*/*/*/*.jsonl 2>/dev/null | wc -l)" "0" "0%: nothing captured"

for i in 1 2 3 4 5; do tail -n +2 "$CARS"; done | sed '1i price,mileage,make,type,cylinder,doors,cruise,sound,leather' >"$T/many.csv"
for i in 1 2 3 4 5; do cat "$T/plain.pred"; done >"$T/many.pred"
run_in "$T/many.csv" ml-score -m "$T/m.json" --capture "$T/cap50" --capture-percent 50 -o /dev/null
expect_rc 0 "--capture-percent 50 exits 0"
run $PY "$T/validate.py" "$T/cap50" "$T/many.csv" "$T/many.pred" text/csv CSV
expect_rc 0 "50%: the records are valid ($out of 4020)"
expect_match "$out" '^(1[89][0-9][0-9]|2[01][0-9][0-9])$' "50%: about half of 4020 rows captured (1800-2199: $out)"

run_in "$CARS" ml-score -m "$T/m.json" --capture "$T/cap" -o /dev/null
run $PY "$T/validate.py" "$T/cap" "$CARS" "$T/plain.pred" text/csv CSV
expect_eq "$out" "1608" "a second run appends its own file beside the first (records: $out)"

run_in "$CARS" ml-score -m "$T/m.json" --capture "$T/cap" --capture-percent 101
expect_rc 64 "--capture-percent 101 is a usage error"
: >"$T/afile"
run_in "$CARS" ml-score -m "$T/m.json" --capture "$T/afile" -o /dev/null
expect_rc 64 "a capture directory that is a file is a usage error (64)"
expect_match "$err" "afile" "... naming it"

# A record is written whole with one write(): killed mid-run, every line is complete JSON.
for i in $(seq 40); do tail -n +2 "$CARS"; done | sed '1i price,mileage,make,type,cylinder,doors,cruise,sound,leather' >"$T/big.csv"
ml-score -m "$T/m.json" --capture "$T/capk" -o /dev/null --batch-size 64 <"$T/big.csv" &
pid=$!
sleep 0.3
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
run $PY -c '
import glob, json, sys
n = 0
for f in glob.glob(sys.argv[1] + "/*/*/*/*/*.jsonl"):
    data = open(f).read()
    assert data == "" or data.endswith("\n")
    for line in data.splitlines():
        json.loads(line); n += 1
print(n)' "$T/capk"
expect_rc 0 "killed with SIGKILL: every captured line is a whole record ($out records)"
done_testing
