# bash completion for mlpipe: ml-preprocess, ml-train, ml-score, ml-baseline,
# ml-drift, ml-notify, ml-model.
#
#   . contrib/completion/mlpipe.bash        (or install it as
#   /usr/share/bash-completion/completions/ml-train etc.)
#
# Option names are not listed here: they are read from the tool's own
# "--help" (for ml-preprocess and ml-model, "TOOL COMMAND --help") each time
# completion is asked for, so this file never goes stale as options change.
# From each option line of the help, e.g.
#
#   -m, --model=FILE            model artifact (repeat for an ensemble)
#       --on-error=WHAT         on a bad row: fail (default) or skip it ...
#                               (fail|skip)
#
# it takes the names (-m, --model), the argument's name (FILE) and the
# choices on the following "(a|b|c)" line.  Values are completed by the
# argument's name: FILE, MODEL, RECIPE -> file names; DIR -> directories;
# COL, COLS -> the columns of the input's header (a file given after "<" or
# as an operand); a choice list -> its choices; URI -> destination schemes.
# Needs bash 4 (associative arrays).  Works with or without the
# bash-completion package.

# _mlpipe_parse_help COMMAND [SUBCOMMAND]: fill _mlpipe_opts (option names,
# short and long), _mlpipe_arg[name]=ARG for options taking a value, and
# _mlpipe_choices[name]="a b c".
_mlpipe_parse_help()
{
	local cmd=$1 sub=${2-} line short long arg last=
	_mlpipe_opts=()
	_mlpipe_arg=()
	_mlpipe_choices=()
	local -a argv=("$cmd")
	[[ -n $sub ]] && argv+=("$sub")
	local re_opt='^[[:space:]]+(-([[:alnum:]]),[[:space:]]+)?--([[:alnum:]][[:alnum:]_-]*)(\[?=([^][:space:]]+)\]?)?([[:space:]]|$)'
	local re_choice='^[[:space:]]{8,}\(([^()[:space:]]+\|[^()[:space:]]+)\)[[:space:]]*$'
	while IFS= read -r line; do
		if [[ $line =~ $re_opt ]]; then
			short=${BASH_REMATCH[2]}
			long=--${BASH_REMATCH[3]}
			arg=${BASH_REMATCH[5]}
			_mlpipe_opts+=("$long")
			[[ -n $short ]] && _mlpipe_opts+=("-$short")
			if [[ -n $arg ]]; then
				_mlpipe_arg[$long]=$arg
				[[ -n $short ]] && _mlpipe_arg[-$short]=$arg
			fi
			last=$long
			[[ -n $short ]] && last+=" -$short"
		elif [[ -n $last && $line =~ $re_choice ]]; then
			local o
			for o in $last; do
				_mlpipe_choices[$o]=${BASH_REMATCH[1]//|/ }
			done
		fi
	done < <(LC_ALL=C "${argv[@]}" --help 2>/dev/null)
}

# The column names of the first input file named on the command line: the
# word after "<", or else an operand that is a readable CSV/NDJSON file.
_mlpipe_columns()
{
	local i w file='' line
	for ((i = 1; i < ${#COMP_WORDS[@]}; i++)); do
		w=${COMP_WORDS[i]}
		if [[ $w == "<" && $((i + 1)) -ne $COMP_CWORD && -r ${COMP_WORDS[i + 1]} ]]; then
			file=${COMP_WORDS[i + 1]}
			break
		fi
	done
	if [[ -z $file ]]; then
		for ((i = 1; i < ${#COMP_WORDS[@]}; i++)); do
			w=${COMP_WORDS[i]}
			[[ $i -eq $COMP_CWORD ]] && continue
			case $w in
			*.csv | *.tsv | *.txt | *.ndjson | *.jsonl | *.json)
				[[ -f $w && -r $w ]] || continue
				# A recipe or model is JSON, not rows.
				[[ $w == *.json ]] && continue
				file=$w
				break
				;;
			esac
		done
	fi
	[[ -n $file ]] || return 0
	IFS= read -r line <"$file" 2>/dev/null || [[ -n $line ]] || return 0
	line=${line%$'\r'}
	line=${line#$'\xef\xbb\xbf'}
	if [[ $line == '{'* ]]; then
		# NDJSON: the keys of the first object.
		local re='"([^"\\]+)"[[:space:]]*:'
		while [[ $line =~ $re ]]; do
			printf '%s\n' "${BASH_REMATCH[1]}"
			line=${line#*"${BASH_REMATCH[0]}"}
		done
	else
		local sep=,
		[[ $line != *,* && $line == *$'\t'* ]] && sep=$'\t'
		local IFS=$sep col
		for col in $line; do
			col=${col#\"}
			col=${col%\"}
			printf '%s\n' "$col"
		done
	fi
}

# _mlpipe_values ARG CHOICES CUR: complete the value of an option.
_mlpipe_values()
{
	local arg=$1 choices=$2 cur=$3
	if [[ -n $choices ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$choices" -- "$cur")
		return
	fi
	case $arg in
	DIR | DIR\|URI)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		;;
	FILE | FILE.* | MODEL | RECIPE | F)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		;;
	COL | COLS | COL=*)
		local head='' part=$cur cols
		if [[ $arg == COLS && $cur == *,* ]]; then
			head=${cur%,*},
			part=${cur##*,}
		fi
		local IFS=$'\n'
		mapfile -t cols < <(_mlpipe_columns)
		if [[ $arg == COL=* ]]; then
			# --impute COL=HOW[:VALUE]: the column, then its "=".
			mapfile -t COMPREPLY < <(compgen -S = -W "${cols[*]}" -- "$part")
			compopt -o nospace 2>/dev/null
		else
			mapfile -t COMPREPLY < <(compgen -P "$head" -W "${cols[*]}" -- "$part")
		fi
		;;
	URI)
		mapfile -t COMPREPLY < <(compgen -W "smtp:// https:// http:// sns: file:" -- "$cur")
		compopt -o nospace 2>/dev/null
		;;
	*)
		COMPREPLY=()
		;;
	esac
}

_mlpipe()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev='' prev2=''
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	((COMP_CWORD > 1)) && prev2=${COMP_WORDS[COMP_CWORD - 2]}
	local cmd=${COMP_WORDS[0]} tool sub='' i
	[[ $cmd == "~"* ]] && cmd=$HOME${cmd#"~"}
	tool=${cmd##*/}
	COMPREPLY=()

	if [[ $tool == ml-preprocess ]]; then
		if ((COMP_CWORD == 1)); then
			if [[ $cur == -* ]]; then
				mapfile -t COMPREPLY < <(compgen -W "--help --version" -- "$cur")
			else
				mapfile -t COMPREPLY < <(compgen -W "fit apply split" -- "$cur")
			fi
			return
		fi
		case ${COMP_WORDS[1]} in
		fit | apply | split) sub=${COMP_WORDS[1]} ;;
		*) return ;;
		esac
	fi
	if [[ $tool == ml-model ]]; then
		if ((COMP_CWORD == 1)); then
			if [[ $cur == -* ]]; then
				mapfile -t COMPREPLY < <(compgen -W "--help --version" -- "$cur")
			else
				mapfile -t COMPREPLY < <(compgen -W "push list show promote fetch config" -- "$cur")
			fi
			return
		fi
		case ${COMP_WORDS[1]} in
		push | list | show | promote | fetch | config) sub=${COMP_WORDS[1]} ;;
		*) return ;;
		esac
	fi

	# After "--" only operands follow.
	for ((i = 1; i < COMP_CWORD; i++)); do
		if [[ ${COMP_WORDS[i]} == -- ]]; then
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
			return
		fi
	done

	# A file after a shell redirection.
	if [[ $prev == "<" || $prev == ">" || $prev == ">>" || $prev == "2>" ]]; then
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return
	fi

	local -a _mlpipe_opts
	local -A _mlpipe_arg _mlpipe_choices
	_mlpipe_parse_help "$cmd" "$sub"

	# "--opt=value": bash splits it at "=" into "--opt" "=" "value".
	local opt='' val
	if [[ $cur == = && $prev == --* ]]; then
		opt=$prev val=''
	elif [[ $prev == = && $prev2 == --* ]]; then
		opt=$prev2 val=$cur
	elif [[ $prev == -* && -n ${_mlpipe_arg[$prev]+set} ]]; then
		opt=$prev val=$cur
	fi
	if [[ -n $opt ]]; then
		[[ -n ${_mlpipe_arg[$opt]+set} ]] || return 0
		_mlpipe_values "${_mlpipe_arg[$opt]}" "${_mlpipe_choices[$opt]-}" "$val"
		return
	fi

	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "${_mlpipe_opts[*]}" -- "$cur")
		return
	fi

	# Operands: FILEs (for apply, the RECIPE first).
	compopt -o filenames 2>/dev/null
	mapfile -t COMPREPLY < <(compgen -f -- "$cur")
}

complete -F _mlpipe ml-preprocess ml-train ml-score ml-baseline ml-drift ml-notify ml-model
