# tests/lib.sh - helpers for shell tests of the real binaries (after git's t/).
#
#   . "$(dirname "$0")/../lib.sh"
#   run ml-score --version            # sets $out, $err, $rc
#   expect_rc 0 "ml-score --version exits 0"
#   expect_match "$out" '^ml-score 0\.' "version line"
#   done_testing
#
# Each check prints "ok - NAME" or "not ok - NAME" with details; tests/run.sh
# counts them.  Each test file gets a scratch directory $T, removed at exit.
set -u
ROOT=${MLPIPE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
export PATH="$ROOT/build/bin:$PATH"
# No test asks a real cloud for a role's credentials: tests that want them start their own endpoint.
export AWS_EC2_METADATA_DISABLED=true
unset AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_AUTHORIZATION_TOKEN \
	AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE AWS_EC2_METADATA_SERVICE_ENDPOINT
DATA=$ROOT/tests/data
T=$(mktemp -d "${TMPDIR:-/tmp}/mlpipe-cli.XXXXXX")
trap 'rm -rf "$T"' EXIT
_failures=0

ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1"; shift; for l in "$@"; do echo "    $l"; done; _failures=$((_failures + 1)); }

# run CMD...: capture stdout, stderr and exit status (stdin from /dev/null unless redirected).
run() { out=$("$@" </dev/null 2>"$T/.stderr"); rc=$?; err=$(cat "$T/.stderr"); }
# run_in FILE CMD...: same with stdin from FILE.
run_in() { local f=$1; shift; out=$("$@" <"$f" 2>"$T/.stderr"); rc=$?; err=$(cat "$T/.stderr"); }

expect_rc() { # want name
	if [ "$rc" -eq "$1" ]; then ok "$2"; else not_ok "$2" "exit $rc, wanted $1" "stderr: ${err:0:400}"; fi
}
expect_match() { # text regex name
	if printf '%s' "$1" | grep -Eq -- "$2"; then ok "$3"; else not_ok "$3" "no match for /$2/ in:" "${1:0:600}"; fi
}
expect_no_match() { # text regex name
	if printf '%s' "$1" | grep -Eq -- "$2"; then not_ok "$3" "unexpected /$2/ in:" "${1:0:600}"; else ok "$3"; fi
}
expect_eq() { # got want name
	if [ "$1" = "$2" ]; then ok "$3"; else not_ok "$3" "got:  ${1:0:400}" "want: ${2:0:400}"; fi
}
expect_file_eq() { # got_file want_file name
	if cmp -s "$1" "$2"; then ok "$3"; else not_ok "$3" "$(diff "$2" "$1" | head -10)"; fi
}
done_testing() { [ "$_failures" -eq 0 ]; }
