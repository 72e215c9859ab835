#!/usr/bin/env bash
# The README's examples run as written: every fenced block opened with
# "```sh test" is run by bash -e in a scratch directory holding the bundled
# used-car data under the names the examples use, and must exit 0 and make
# the files it names.
. "$(dirname "$0")/../lib.sh"
CARS=$DATA/used_cars.csv
README=$ROOT/README.md
n=$(grep -c '^```sh test$' "$README")
[ "$n" -ge 5 ] && ok "the README has $n tested examples" || not_ok "the README has tested examples" "found $n"
i=0
awk -v dir="$T" '/^```sh test$/ {n++; f = sprintf("%s/block-%d.sh", dir, n); next}
	/^```/ {f = ""} f {print > f}' "$README"
for block in "$T"/block-*.sh; do
	i=$((i + 1))
	d=$T/run-$i
	mkdir -p "$d" && cd "$d" || exit 1
	cp "$CARS" cars.csv
	ml-preprocess split --seed 1 --train t.csv --validation v.csv --test x.csv <cars.csv 2>/dev/null
	cp t.csv train.csv && cp x.csv new.csv
	ml-train -a linear --target price --wd 0.001 -o model.json <t.csv 2>/dev/null
	ml-baseline -o baseline/ <t.csv
	first=$(head -1 "$block")
	run bash -e "$block"
	expect_rc 0 "README example $i ($first) exits 0"
	expect_no_match "$err" 'command not found|No such file' "README example $i: every command and file exists"
	# Every file the block writes with -o or > is there and not empty.
	for f in $(sed 's/#.*//' "$block" | grep -oE '(^|[[:space:]])(-o|>) *[A-Za-z0-9_./-]+' |
		sed -E 's/^[[:space:]]*(-o|>) *//' | grep -Ev '^/dev/|^[0-9]+$' | sort -u); do
		if [ -s "$f" ] || [ -d "$f" ]; then ok "README example $i wrote $f"; else not_ok "README example $i wrote $f" "missing or empty"; fi
	done
done
done_testing
