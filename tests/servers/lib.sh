# shellcheck shell=bash
# Shell helpers to run the python test servers of tests/servers from an
# integration script.  Source it after tests/integration/lib.sh:
#
#   . "$TOP_SRCDIR/tests/servers/lib.sh"
#   trap 'srv_stop_all; rm -rf "$T_TMP"' EXIT
#   srv_start gh "$SRV_BIN/github.py" --root "$fixtures" --cert "$ca/server.pem"
#   api=$(srv_port gh 1) codeload=$(srv_port gh 2)
#   ...
#   srv_stop gh
#
# srv_start NAME CMD [ARG...]
#     Runs CMD ARG... --port-file $SRV_DIR/NAME.port in the background (call
#     it from the script's own shell, not from $(...), so the server stays
#     our child), with stdout and stderr in $SRV_DIR/NAME.out and its pid in
#     $SRV_DIR/NAME.pid.  Returns 0 once the server has written its port
#     file; if it exits first or is not ready within $SRV_WAIT seconds
#     (default 10), prints the tail of its output, stops it and returns 1.
# srv_port NAME [I]   the I-th port (default 1) the server announced.
# srv_pid NAME        its pid.
# srv_log NAME        $SRV_DIR/NAME.jsonl: pass it as the server's --log.
# srv_stop NAME       SIGTERM by pid, SIGKILL after 5 s, reap; forget NAME.
# srv_stop_all        srv_stop every server still recorded in $SRV_DIR.
#
# SRV_DIR defaults to $T_TMP/servers (T_TMP comes from the integration lib),
# SRV_BIN is the directory of these servers.

: "${SRV_BIN:=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}"
: "${SRV_DIR:=${T_TMP:?source tests/integration/lib.sh first or set SRV_DIR}/servers}"
: "${SRV_WAIT:=10}"
mkdir -p "$SRV_DIR"

# srv_alive PID: running and not a zombie.
srv_alive() {
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] &&
		[ "$(sed 's/^.*) \(.\).*$/\1/' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

srv_start() {
	local name=$1 pid i tries
	shift
	rm -f "$SRV_DIR/$name.port"
	"$@" --port-file "$SRV_DIR/$name.port" </dev/null \
		>"$SRV_DIR/$name.out" 2>&1 &
	pid=$!
	echo "$pid" >"$SRV_DIR/$name.pid"
	tries=$((SRV_WAIT * 20))
	for ((i = 0; i < tries; i++)); do
		[ -s "$SRV_DIR/$name.port" ] && return 0
		srv_alive "$pid" || break
		sleep 0.05
	done
	if srv_alive "$pid"; then
		echo "srv_start: $name was not ready within $SRV_WAIT s: $*" >&2
	else
		echo "srv_start: $name exited before it was ready: $*" >&2
	fi
	tail -n 20 "$SRV_DIR/$name.out" | sed "s/^/$name: /" >&2
	srv_stop "$name"
	return 1
}

srv_port() {
	local ports
	read -r -a ports <"$SRV_DIR/$1.port" || return 1
	echo "${ports[$((${2:-1} - 1))]}"
}

srv_pid() {
	cat "$SRV_DIR/$1.pid"
}

srv_log() {
	echo "$SRV_DIR/$1.jsonl"
}

srv_stop() {
	local name=$1 pid i
	[ -s "$SRV_DIR/$name.pid" ] || return 0
	pid=$(cat "$SRV_DIR/$name.pid")
	if srv_alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null
		for ((i = 0; i < 100; i++)); do
			srv_alive "$pid" || break
			sleep 0.05
		done
		srv_alive "$pid" && kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	rm -f "$SRV_DIR/$name.pid" "$SRV_DIR/$name.port"
	return 0
}

srv_stop_all() {
	local f
	for f in "$SRV_DIR"/*.pid; do
		[ -e "$f" ] || continue
		f=${f##*/}
		srv_stop "${f%.pid}"
	done
}
