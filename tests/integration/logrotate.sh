#!/bin/bash
# The packaged logrotate snippet (conf/logrotate.d/codedeploy-agent) run by
# the real logrotate against a running `cdagent run` (no systemd: the
# postrotate finds the agent by its pid file): the agent's log is rotated,
# the agent reopens it on the postrotate's SIGHUP and goes on writing to
# the new file, old files are compressed one rotation late, the size cap
# rotates before the week is out, and a stale pid file of another process
# gets no signal.
. "$(dirname "$0")/lib.sh"
. "$TOP_SRCDIR/tests/servers/lib.sh"

if ! command -v logrotate >/dev/null; then
	not_ok "logrotate is installed (apt-get install logrotate)"
	done_testing
fi

PY=/usr/bin/python3
AGENT_PID=
SLEEPER=
cleanup() {
	[ -n "$AGENT_PID" ] && kill -9 "$AGENT_PID" 2>/dev/null
	[ -n "$SLEEPER" ] && kill -9 "$SLEEPER" 2>/dev/null
	srv_stop_all
	rm -rf "$T_TMP"
}
trap cleanup EXIT

"$SRV_BIN/mkca.sh" "$T_TMP/ca" >/dev/null 2>&1
export AWS_ACCESS_KEY_ID=AKIDLOGROTATETEST001
export AWS_SECRET_ACCESS_KEY=logrotate/Test+secret/0000000000000000000
export AWS_REGION=us-east-1
export AWS_HOST_IDENTIFIER=arn:aws:ec2:us-east-1:111122223333:instance/i-0123456789abcdef0
export AWS_SSL_CA_BUNDLE=$T_TMP/ca/ca.crt AWS_EC2_METADATA_DISABLED=true
unset HTTPS_PROXY https_proxy AWS_SESSION_TOKEN
log=$T_TMP/log
state=$T_TMP/state

printf '{"host":"%s","deployments":[]}\n' "$AWS_HOST_IDENTIFIER" >"$T_TMP/scenario.json"
srv_start cs "$SRV_BIN/cmdsvc.py" --cert "$T_TMP/ca/server.crt" \
	--key "$T_TMP/ca/server.key" --scenario "$T_TMP/scenario.json" \
	--state-file "$T_TMP/cs-state.json" --requests "$(srv_log cs)" \
	--access-key "$AWS_ACCESS_KEY_ID" --secret-key "$AWS_SECRET_ACCESS_KEY" \
	--poll-hold 1
cat >"$T_TMP/agent.yml" <<YML
:root_dir: $T_TMP/root
:log_dir: $log
:pid_dir: $state
:on_premises_config_file: $T_TMP/none.yml
:wait_between_runs: 1
:deploy_control_endpoint: https://127.0.0.1:$(srv_port cs)
YML

# The shipped snippet with this test's log and pid directories; a
# systemctl that says no unit is active, whatever the host runs.
snippet=$TOP_SRCDIR/conf/logrotate.d/codedeploy-agent
sed -e "s|/var/log/aws/codedeploy-agent|$log|g" \
	-e "s|/opt/codedeploy-agent/state/\\.pid|$state|g" "$snippet" >"$T_TMP/lr.conf"
mkdir -p "$T_TMP/bin"
printf '#!/bin/sh\nexit 3\n' >"$T_TMP/bin/systemctl"
chmod 755 "$T_TMP/bin/systemctl"
OUT=$(grep -c "$T_TMP" "$T_TMP/lr.conf")
check "the test's copy of the snippet uses the test's directories (3 lines)" test "$OUT" = 3
lr() { # lr [-f]: logrotate the test copy with its own state file
	PATH=$T_TMP/bin:$PATH logrotate -v -s "$T_TMP/lr.state" "$@" "$T_TMP/lr.conf"
}

run logrotate -d "$snippet"
check "logrotate -d accepts the shipped snippet" test "$RC" -eq 0
check "... without errors" lacks "$OUT$ERR" '^error'
snip=$(grep -v '^[[:space:]]*#' "$snippet")
for word in weekly 'maxsize [0-9]+[kMG]' compress delaycompress missingok \
	notifempty sharedscripts 'kill -HUP' 'systemctl kill --kill-whom=main --signal=HUP codedeploy-agent.service'; do
	check "snippet: $word" contains "$snip" "$word"
done

wait_log() { # wait_log FILE PATTERN: up to 15 s for PATTERN in FILE
	local i
	for i in $(seq 75); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}

"$CDAGENT" run -c "$T_TMP/agent.yml" >"$T_TMP/agent.out" 2>&1 &
AGENT_PID=$!
check "the agent starts and logs to its file" wait_log "$log/codedeploy-agent.log" 'started: host'
check "... and writes its pid file" test "$(cat "$state/cdagent.pid" 2>/dev/null)" = "$AGENT_PID"

# 1: forced rotation (what `weekly` does once a week)
run lr -f
check "logrotate -f: exit 0" test "$RC" -eq 0
check "the old log is renamed .1, uncompressed (delaycompress)" \
	grep -q 'started: host' "$log/codedeploy-agent.log.1"
check "the agent reopened its log: a new file with the reload line" \
	wait_log "$log/codedeploy-agent.log" 'configuration reloaded'
check "... which is not in the renamed file" \
	bash -c "! grep -q 'configuration reloaded' '$log/codedeploy-agent.log.1'"
check "the agent kept running" kill -0 "$AGENT_PID"
OUT=$(stat -c %a "$log/codedeploy-agent.log")
check "the new file is 0640, as the agent makes it" test "$OUT" = 640

# 2: the second rotation compresses the first
run lr -f
check "second logrotate -f: exit 0" test "$RC" -eq 0
check "the first rotated file is now .2.gz" \
	bash -c "zcat '$log/codedeploy-agent.log.2.gz' | grep -q 'started: host'"
check "the second is .1" grep -q 'configuration reloaded' "$log/codedeploy-agent.log.1"
check "the agent writes to the current file again" \
	wait_log "$log/codedeploy-agent.log" 'configuration reloaded'

# 3: the size cap rotates before the week is out (not forced)
sed 's/maxsize [0-9]*[kMG]/maxsize 1k/' "$T_TMP/lr.conf" >"$T_TMP/lr-small.conf"
mv "$T_TMP/lr-small.conf" "$T_TMP/lr.conf"
head -c 2048 /dev/zero | tr '\0' x >>"$log/codedeploy-agent.log"
echo >>"$log/codedeploy-agent.log"
run lr
check "not forced, within the week, over maxsize: rotated" \
	bash -c "test \$(head -c 3000 '$log/codedeploy-agent.log.1' | grep -c xxxx) -ge 1"
check "... and the agent reopened again" \
	wait_log "$log/codedeploy-agent.log" 'configuration reloaded'
run lr
check "not forced, within the week, small: left alone" \
	contains "$OUT$ERR" 'log does not need rotating'

# 4: a stale pid file naming another process: no signal to it
kill -TERM "$AGENT_PID"
wait "$AGENT_PID"
AGENT_PID=
check "the agent stopped and removed its pid file" test ! -e "$state/cdagent.pid"
sleep 300 &
SLEEPER=$!
echo "$SLEEPER" >"$state/cdagent.pid"
echo line >>"$log/codedeploy-agent.log"
run lr -f
check "rotation with a stale pid file: exit 0" test "$RC" -eq 0
check "... and the process that reused the pid got no SIGHUP" kill -0 "$SLEEPER"
kill "$SLEEPER" 2>/dev/null
SLEEPER=

done_testing
