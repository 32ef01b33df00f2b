#!/bin/bash
# The kill campaign (issue 13): a 10,000-file redeploy with `cdagent local`
# is SIGKILLed at CRASH_KILLS (default 50) instants spread evenly over its
# whole run (the unpack and check of the new revision before ApplicationStop,
# DownloadBundle, Install and the hooks); after each kill the same
# revision or the previous one is deployed again with the default DISALLOW,
# and that must succeed and leave the destination exactly equal to it (no
# stale file, no temporary file, nothing missing) with the cleanup list equal
# to the installed set.  Then the daemon: killed mid-Install, restarted, it
# reports the command failed with code 7, and the next deployment is clean.
# Prints where the kills landed, by phase, and the time taken.
. "$(dirname "$0")/lib.sh"
. "$TOP_SRCDIR/tests/servers/lib.sh"
. "$(dirname "$0")/agent-lib.sh"

PY=/usr/bin/python3
KILLS=${CRASH_KILLS:-50}
AGENT_PID=
cleanup() {
	[ -n "$AGENT_PID" ] && kill -9 "$AGENT_PID" 2>/dev/null
	kill_hooks
	srv_stop_all
	rm -rf "$T_TMP"
}
trap cleanup EXIT

root=$T_TMP/root
dest=$T_TMP/dest
export HOOK_PIDS=$T_TMP/hook-pids
# how long hooks run: a second when a kill is aimed at them, else 0.02 s
export HOOK_SLEEP=$T_TMP/hook-sleep
mkdir -p "$dest"
cat >"$T_TMP/local.yml" <<YML
:root_dir: $root
:log_dir: $T_TMP/log
:on_premises_config_file: $T_TMP/none.yml
:max_revisions: 2
YML

# kill_hooks: SIGKILL the hook scripts a killed agent left running (each
# wrote its pid to $HOOK_PIDS), as a power cut would.
kill_hooks() {
	local p
	[ -s "$HOOK_PIDS" ] || return 0
	while read -r p; do
		kill -9 "$p" 2>/dev/null
	done <"$HOOK_PIDS"
	: >"$HOOK_PIDS"
}

# Revisions A and B, 10,000 files each in 100 directories: B drops d90-d99,
# adds n00-n09, and changes the files of the even directories.
$PY - "$T_TMP/rev" "$dest/site" <<'PY'
import os, sys
top, site = sys.argv[1], sys.argv[2]
hook = """#!/bin/sh
echo $$ >>"$HOOK_PIDS"
sleep "$(cat "$HOOK_SLEEP" 2>/dev/null || echo 0.02)"
"""
for rev in "AB":
    content = os.path.join(top, rev, "content")
    dirs = ["d%02d" % i for i in range(100)]
    if rev == "B":
        dirs = dirs[:90] + ["n%02d" % i for i in range(10)]
    for d in dirs:
        os.makedirs(os.path.join(content, d))
        tag = rev if (d[0] == "n" or int(d[1:]) % 2 == 0) else "A"
        for f in range(100):
            with open(os.path.join(content, d, "f%02d" % f), "w") as out:
                out.write("%s %s %02d\n" % (tag, d, f))
    os.makedirs(os.path.join(top, rev, "scripts"))
    with open(os.path.join(top, rev, "scripts", "hook.sh"), "w") as out:
        out.write(hook)
    os.chmod(os.path.join(top, rev, "scripts", "hook.sh"), 0o755)
    with open(os.path.join(top, rev, "appspec.yml"), "w") as out:
        out.write("version: 0.0\nos: linux\nfiles:\n"
                  "  - source: content\n    destination: %s\nhooks:\n" % site)
        for ev in ("ApplicationStop", "BeforeInstall", "AfterInstall",
                   "ApplicationStart", "ValidateService"):
            out.write("  %s:\n    - location: scripts/hook.sh\n" % ev)
PY
for r in A B; do
	tar cf "$T_TMP/$r.tar" -C "$T_TMP/rev/$r" .
done

# deploy REV [DELAY [TRIGGER [LINES]]]: deploy a revision; with DELAY,
# SIGKILL the agent (and its hooks) DELAY seconds after it started, or after
# the file TRIGGER has LINES lines (default 1).  The agent's output in $OUT;
# IN_HOOK is 1 if a hook was running when the kill came.
deploy() {
	local rev=$1 delay=${2:-} trigger=${3:-} lines=${4:-1} pid n=0 p
	setsid "$CDAGENT" local -c "$T_TMP/local.yml" -l "$T_TMP/$rev.tar" \
		-t tar -g crash >"$T_TMP/out" 2>"$T_TMP/err" &
	pid=$!
	if [ -n "$trigger" ]; then
		while [ "$(cat "$trigger" 2>/dev/null | wc -l)" -lt "$lines" ] &&
			[ $n -lt 6000 ] && kill -0 "$pid" 2>/dev/null; do
			sleep 0.01
			n=$((n + 1))
		done
	fi
	IN_HOOK=0
	if [ -n "$delay" ]; then
		sleep "$delay"
		kill -9 "$pid" 2>/dev/null
		if [ -s "$HOOK_PIDS" ]; then
			while read -r p; do
				kill -0 "$p" 2>/dev/null && IN_HOOK=1
			done <"$HOOK_PIDS"
		fi
	fi
	{ wait "$pid"; } 2>/dev/null
	RC=$?
	kill_hooks
	OUT=$(cat "$T_TMP/out")
	ERR=$(cat "$T_TMP/err")
}

# phase: the event the killed agent was in, from what it reported done
phase() {
	local last
	# the new revision is fetched, unpacked and checked before the old
	# one's ApplicationStop; DownloadBundle then takes that copy
	if ! grep -q 'the new revision passed its checks' "$T_TMP/out"; then
		echo revision-check
		return
	fi
	last=$(grep -Eo '^  [A-Za-z]+ (succeeded|skipped)' "$T_TMP/out" |
		tail -1 | awk '{print $1}')
	case $last in
	'' | BeforeBlockTraffic | AfterBlockTraffic) echo ApplicationStop ;;
	ApplicationStop) echo DownloadBundle ;;
	DownloadBundle) echo BeforeInstall ;;
	BeforeInstall) echo Install ;;
	Install) echo AfterInstall ;;
	AfterInstall) echo ApplicationStart ;;
	ApplicationStart) echo ValidateService ;;
	*) echo completed ;;
	esac
}

# exact REV SITE CLEANUP: the destination is exactly REV, and the cleanup
# list is exactly what is installed; prints the differences, if any
exact() {
	local rev=$1 site=$2 records=$3
	diff -r --no-dereference "$T_TMP/rev/$rev/content" "$site" 2>&1 | head -5
	[ -e "$records.new" ] && echo "$records.new is left"
	diff <(sort "$records") <(find "$site" | sort) | head -5
}

# --- calibration: one uninterrupted deployment of each revision ------------
t0=$(date +%s.%N)
deploy A
check "revision A deploys" test "$RC" -eq 0
deploy B
t1=$(date +%s.%N)
check "revision B deploys over A" test "$RC" -eq 0
records=$root/deployment-instructions/crash-cleanup
check "B is installed exactly" test -z "$(exact B "$dest/site" "$records")"
duration=$($PY -c "print(($t1 - $t0) / 2)")

# --- the campaign -------------------------------------------------------------
current=B
failures=0
declare -A landed
start=$(date +%s)
for i in $(seq 0 $((KILLS - 1))); do
	target=$([ "$current" = A ] && echo B || echo A)
	lines=1
	case $((i % 5)) in
	3) # a moment after the 1st to 5th hook started
		trigger=$HOOK_PIDS
		lines=$((RANDOM % 5 + 1))
		echo 1 >"$HOOK_SLEEP"
		delay=$($PY -c "import random; print('%.3f' % random.uniform(0, 0.03))") ;;
	1) # a moment after Install recorded what it will create
		trigger=$records.new
		delay=$($PY -c "import random; print('%.3f' % random.uniform(0, 0.5))") ;;
	*) # stratified: kill i lands in the i-th of KILLS slices of a run
		trigger=
		delay=$($PY -c "import random; print('%.3f' % (($i + random.random()) * $duration / $KILLS))") ;;
	esac
	deploy "$target" "$delay" "$trigger" "$lines"
	rm -f "$HOOK_SLEEP"
	where=$([ "$RC" -eq 0 ] && echo completed || phase)
	[ "$IN_HOOK" = 1 ] && [ "$RC" -ne 0 ] && where="$where-hook"
	landed[$where]=$((${landed[$where]:-0} + 1))
	# then the same revision again, or the previous one
	again=$([ $((RANDOM % 2)) -eq 0 ] && echo "$target" || echo "$current")
	deploy "$again"
	diffs=$(exact "$again" "$dest/site" "$records")
	if [ "$RC" -ne 0 ] || [ -n "$diffs" ]; then
		failures=$((failures + 1))
		echo "# kill $i of $target at ${delay}s${trigger:+ after $(basename "$trigger")} in $where, then $again: FAILED, rc $RC"
		echo "# $ERR" | head -5
		echo "$diffs" | sed 's/^/# /'
	else
		echo "# kill $i of $target at ${delay}s${trigger:+ after $(basename "$trigger")} in $where, then $again: exact"
	fi
	current=$again
done
elapsed=$(($(date +%s) - start))
summary=""
hooks=0
for p in "${!landed[@]}"; do
	summary="$summary $p=${landed[$p]}"
	case $p in *-hook) hooks=$((hooks + ${landed[$p]})) ;; esac
done
echo "# $KILLS kills over a ${duration}s deployment in ${elapsed}s:$summary"
check "every kill: the redeploy succeeds, exact, records = installed" \
	test "$failures" -eq 0
check "kills landed where the bundle is unpacked (the check before ApplicationStop, or DownloadBundle)" \
	test $((${landed[revision-check]:-0} + ${landed[DownloadBundle]:-0})) -gt 0
check "kills landed in Install" test "${landed[Install]:-0}" -gt 0
check "kills landed in the hooks" test "$hooks" -gt 0

# --- the daemon: killed mid-Install, code 7 at restart, then a clean deploy ---
double_env
droot=$T_TMP/droot
dsite=$T_TMP/ddest/site
mkdir -p "$T_TMP/ddest"
sed -i "s|$dest/site|$dsite|" "$T_TMP/rev/A/appspec.yml" "$T_TMP/rev/B/appspec.yml"

spec() { # spec DID REV
	printf '{"DeploymentId":"%s","DeploymentGroupId":"g-crash","DeploymentGroupName":"grp-crash","ApplicationName":"app","DeploymentType":"IN_PLACE","DeploymentCreator":"user","Revision":{"RevisionType":"Local Directory","LocalRevision":{"Location":"%s","BundleType":"directory"}}}' \
		"$1" "$T_TMP/rev/$2"
}
service() { # service DID REV
	start_double "$(printf '{"host":"%s","deployments":[{"id":"%s","spec":%s,"commands":["DownloadBundle","BeforeInstall","Install","AfterInstall"]}]}' \
		"$HOST" "$1" "$(spec "$1" "$2")")" || return 1
	cat >"$T_TMP/agent.yml" <<YML
:root_dir: $droot
:log_dir: $T_TMP/dlog
:pid_dir: $T_TMP/dstate
:on_premises_config_file: $T_TMP/none.yml
:max_revisions: 2
:wait_between_runs: 1
:http_read_timeout: 10
:command_heartbeat_seconds: 1
:deploy_control_endpoint: https://127.0.0.1:$(srv_port cs)
YML
}
all_done='len(s["commands"]) == 4 and all(c.get("completed") for c in s["commands"].values())'
dinstr=$droot/deployment-instructions

service d-CRASHA001 A
start_agent
wait_for "$all_done" 300
check "daemon: A deployed" test "$(q '[c.get("completed_status") for c in s["commands"].values()]')" = "['Succeeded', 'Succeeded', 'Succeeded', 'Succeeded']"
stop_agent
service d-CRASHB001 B
start_agent
for i in $(seq 2400); do
	[ -e "$dinstr/g-crash-cleanup.new" ] && break
	sleep 0.05
done
check "daemon: killed while Install runs" test -e "$dinstr/g-crash-cleanup.new"
kill -9 "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
kill_hooks
start_agent
wait_for 'any(c.get("completed_status") == "Failed" for c in s["commands"].values())' 120
check "daemon: the killed command is reported with code 7 at restart" \
	test "$(q '[c["diagnostics"]["error_code"] for c in s["commands"].values() if c.get("completed_status") == "Failed"]')" = "[7]"
stop_agent
service d-CRASHB002 B
start_agent
wait_for "$all_done" 300
check "daemon: the next deployment succeeds" test "$(q '[c.get("completed_status") for c in s["commands"].values()]')" = "['Succeeded', 'Succeeded', 'Succeeded', 'Succeeded']"
check "daemon: ... exactly B, records = installed" \
	test -z "$(exact B "$dsite" "$dinstr/g-crash-cleanup")"
stop_agent
done_testing
