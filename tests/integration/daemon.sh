#!/bin/bash
# `cdagent run` against the Commands API double (tests/servers/cmdsvc.py):
# an in-place deployment reported command by command, exactly once; a
# failing hook with its code and log tail; throttling; a tampered spec; a
# SIGKILL mid-hook reported as code 7 by the next start; two deployment
# groups at once and one group serialised; SIGTERM waiting for a hook;
# duplicate, unknown and misdirected commands; blue/green and rollback
# revision choice; `cdagent status`; start-up errors.
. "$(dirname "$0")/lib.sh"
. "$TOP_SRCDIR/tests/servers/lib.sh"
. "$(dirname "$0")/agent-lib.sh"

PY=/usr/bin/python3
AGENT_PID=
cleanup() {
	[ -n "$AGENT_PID" ] && kill -9 "$AGENT_PID" 2>/dev/null
	pkill -9 -f "$T_TMP/rev" 2>/dev/null
	srv_stop_all
	rm -rf "$T_TMP"
}
trap cleanup EXIT

double_env
export PROOF=$T_TMP/proof
root=$T_TMP/root

# make_rev NAME [FAILING-EVENT]: a revision whose every hook appends
# "<event> <NAME> <deployment>" to $PROOF (and "<event>-end ..." after
# $SLEEP_<event> seconds, if set in the agent's environment).
make_rev() {
	local dir=$T_TMP/rev/$1 ev
	mkdir -p "$dir/scripts" "$dir/content"
	echo "$1" >"$dir/content/rev.txt"
	{
		echo "version: 0.0"
		echo "os: linux"
		echo "files:"
		echo "  - source: content"
		echo "    destination: $T_TMP/dest/$1"
		echo "hooks:"
		for ev in BeforeBlockTraffic AfterBlockTraffic ApplicationStop \
			BeforeInstall AfterInstall ApplicationStart ValidateService \
			BeforeAllowTraffic AfterAllowTraffic; do
			printf '  %s:\n    - location: scripts/hook.sh\n' "$ev"
		done
	} >"$dir/appspec.yml"
	cat >"$dir/scripts/hook.sh" <<SH
#!/bin/sh
echo "\$LIFECYCLE_EVENT $1 \$DEPLOYMENT_ID \$(date +%s.%N)" >>"\$PROOF"
if [ -n "\${RENDEZVOUS:-}" ] && [ "\$LIFECYCLE_EVENT" = BeforeInstall ]; then
	# wait (up to 20 s) for a hook of another group to be running too
	touch "\$RENDEZVOUS/\$DEPLOYMENT_GROUP_ID"
	i=0
	while [ "\$(ls "\$RENDEZVOUS" | wc -l)" -lt 2 ] && [ \$i -lt 200 ]; do
		sleep 0.1
		i=\$((i + 1))
	done
	[ "\$(ls "\$RENDEZVOUS" | wc -l)" -ge 2 ] && echo "met \$DEPLOYMENT_ID" >>"\$PROOF"
fi
eval "s=\\\${SLEEP_\$LIFECYCLE_EVENT:-}"
[ -n "\$s" ] && sleep "\$s"
[ "\$LIFECYCLE_EVENT" = "${2:-none}" ] && { echo "boom from \$LIFECYCLE_EVENT"; exit 3; }
echo "\$LIFECYCLE_EVENT-end $1 \$DEPLOYMENT_ID \$(date +%s.%N)" >>"\$PROOF"
exit 0
SH
	chmod 755 "$dir/scripts/hook.sh"
}

# spec DID GID REV [TYPE] [CREATOR]: a Local Directory deployment spec
spec() {
	printf '{"DeploymentId":"%s","DeploymentGroupId":"%s","DeploymentGroupName":"grp-%s","ApplicationName":"app","DeploymentType":"%s","DeploymentCreator":"%s","AgentActionOverrides":{"AgentOverrides":{"FileExistsBehavior":"OVERWRITE"}},"Revision":{"RevisionType":"Local Directory","LocalRevision":{"Location":"%s","BundleType":"directory"}}}' \
		"$1" "$2" "$2" "${4:-IN_PLACE}" "${5:-user}" "$T_TMP/rev/$3"
}

INPLACE='["ApplicationStop","DownloadBundle","BeforeInstall","Install","AfterInstall","ApplicationStart","ValidateService"]'

# service SCENARIO-JSON: (re)start the double
service() {
	start_double "$1" || return 1
	cat >"$T_TMP/agent.yml" <<YML
:root_dir: $root
:log_dir: $T_TMP/log
:pid_dir: $T_TMP/state
:on_premises_config_file: $T_TMP/none.yml
:wait_between_runs: 1
:http_read_timeout: 10
:command_heartbeat_seconds: 1
:kill_agent_max_wait_time_seconds: 60
:deploy_control_endpoint: https://127.0.0.1:$(srv_port cs)
YML
}

cmd() { # cmd ID FIELD
	q "s['commands']['$1'].get('$2')"
}

make_rev r1
make_rev r2
make_rev bad AfterInstall
make_rev c1
make_rev c2

## --- start-up errors ---------------------------------------------------------
printf ':wait_between_runs: often\n' >"$T_TMP/bad.yml"
run "$CDAGENT" run -c "$T_TMP/bad.yml"
check "a bad config exits 78 (EX_CONFIG)" test "$RC" -eq 78
check "... naming the file, line and key" contains "$ERR" "bad.yml:1.*wait_between_runs"
service '{"host":"'"$HOST"'","deployments":[]}'
run env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
	AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:9 \
	AWS_EC2_METADATA_DISABLED=true timeout 20 "$CDAGENT" run -c "$T_TMP/agent.yml"
check "no credentials: exits 78 (EX_CONFIG) at once, so systemd does not restart it" test "$RC" -eq 78
check "... saying how to fix it" contains "$ERR" "cannot start: .*(credentials|instance profile)"

## --- an in-place deployment --------------------------------------------------
service '{"host":"'"$HOST"'","deployments":[{"id":"d-INPLACE01","spec":'"$(spec d-INPLACE01 g-one r1)"',"commands":'"$INPLACE"'}]}'
SLEEP_ApplicationStart=2.5 start_agent
wait_for "s['done']" 40
check "in-place deployment finishes" test "$(q "s['done']")" = True
check "every command completed Succeeded exactly once" test "$(q "all(c['completed_status']=='Succeeded' and c['completes']==1 for c in s['commands'].values())")" = True
check "no protocol problems" test "$(q "sum(len(c['problems']) for c in s['commands'].values())")" = 0
check "acks said IsCommandNoop false for DownloadBundle" \
	test "$(cmd hc-d-INPLACE01-2 ack_diagnostics)" = "{'IsCommandNoop': False}"
check "ApplicationStop (no earlier revision) acked as noop" \
	test "$(cmd hc-d-INPLACE01-1 ack_diagnostics)" = "{'IsCommandNoop': True}"
check "hooks ran from the new revision" \
	test "$(grep -c 'r1 d-INPLACE01' "$PROOF")" -eq 8
check "the file was installed" test "$(cat "$T_TMP/dest/r1/rev.txt")" = r1
check "heartbeats while ApplicationStart ran 2.5 s" \
	test "$(q "len(s['commands']['hc-d-INPLACE01-6']['heartbeats'])")" -ge 1
check "the agent version header was sent" test "$(q "len(s['agent_versions'])")" -ge 1
run "$CDAGENT" status -c "$T_TMP/agent.yml"
check "status: running, exit 0" test "$RC" -eq 0
check "status names the pid and the last poll" \
	contains "$OUT" "running \(pid $AGENT_PID\).*|last poll"
run "$CDAGENT" status -c "$T_TMP/agent.yml" --json
check "status --json" test "$($PY -c 'import json,sys; d=json.load(sys.stdin); print(d["running"] and d["last_successful_poll"] > 0)' <<<"$OUT")" = True
check "status --json: the last deployment and its scripts.log" test "$($PY -c 'import json,sys; d=json.load(sys.stdin)["last_deployment"]; print(d["deployment_id"] == "d-INPLACE01" and d["command"] == "ValidateService" and d["status"] == "Succeeded" and d["logs"]["scripts"].endswith("/d-INPLACE01/logs/scripts.log") and d["logs"]["agent"].endswith("/codedeploy-agent.log"))' <<<"$OUT")" = True
cp "$T_TMP/agent.yml" "$T_TMP/agent.yml.good"
echo ":wait_between_runs: 2" >>"$T_TMP/agent.yml"
echo ":frobnicate_on_reload: 1" >>"$T_TMP/agent.yml"
kill -HUP "$AGENT_PID"
for i in $(seq 50); do grep -q 'configuration reloaded' "$T_TMP/agent.out" && break; sleep 0.1; done
check "SIGHUP re-reads the configuration" grep -q "configuration reloaded from $T_TMP/agent.yml" "$T_TMP/agent.out"
check "... and logs its warnings" grep -q "reload: .*agent.yml:[0-9]*: unknown key 'frobnicate_on_reload'" "$T_TMP/agent.out"
echo ":wait_between_runs: sometimes" >>"$T_TMP/agent.yml"
kill -HUP "$AGENT_PID"
for i in $(seq 50); do grep -q 'keeping the running configuration' "$T_TMP/agent.out" && break; sleep 0.1; done
check "a bad configuration on SIGHUP is reported and the old one kept" \
	grep -q "agent.yml:[0-9]*.*wait_between_runs.*keeping the running configuration" "$T_TMP/agent.out"
check "... and the agent keeps running" alive "$AGENT_PID"
cp "$T_TMP/agent.yml.good" "$T_TMP/agent.yml"
stop_agent
check "SIGTERM when idle: exit 0" test "$AGENT_RC" -eq 0
run "$CDAGENT" status -c "$T_TMP/agent.yml"
check "status after stop: exit 3" test "$RC" -eq 3

## --- issue 19: one kept-alive connection, no nap while a command runs ---------
: >"$PROOF"
service '{"host":"'"$HOST"'","deployments":[{"id":"d-CONN01","spec":'"$(spec d-CONN01 g-conn c1)"',"commands":'"$INPLACE"'},{"id":"d-CONN02","held":true,"spec":'"$(spec d-CONN02 g-conn c2)"',"commands":'"$INPLACE"'}]}'
SLEEP_AfterInstall=3 SLEEP_ApplicationStart=6 start_agent
wait_for "all(s['commands']['hc-d-CONN01-%d' % i]['completes'] == 1 for i in range(1, 8))" 60
H1=$(q "s['handshakes_by_host']['$HOST']")
curl -s --cacert "$AWS_SSL_CA_BUNDLE" -X POST \
	"https://127.0.0.1:$(srv_port cs)/__release?deployment=d-CONN02" >/dev/null
# While AfterInstall runs, make the nap long: a poll that comes back empty
# while a command runs must not start it.
wait_for "s['commands']['hc-d-CONN02-5']['acknowledged']" 60
cp "$T_TMP/agent.yml" "$T_TMP/agent.yml.good"
echo ":wait_between_runs: 120" >>"$T_TMP/agent.yml"
kill -HUP "$AGENT_PID"
wait_for "s['done']" 60
check "two deployments, every command Succeeded exactly once" \
	test "$(q "all(c['completed_status']=='Succeeded' and c['completes']==1 for c in s['commands'].values())")" = True
H2=$(q "s['handshakes_by_host']['$HOST']")
check "start and first deployment: at most 3 TLS connections (start-up check, poll, relay), got $H1" \
	test "$H1" -le 3
check "second deployment: no new Commands API connection, got $((H2 - H1))" \
	test "$((H2 - H1))" -le 1
check "heartbeats while ApplicationStart ran 6 s" \
	test "$(q "len(s['commands']['hc-d-CONN02-6']['heartbeats'])")" -ge 2
# polls received while ApplicationStart ran (6 s, polls held 1 s each)
BUSY_POLLS=$($PY - "$(srv_log cs)" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
def seq(op, hc):
    return [r["seq"] for r in recs if r["op"] == op and
            (r["body"] or {}).get("HostCommandIdentifier") == hc][0]
a = seq("PutHostCommandAcknowledgement", "hc-d-CONN02-6")
c = seq("PutHostCommandComplete", "hc-d-CONN02-6")
print(sum(1 for r in recs if r["op"] == "PollHostCommand" and a < r["seq"] < c))
PY
)
check "a poll kept outstanding while a command ran, with a 120 s nap configured (got $BUSY_POLLS)" \
	test "${BUSY_POLLS:-0}" -ge 3
RELAY_PID=$(pgrep -P "$AGENT_PID" -x cdagent-relay)
RELAY_ID=$(proc_id "$RELAY_PID")
check "the relay process outlives the commands it served" test -n "$RELAY_ID"
stop_agent
check "SIGTERM: exit 0" test "$AGENT_RC" -eq 0
check "... and the relay process is gone" eval '! alive_id "$RELAY_ID"'
cp "$T_TMP/agent.yml.good" "$T_TMP/agent.yml"

## --- archive reuse (v2 §3.3) --------------------------------------------------
: >"$PROOF"
reuse_spec() { # DID SOURCE LOCATION
	spec "$1" g-one r1 | sed "s|\"Revision\"|\"ReuseArchiveFromDeploymentId\":\"$2\",\"Revision\"|; s|\"Location\":\"[^\"]*\"|\"Location\":\"$3\"|"
}
service '{"host":"'"$HOST"'","deployments":[
  {"id":"d-REUSE0001","spec":'"$(reuse_spec d-REUSE0001 d-INPLACE01 "$T_TMP/rev/gone")"',"commands":["DownloadBundle","BeforeInstall"]},
  {"id":"d-REUSE0002","spec":'"$(reuse_spec d-REUSE0002 d-NOSUCH000 "$T_TMP/rev/r2")"',"commands":["DownloadBundle","BeforeInstall"]}]}'
start_agent
wait_for "s['done']" 30
check "a bounce deployment reuses the earlier archive" \
	test "$(q "s['commands']['hc-d-REUSE0001-1']['diagnostics']['message']")" = "Succeeded: BundleSource=archive-reuse"
check "... without the bundle's location" grep -q '^BeforeInstall r1 d-REUSE0001' "$PROOF"
check "... and records it" test "$(cat "$root/g-one/d-REUSE0001/.bundle-source" 2>/dev/null)" = archive-reuse
check "a missing source falls back to a download" \
	test "$(q "s['commands']['hc-d-REUSE0002-1']['diagnostics']['message']")" = "Succeeded: "
check "... from the revision's location" grep -q '^BeforeInstall r2 d-REUSE0002' "$PROOF"
stop_agent

## --- a typo'd revision never stops the running app ---------------------------
: >"$PROOF"
cp -r "$T_TMP/rev/r1" "$T_TMP/rev/typo"
sed -i 's/^  AfterInstall:$/  AfterInstal:/' "$T_TMP/rev/typo/appspec.yml"
last_before=$(cat "$root/deployment-instructions/g-one_last_successful_install")
service '{"host":"'"$HOST"'","deployments":[{"id":"d-TYPO00001","spec":'"$(spec d-TYPO00001 g-one typo)"',"commands":'"$INPLACE"'}]}'
start_agent
wait_for "s['done']" 30
check "typo'd revision: ApplicationStop failed" test "$(cmd hc-d-TYPO00001-1 completed_status)" = Failed
check "... with the appspec error, file:line:col" \
	contains "$(q "s['commands']['hc-d-TYPO00001-1']['diagnostics']['message']")" "appspec.yml:[0-9]+:[0-9]+: .*AfterInstal"
check "... and the running app's ApplicationStop did not run" test ! -s "$PROOF"
check "... nor anything after it" test "$(cmd hc-d-TYPO00001-2 acknowledged)" = False
check "... the installed files untouched" test "$(cat "$T_TMP/dest/r1/rev.txt")" = r1
check "... the last successful revision unchanged" \
	test "$(cat "$root/deployment-instructions/g-one_last_successful_install")" = "$last_before"
check "... and no archive of the new revision" test ! -e "$root/g-one/d-TYPO00001/deployment-archive"
run "$CDAGENT" status -c "$T_TMP/agent.yml"
check "status: the typo'd deployment's ApplicationStop failed, with the error" \
	contains "$(tr '\n' ' ' <<<"$OUT")" "last deployment: d-TYPO00001 \(group g-one\) +last command: ApplicationStop Failed, .* error: .*AfterInstal"
stop_agent
: >"$PROOF"
cp -r "$T_TMP/rev/r1" "$T_TMP/rev/warn"
printf 'colour: blue\n' >>"$T_TMP/rev/warn/appspec.yml"
service '{"host":"'"$HOST"'","deployments":[{"id":"d-WARN00001","spec":'"$(spec d-WARN00001 g-one warn)"',"commands":'"$INPLACE"'}]}'
echo ":frobnicate: 1" >>"$T_TMP/agent.yml"
start_agent
wait_for "s['done']" 30
check "a valid revision with a warning deploys" \
	test "$(q "all(c['completed_status']=='Succeeded' for c in s['commands'].values())")" = True
check "... after the running app's ApplicationStop" grep -q '^ApplicationStop r1 d-WARN00001' "$PROOF"
check "... the appspec warning in the agent log, with the deployment" \
	grep -q "d-WARN00001.*appspec.yml:[0-9]*:1: unknown key 'colour'" "$T_TMP/agent.out"
check "... and in the agent's log file" \
	grep -q "d-WARN00001.*unknown key 'colour'" "$T_TMP/log/codedeploy-agent.log"
check "a configuration warning reaches the agent's log file" \
	grep -q "agent.yml:[0-9]*: unknown key 'frobnicate'" "$T_TMP/log/codedeploy-agent.log"
stop_agent

## --- a failing hook, then throttling ----------------------------------------
: >"$PROOF"
service '{"host":"'"$HOST"'","deployments":[{"id":"d-FAILING01","spec":'"$(spec d-FAILING01 g-two bad)"',"commands":'"$INPLACE"'}],
  "faults":[{"op":"PollHostCommand","nth":[2,3],"action":"throttle"},
            {"op":"PutHostCommandComplete","nth":1,"action":"throttle-429"},
            {"op":"PutHostCommandAcknowledgement","nth":2,"action":"server-503"}]}'
start_agent
wait_for "s['done']" 60
c=hc-d-FAILING01-5
check "failing AfterInstall reported Failed" test "$(cmd $c completed_status)" = Failed
check "... with error_code 4 and the script name" \
	test "$(q "(s['commands']['$c']['diagnostics']['error_code'], s['commands']['$c']['diagnostics']['script_name'])")" = "(4, 'scripts/hook.sh')"
check "... and the log tail" contains "$(q "s['commands']['$c']['diagnostics']['log']")" "boom from AfterInstall"
check "the rest of the deployment was skipped" test "$(q "s['commands']['hc-d-FAILING01-6'].get('skipped')")" = True
check "throttled polls and a 429 complete were ridden out" \
	test "$(q "s['faults_fired']")" != 0
check "every command completed once despite the faults" \
	test "$(q "all(c['completes']==1 for c in s['commands'].values() if not c.get('skipped'))")" = True
stop_agent

## --- a tampered spec ------------------------------------------------------------
service '{"host":"'"$HOST"'","deployments":[{"id":"d-TAMPER001","envelope":"pkcs7-tampered","spec":'"$(spec d-TAMPER001 g-three r1)"',"commands":["DownloadBundle"]}]}'
start_agent
wait_for "s['done']" 30
check "a tampered spec is failed" test "$(cmd hc-d-TAMPER001-1 completed_status)" = Failed
check "... with code 5 and a signature message" \
	contains "$(q "s['commands']['hc-d-TAMPER001-1']['diagnostics']")" "'error_code': 5.*(signature|PKCS7)"
check "... and nothing deployed" test ! -e "$root/g-three/d-TAMPER001/deployment-archive"
stop_agent

## --- duplicate, unknown and misdirected commands ----------------------------------
: >"$PROOF"
service '{"host":"'"$HOST"'","redeliver_unacked":true,"deployments":[{"id":"d-DUPLICATE","spec":'"$(spec d-DUPLICATE g-four r1)"',"commands":["DownloadBundle","BeforeInstall"]}],
  "faults":[{"op":"PollHostCommand","nth":[3],"action":"duplicate"},
            {"op":"PollHostCommand","nth":[1],"action":"wrong-host"},
            {"op":"PollHostCommand","nth":[5],"action":"unknown-command","name":"FrobnicateEvent"}]}'
SLEEP_BeforeInstall=1.5 start_agent
wait_for "s['done'] and all(c.get('completed') or c.get('skipped') or c.get('misdirected') for c in s['commands'].values())" 30
check "a re-delivered command ran once" test "$(grep -c '^BeforeInstall r1 d-DUPLICATE' "$PROOF")" -eq 1
check "... and completed once" test "$(cmd hc-d-DUPLICATE-2 completes)" = 1
check "an unknown command is failed cleanly" \
	contains "$(q "[c['diagnostics'] for c in s['commands'].values() if c.get('injected')]")" "Unsupported command type: FrobnicateEvent"
check "a command for another host is ignored" \
	contains "$(cat "$T_TMP/agent.out")" "ignoring command hc-d-DUPLICATE-1 for host 'arn:"
check "... and acked only when it came for this host" \
	test "$(q "(s['commands']['hc-d-DUPLICATE-1']['misdirected'], s['commands']['hc-d-DUPLICATE-1']['acks'])")" = "(1, 1)"
stop_agent

## --- SIGKILL mid-hook, restart: code 7 ------------------------------------------
: >"$PROOF"
service '{"host":"'"$HOST"'","deployments":[{"id":"d-KILLED001","spec":'"$(spec d-KILLED001 g-five r1)"',"commands":["DownloadBundle","BeforeInstall","Install"]}]}'
SLEEP_BeforeInstall=30 start_agent
for i in $(seq 100); do grep -q '^BeforeInstall r1 d-KILLED001' "$PROOF" && break; sleep 0.1; done
check "the hook started" grep -q '^BeforeInstall r1 d-KILLED001' "$PROOF"
check "a record of the command is on disk" test -f "$root/ongoing-deployment/d-KILLED001"
kill -9 "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
AGENT_PID=
t_restart=$(date +%s.%N)
start_agent
wait_for "s['commands']['hc-d-KILLED001-2'].get('completed')" 20
check "the interrupted command is reported Failed after the restart" \
	test "$(cmd hc-d-KILLED001-2 completed_status)" = Failed
check "... with error_code 7" test "$(q "s['commands']['hc-d-KILLED001-2']['diagnostics']['error_code']")" = 7
# At start, not later: no poll arrived from the restarted agent before the
# report (the killed agent's last poll, on a connection it opened before the
# restart, may be logged after it).
check "... at start, before the first poll" test "$(/usr/bin/python3 -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
t0 = float(sys.argv[2])
done = [r["time"] for r in recs if r.get("op") == "PutHostCommandComplete" and
        (r.get("body") or {}).get("HostCommandIdentifier") == "hc-d-KILLED001-2"][0]
old = {r["conn"] for r in recs if r["time"] <= t0}
print("polls before the report:", sum(1 for r in recs if r.get("op") == "PollHostCommand" and t0 < r["time"] < done and r["conn"] not in old))
' "$(srv_log cs)" "$t_restart")" = "polls before the report: 0"
check "... and the record is gone" test ! -e "$root/ongoing-deployment/d-KILLED001"
stop_agent
pkill -9 -f "$T_TMP/rev" 2>/dev/null

## --- two groups at once; one group serialised; SIGTERM waits ---------------------
: >"$PROOF"
service '{"host":"'"$HOST"'","deployments":[
  {"id":"d-GROUPA001","spec":'"$(spec d-GROUPA001 g-a r1)"',"commands":["DownloadBundle","BeforeInstall"]},
  {"id":"d-GROUPB001","concurrent":true,"spec":'"$(spec d-GROUPB001 g-b r2)"',"commands":["DownloadBundle","BeforeInstall"]},
  {"id":"d-GROUPA002","concurrent":true,"spec":'"$(spec d-GROUPA002 g-a r2)"',"commands":["DownloadBundle","BeforeInstall"]}]}'
mkdir -p "$T_TMP/rendezvous"
RENDEZVOUS=$T_TMP/rendezvous SLEEP_BeforeInstall=2 start_agent
wait_for "s['done']" 60
check "three deployments done" test "$(q "s['done']")" = True
ts() { awk -v e="$1" -v d="$2" '$1 == e && $3 == d { print $4 }' "$PROOF"; }
check "two groups ran at once (each hook saw the other's running)" \
	test "$(grep -c '^met d-GROUP[AB]001$' "$PROOF")" -eq 2
check "one group's commands never overlapped" $PY -c "import sys; a,b,c,d=map(float,sys.argv[1:]); sys.exit(0 if b <= c or d <= a else 1)" \
	"$(ts BeforeInstall d-GROUPA001)" "$(ts BeforeInstall-end d-GROUPA001)" \
	"$(ts BeforeInstall d-GROUPA002)" "$(ts BeforeInstall-end d-GROUPA002)"
stop_agent

: >"$PROOF"
service '{"host":"'"$HOST"'","deployments":[{"id":"d-SIGTERM01","spec":'"$(spec d-SIGTERM01 g-six r1)"',"commands":["DownloadBundle","BeforeInstall","Install"]}]}'
SLEEP_BeforeInstall=3 start_agent
for i in $(seq 100); do grep -q '^BeforeInstall r1 d-SIGTERM01' "$PROOF" && break; sleep 0.1; done
stop_agent
check "SIGTERM during a hook: exit 0" test "$AGENT_RC" -eq 0
check "... after the hook finished" grep -q '^BeforeInstall-end r1 d-SIGTERM01' "$PROOF"
check "... and its command was reported" test "$(cmd hc-d-SIGTERM01-2 completed_status)" = Succeeded
check "... and the next command was not started" test "$(cmd hc-d-SIGTERM01-3 acknowledged)" = False

## --- blue/green and rollback --------------------------------------------------------
: >"$PROOF"
BG='["DownloadBundle","BeforeInstall","Install","AfterInstall","ApplicationStart","ValidateService","BeforeAllowTraffic","AfterAllowTraffic"]'
service '{"host":"'"$HOST"'","deployments":[
  {"id":"d-BGFIRST01","spec":'"$(spec d-BGFIRST01 g-bg r1)"',"commands":'"$INPLACE"'},
  {"id":"d-BGREPL001","spec":'"$(spec d-BGREPL001 g-bg r2 BLUE_GREEN)"',"commands":'"$BG"'},
  {"id":"d-BGORIG001","spec":'"$(spec d-BGORIG001 g-bg r2 BLUE_GREEN)"',"commands":["BeforeBlockTraffic","AfterBlockTraffic","ApplicationStop"]},
  {"id":"d-BGROLLBK1","spec":'"$(spec d-BGROLLBK1 g-bg r1 BLUE_GREEN codeDeployRollback)"',"commands":["BeforeBlockTraffic","AfterBlockTraffic","ApplicationStop","BeforeAllowTraffic"]}]}'
start_agent
wait_for "s['done']" 60
check "blue/green deployments done" test "$(q "all(c['completed_status']=='Succeeded' for c in s['commands'].values())")" = True
check "replacement: allow-traffic hooks from the new revision" \
	grep -q '^AfterAllowTraffic r2 d-BGREPL001' "$PROOF"
check "original: block-traffic hooks from the last successful revision" \
	grep -q '^BeforeBlockTraffic r2 d-BGORIG001' "$PROOF"
check "original: ApplicationStop from the last successful revision" \
	grep -q '^ApplicationStop r2 d-BGORIG001' "$PROOF"
check "rollback: block-traffic from the most recent revision" \
	grep -q '^BeforeBlockTraffic r2 d-BGROLLBK1' "$PROOF"
check "rollback: allow-traffic from the last successful revision" \
	grep -q '^BeforeAllowTraffic r2 d-BGROLLBK1' "$PROOF"
stop_agent

## --- hook output is bytes (issue 14) ------------------------------------------------
# A hook printing 64 KiB of /dev/urandom and of /dev/zero: the deployment is
# reported like any other, and a failing one sends its log tail as valid
# JSON with NUL shown as \0 (stdout only: the tail's order is then fixed,
# its last entry the zeros and "boom").
: >"$PROOF"
make_rev binok
make_rev binbad AfterInstall
for r in binok binbad; do
	sed -i '2i head -c 65536 /dev/urandom; head -c 65536 /dev/zero' \
		"$T_TMP/rev/$r/scripts/hook.sh"
done
service '{"host":"'"$HOST"'","deployments":[
  {"id":"d-BINARY001","spec":'"$(spec d-BINARY001 g-bin binok)"',"commands":'"$INPLACE"'},
  {"id":"d-BINARY002","spec":'"$(spec d-BINARY002 g-bin2 binbad)"',"commands":'"$INPLACE"'}]}'
start_agent
wait_for "s['done']" 60
check "binary hook output: every command of the good one Succeeded" \
	test "$(q "all(c['completed_status']=='Succeeded' for k,c in s['commands'].items() if 'BINARY001' in k)")" = True
check "binary hook output: the failing one reports Failed with code 4" \
	test "$(q "s['commands']['hc-d-BINARY002-5']['diagnostics']['error_code']")" = 4
check "... its log tail as JSON, NUL shown as \\0" \
	test "$(q "'\\\\0\\\\0\\\\0' in s['commands']['hc-d-BINARY002-5']['diagnostics']['log']")" = True
check "... and the agent is still running" alive "$AGENT_PID"
stop_agent

done_testing
