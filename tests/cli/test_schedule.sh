#!/usr/bin/env bash
# contrib/cron and contrib/systemd: each crontab entry's command line run the
# way cron runs it (/bin/sh -c, the crontab's own environment lines, nothing
# else), with the example paths pointed into a scratch tree; the systemd
# units checked by systemd-analyze verify.
. "$(dirname "$0")/../lib.sh"
CARS=$DATA/used_cars.csv
CRONTAB=$ROOT/contrib/cron/mlpipe.crontab
cd "$T" || exit 1

# The example paths, mapped into this test's tree.
mkdir -p srv/incoming etc log
relocate() {
	sed -e "s#/tmp/mlpipe-\([a-z]*\)\.lock#$T/lock-\1.lock#g" \
		-e "s#/usr/local/share/mlpipe/contrib#$ROOT/contrib#g" -e "s#/etc/mlpipe/#$T/etc/#g" \
		-e "s#/srv/ml#$T/srv#g" -e "s#/var/log/mlpipe#$T/log#g" \
		-e "s#^PATH=.*#PATH=$ROOT/build/bin:/usr/bin:/bin#" "$@"
}
# The shipped example configurations, relocated, with the used-car data as input.
relocate "$ROOT/contrib/pipelines/train.yaml" |
	sed -e "s#^  input: .*#  input: $CARS#" -e "s@^  \# registry: .*@  registry: $T/srv/models@" >etc/train.yaml
relocate "$ROOT/contrib/pipelines/batch-score.yaml" >etc/batch-score.yaml
relocate "$ROOT/contrib/pipelines/monitor.yaml" >etc/monitor.yaml

# cron: environment lines (NAME=value) and entries (5 time fields, then the command).
relocate "$CRONTAB" >crontab
env_args=()
while IFS= read -r line; do env_args+=("$line"); done < <(grep -E '^[A-Z_]+=' crontab)
mapfile -t entries < <(grep -Ev '^[[:space:]]*(#|$)|^[A-Z_]+=' crontab)
expect_eq "${#entries[@]}" 3 "the crontab has three entries (train, batch score, monitor)"
cron_run() { # n: run entry n as cron would
	local cmd
	cmd=$(printf '%s\n' "${entries[$1]}" | sed -E 's/^[[:space:]]*([^[:space:]]+[[:space:]]+){5}//')
	out=$(env -i HOME="$T" LOGNAME=cron "${env_args[@]}" /bin/sh -c "$cmd" 2>"$T/.stderr" </dev/null)
	rc=$?
	err=$(cat "$T/.stderr")
}
expect_match "${entries[0]}" '^30 +2 ' "the training entry runs at 02:30"
cron_run 0
expect_rc 0 "cron's training command exits 0"
expect_eq "$(ml-model list -r srv/models price | awk -F'\t' 'NR > 1 {print $1, $7}')" "1 latest,best" \
	"it registered price@1 in the configured registry"
expect_match "$(cat log/train.jsonl)" 'mlpipe train: price: new model' "and notified the configured file"
cron_run 0
expect_rc 1 "the same training again is rejected (exit 1; the notification says why)"

awk 'NR == 1 || NR % 4 == 2' "$CARS" | cut -d, -f2- >srv/incoming/a.csv	# new cars (every 4th): no price yet
cron_run 1
expect_rc 0 "cron's batch-score command exits 0"
expect_eq "$(wc -l <srv/scored/a.predictions.csv | tr -d ' ')" 202 "it scored the new file"
expect_eq "$(find srv/capture -name '*.jsonl' -exec cat {} + | wc -l | tr -d ' ')" 201 "and captured its rows"
cron_run 1
expect_eq "$(find srv/capture -name '*.jsonl' -exec cat {} + | wc -l | tr -d ' ')" 201 "the next run scores nothing twice"

cron_run 2
expect_rc 0 "cron's monitor command on captured data like the training data: exit 0"
expect_eq "$(ls srv/monitor/*/report.html | wc -l | tr -d ' ')" 1 "it wrote the run's report"
expect_eq "$(test -s srv/monitor/bookmark.json && echo yes)" yes "and its bookmark"

# A lock held by a running pipeline: flock -n skips the run.
flock lock-monitor.lock sleep 3 &
sleep 0.5
cron_run 2
expect_rc 1 "while the lock is held, flock -n skips the monitor run (exit 1, nothing run)"
expect_eq "$(ls -d srv/monitor/2* | wc -l | tr -d ' ')" 1 "no second run folder"
wait

# systemd: the units as shipped, with ExecStart pointing at this tree.
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir units
	for u in "$ROOT"/contrib/systemd/*.service "$ROOT"/contrib/systemd/*.timer; do relocate "$u" >"units/${u##*/}"; done
	run systemd-analyze verify --man=no units/*.service units/*.timer
	expect_rc 0 "systemd-analyze verify accepts the units"
	expect_eq "$err" "" "with nothing to warn about"
	sed 's/OnCalendar/OnCalender/' units/mlpipe-train.timer >units/broken.timer
	run systemd-analyze verify --man=no units/broken.timer
	expect_rc 1 "and refuses a misspelt one (the check is not vacuous)"
	expect_eq "$(grep -h '^ExecStart=' units/*.service | sed 's/^ExecStart=//' | cut -d' ' -f1 | xargs -n1 test -x && echo ok)" ok \
		"every ExecStart is an executable pipeline script"
else
	echo "ok - # SKIP systemd units not verified: systemd-analyze is not installed"
fi
done_testing
