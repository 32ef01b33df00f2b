#!/bin/bash
# rgw-up.sh: a throwaway single-node Ceph with radosgw as a real S3 server
# (test-environment.md §2b): one mon, one memstore OSD and one radosgw, cephx,
# no mgr, no systemd, everything under one directory.
#
# Usage:  envfile=$(D=/some/dir CA_DIR=/ca/dir tests/servers/rgw-up.sh)
#         . "$envfile"     # S3_ENDPOINT, S3_CA, AWS_ACCESS_KEY_ID, ...
#         ...
#         D=$RGW_DIR tests/servers/rgw-down.sh
#
# Environment:
#   D       the cluster directory (default: a new mktemp -d).  It must not
#           hold a running cluster; keep it short (sockets live in $D/run).
#   CA_DIR  a directory made by mkca.sh whose server.pem rgw serves and whose
#           ca.crt clients trust (default: mkca.sh "$D").
#   RGW_USER_KEY / RGW_USER_SECRET  the test user's keys (defaults below).
#   RGW_PORTS "MON HTTP HTTPS" to choose the ports (default: freeport.py).
#
# On success prints the path of $D/env on stdout (progress and timings go to
# stderr).  $D/env holds shell assignments:
#   RGW_DIR RGW_CONF S3_ENDPOINT=https://127.0.0.1:PORT
#   S3_HTTP_ENDPOINT=http://127.0.0.1:PORT S3_CA AWS_ACCESS_KEY_ID
#   AWS_SECRET_ACCESS_KEY S3_REGION=us-east-1
# Daemons run in the foreground of background jobs (-f), so they stay in the
# caller's process group, and each one's pid is in $D/run/<name>.pid.
# Ports: mon, rgw http and rgw https are free ephemeral ports picked per run
# (freeport.py); the OSD takes the first free ports of Ceph's 6800-7300
# range, so several clusters can run at once.
#
# If a daemon does not come up, prints the tail of its log, stops every
# daemon it started, removes $D if it made it, and exits 1.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
KEY=${RGW_USER_KEY:-AKIACDAGENTTEST00001}
SECRET=${RGW_USER_SECRET:-cdagent/Test+Secret/0000000000000000000000}
unset CEPH_ARGS CEPH_CONF

now_ms() { echo $(($(date +%s%N) / 1000000)); }
say() { echo "rgw-up: $*" >&2; }

missing=
for cmd in ceph-authtool monmaptool ceph-mon ceph-osd ceph radosgw \
	radosgw-admin curl openssl; do
	command -v "$cmd" >/dev/null || missing="$missing $cmd"
done
if [ -n "$missing" ]; then
	say "missing commands:$missing; install the Debian packages:" \
		"apt-get install -y --no-install-recommends" \
		"ceph-mon ceph-osd radosgw ceph-common curl openssl"
	exit 1
fi

made_dir=
started=
# On any failure: stop what was started, keep nothing running.
cleanup() {
	local rc=$?
	if [ $rc -ne 0 ]; then
		if [ -n "$started" ]; then
			D=$D "$here/rgw-down.sh" --keep-dir >&2 || true
		fi
		if [ -n "$made_dir" ]; then
			rm -rf "$D"
		elif [ -d "$D/log" ]; then
			say "logs kept in $D/log"
		fi
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

if [ -z "${D:-}" ]; then
	D=$(mktemp -d "${TMPDIR:-/tmp}/rgw.XXXXXX")
	made_dir=1
fi
mkdir -p "$D"
D=$(cd "$D" && pwd)
if [ ${#D} -gt 80 ]; then
	say "D=$D is too long: Ceph's sockets in \$D/run must fit in 107 bytes"
	exit 1
fi
for f in "$D"/run/*.pid; do
	[ -s "$f" ] || continue
	pid=$(cat "$f")
	if [ -r "/proc/$pid/cmdline" ] &&
		tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$D/ceph.conf"; then
		say "a cluster is already running in $D ($f);" \
			"run D=$D $here/rgw-down.sh first"
		D=  # not ours to clean up
		exit 1
	fi
done
rm -rf "$D"/mon "$D"/osd "$D"/run "$D"/log "$D"/rgw "$D"/ceph.conf \
	"$D"/keyring "$D"/monmap "$D"/env
mkdir -p "$D"/mon/ceph-a "$D"/osd/ceph-0 "$D"/run "$D"/log "$D"/rgw

# fail DAEMON LOG WHAT: report a daemon that did not come up, with its log.
fail() {
	local f
	say "$1 $3"
	for f in $2; do
		[ -s "$f" ] || continue
		echo "---- last 20 lines of $f ----" >&2
		tail -n 20 "$f" >&2
	done
	exit 1
}

# alive PID: running and not a zombie.
alive() {
	[ -r "/proc/$1/stat" ] &&
		[ "$(sed 's/^.*) \(.\).*$/\1/' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# why PID TIMEOUT_TEXT: "exited" if the daemon died, else TIMEOUT_TEXT.
why() {
	if alive "$1"; then
		echo "$2"
	else
		echo "exited before it came up"
	fi
}

CA=${CA_DIR:-$D}
"$here/mkca.sh" "$CA"
CA=$(cd "$CA" && pwd)

read -r MON_PORT HTTP_PORT HTTPS_PORT < <(
	if [ -n "${RGW_PORTS:-}" ]; then
		echo "$RGW_PORTS"
	else
		$PY "$here/freeport.py" 3
	fi
)
FSID=$(cat /proc/sys/kernel/random/uuid)
# paxos_propose_interval: the mon commits each osdmap change (OSD boot, every
# pool rgw creates) after this delay; the default 1 s makes rgw take ~13 s.
cat >"$D/ceph.conf" <<CONF
[global]
fsid = $FSID
mon_host = v2:127.0.0.1:$MON_PORT
mon_initial_members = a
public_network = 127.0.0.0/8
ms_bind_ipv6 = false
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
keyring = $D/keyring
run_dir = $D/run
admin_socket = $D/run/\$name.asok
log_file = $D/log/\$name.log
pid_file = $D/run/\$name.pid
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
mon_warn_on_insecure_global_id_reclaim_allowed = false
mon_data_avail_warn = 1
paxos_propose_interval = 0.05
paxos_min_wait = 0.01
[mon]
mon_data = $D/mon/\$cluster-\$id
[osd]
osd_data = $D/osd/\$cluster-\$id
osd_objectstore = memstore
memstore_device_bytes = 2147483648
[client.rgw.a]
rgw_data = $D/rgw
rgw_frontends = beast endpoint=127.0.0.1:$HTTP_PORT ssl_endpoint=127.0.0.1:$HTTPS_PORT ssl_certificate=$CA/server.pem
CONF
C=(-c "$D/ceph.conf")
CLI=(ceph "${C[@]}" --connect-timeout 10)
K=$D/keyring
t0=$(now_ms)

ceph-authtool --create-keyring "$K" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool "$K" --gen-key -n client.admin --cap mon 'allow *' \
	--cap osd 'allow *' --cap mgr 'allow *' >/dev/null
ceph-authtool "$K" --gen-key -n osd.0 --cap mon 'allow profile osd' \
	--cap osd 'allow *' --cap mgr 'allow profile osd' >/dev/null
ceph-authtool "$K" --gen-key -n client.rgw.a --cap mon 'allow rw' \
	--cap osd 'allow rwx' --cap mgr 'allow rw' >/dev/null
monmaptool --create --add a "v2:127.0.0.1:$MON_PORT" --fsid "$FSID" \
	"$D/monmap" >/dev/null

# mon
ceph-mon "${C[@]}" -i a --mkfs --monmap "$D/monmap" --keyring "$K" \
	>"$D/log/mon-mkfs.out" 2>&1 ||
	fail mon "$D/log/mon-mkfs.out" "mkfs failed"
started=1
ceph-mon "${C[@]}" -f -i a </dev/null >"$D/log/mon.out" 2>&1 &
echo $! >"$D/run/mon.a.pid"
"${CLI[@]}" -s >/dev/null 2>"$D/log/ceph-s.out" ||
	fail mon "$D/log/mon.out $D/log/ceph-s.out $D/log/mon.a.log" \
		"did not answer on 127.0.0.1:$MON_PORT within 10 s"
t_mon=$(now_ms)

# osd
OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
OSD_ID=$("${CLI[@]}" osd new "$OSD_UUID" 2>"$D/log/osd-new.out") ||
	fail osd "$D/log/osd-new.out" "could not be created"
[ "$OSD_ID" = 0 ] || fail osd "$D/log/osd-new.out" "got id '$OSD_ID', not 0"
ceph-osd "${C[@]}" -i 0 --mkfs --osd-uuid "$OSD_UUID" \
	>"$D/log/osd-mkfs.out" 2>&1 ||
	fail osd "$D/log/osd-mkfs.out $D/log/osd.0.log" "mkfs failed"
ceph-osd "${C[@]}" -f -i 0 </dev/null >"$D/log/osd.out" 2>&1 &
osd_pid=$!
echo $osd_pid >"$D/run/osd.0.pid"
up=
for _ in $(seq 300); do
	if "${CLI[@]}" osd stat 2>/dev/null | grep -q ' 1 up'; then
		up=1
		break
	fi
	alive "$osd_pid" || break
	sleep 0.1
done
[ -n "$up" ] || fail osd "$D/log/osd.out $D/log/osd.0.log" \
	"$(why "$osd_pid" "was not marked up within 30 s")"
t_osd=$(now_ms)

# rgw
radosgw "${C[@]}" -f -n client.rgw.a </dev/null >"$D/log/rgw.out" 2>&1 &
rgw_pid=$!
echo $rgw_pid >"$D/run/client.rgw.a.pid"
up=
for _ in $(seq 600); do
	if curl -s --max-time 1 -o /dev/null "http://127.0.0.1:$HTTP_PORT/"; then
		up=1
		break
	fi
	alive "$rgw_pid" || break
	sleep 0.1
done
[ -n "$up" ] || fail radosgw "$D/log/rgw.out $D/log/client.rgw.a.log" \
	"$(why "$rgw_pid" "did not answer on http://127.0.0.1:$HTTP_PORT/ within 60 s")"
curl -sS --max-time 5 -o /dev/null --cacert "$CA/ca.crt" \
	"https://127.0.0.1:$HTTPS_PORT/" 2>"$D/log/https.out" ||
	fail radosgw "$D/log/https.out $D/log/client.rgw.a.log" \
		"does not answer HTTPS on 127.0.0.1:$HTTPS_PORT with $CA/server.pem"
t_rgw=$(now_ms)

radosgw-admin "${C[@]}" user create --uid=cdagent-test \
	--display-name="cdagent test" --access-key="$KEY" \
	--secret-key="$SECRET" >"$D/log/user.out" 2>&1 ||
	fail radosgw-admin "$D/log/user.out" "could not create the test user"
t_user=$(now_ms)

{
	printf 'RGW_DIR=%q\n' "$D"
	printf 'RGW_CONF=%q\n' "$D/ceph.conf"
	printf 'S3_ENDPOINT=%q\n' "https://127.0.0.1:$HTTPS_PORT"
	printf 'S3_HTTP_ENDPOINT=%q\n' "http://127.0.0.1:$HTTP_PORT"
	printf 'S3_CA=%q\n' "$CA/ca.crt"
	printf 'AWS_ACCESS_KEY_ID=%q\n' "$KEY"
	printf 'AWS_SECRET_ACCESS_KEY=%q\n' "$SECRET"
	printf 'S3_REGION=%q\n' us-east-1
} >"$D/env.tmp"
mv "$D/env.tmp" "$D/env"

say "up in $((t_user - t0)) ms (mon $((t_mon - t0)), osd $((t_osd - t0))," \
	"rgw $((t_rgw - t0)), user $((t_user - t0))); https://127.0.0.1:$HTTPS_PORT in $D"
echo "$D/env"
