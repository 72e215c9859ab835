#!/usr/bin/env bash
# ml-notify --to sns:ARN against a real SNS Query API endpoint on 127.0.0.1
# whose every request's SigV4 signature is recomputed with botocore.
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3
ARN=arn:aws:sns:eu-west-1:123456789012:model-drift
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_SHARED_CREDENTIALS_FILE MLPIPE_SNS_ENDPOINT MLPIPE_NOTIFY_SNS_ENDPOINT

pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$T"' EXIT
# sns NAME [FAILURES]: start a receiver; sets $endpoint, logs to $T/NAME.log
sns() {
	rm -f "$T/$1.port"
	$PY "$ROOT/tests/integration/sns_receiver.py" "$T/$1.port" "$T/$1.log" "$AWS_ACCESS_KEY_ID" \
		"$AWS_SECRET_ACCESS_KEY" "$ARN" "${2:-0}" 2>"$T/$1.err" &
	pids+=($!)
	for _ in $(seq 100); do [ -s "$T/$1.port" ] && break; sleep 0.1; done
	endpoint="http://127.0.0.1:$(cat "$T/$1.port")/"
}
field() { # LOG N EXPR: a Python expression over request N's record r
	$PY -c 'import json, sys; r = [json.loads(l) for l in open(sys.argv[1])][int(sys.argv[2])]; print(eval(sys.argv[3]))' "$@"
}

printf '{"event":"drift","drifted":true,"feature":"mileage","status":"ks 0.41 > 0.1"}\n' >"$T/drift.ndjson"
sns topic
run_in "$T/drift.ndjson" ml-notify -v --to "sns:$ARN" --sns-endpoint "$endpoint" --subject 'drift in {{feature}}: {{status}}'
expect_rc 0 "SNS Publish: exit 0"
expect_match "$err" "sns:$ARN: published \\(MessageId [0-9a-f-]{36}\\)" "the MessageId SNS gave is reported at -v"
expect_eq "$(field "$T/topic.log" 0 'r["signature_ok"]')" "True" "botocore's SigV4 signer computes the same signature"
expect_eq "$(field "$T/topic.log" 0 'r["form"]["Action"], r["form"]["TopicArn"], r["form"]["Version"]')" \
	"('Publish', '$ARN', '2010-03-31')" "Action=Publish to the topic's ARN"
expect_eq "$(field "$T/topic.log" 0 'r["form"]["Subject"]')" "drift in mileage: ks 0.41 > 0.1" "the subject template, filled"
expect_match "$(field "$T/topic.log" 0 'r["form"]["Message"]')" '"feature": "mileage"' "the event is the message"
expect_match "$(field "$T/topic.log" 0 'r["headers"]["Authorization"]')" \
	"^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/[0-9]{8}/eu-west-1/sns/aws4_request, SignedHeaders=content-type;host;x-amz-date, " \
	"signed for the topic's region and the sns service"

printf 'line one\nline two with \xc3\xa9 & = + %% signs\n' >"$T/plain.txt"
run_in "$T/plain.txt" env MLPIPE_SNS_ENDPOINT="$endpoint" ml-notify --to "sns:$ARN" \
	--subject "$(printf 'a\ttwo-line\nsubject that is much longer than SNS allows, since SNS wants fewer than 100 characters in all, really')"
expect_rc 0 "MLPIPE_SNS_ENDPOINT works as --sns-endpoint does"
expect_eq "$(field "$T/topic.log" 1 'r["form"]["Message"]')" "$(printf 'line one\nline two with \xc3\xa9 & = + %% signs')" \
	"plain text, UTF-8 and form-special characters arrive intact"
expect_eq "$(field "$T/topic.log" 1 'len(r["form"]["Subject"]) < 100 and "\n" not in r["form"]["Subject"]')" "True" \
	"the subject is cut to one line under 100 characters"
expect_eq "$(field "$T/topic.log" 1 'r["signature_ok"]')" "True" "and that request's signature checks too"

run_in "$T/drift.ndjson" env AWS_SESSION_TOKEN=FQoGZXIvYXdzEBYaDtoken ml-notify --to "sns:$ARN" --sns-endpoint "$endpoint"
expect_rc 0 "temporary credentials: exit 0"
expect_eq "$(field "$T/topic.log" 2 'r["headers"]["X-Amz-Security-Token"], "x-amz-security-token" in r["headers"]["Authorization"], r["signature_ok"]')" \
	"('FQoGZXIvYXdzEBYaDtoken', True, True)" "the session token is sent and signed"

run_in "$T/drift.ndjson" env AWS_SECRET_ACCESS_KEY=not-the-secret ml-notify --to "sns:$ARN" --sns-endpoint "$endpoint"
expect_rc 78 "a wrong secret: exit 78"
expect_match "$err" "sns:$ARN: SignatureDoesNotMatch: .*\\(HTTP 403\\).*check AWS_SECRET_ACCESS_KEY" "SNS's error and what to check"
expect_no_match "$err" "not-the-secret" "the secret is not printed"
run_in "$T/drift.ndjson" ml-notify --to "sns:arn:aws:sns:eu-west-1:123456789012:nobody" --sns-endpoint "$endpoint"
expect_rc 69 "an unknown topic: exit 69"
expect_match "$err" "NotFound: Topic does not exist \\(HTTP 404\\)" "with SNS's code and message"
expect_eq "$(wc -l <"$T/topic.log" | tr -d ' ')" "5" "refusals are not retried"

sns busy 2
run_in "$T/drift.ndjson" ml-notify --to "sns:$ARN" --sns-endpoint "$endpoint"
expect_rc 0 "503 Throttling twice, then published: delivered by retrying"
expect_eq "$(wc -l <"$T/busy.log" | tr -d ' ')" "3" "three attempts reached SNS"
sns down 9
run_in "$T/drift.ndjson" ml-notify --to "sns:$ARN" --sns-endpoint "$endpoint" --to "file:$T/still.jsonl"
expect_rc 75 "throttled on every attempt: exit 75"
expect_match "$err" "sns:$ARN: Throttling, HTTP 503 \\(after 4 attempts\\)" "the destination and why"
expect_eq "$(wc -l <"$T/still.jsonl" | tr -d ' ')" "1" "the other destinations are still delivered"
port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
run_in "$T/drift.ndjson" ml-notify --to "sns:$ARN" --sns-endpoint "http://127.0.0.1:$port/"
expect_rc 75 "nobody listening: exit 75"

run_in "$T/drift.ndjson" env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SHARED_CREDENTIALS_FILE HOME="$T" ml-notify --to "sns:$ARN" \
	--sns-endpoint "$endpoint"
expect_rc 78 "no credentials: exit 78"
expect_match "$err" "sns:$ARN: no AWS credentials" "says so, naming the destination"
run_in "$T/drift.ndjson" ml-notify --to "sns:arn:aws:sns:eu-west-1:1234:drift"
expect_rc 64 "a malformed ARN is a usage error"
expect_match "$err" "expected sns:arn:aws:sns:REGION:ACCOUNT:TOPIC" "showing the expected form"
done_testing
