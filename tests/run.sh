#!/usr/bin/env bash
# tests/run.sh - run every test group and end with "N passed, N failed".
#
# Groups: Check unit tests (normal and ASan+UBSan builds), shell tests of the
# real binaries (tests/cli/*.sh), integration tests against real local
# servers (tests/integration/*.sh), and a short fuzz run when clang exists.
# Shell tests speak TAP-like lines ("ok - ...", "not ok - ..."), counted here.
# Set TESTS=pattern to run only matching files.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
export MLPIPE_ROOT=$ROOT PATH="$ROOT/build/bin:$PATH"
LOG_DIR=${LOG_DIR:-$ROOT/build/test-logs}
mkdir -p "$LOG_DIR"
pass=0 fail=0
failed_names=()

record() { # name passed failed
	pass=$((pass + $2)); fail=$((fail + $3))
	if [ "$3" -gt 0 ]; then failed_names+=("$1"); fi
	printf '%-44s %4d passed, %d failed\n' "$1" "$2" "$3"
}

selected() { [ -z "${TESTS:-}" ] || [[ "$1" == *${TESTS}* ]]; }

run_check_binary() { # path label
	local bin=$1 label=$2 log out checks failures errors
	log="$LOG_DIR/$(echo "$label" | tr '/ ' '__').log"
	CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-60} "$bin" >"$log" 2>&1
	out=$(grep -Eo 'Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$log" | tail -1)
	if [ -z "$out" ]; then
		record "$label" 0 1; sed 's/^/    /' "$log" | tail -20; return
	fi
	read -r checks failures errors <<<"$(echo "$out" | tr -dc '0-9 ' | tr -s ' ')"
	record "$label" $((checks - failures - errors)) $((failures + errors))
	if [ $((failures + errors)) -gt 0 ]; then grep -E ':[EF]:' "$log" | sed 's/^/    /' | head -20; fi
}

run_shell_test() { # path
	local t=$1 log p f
	log="$LOG_DIR/$(echo "$t" | tr '/' '_').log"
	timeout 900 bash "$t" >"$log" 2>&1
	local rc=$?
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "not ok - $t exited $rc" >>"$log"; fi
	record "$t" "$p" "$f"
	if [ "$f" -gt 0 ]; then grep -A6 '^not ok ' "$log" | sed 's/^/    /' | head -40; fi
}

for bin in build/tests/test_*; do
	[ -x "$bin" ] && selected "$bin" && run_check_binary "$bin" "unit/$(basename "$bin")"
done
for bin in build/san/tests/test_*; do
	[ -x "$bin" ] && selected "$bin" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		run_check_binary "$bin" "asan+ubsan/$(basename "$bin")"
done
for t in tests/cli/*.sh tests/integration/*.sh; do
	[ -f "$t" ] && selected "$t" && run_shell_test "$t"
done
if [ -x tests/fuzz/run.sh ] && selected tests/fuzz/run.sh; then run_shell_test tests/fuzz/run.sh; fi

echo
if [ ${#failed_names[@]} -gt 0 ]; then echo "failing groups: ${failed_names[*]} (logs in $LOG_DIR)"; fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
