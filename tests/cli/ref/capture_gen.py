"""Write SageMaker data-capture files from a CSV (for ml-drift's tests).

usage: capture_gen.py DATA.csv DIR [LABEL]

The rows of DATA.csv (LABEL, default the first column, is the endpoint's
output; the other columns, in order, its CSV input without a header) become
capture records of 1 to 3 rows each, spread over three hourly folders
DIR/2026/11/25/HH/*.jsonl, with every payload form ml-drift reads:
CSV, BASE64 of CSV, JSON {"instances": [{"features": [...]}]}, JSON objects by
name, JSON Lines, and JSON outputs {"predictions": [{"score": x}]}.
"""
import base64
import csv
import io
import json
import os
import sys
import uuid

src, out = sys.argv[1], sys.argv[2]
rows = list(csv.reader(open(src)))
header, rows = rows[0], rows[1:]
label = header.index(sys.argv[3]) if len(sys.argv) > 3 else 0
features = [h for i, h in enumerate(header) if i != label]


def value(text):
    try:
        f = float(text)
        return int(f) if f == int(f) and "." not in text else f
    except ValueError:
        return text


def csv_text(recs):
    b = io.StringIO()
    w = csv.writer(b, lineterminator="\n")
    for r in recs:
        w.writerow(r)
    return b.getvalue()


files = {}
i = n = 0
while i < len(rows):
    chunk = rows[i:i + 1 + n % 3]
    i += len(chunk)
    x = [[c for j, c in enumerate(r) if j != label] for r in chunk]
    y = [r[label] for r in chunk]
    kind = n % 5
    if kind == 0:
        inp = {"observedContentType": "text/csv", "mode": "INPUT", "data": csv_text(x), "encoding": "CSV"}
        outp = {"observedContentType": "text/csv", "mode": "OUTPUT", "data": "\n".join(y) + "\n", "encoding": "CSV"}
    elif kind == 1:
        inp = {"observedContentType": "text/csv", "mode": "INPUT",
               "data": base64.b64encode(csv_text(x).encode()).decode(), "encoding": "BASE64"}
        outp = {"observedContentType": "text/csv", "mode": "OUTPUT",
                "data": base64.b64encode(("\n".join(y)).encode()).decode(), "encoding": "BASE64"}
    elif kind == 2:
        doc = {"instances": [{"features": [value(c) for c in r]} for r in x]}
        inp = {"observedContentType": "application/json", "mode": "INPUT", "data": json.dumps(doc), "encoding": "JSON"}
        outp = {"observedContentType": "application/json", "mode": "OUTPUT",
                "data": json.dumps({"predictions": [{"score": value(v)} for v in y]}), "encoding": "JSON"}
    elif kind == 3:
        doc = [dict(zip(features, map(value, r))) for r in x]
        inp = {"observedContentType": "application/json", "mode": "INPUT", "data": json.dumps(doc), "encoding": "JSON"}
        outp = {"observedContentType": "application/json", "mode": "OUTPUT",
                "data": json.dumps([value(v) for v in y]), "encoding": "JSON"}
    else:
        lines = "\n".join(json.dumps(dict(zip(features, map(value, r)))) for r in x)
        inp = {"observedContentType": "application/jsonlines", "mode": "INPUT", "data": lines, "encoding": "JSON"}
        outp = {"observedContentType": "text/csv", "mode": "OUTPUT", "data": "\n".join(y), "encoding": "CSV"}
    hour = 10 + (i - 1) * 3 // len(rows)
    rec = {"captureData": {"endpointInput": inp, "endpointOutput": outp},
           "eventMetadata": {"eventId": str(uuid.UUID(int=n)), "inferenceTime": f"2026-11-25T{hour:02d}:00:{n % 60:02d}Z"},
           "eventVersion": "0"}
    files.setdefault(hour, []).append(json.dumps(rec))
    n += 1
for hour, recs in files.items():
    d = f"{out}/2026/11/25/{hour:02d}"
    os.makedirs(d, exist_ok=True)
    with open(f"{d}/00-00-000-capture.jsonl", "w") as f:
        f.write("\n".join(recs) + "\n")
