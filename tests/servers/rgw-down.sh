#!/bin/bash
# rgw-down.sh [--keep-dir]: stop the cluster that rgw-up.sh started in $D and
# remove $D (unless --keep-dir).
#
# Usage:  D=$RGW_DIR tests/servers/rgw-down.sh
#
# Kills only the pids in $D/run/{client.rgw.a,osd.0,mon.a}.pid, and only if
# that process's command line names $D/ceph.conf (a recycled pid is left
# alone).  Each gets SIGTERM, in the order rgw, osd, mon, and SIGKILL if it
# has not exited within 10 s.  Prints the time taken to stderr.  Exits 1 if a
# daemon survived SIGKILL.
set -u

keep=
[ "${1:-}" = --keep-dir ] && keep=1
if [ -z "${D:-}" ] || [ ! -d "$D" ]; then
	echo "rgw-down: D='${D:-}' is not a directory; nothing to stop" >&2
	exit 0
fi
D=$(cd "$D" && pwd)
t0=$(($(date +%s%N) / 1000000))

# alive PID: running and not a zombie.
alive() {
	[ -r "/proc/$1/stat" ] &&
		[ "$(sed 's/^.*) \(.\).*$/\1/' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# ours PID: a live process started with our ceph.conf.
ours() {
	alive "$1" && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null |
		grep -qF -- "$D/ceph.conf"
}

rc=0
for name in client.rgw.a osd.0 mon.a; do
	f=$D/run/$name.pid
	[ -s "$f" ] || continue
	pid=$(cat "$f")
	case $pid in '' | *[!0-9]*) continue ;; esac
	ours "$pid" || continue
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 200); do
		alive "$pid" || break
		sleep 0.05
	done
	if alive "$pid"; then
		echo "rgw-down: $name (pid $pid) ignored SIGTERM for 10 s; SIGKILL" >&2
		kill -KILL "$pid" 2>/dev/null
		for _ in $(seq 40); do
			alive "$pid" || break
			sleep 0.05
		done
		if alive "$pid"; then
			echo "rgw-down: $name (pid $pid) survived SIGKILL" >&2
			rc=1
		fi
	fi
done
[ -n "$keep" ] || rm -rf "$D"
echo "rgw-down: stopped in $(($(date +%s%N) / 1000000 - t0)) ms" >&2
exit $rc
