#!/usr/bin/env bash
# ml-drift --report: a self-contained HTML page (no scripts, links or URLs),
# one inline SVG chart of baseline and current shares per feature, the
# drifted ones marked, the violations listed; rendered by headless Chromium
# when it is installed (Debian's chromium).
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3
CARS=$DATA/used_cars.csv
CHECK=$ROOT/tests/cli/ref/report_check.py
ml-baseline -o "$T/bl" <"$CARS"
awk -F, 'BEGIN {OFS = ","} NR == 1 {print; next} {$2 = int($2 * 1.6); if (NR % 3 == 0) $3 = "Chevy"; print}' \
	"$CARS" >"$T/shift.csv"

run ml-drift -b "$T/bl" -o "$T/o" --report "$T/r.html" "$T/shift.csv"
expect_rc 1 "drift found: exit 1, and the report written"
run $PY "$CHECK" "$T/r.html" 9 mileage,make mileage:baseline_drift_check,make:baseline_drift_check
expect_rc 0 "the report: $out"
expect_match "$(cat "$T/r.html")" '<td>mileage</td><td>linf_robust</td><td class="n">0.55597' "the records table has the distances"
run ml-drift -b "$T/bl" -o "$T/o" --numeric-method ks --categorical-method chi2 --report "$T/ks.html" "$T/shift.csv"
expect_match "$(cat "$T/ks.html")" 'ks 0.55597[0-9]*, p-value [0-9.e-]+, threshold 0.05' "a test's p-value is shown with its chart"
run_in "$CARS" ml-drift -b "$T/bl" -o "$T/o" --report "$T/same.html"
expect_rc 0 "no drift: exit 0"
run $PY "$CHECK" "$T/same.html" 9 "" ""
expect_rc 0 "no drift: nothing marked, no violations ($out)"
expect_match "$(cat "$T/same.html")" 'No constraint violations' "the page says so"
$PY "$ROOT/tests/cli/ref/capture_gen.py" "$CARS" "$T/cap"
run ml-drift -b "$T/bl" -o "$T/o" --prediction price --bookmark "$T/bm" --report "$T/cap.html" "$T/cap"
expect_rc 0 "a report of captures read with a bookmark"
rm -f "$T/cap.html"
run ml-drift -b "$T/bl" -o "$T/o" --prediction price --bookmark "$T/bm" --report "$T/cap.html" "$T/cap"
expect_eq "$rc:$([ -e "$T/cap.html" ] && echo written || echo none)" "0:none" "no new data: no report"
run ml-drift -b "$T/bl" -o "$T/o" --report "$T/nodir/r.html" "$T/shift.csv"
expect_rc 66 "a report in a missing directory is an error (66)"

# Drift over time from earlier runs' records.
for f in "$CARS" "$T/shift.csv" "$CARS"; do
	ml-drift -b "$T/bl" -o "$T/o" "$f" >>"$T/history.ndjson" 2>/dev/null
	sleep 1	# distinct run times
done
run ml-drift -b "$T/bl" -o "$T/o" --report "$T/h.html" --history "$T/history.ndjson" "$T/shift.csv"
expect_rc 1 "a report with --history"
expect_eq "$($PY -c 'import re,sys
t = open(sys.argv[1]).read()
trends = re.findall(r"<svg class=\"trend\".*?</svg>", t, re.S)
pts = [len(re.findall(r"<circle ", s)) for s in trends]
red = [len(re.findall(r"fill=\"#b42318\"", s)) for s in trends]
print(len(trends), set(pts), red[1], red[2], red[0])' "$T/h.html")" "9 {4} 2 2 0" \
	"a drift-over-time chart per feature, 4 runs each; mileage and make drifted twice, price never"
run $PY "$CHECK" "$T/h.html" 9 mileage,make mileage:baseline_drift_check,make:baseline_drift_check
expect_rc 0 "still self-contained with the history: $out"
run ml-drift -b "$T/bl" -o "$T/o" --history "$T/history.ndjson" "$T/shift.csv"
expect_rc 64 "--history without --report is a usage error"
printf '{"feature":"price"}\nnot json\n' >"$T/bad.ndjson"
run ml-drift -b "$T/bl" -o "$T/o" --report "$T/b.html" --history "$T/bad.ndjson" "$T/shift.csv"
expect_rc 65 "a history line that is not JSON: exit 65"
expect_match "$err" 'bad.ndjson:2: not a drift record' "naming the file and line"

# Debian's chromium and python3-pil are in the Makefile's DEB_TEST (make deps
# installs them), so a missing one fails the test; MLPIPE_SKIP_CHROMIUM=1 skips
# it on purpose on a machine without a browser.
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ "${MLPIPE_SKIP_CHROMIUM:-0}" = 1 ]; then
	echo "ok - # SKIP headless Chromium rendering: MLPIPE_SKIP_CHROMIUM=1"
elif [ -z "$CHROME" ] || ! $PY -c 'import PIL' 2>/dev/null; then
	not_ok "headless Chromium rendering" "chromium or python3-pil is not installed: make deps (or MLPIPE_SKIP_CHROMIUM=1)"
else
	rm -f "$T/shot.png"
	timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,2200 \
		--screenshot="$T/shot.png" "file://$T/h.html" >/dev/null 2>&1
	run $PY "$CHECK" --png "$T/shot.png"
	expect_rc 0 "headless Chromium renders the charts (screenshot not blank): $out"
	# What Chromium parsed, checked like the file: 9 charts each with bars of non-zero height.
	timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --dump-dom "file://$T/r.html" 2>/dev/null >"$T/dom.html"
	run $PY "$CHECK" "$T/dom.html" 9 mileage,make mileage:baseline_drift_check,make:baseline_drift_check
	expect_rc 0 "Chromium's DOM has the 9 SVG charts, each with non-empty bars: $out"
	timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --dump-dom "file://$T/h.html" 2>/dev/null >"$T/hdom.html"
	expect_eq "$(grep -o '<polyline points="[^"]*[0-9][^"]*"' "$T/hdom.html" | wc -l | tr -d ' ')" 9 \
		"and with --history 9 drift-over-time lines with points"
fi
done_testing
