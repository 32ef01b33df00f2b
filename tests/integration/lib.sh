# Shared helpers for integration scripts: TAP output and command capture.
# Source it, call `run CMD...` then `check NAME TEST...`, end with
# `done_testing`.  $CDAGENT is the binary under test (the harness sets it).
set -u

T_N=0
T_FAIL=0
: "${TOP_SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${CDAGENT:=$TOP_SRCDIR/cdagent}"
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/cdagent-it.XXXXXX")
trap 'rm -rf "$T_TMP"' EXIT

RC=0
OUT=
ERR=

ok() {
	T_N=$((T_N + 1))
	echo "ok $T_N - $1"
}

not_ok() {
	local name=$1 line
	shift
	T_N=$((T_N + 1))
	T_FAIL=$((T_FAIL + 1))
	echo "not ok $T_N - $name"
	for line in "$@"; do
		printf '%s\n' "$line" | sed 's/^/# /'
	done
}

# run CMD...: stdout in $OUT, stderr in $ERR, exit status in $RC.
run() {
	"$@" >"$T_TMP/.out" 2>"$T_TMP/.err"
	RC=$?
	OUT=$(cat "$T_TMP/.out")
	ERR=$(cat "$T_TMP/.err")
}

# check NAME TEST...: TEST is a command (test, contains, ...) that must succeed.
check() {
	local name=$1
	shift
	if "$@"; then
		ok "$name"
	else
		not_ok "$name" "failed: $*" "exit status: $RC" \
			"stdout: ${OUT:0:800}" "stderr: ${ERR:0:800}"
	fi
}

# contains TEXT REGEX: whether an extended regex matches somewhere in TEXT.
contains() {
	grep -qE -- "$2" <<<"$1"
}

lacks() {
	! grep -qE -- "$2" <<<"$1"
}

# alive PID: a running process (a zombie awaiting its reaper is not).
alive() {
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] &&
		[ "$(sed 's/^.*) \(.\).*$/\1/' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

not_alive() {
	! alive "$1"
}

# proc_id PID: "PID:START", START being the process's start time (field 22
# of /proc/PID/stat); empty when PID does not run.  A pid is reused by the
# kernel (pid_max is 32768 here, and a loaded machine wraps it in a minute
# or two): alive_id tells the process itself from a later one with its pid.
proc_id() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	set -- "$1" ${stat##*) }
	echo "$1:${21}"
}

# alive_id ID: the process proc_id named still runs (not a zombie).
alive_id() {
	alive "${1%%:*}" && [ "$(proc_id "${1%%:*}")" = "$1" ]
}

done_testing() {
	echo "1..$T_N"
	[ "$T_FAIL" -eq 0 ]
	exit $?
}
