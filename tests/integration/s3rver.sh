# tests/integration/s3rver.sh - sourced by the s3:// tests (after tests/lib.sh):
# start npm's @20minutes/s3rver on 127.0.0.1 for this test, point the store
# plugin at it with s3rver's own credentials, and clear every setting of the
# caller's environment that would send requests elsewhere.
#
#   s3rver_start BUCKET...     (S3RVER_KEYS="ID:SECRET" adds a key pair)
#
# Sets ENDPOINT; the objects live under $T/s3data/BUCKET/KEY._S3rver_object.
# A missing module or a server that does not start ends the test (not ok).
MODULES=${MLPIPE_NODE_MODULES:-$ROOT/build/node_modules}
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$T"' EXIT

s3rver_start() {
	if [ ! -d "$MODULES/@20minutes/s3rver" ]; then
		not_ok "s3rver is installed" "no $MODULES/@20minutes/s3rver: run" \
			"npm install --prefix build @20minutes/s3rver@4.0.4 (as .ci/run does)"
		exit 1
	fi
	rm -f "$T/s3.port"
	node --openssl-legacy-provider "$ROOT/tests/integration/s3rver.js" "$MODULES" "$T/s3data" "$T/s3.port" \
		"$@" >>"$T/s3rver.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do [ -s "$T/s3.port" ] && break; sleep 0.1; done
	if [ ! -s "$T/s3.port" ]; then not_ok "s3rver starts" "$(cat "$T/s3rver.log")"; exit 1; fi
	ENDPOINT=http://127.0.0.1:$(cat "$T/s3.port")
	export MLPIPE_S3_ENDPOINT=$ENDPOINT AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
	unset AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SHARED_CREDENTIALS_FILE AWS_CONFIG_FILE \
		AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 MLPIPE_S3_PART_SIZE MLPIPE_S3_RETRIES MLPIPE_S3_LIST_PAGE \
		MLPIPE_S3_PATH_STYLE
}
