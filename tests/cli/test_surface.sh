#!/usr/bin/env bash
# tests/cli/test_surface.sh - the command-line surface every tool shares:
# --help, --version, option errors and hints, configuration and environment
# errors, the exit status of the tools whose behaviour is not built yet,
# write errors, a closed pipe, and the man pages and bash completion that
# document the surface.
#
#   bash tests/cli/test_surface.sh      (or make check)
. "$(dirname "$0")/../lib.sh"

# Never let a tool wait on a terminal: every run reads /dev/null unless told.
exec </dev/null

BIN=$ROOT/build/bin
MAN=$ROOT/man
VERSION=$(sed -n 's/^VERSION *:= *//p' "$ROOT/Makefile" 2>/dev/null)
VERSION=${VERSION:-0.1.0}
CARS=$DATA/used_cars.csv

TOOLS=()
for b in "$BIN"/ml-*; do
	[ -x "$b" ] && TOOLS+=("$(basename "$b")")
done
if [ ${#TOOLS[@]} -eq 0 ]; then
	not_ok "binaries built" "no build/bin/ml-* under $ROOT: run make first"
	done_testing
	exit
fi

# The six tools of this release must all be there.
for t in ml-preprocess ml-train ml-score ml-baseline ml-drift ml-notify; do
	if [ -x "$BIN/$t" ]; then ok "$t is built"; else not_ok "$t is built" "missing $BIN/$t"; fi
done

# The YAML section and environment infix of a tool: its name without "ml-".
section() { echo "${1#ml-}"; }
# How to reach a tool's options: ml-preprocess needs a command first.
invoke() { # tool -> words
	if [ "$1" = ml-preprocess ]; then echo "ml-preprocess fit"; else echo "$1"; fi
}

# ---- --help and --version ----
for t in "${TOOLS[@]}"; do
	run "$t" --help
	expect_rc 0 "$t --help exits 0"
	expect_match "$out" '^Usage: ' "$t --help starts with Usage:"
	expect_match "$out" 'Exit status:' "$t --help lists the exit status"
	expect_match "$out" "man $t" "$t --help points to the man page"
	expect_eq "$err" "" "$t --help writes nothing on stderr"
	run "$t" -h
	expect_rc 0 "$t -h exits 0"
	run "$t" --version
	expect_rc 0 "$t --version exits 0"
	expect_eq "$out" "$t (mlpipe) $VERSION" "$t --version prints '$t (mlpipe) $VERSION'"
done
for c in fit apply split; do
	run ml-preprocess "$c" --help
	expect_rc 0 "ml-preprocess $c --help exits 0"
	expect_match "$out" "^Usage: ml-preprocess $c " "ml-preprocess $c --help shows its own usage"
	expect_match "$out" 'Exit status:' "ml-preprocess $c --help lists the exit status"
	run ml-preprocess "$c" --version
	expect_eq "$out" "ml-preprocess (mlpipe) $VERSION" "ml-preprocess $c --version"
done

# --help wins over a broken configuration file.
printf 'train:\n  num_round: [\n' >"$T/broken.yaml"
run ml-train --config "$T/broken.yaml" --help
expect_rc 0 "--help wins over a broken --config file"

# ---- unknown and misspelt options ----
for t in "${TOOLS[@]}"; do
	# shellcheck disable=SC2046
	run $(invoke "$t") --no-such-option
	expect_rc 64 "$t --no-such-option exits 64"
	expect_match "$err" "unrecognized option '--no-such-option'" "$t names the unrecognized option"
	expect_match "$err" "Try '$t --help' for more information" "$t suggests '$t --help'"
	expect_eq "$out" "" "$t prints nothing on stdout for a usage error"
	run $(invoke "$t") -Z
	expect_rc 64 "$t -Z (unknown short option) exits 64"
	expect_match "$err" "invalid option -- 'Z'" "$t names the unknown short option"
done

did_you_mean() { # wrong right tool-words...
	local wrong=$1 right=$2
	shift 2
	run "$@" "$wrong" 5
	expect_rc 64 "$* $wrong exits 64"
	expect_match "$err" "did you mean '$right'\\?" "$* $wrong: did you mean '$right'?"
}
did_you_mean --num_rounds --num_round ml-train
did_you_mean --num-round --num_round ml-train
did_you_mean --modle --model ml-score
did_you_mean --schemaa --schema ml-baseline
did_you_mean --treshold --threshold ml-drift
did_you_mean --subjet --subject ml-notify
did_you_mean --max-levles --max-levels ml-preprocess fit
did_you_mean --ratoos --ratios ml-preprocess split

run ml-train --target
expect_rc 64 "an option without its argument exits 64"
expect_match "$err" "option '--target' requires an argument" "the missing argument is named"

run ml-preprocess
expect_rc 64 "ml-preprocess without a command exits 64"
expect_match "$err" "a command is required" "ml-preprocess asks for a command"
run ml-preprocess frobnicate
expect_rc 64 "ml-preprocess with an unknown command exits 64"
expect_match "$err" 'unknown command "frobnicate"' "ml-preprocess names the unknown command"

# ---- bad option values ----
bad_value() { # name regex cmd...
	local name=$1 re=$2
	shift 2
	run "$@"
	expect_rc 64 "$name exits 64"
	expect_match "$err" "$re" "$name: the message says why"
}
bad_value "ml-train --threads abc" 'option --threads: expected a whole number, got "abc"' \
	ml-train --target price --threads abc
bad_value "ml-train --threads 5000" 'out of range' ml-train --target price --threads 5000
bad_value "ml-train --max-rmse 1e999" 'expected a number' ml-train --target price --max-rmse 1e999
bad_value "ml-train -a forest" '"forest" is not one of gbtree\|linear' ml-train --target price -a forest
bad_value "ml-score --combine avg" '"avg" is not one of' ml-score -m x.json --combine avg
bad_value "ml-drift --threshold x" 'expected a number' ml-drift -b d --threshold x
bad_value "ml-preprocess fit --max-levels 0" 'out of range' ml-preprocess fit --max-levels 0
bad_value "ml-preprocess fit --clip 0.9,0.1" '--clip' ml-preprocess fit --clip 0.9,0.1
bad_value "ml-preprocess fit --batch-size 0" 'out of range' ml-preprocess fit --batch-size 0
bad_value "ml-preprocess fit --delimiter ab" '--delimiter' ml-preprocess fit --delimiter ab
bad_value "ml-preprocess split --ratios 0.5,0.4" 'add up to 1' \
	ml-preprocess split --train "$T/a.csv" --test "$T/b.csv" --ratios 0.5,0.4
bad_value "ml-preprocess split with one output" 'at least two' ml-preprocess split --train "$T/a.csv"
bad_value "ml-preprocess fit --drop a,,b" 'empty item' ml-preprocess fit --drop a,,b

# ---- missing required options ----
missing_required() { # name regex cmd...
	local name=$1 re=$2
	shift 2
	run "$@"
	expect_rc 64 "$name exits 64"
	expect_match "$err" "$re" "$name: the message names what is missing"
	expect_match "$err" "Try '$1 --help'" "$name: suggests --help"
}
missing_required "ml-score without -m" 'a model is required: -m MODEL' ml-score
missing_required "ml-drift without --baseline" 'a baseline is required' ml-drift
missing_required "ml-notify without --to" 'a destination is required' ml-notify
missing_required "ml-preprocess apply without a recipe" 'apply needs a recipe' ml-preprocess apply

# ---- configuration file and environment ----
for t in "${TOOLS[@]}"; do
	s=$(section "$t")
	printf '%s:\n  no_such_key: 1\n' "$s" >"$T/unknown-$s.yaml"
	run $(invoke "$t") --config "$T/unknown-$s.yaml"
	expect_rc 78 "$t: an unknown key in the '$s:' section exits 78"
	expect_match "$err" "unknown-$s\\.yaml" "$t: the configuration error names the file"
	expect_match "$err" 'no_such_key' "$t: the configuration error names the key"

	MLPIPE_CONFIG=$T/no-such-file.yaml run $(invoke "$t")
	expect_rc 66 "$t: MLPIPE_CONFIG naming a missing file exits 66"
	expect_match "$err" 'no-such-file\.yaml' "$t: the missing configuration file is named"

	run $(invoke "$t") --config "$T/no-such-file.yaml"
	expect_rc 66 "$t: --config naming a missing file exits 66"
done

printf 'train:\n  num_rounds: 5\n' >"$T/misspelt.yaml"
run ml-train --config "$T/misspelt.yaml" --target price
expect_rc 78 "a misspelt configuration key exits 78"
expect_match "$err" 'did you mean "num_round"' "a misspelt configuration key gets a hint"

printf 'train:\n  threads: abc\n' >"$T/badvalue.yaml"
run ml-train --config "$T/badvalue.yaml" --target price
expect_rc 78 "a bad configuration value exits 78"
expect_match "$err" 'badvalue\.yaml: train\.threads' "a bad configuration value names the file and key"

printf 'train:\n  num_round: [1\n' >"$T/malformed.yaml"
run ml-train --config "$T/malformed.yaml" --target price
expect_rc 78 "a malformed configuration file exits 78"
expect_match "$err" 'malformed\.yaml:[0-9]+:[0-9]+' "a malformed configuration file is reported with line:column"

printf 'train:\n  config: other.yaml\n' >"$T/clionly.yaml"
run ml-train --config "$T/clionly.yaml" --target price
expect_rc 78 "a command-line-only option in the configuration file exits 78"

# Other tools' sections are none of this tool's business.
printf 'score:\n  no_such_key: 1\ntrain:\n  threads: 2\n' >"$T/others.yaml"
run_in "$CARS" ml-train --config "$T/others.yaml" --target price --num_round 2
expect_rc 0 "another tool's section is ignored"

MLPIPE_TRAIN_THREADS=abc run ml-train --target price
expect_rc 78 "a bad MLPIPE_TRAIN_THREADS exits 78"
expect_match "$err" 'MLPIPE_TRAIN_THREADS' "a bad environment value names the variable"
MLPIPE_THREADS=abc run ml-train --target price
expect_rc 78 "a bad MLPIPE_THREADS exits 78"
# Which -a won shows in the model's "algorithm".
printf 'train:\n  algorithm: linear\n  wd: "0.01"\n' >"$T/linear.yaml"
run_in "$CARS" ml-train --config "$T/linear.yaml" --target price
expect_match "$out" '"algorithm": "linear"' "the configuration file sets an option"
MLPIPE_TRAIN_ALGORITHM=gbtree run_in "$CARS" ml-train --config "$T/linear.yaml" --target price --num_round 2
expect_match "$out" '"algorithm": "gbtree"' "the environment wins over the configuration file"
MLPIPE_ALGORITHM=gbtree run_in "$CARS" ml-train --config "$T/linear.yaml" --target price --num_round 2
expect_match "$out" '"algorithm": "gbtree"' "MLPIPE_NAME wins over the configuration file"
MLPIPE_TRAIN_ALGORITHM=linear MLPIPE_ALGORITHM=gbtree run_in "$CARS" ml-train --target price --wd 0.01
expect_match "$out" '"algorithm": "linear"' "MLPIPE_TRAIN_NAME wins over MLPIPE_NAME"
MLPIPE_TRAIN_ALGORITHM=linear run_in "$CARS" ml-train -a gbtree --target price --num_round 2
expect_match "$out" '"algorithm": "gbtree"' "the command line wins over the environment"

# ---- tools whose behaviour is not built yet ----
not_built() { # name cmd...
	local name=$1
	shift
	run_in "$CARS" "$@"
	expect_rc 69 "$name exits 69"
	expect_match "$err" 'is not supported yet' "$name says it is not supported yet"
	expect_eq "$out" "" "$name writes nothing on stdout"
}
not_built "ml-train --loss logistic" ml-train -a linear --target price --loss logistic

# ---- write errors and closed pipes ----
if [ -c /dev/full ]; then
	run_in "$CARS" bash -c 'ml-preprocess fit --target price > /dev/full'
	expect_rc 74 "ml-preprocess fit > /dev/full exits 74"
	expect_match "$err" 'write' "ml-preprocess fit > /dev/full reports the write error"
	run_in "$CARS" bash -c 'ml-preprocess fit --target price > "$0/recipe.json" &&
		ml-preprocess apply "$0/recipe.json" "$1" > /dev/full' "$T" "$CARS"
	expect_rc 74 "ml-preprocess apply > /dev/full exits 74"
	expect_match "$err" 'write' "ml-preprocess apply > /dev/full reports the write error"
	for t in "${TOOLS[@]}"; do
		run bash -c '"$0" --help > /dev/full' "$t"
		expect_rc 74 "$t --help > /dev/full exits 74"
		expect_match "$err" 'write error' "$t --help > /dev/full reports the write error"
	done
	if [ -c /dev/full ]; then ok "/dev/full is still a device"; else not_ok "/dev/full is still a device"; fi
else
	echo "ok - # SKIP /dev/full tests: no /dev/full character device"
fi

# A reader that goes away ends the tool quietly.
{
	cat "$CARS"
	for _ in $(seq 100); do tail -n +2 "$CARS"; done
} >"$T/big.csv"
ml-preprocess fit --target price <"$CARS" >"$T/recipe.json" 2>"$T/fit.err"
ml-preprocess apply "$T/recipe.json" "$T/big.csv" 2>"$T/pipe.err" | head -1 >"$T/pipe.out"
rc=${PIPESTATUS[0]}
err=$(cat "$T/pipe.err")
expect_eq "$err" "" "ml-preprocess apply | head -1 prints no error"
if [ "$rc" -eq 0 ] || [ "$rc" -eq 141 ]; then
	ok "ml-preprocess apply | head -1 ends by SIGPIPE or success (status $rc)"
else
	not_ok "ml-preprocess apply | head -1 ends by SIGPIPE or success" "exit $rc"
fi
expect_match "$(cat "$T/pipe.out")" '^price,mileage,make=Buick' "head -1 got the header"

# ---- man pages ----
for t in "${TOOLS[@]}"; do
	page=$MAN/$t.1
	if [ ! -f "$page" ]; then
		not_ok "man page for $t" "no $page"
		continue
	fi
	ok "man page for $t"
	src=$(cat "$page")
	for sec in NAME SYNOPSIS DESCRIPTION OPTIONS ENVIRONMENT FILES "EXIT STATUS" EXAMPLES "SEE ALSO"; do
		expect_match "$src" "^\\.SH \"?$sec\"?\$" "$t.1 has a $sec section"
	done
	s=$(section "$t")
	S=$(echo "$s" | tr '[:lower:]' '[:upper:]')
	expect_match "$src" "MLPIPE_${S}_" "$t.1 documents MLPIPE_${S}_NAME"
	expect_match "$src" 'MLPIPE_CONFIG' "$t.1 documents MLPIPE_CONFIG"
	expect_match "$src" 'MLPIPE_PLUGIN_PATH' "$t.1 documents MLPIPE_PLUGIN_PATH"
	expect_match "$src" "$s:" "$t.1 names the '$s:' configuration section"
	expect_match "$src" '(price|mileage)' "$t.1 has examples on the used-car data"

	# Every option and exit status that --help shows is in the page.
	helps=("$("$BIN/$t" --help)")
	if [ "$t" = ml-preprocess ]; then
		for c in fit apply split; do helps+=("$("$BIN/$t" "$c" --help)"); done
	fi
	missing=()
	while read -r name; do
		pat=$(printf '%s' "$name" | sed 's/-/\\-/g')
		grep -qF -- "\\fB$pat\\fR" "$page" || missing+=("$name")
	done < <(printf '%s\n' "${helps[@]}" | grep -oE '^ +(-[[:alnum:]], )?--[[:alnum:]][[:alnum:]_-]*' |
		grep -oE -- '-[[:alnum:]]$|-[[:alnum:]],|--[[:alnum:]_-]+' | tr -d , | sort -u)
	expect_eq "${missing[*]}" "" "$t.1 documents every option of --help"
	missing=()
	while read -r code; do
		grep -qx "\\.B $code" "$page" || missing+=("$code")
	done < <(printf '%s\n' "${helps[@]}" | sed -n '/^Exit status:/,/^$/p' | grep -oE '^  [0-9]+' | sort -u)
	expect_eq "${missing[*]}" "" "$t.1 documents every exit status of --help"
	expect_match "$src" '^\.SH (STATUS|BUGS)$' "$t.1 has a STATUS or BUGS section"
done
for page in "$MAN"/*.1; do
	[ -f "$page" ] || continue
	b=$(basename "$page" .1)
	if [ -x "$BIN/$b" ]; then ok "$b.1 documents a built tool"; else not_ok "$b.1 documents a built tool" "no $BIN/$b"; fi
done
if [ -f "$MAN/mlpipe.7" ]; then ok "the overview mlpipe.7 exists"; else not_ok "the overview mlpipe.7 exists"; fi

if command -v groff >/dev/null 2>&1; then
	for page in "$MAN"/*.1 "$MAN"/*.7; do
		[ -f "$page" ] || continue
		warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
		rc=$?
		if [ $rc -eq 0 ] && [ -z "$warnings" ]; then
			ok "$(basename "$page") renders without warnings"
		else
			not_ok "$(basename "$page") renders without warnings" "groff exit $rc" "$warnings"
		fi
		text=$(groff -man -Tutf8 "$page" 2>/dev/null | sed 's/.\x08//g')
		expect_no_match "$text" '@[A-Z0-9]+@' "$(basename "$page") has no unfilled placeholder"
	done
else
	echo "ok - # SKIP man pages render without warnings: groff is not installed"
fi

# ---- bash completion ----
COMP=$ROOT/contrib/completion/mlpipe.bash
if [ -f "$COMP" ] && bash -n "$COMP"; then
	ok "the bash completion parses"
	complete_words() { # cword word... -> COMPREPLY, one per line
		(
			cd "$T" || exit
			# shellcheck disable=SC1090
			. "$COMP"
			COMP_CWORD=$1
			shift
			COMP_WORDS=("$@")
			COMPREPLY=()
			_mlpipe 2>/dev/null
			printf '%s\n' "${COMPREPLY[@]}"
		)
	}
	cp "$CARS" "$T/cars.csv"
	for t in "${TOOLS[@]}"; do
		if [ "$t" = ml-preprocess ]; then
			got=$(complete_words 2 ml-preprocess fit --hel)
		else
			got=$(complete_words 1 "$t" --hel)
		fi
		expect_eq "$got" "--help" "completion of $t --hel"
	done
	expect_eq "$(complete_words 1 ml-preprocess '' | tr '\n' ' ')" "fit apply split " "completion of ml-preprocess commands"
	expect_eq "$(complete_words 1 ml-train --num_r)" "--num_round" "completion of ml-train --num_r (from --help)"
	expect_eq "$(complete_words 2 ml-train -a '' | tr '\n' ' ')" "gbtree linear " "completion of ml-train -a choices"
	expect_eq "$(complete_words 4 ml-preprocess fit --scale = st)" "standard" "completion of --scale=st"
	expect_eq "$(complete_words 2 ml-preprocess split --vali)" "--validation" "completion of split options"
	expect_eq "$(complete_words 2 ml-score -m car)" "cars.csv" "completion of a FILE argument"
	expect_eq "$(complete_words 4 ml-train '<' cars.csv --target mi)" "mileage" "completion of a COL from the input's header"
	expect_eq "$(complete_words 3 ml-preprocess fit --drop price,ma cars.csv)" "price,make" "completion of a COLS list"
else
	not_ok "the bash completion parses" "$COMP"
fi

done_testing
