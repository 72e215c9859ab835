# contrib/pipelines/lib.sh - what the pipeline scripts share (sourced, POSIX sh).
#
# Every setting of a pipeline comes from its one YAML file, $cfg: the tools
# read their own sections (train:, score:, drift:, notify:, ...) through
# --config, and the scripts read the pipeline: section through
# `ml-model config`, which resolves a key as the tools resolve options
# (MLPIPE_PIPELINE_KEY in the environment, then the file, then a default).

# conf_need KEY: the key's value; an unset key stops the script with 78.
conf_need() {
	ml-model config "$cfg" "$1" || {
		_rc=$?
		[ "$_rc" -eq 1 ] && echo "${0##*/}: $cfg: $1 is not set" >&2 && _rc=78
		exit "$_rc"
	}
}

# conf_get KEY DEFAULT: the key's value, or DEFAULT.
conf_get() {
	ml-model config "$cfg" "$1" --default "$2" || exit $?
}

# notify [ML-NOTIFY OPTION]...: events on stdin to the notify: section's
# destinations (notify.to, or MLPIPE_NOTIFY_TO); nothing when none is set.
notify() {
	if ml-model config "$cfg" notify.to >/dev/null; then
		ml-notify --config "$cfg" "$@"
	else
		_rc=$?
		[ "$_rc" -eq 1 ] || return "$_rc"
		cat >/dev/null
	fi
}

# local_dir PATH: make PATH a directory unless it is a URI (s3://...).
local_dir() {
	case $1 in
	*://*) ;;
	*) mkdir -p "$1" ;;
	esac
}

# The configuration file is the one argument every pipeline starts from.
pipeline_config() {
	cfg=$1
	[ -r "$cfg" ] || { echo "${0##*/}: $cfg: cannot read the configuration file" >&2; exit 66; }
}
