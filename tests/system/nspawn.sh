#!/bin/bash
# System test: the .deb on a booted Debian 12 with systemd as PID 1.
#
# debootstrap (minbase, plus systemd and dbus) into a scratch tree, from the
# Debian mirror this host's apt uses; boot it with systemd-nspawn; install
# the .deb that `make deb` left in the build tree (TOP_BUILDDIR), and check
# what a user would: the binary runs, the unit is installed, enabled and
# parsed by the real systemd as written, `systemd-analyze verify` is clean
# inside; with no credentials the unit fails once (exit 78, one line in
# `systemctl status`, no restart), and with them `systemctl start` runs a
# deployment; logrotate rotates the agent's log and the agent reopens it;
# an upgrade during a long hook returns at once and the deployment
# finishes, reported once, before the new agent polls; reinstalling and
# `dpkg -r` keep the configuration and the deployment root, and `dpkg -P`
# removes them (but the on-premises file) and the unit.  Then power the
# container off.  The container, its tree and every mount are removed
# on any exit.  Needs root and network access to the mirror; run it with
# `make check-system` (not part of `make check`).
. "$(dirname "$0")/../integration/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	not_ok "runs as root (debootstrap and systemd-nspawn need it)"
	done_testing
fi
missing=
for tool in debootstrap:debootstrap systemd-nspawn:systemd-container nsenter:util-linux; do
	command -v "${tool%%:*}" >/dev/null || missing="$missing ${tool#*:}"
done
if [ -n "$missing" ]; then
	not_ok "the container tools are installed (apt-get install$missing)"
	done_testing
fi

: "${TOP_BUILDDIR:=$(dirname "$CDAGENT")}"
version=$("$CDAGENT" version | sed -n 's/^cdagent //p')
deb=$(ls "$TOP_BUILDDIR"/cdagent_"$version"_*.deb 2>/dev/null | head -1)
if [ -z "$deb" ]; then
	not_ok "a .deb of cdagent $version in $TOP_BUILDDIR (make deb)"
	done_testing
fi

# The mirror: the first URIs of the bookworm stanza of the deb822 sources,
# else the first bookworm line of sources.list.  Never a fixed host.
mirror=$(awk '
	/^URIs:/ { uris = $2 }
	/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") found = 1 }
	/^$/ { if (found && uris != "") { print uris; exit } uris = ""; found = 0 }
	END { if (found && uris != "") print uris }
' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
if [ -z "$mirror" ]; then
	mirror=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' \
		/etc/apt/sources.list 2>/dev/null)
fi
if [ -z "$mirror" ]; then
	not_ok "a bookworm mirror in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list"
	done_testing
fi

# The tree is big (about 250 MB): keep it off a tmpfs /tmp.
scratch=$(mktemp -d "${CDAGENT_SYSTEM_TMPDIR:-/var/tmp}/cdagent-nspawn.XXXXXX")
tree=$scratch/tree
machine=cdagent-test-$$
nspawn_pid=
leader=

# Power the container off (or kill it), make sure nothing is mounted under
# the scratch directory, remove it.
cleanup() {
	local i m
	# debugging: keep the container for a while (CDAGENT_SYSTEM_KEEP=SECONDS)
	[ -n "${CDAGENT_SYSTEM_KEEP:-}" ] && sleep "$CDAGENT_SYSTEM_KEEP"
	if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
		[ -n "$leader" ] && timeout 10 nsenter -t "$leader" -a systemctl poweroff >/dev/null 2>&1
		for i in $(seq 100); do
			kill -0 "$nspawn_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -TERM "$nspawn_pid" 2>/dev/null
		for i in $(seq 50); do
			kill -0 "$nspawn_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$nspawn_pid" 2>/dev/null
		wait "$nspawn_pid" 2>/dev/null
	fi
	if type srv_stop_all >/dev/null 2>&1; then
		srv_stop_all
	fi
	[ -f "$scratch/rgw/env" ] && D=$scratch/rgw "$TOP_SRCDIR/tests/servers/rgw-down.sh" >/dev/null 2>&1
	awk -v s="$scratch/" 'index($2, s) == 1 { print $2 }' /proc/mounts | sort -r |
		while read -r m; do umount -l "$m"; done
	rm -rf "$scratch" "$T_TMP"
}
trap cleanup EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.1f", a - b }'; }
t_total=$(now)

# --- the tree ---------------------------------------------------------
# The container has no network: the package's own dependencies come with
# debootstrap.
deps=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/^ *//; s/ .*//' | grep . | paste -sd,)
t=$(now)
run debootstrap --variant=minbase --include="systemd,systemd-sysv,dbus,logrotate,$deps" \
	bookworm "$tree" "$mirror"
t_debootstrap=$(elapsed "$t")
echo "# debootstrap from $mirror: ${t_debootstrap} s"
check "debootstrap --variant=minbase bookworm with systemd, dbus, logrotate and $deps" \
	test "$RC" -eq 0 -a -x "$tree/lib/systemd/systemd"
if [ "$RC" -ne 0 ]; then
	done_testing
fi
# /tmp inside is a tmpfs: the package goes to /root.
cp "$deb" "$tree/root/"
debname=$(basename "$deb")
# A machine id, so journald and systemd start cleanly.
[ -s "$tree/etc/machine-id" ] || /usr/bin/python3 -c 'import uuid; print(uuid.uuid4().hex)' \
	>"$tree/etc/machine-id"

# --- boot -------------------------------------------------------------
t=$(now)
# No --private-network: the container shares the host's network namespace,
# so the agent inside reaches the test servers on the host's 127.0.0.1.
systemd-nspawn -D "$tree" -b --register=no --keep-unit \
	-M "$machine" </dev/null >"$scratch/console.log" 2>&1 &
nspawn_pid=$!
# PID 1 of the container is the child of systemd-nspawn, once it has
# become systemd; then wait (up to 2 minutes) for the boot to finish.
inside() { nsenter -t "$leader" -a "$@"; }
state=
deadline=$(($(date +%s) + 120))
while [ "$(date +%s)" -lt "$deadline" ] && kill -0 "$nspawn_pid" 2>/dev/null; do
	leader=$(ps -o pid= --ppid "$nspawn_pid" 2>/dev/null | tr -d ' ' | head -1)
	if [ -n "$leader" ] && [ "$(cat "/proc/$leader/comm" 2>/dev/null)" = systemd ]; then
		state=$(timeout 60 nsenter -t "$leader" -a systemctl is-system-running --wait 2>&1)
		case $state in running | degraded) break ;; esac
	fi
	sleep 0.1
done
t_boot=$(elapsed "$t")
echo "# boot to '$state': ${t_boot} s"
OUT=$state ERR=$(tail -20 "$scratch/console.log")
# degraded: some unit failed, which a minimal container may have (and will,
# once the agent fails to start: see below); the system is up.
check "the container boots with systemd as PID 1" contains "$state" '^(running|degraded)$'
if [ -z "$leader" ] || ! contains "$state" '^(running|degraded)$'; then
	done_testing
fi

# --- install ----------------------------------------------------------
t=$(now)
run inside dpkg -i "/root/$debname"
t_install=$(elapsed "$t")
echo "# dpkg -i: ${t_install} s"
check "dpkg -i $debname" test "$RC" -eq 0

# No instance profile (IMDS unreachable) and no on-premises file: the
# start fails once with exit 78 and one line, and systemd does not restart.
for i in $(seq 100); do
	[ "$(inside systemctl show -p ActiveState --value codedeploy-agent.service)" = failed ] && break
	sleep 0.2
done
run inside systemctl show -p ActiveState -p ExecMainStatus -p NRestarts codedeploy-agent.service
check "no credentials: the unit is failed with exit status 78" \
	test "$(sort <<<"$OUT" | tr '\n' ' ')" = "ActiveState=failed ExecMainStatus=78 NRestarts=0 "
# past RestartSec=10s: a restart would have happened by now
sleep 12
run inside systemctl show -p NRestarts -p ActiveState codedeploy-agent.service
check "no credentials: still failed and NRestarts=0 after RestartSec" \
	test "$(sort <<<"$OUT" | tr '\n' ' ')" = "ActiveState=failed NRestarts=0 "
run inside env SYSTEMD_COLORS=0 systemctl status --no-pager -n 5 codedeploy-agent.service
check "systemctl status shows the one line saying what to fix" \
	contains "$OUT" 'cannot start: .*(AWS_REGION|on-premises|instance profile)'
check "... and the exit status" contains "$OUT" 'status=78'
run inside journalctl --no-pager -u codedeploy-agent.service -o cat
check "the journal has exactly one 'cannot start' line" \
	test "$(grep -c 'cannot start' <<<"$OUT")" = 1

run inside /usr/sbin/cdagent version
check "cdagent version runs inside and says $version" contains "$RC $OUT" "^0 cdagent $version\$"
run inside /usr/sbin/codedeploy-local --version
check "codedeploy-local --version runs inside" contains "$RC $OUT" "^0 .*$version"
run inside /usr/sbin/cdagent config
check "cdagent config reads the packaged configuration" test "$RC" -eq 0

run inside systemctl is-enabled codedeploy-agent.service
check "the unit is enabled" test "$OUT" = enabled
run inside test -L /etc/systemd/system/multi-user.target.wants/codedeploy-agent.service
check "multi-user.target wants it" test "$RC" -eq 0
run inside systemctl is-enabled cdagent.service
check "the alias cdagent.service is enabled with it" test "$OUT" = alias

# What systemd itself made of the unit.
run inside systemctl show -p Type -p NotifyAccess -p KillMode -p WatchdogUSec \
	-p TimeoutStopUSec -p Restart -p SyslogIdentifier -p ExecStart \
	codedeploy-agent.service
props=$OUT
for want in '^Type=notify$' '^NotifyAccess=main$' '^KillMode=process$' \
	'^WatchdogUSec=1min$' '^TimeoutStopUSec=2h 1min$' '^Restart=on-failure$' \
	'^SyslogIdentifier=codedeploy-agent$' '^ExecStart=\{ path=/usr/sbin/cdagent ; argv\[\]=/usr/sbin/cdagent run '; do
	OUT=$props
	check "systemd reads the unit: ${want//[\\^\$]/}" contains "$props" "$want"
done

unit_path=$(inside systemctl show -p FragmentPath --value codedeploy-agent.service)
run inside systemd-analyze verify --man=no "$unit_path"
check "systemd-analyze verify inside: exit 0, no output" test "$RC|$OUT$ERR" = "0|"

run inside stat -c '%a %U %n' /opt/codedeploy-agent/deployment-root \
	/opt/codedeploy-agent/state/.pid /var/log/aws/codedeploy-agent
check "postinst made the deployment root 0755" contains "$OUT" '^755 root /opt/codedeploy-agent/deployment-root$'
check "postinst made the pid directory 0700" contains "$OUT" '^700 root /opt/codedeploy-agent/state/.pid$'
check "postinst made the log directory 0755" contains "$OUT" '^755 root /var/log/aws/codedeploy-agent$'

# --- the daemon under systemd ------------------------------------------
# A deployment of an S3 revision (radosgw on the host) pushed by the
# Commands API double (on the host), carried out by the packaged unit.
. "$TOP_SRCDIR/tests/servers/lib.sh"
PY=/usr/bin/python3
"$SRV_BIN/mkca.sh" "$scratch/ca" >/dev/null 2>&1
if CA_DIR=$scratch/ca D=$scratch/rgw "$SRV_BIN/rgw-up.sh" >"$scratch/rgw.out" 2>&1; then
	ok "radosgw starts on the host"
else
	not_ok "radosgw starts on the host" "$(tail -20 "$scratch/rgw.out")"
fi
set -a
. "$scratch/rgw/env"
set +a
app=$scratch/app
mkdir -p "$app/scripts"
cat >"$app/appspec.yml" <<'YML'
version: 0.0
os: linux
hooks:
  ApplicationStart:
    - location: scripts/start.sh
  ValidateService:
    - location: scripts/validate.sh
YML
cat >"$app/scripts/start.sh" <<'SH'
#!/bin/sh
# the "application": a long-lived process the hook leaves behind
sleep 100000 </dev/null >/dev/null 2>&1 &
echo $! >/root/hook-server.pid
echo "hook says hello from $DEPLOYMENT_ID"
SH
printf '#!/bin/sh\necho "validated $DEPLOYMENT_ID"\n' >"$app/scripts/validate.sh"
chmod 755 "$app/scripts/"*.sh
tar -C "$app" -czf "$scratch/app.tgz" .
$PY "$SRV_BIN/s3ctl.py" mb bundles >/dev/null &&
	$PY "$SRV_BIN/s3ctl.py" versioning bundles >/dev/null &&
	vid=$($PY "$SRV_BIN/s3ctl.py" put bundles app.tgz "$scratch/app.tgz" |
		$PY -c 'import json,sys; print(json.load(sys.stdin)["VersionId"])')
check "the revision is in a versioned bucket" test -n "$vid"

HOST=arn:aws:ec2:us-east-1:111122223333:instance/i-0nspawn0000000001
DID=d-NSPAWN001
cat >"$scratch/scenario.json" <<JSON
{"host": "$HOST", "redeliver_unacked": true, "deployments": [{"id": "$DID",
  "spec": {"DeploymentId": "$DID", "DeploymentGroupId": "g-nspawn",
    "DeploymentGroupName": "nspawn", "ApplicationName": "app",
    "Revision": {"RevisionType": "S3", "S3Revision": {"Bucket": "bundles",
      "Key": "app.tgz", "Version": "$vid", "BundleType": "tgz"}}},
  "commands": ["ApplicationStop", "DownloadBundle", "BeforeInstall",
    "Install", "AfterInstall", "ApplicationStart", "ValidateService"]}]}
JSON
srv_start cs "$SRV_BIN/cmdsvc.py" --cert "$scratch/ca/server.crt" \
	--key "$scratch/ca/server.key" --scenario "$scratch/scenario.json" \
	--access-key "$AWS_ACCESS_KEY_ID" --secret-key "$AWS_SECRET_ACCESS_KEY" \
	--poll-hold 1
check "the Commands API double starts on the host" test $? -eq 0
cs_state() {
	curl -s --cacert "$scratch/ca/ca.crt" "https://127.0.0.1:$(srv_port cs)/__state" |
		$PY -c "import json,sys; s=json.load(sys.stdin); print($1)" 2>/dev/null
}

cp "$scratch/ca/ca.crt" "$tree/root/ca.crt"
mkdir -p "$tree/etc/systemd/system/codedeploy-agent.service.d"
cat >"$tree/etc/systemd/system/codedeploy-agent.service.d/test.conf" <<CONF
[Service]
Environment="AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID" "AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY"
Environment=AWS_REGION=us-east-1 AWS_HOST_IDENTIFIER=$HOST
Environment=AWS_SSL_CA_BUNDLE=/root/ca.crt AWS_EC2_METADATA_DISABLED=true
WatchdogSec=4s
RestartSec=1s
CONF
cp -p "$tree/etc/codedeploy-agent/conf/codedeployagent.yml" "$scratch/packaged.yml"
cat >>"$tree/etc/codedeploy-agent/conf/codedeployagent.yml" <<YML
:deploy_control_endpoint: https://127.0.0.1:$(srv_port cs)
:s3_endpoint_override: $S3_ENDPOINT
:wait_between_runs: 1
YML
run inside systemctl daemon-reload
check "systemctl daemon-reload" test "$RC" -eq 0
run inside systemctl show -p Environment -p DropInPaths codedeploy-agent.service
check "systemd has the test's environment for the unit" contains "$OUT" "AWS_REGION=us-east-1"
t=$(now)
run inside systemctl start codedeploy-agent.service
[ "$RC" -ne 0 ] && ERR="$ERR
$(inside journalctl -u codedeploy-agent.service --no-pager -n 30 2>&1)"
check "credentials added: systemctl start codedeploy-agent (Type=notify: READY=1 came)" test "$RC" -eq 0
run inside systemctl is-active codedeploy-agent.service
check "the unit is active" test "$OUT" = active
for i in $(seq 300); do
	[ "$(cs_state "s['done']")" = True ] && break
	sleep 0.2
done
echo "# deployment through the unit: $(elapsed "$t") s"
OUT=$(cs_state "[(k, c['completed_status'], c['completes'], c.get('diagnostics')) for k, c in s['commands'].items()]")
ERR=$(inside journalctl -u codedeploy-agent.service --no-pager -n 40 2>&1)
check "the deployment ran through the unit, every command Succeeded once" \
	test "$(cs_state "all(c['completed_status'] == 'Succeeded' and c['completes'] == 1 for c in s['commands'].values())")" = True
run inside systemctl show -p StatusText --value codedeploy-agent.service
check "systemctl shows a STATUS= line" contains "$OUT" "idle|deploying|poll"
run inside journalctl -o json --no-pager "DEPLOYMENT_ID=$DID"
journal=$OUT
check "journalctl DEPLOYMENT_ID= has the hook output" contains "$journal" "hook says hello from $DID"
for f in DEPLOYMENT_GROUP_ID LIFECYCLE_EVENT SCRIPT HOOK_PID PRIORITY; do
	OUT=$journal
	check "... with $f" contains "$journal" "\"$f\":\"[^\"]+\""
done
run inside journalctl --no-pager -u codedeploy-agent "DEPLOYMENT_ID=$DID"
check "journalctl -u codedeploy-agent DEPLOYMENT_ID= tells the whole story" \
	contains "$OUT" "DownloadBundle for deployment $DID started"
check "... down to ValidateService" contains "$OUT" "validated $DID"

hook_pid=$(inside cat /root/hook-server.pid 2>/dev/null)
run inside cat "/proc/$hook_pid/cgroup"
check "the hook's process runs in a scope of its own" contains "$OUT" "cdagent-hook-$DID-[0-9]+\\.scope"
run inside systemctl restart codedeploy-agent.service
check "systemctl restart while the hook's server runs" test "$RC" -eq 0
run inside sh -c "kill -0 $hook_pid"
check "the server a hook started survives the restart" test "$RC" -eq 0
run inside systemctl is-active codedeploy-agent.service
check "the agent is active again" test "$OUT" = active

# The packaged logrotate snippet, as cron's daily run would (forced: the
# week is not over); its postrotate reaches the agent through systemd.
log=/var/log/aws/codedeploy-agent/codedeploy-agent.log
run inside logrotate -f /etc/logrotate.d/codedeploy-agent
check "logrotate -f /etc/logrotate.d/codedeploy-agent: exit 0" test "$RC|$ERR" = "0|"
for i in $(seq 50); do
	inside grep -q 'configuration reloaded' "$log" 2>/dev/null && break
	sleep 0.2
done
run inside sh -c "grep -c 'started: host' $log.1; grep -c 'started: host' $log; grep -c 'configuration reloaded' $log"
old_starts=$(sed -n 1p <<<"$OUT")
new_lines="$(sed -n 2p <<<"$OUT")|$(sed -n 3p <<<"$OUT")"
check "the old log is $log.1, the agent reopened $log" \
	test "${old_starts:-0}" -ge 1 -a "$new_lines" = "0|1"

main=$(inside systemctl show -p MainPID --value codedeploy-agent.service)
restarts=$(inside systemctl show -p NRestarts --value codedeploy-agent.service)
inside sh -c "kill -STOP $main"
new=$main
for i in $(seq 150); do
	new=$(inside systemctl show -p MainPID --value codedeploy-agent.service)
	[ "$new" != "$main" ] && [ "$new" != 0 ] &&
		[ "$(inside systemctl is-active codedeploy-agent.service)" = active ] && break
	sleep 0.2
done
OUT="main $main -> $new"
check "a SIGSTOPped agent is killed by the watchdog and restarted" \
	test "$new" != "$main" -a "$new" != 0
check "... systemd counted the restart" \
	test "$(inside systemctl show -p NRestarts --value codedeploy-agent.service)" -gt "$restarts"
inside sh -c "kill -9 $hook_pid" 2>/dev/null

# --- an upgrade during a long hook -------------------------------------
# A second deployment whose ValidateService hook runs for 20 s; dpkg -i of
# the package while it runs must return before the hook ends, the hook
# must finish and every command be reported once, and then the new agent
# (another main process) polls.
DID2=d-NSPAWN002
cat >"$app/scripts/validate.sh" <<'SH'
#!/bin/sh
touch /root/long-hook-started
sleep 20
touch /root/long-hook-ended
echo "validated $DEPLOYMENT_ID"
SH
tar -C "$app" -czf "$scratch/app2.tgz" .
vid2=$($PY "$SRV_BIN/s3ctl.py" put bundles app2.tgz "$scratch/app2.tgz" |
	$PY -c 'import json,sys; print(json.load(sys.stdin)["VersionId"])')
sed -e "s/$DID/$DID2/g" -e "s/app\.tgz/app2.tgz/" -e "s/\"$vid\"/\"$vid2\"/" \
	"$scratch/scenario.json" >"$scratch/scenario2.json"
srv_stop cs
srv_start cs "$SRV_BIN/cmdsvc.py" --cert "$scratch/ca/server.crt" \
	--key "$scratch/ca/server.key" --scenario "$scratch/scenario2.json" \
	--access-key "$AWS_ACCESS_KEY_ID" --secret-key "$AWS_SECRET_ACCESS_KEY" \
	--poll-hold 1
sed -i "s|^:deploy_control_endpoint: .*|:deploy_control_endpoint: https://127.0.0.1:$(srv_port cs)|" \
	"$tree/etc/codedeploy-agent/conf/codedeployagent.yml"
inside systemctl restart codedeploy-agent.service
for i in $(seq 300); do
	inside test -e /root/long-hook-started && break
	sleep 0.2
done
check "the long hook runs" inside test -e /root/long-hook-started
old_main=$(inside systemctl show -p MainPID --value codedeploy-agent.service)
t=$(now)
run inside env DEBIAN_FRONTEND=noninteractive dpkg -i --force-confold "/root/$debname"
t_upgrade=$(elapsed "$t")
echo "# dpkg -i during the long hook: ${t_upgrade} s"
check "dpkg -i during the hook: exit 0" test "$RC" -eq 0
run inside test -e /root/long-hook-ended
check "dpkg -i returned while the hook still ran" test "$RC" -ne 0
for i in $(seq 300); do
	[ "$(cs_state "s['done']")" = True ] && break
	sleep 0.2
done
check "the hook finished" inside test -e /root/long-hook-ended
OUT=$(cs_state "[(k, c['completed_status'], c['completes']) for k, c in s['commands'].items()]")
check "every command of the deployment Succeeded and was reported once" \
	test "$(cs_state "len(s['commands']) == 7 and all(c['completed_status'] == 'Succeeded' and c['completes'] == 1 for c in s['commands'].values())")" = True
polls_done=$(cs_state "s['requests']['by_op'].get('PollHostCommand', 0)")
new_main=$old_main
for i in $(seq 150); do
	new_main=$(inside systemctl show -p MainPID --value codedeploy-agent.service)
	polls=$(cs_state "s['requests']['by_op'].get('PollHostCommand', 0)")
	[ "$new_main" != "$old_main" ] && [ "$new_main" != 0 ] && [ "${polls:-0}" -gt "${polls_done:-0}" ] && break
	sleep 0.2
done
OUT="main $old_main -> $new_main, polls $polls_done -> $polls"
check "after the deployment the new agent runs and polls" \
	test "$new_main" != "$old_main" -a "$new_main" != 0 -a "${polls:-0}" -gt "${polls_done:-0}"
run inside journalctl --no-pager -u codedeploy-agent.service -o cat
check "the old agent waited for the running command, then stopped" \
	contains "$OUT" 'stopping: waiting for 1 running command'
inside systemctl stop codedeploy-agent.service
# back to the packaged configuration for the upgrade checks
cp -p "$scratch/packaged.yml" "$tree/etc/codedeploy-agent/conf/codedeployagent.yml"
rm -rf "$tree/etc/systemd/system/codedeploy-agent.service.d"
inside systemctl daemon-reload
srv_stop_all
D=$scratch/rgw "$SRV_BIN/rgw-down.sh" >/dev/null 2>&1

# --- reinstall (the upgrade path), remove, purge -----------------------
inside sh -c 'echo keep >/opt/codedeploy-agent/deployment-root/marker &&
	echo log >/var/log/aws/codedeploy-agent/codedeploy-agent.log &&
	echo ":verbose: true" >>/etc/codedeploy-agent/conf/codedeployagent.yml'
run inside env DEBIAN_FRONTEND=noninteractive dpkg -i --force-confold "/root/$debname"
check "dpkg -i again (upgrade path)" test "$RC" -eq 0
run inside sh -c 'cat /opt/codedeploy-agent/deployment-root/marker;
	grep -c "^:verbose: true" /etc/codedeploy-agent/conf/codedeployagent.yml'
check "upgrade keeps the deployment root and a changed configuration" test "$OUT" = "keep
1"
run inside systemctl is-enabled codedeploy-agent.service
check "upgrade keeps the unit enabled" test "$OUT" = enabled
inside sh -c 'printf "region: us-east-1\n" >/etc/codedeploy-agent/conf/codedeploy.onpremises.yml'

run inside dpkg -r cdagent
check "dpkg -r" test "$RC" -eq 0
run inside sh -c 'test ! -e /usr/sbin/cdagent && echo binary-gone;
	test -f /etc/codedeploy-agent/conf/codedeployagent.yml && echo config-kept;
	test -f /opt/codedeploy-agent/deployment-root/marker && echo root-kept;
	test -f /var/log/aws/codedeploy-agent/codedeploy-agent.log && echo logs-kept'
check "dpkg -r removes the binary, keeps configuration, deployment root and logs" \
	test "$(echo $OUT)" = "binary-gone config-kept root-kept logs-kept"

run inside dpkg -P cdagent
check "dpkg -P" test "$RC" -eq 0
check "dpkg -P says it keeps the on-premises file" contains "$ERR" 'kept /etc/codedeploy-agent/conf/codedeploy.onpremises.yml'
run inside sh -c 'cat /etc/codedeploy-agent/conf/codedeploy.onpremises.yml; ls /etc/codedeploy-agent/conf'
check "dpkg -P keeps the on-premises file alone" test "$OUT" = "region: us-east-1
codedeploy.onpremises.yml"
inside rm -r /etc/codedeploy-agent
run inside sh -c 'for p in /etc/codedeploy-agent /opt/codedeploy-agent \
	/var/log/aws/codedeploy-agent /lib/systemd/system/codedeploy-agent.service \
	/usr/lib/systemd/system/codedeploy-agent.service \
	/etc/systemd/system/multi-user.target.wants/codedeploy-agent.service \
	/etc/systemd/system/cdagent.service; do
	if [ -e "$p" ] || [ -L "$p" ]; then echo "left: $p"; fi; done'
check "dpkg -P removes configuration, deployment root, logs, unit and its links" test -z "$OUT"
run inside systemctl is-enabled codedeploy-agent.service
check "systemd no longer knows the unit" test "$RC" -ne 0

# --- power off --------------------------------------------------------
t=$(now)
inside systemctl poweroff >/dev/null 2>&1
for i in $(seq 300); do
	kill -0 "$nspawn_pid" 2>/dev/null || break
	sleep 0.1
done
stopped=no
kill -0 "$nspawn_pid" 2>/dev/null || stopped=yes
wait "$nspawn_pid" 2>/dev/null
t_poweroff=$(elapsed "$t")
echo "# poweroff: ${t_poweroff} s"
OUT=$(tail -20 "$scratch/console.log")
check "the container powers off" test "$stopped" = yes
[ "$stopped" = yes ] && nspawn_pid=

echo "# timing: debootstrap ${t_debootstrap} s, boot ${t_boot} s, dpkg -i ${t_install} s, poweroff ${t_poweroff} s, total $(elapsed "$t_total") s"
done_testing
