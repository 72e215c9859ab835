#!/usr/bin/env bash
# ml-notify against real receivers on 127.0.0.1: a file, standard output, an HTTP webhook.
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3
CARS=$DATA/used_cars.csv

# A drift to report: every third car relabelled Chevy, mileage up 60%.
ml-baseline -o "$T/bl" <"$CARS"
awk -F, 'BEGIN {OFS = ","} NR == 1 {print; next} {$2 = int($2 * 1.6); if (NR % 3 == 0) $3 = "Chevy"; print}' \
	"$CARS" >"$T/shift.csv"
ml-drift -b "$T/bl" -o "$T/drift" "$T/shift.csv" >/dev/null 2>&1
VIOLATIONS=$T/drift/constraint_violations.json

# receiver NAME [FAILURES [STATUS]]: start one; sets $url, logs to $T/NAME.log
receiver() {
	rm -f "$T/$1.port"
	$PY "$ROOT/tests/integration/http_receiver.py" "$T/$1.port" "$T/$1.log" "${2:-0}" "${3:-503}" &
	pids+=($!)
	for _ in $(seq 50); do [ -s "$T/$1.port" ] && break; sleep 0.1; done
	url="http://127.0.0.1:$(cat "$T/$1.port")/hook"
}
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$T"' EXIT

run_in "$VIOLATIONS" ml-notify --to "file:$T/alerts.jsonl" --to "$T/alerts2.jsonl"
expect_rc 0 "violations to two files: exit 0"
expect_eq "$($PY -c 'import json,sys; e=json.loads(open(sys.argv[1]).readline()); print(e["subject"], "|", len(e["event"]["violations"]))' "$T/alerts.jsonl")" \
	"mlpipe: 2 constraint violations | 2" "file: one NDJSON line with the subject and the event"
run_in "$VIOLATIONS" ml-notify --to "file:$T/alerts.jsonl"
expect_eq "$(wc -l <"$T/alerts.jsonl" | tr -d ' ')" "2" "file: a second alert is appended"
expect_match "$(cat "$T/alerts2.jsonl")" '^\{"time":"[0-9T:-]+Z","subject":"mlpipe: 2 constraint violations"' "a plain path is a file destination too"

printf 'nightly training failed\n' >"$T/plain.txt"
run_in "$T/plain.txt" ml-notify --to -
expect_eq "$out" "$(printf 'mlpipe: message\n\nnightly training failed\n')" "plain text goes to standard output, under a subject"

printf '{"event":"train","status":"ok"}\n{"event":"drift","drifted":true,"feature":"mileage"}\n' >"$T/events.ndjson"
run_in "$T/events.ndjson" ml-notify --to - --on-drift-only --subject 'drift in {{feature}} ({{event}})'
expect_eq "$(printf '%s\n' "$out" | head -1)" "drift in mileage (drift)" "--on-drift-only sends only the drift event; {{field}} filled"
printf '{"event":"train","status":"ok"}\n' >"$T/ok.ndjson"
run_in "$T/ok.ndjson" ml-notify --to "file:$T/none.jsonl" --on-drift-only
expect_rc 0 "--on-drift-only with nothing to report: exit 0"
expect_eq "$(test -e "$T/none.jsonl" && echo sent || echo none)" "none" "--on-drift-only with nothing to report sends nothing"

receiver hook
run_in "$VIOLATIONS" ml-notify --to "$url" -H 'X-Token: s3cret' --subject 'drift: {{violations}}'
expect_rc 0 "webhook: exit 0"
run $PY -c '
import json, sys
r = json.loads(open(sys.argv[1]).readline())
b = json.loads(r["body"])
assert r["path"] == "/hook" and r["headers"]["Content-Type"] == "application/json", r
assert r["headers"]["X-Token"] == "s3cret", r["headers"]
assert b["text"].startswith("drift: ") and "mileage: baseline_drift_check" in b["text"], b["text"]
assert len(b["event"]["violations"]) == 2
print("ok")' "$T/hook.log"
expect_eq "$out" "ok" "webhook: JSON body with a Slack-style text, the event and the extra header"

receiver flaky 2
run_in "$VIOLATIONS" ml-notify --to "$url"
expect_rc 0 "webhook answering 503 twice, then 200: delivered by retrying"
expect_eq "$(wc -l <"$T/flaky.log" | tr -d ' ')" "3" "three attempts reached the receiver"

receiver down 9
run_in "$VIOLATIONS" ml-notify --to "$url" --to "file:$T/still.jsonl"
expect_rc 75 "a webhook that keeps answering 503: exit 75 (try again later)"
expect_match "$err" "$url: HTTP 503 \\(after 3 attempts\\)" "the failed destination and why"
expect_eq "$(wc -l <"$T/still.jsonl" | tr -d ' ')" "1" "the other destinations are still delivered"

receiver refuses 9 400
run_in "$VIOLATIONS" ml-notify --to "$url"
expect_rc 69 "a webhook answering 400: exit 69, no retry"
expect_eq "$(wc -l <"$T/refuses.log" | tr -d ' ')" "1" "a 4xx is not retried"

port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
run_in "$VIOLATIONS" ml-notify --to "http://127.0.0.1:$port/nobody"
expect_rc 75 "nobody listening: exit 75"
# ---- e-mail, through a real SMTP server (aiosmtpd) ----
smtp_sink() { # NAME [REFUSED_RCPT]: sets $smtp
	rm -f "$T/$1.port"
	$PY "$ROOT/tests/integration/smtp_sink.py" "$T/$1.port" "$T/$1.mail" ${2:+"$2"} &
	pids+=($!)
	for _ in $(seq 100); do [ -s "$T/$1.port" ] && break; sleep 0.1; done
	smtp="smtp://127.0.0.1:$(cat "$T/$1.port")"
}
smtp_sink mail
run_in "$VIOLATIONS" ml-notify --to "$smtp/ops@example.com" --rcpt data@example.com --from mlpipe@example.com \
	--subject 'used cars: {{violations}}'
expect_rc 0 "e-mail: exit 0"
run $PY -c '
import email, json, sys
m = json.loads(open(sys.argv[1]).readline())
msg = email.message_from_string(m["data"])
assert m["mail_from"] == "mlpipe@example.com", m["mail_from"]
assert sorted(m["rcpt_tos"]) == ["data@example.com", "ops@example.com"], m["rcpt_tos"]
assert msg["Subject"].startswith("used cars: [{"), msg["Subject"]
assert "\n" not in msg["Subject"]
body = msg.get_payload()
assert "2 constraint violations:" in body and "- mileage: baseline_drift_check:" in body, body
print("ok")' "$T/mail.mail"
expect_eq "$out" "ok" "e-mail: sender, both recipients, one-line subject, the violations in the body"
smtp_sink picky nobody@example.com
run_in "$VIOLATIONS" ml-notify --to "$smtp/nobody@example.com"
expect_rc 69 "e-mail to a refused recipient: exit 69"
expect_match "$err" "$smtp/nobody@example.com: " "the refused destination is named"
run_in "$VIOLATIONS" ml-notify --to "smtp://127.0.0.1:$port"
expect_rc 64 "e-mail without a recipient is a usage error"
run_in "$VIOLATIONS" ml-notify --to "smtp://127.0.0.1:$port/ops@example.com" --timeout 5
expect_rc 75 "no SMTP server listening: exit 75"

# SNS has its own test (test_sns.sh); here only that a topic without credentials is a configuration error.
run_in "$VIOLATIONS" env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_PROFILE -u AWS_SHARED_CREDENTIALS_FILE HOME="$T" \
	ml-notify --to "sns:arn:aws:sns:eu-west-1:123456789012:drift"
expect_rc 78 "SNS without AWS credentials: exit 78"
run_in "$VIOLATIONS" ml-notify --to "gopher://x"
expect_rc 64 "an unknown scheme is a usage error"
done_testing
