# Helpers for scripts that run `cdagent run` against the Commands API double
# (tests/servers/cmdsvc.py, started as server "cs"): source it after lib.sh
# and tests/servers/lib.sh.  The agent's config is $T_TMP/agent.yml; $PY is
# /usr/bin/python3.

# double_env: a CA for the double, and the agent's credentials, region,
# host identifier and trust for it
double_env() {
	"$SRV_BIN/mkca.sh" "$T_TMP/ca" >/dev/null 2>&1
	HOST=arn:aws:ec2:us-east-1:111122223333:instance/i-0123456789abcdef0
	export AWS_ACCESS_KEY_ID=AKIDCMDSVCTEST000001
	export AWS_SECRET_ACCESS_KEY=cmdsvc/Test+secret/with/slashes/0000000000
	export AWS_REGION=us-east-1 AWS_HOST_IDENTIFIER=$HOST
	export AWS_SSL_CA_BUNDLE=$T_TMP/ca/ca.crt AWS_EC2_METADATA_DISABLED=true
	unset HTTPS_PROXY https_proxy AWS_SESSION_TOKEN
}

# start_double SCENARIO-JSON: (re)start the double "cs" with a fresh state
start_double() {
	srv_stop cs 2>/dev/null
	printf '%s\n' "$1" >"$T_TMP/scenario.json"
	rm -f "$T_TMP/state.json"
	srv_start cs "$SRV_BIN/cmdsvc.py" --cert "$T_TMP/ca/server.crt" \
		--key "$T_TMP/ca/server.key" --scenario "$T_TMP/scenario.json" \
		--state-file "$T_TMP/state.json" --requests "$(srv_log cs)" \
		--access-key "$AWS_ACCESS_KEY_ID" --secret-key "$AWS_SECRET_ACCESS_KEY" \
		--poll-hold 1
}

start_agent() {
	"$CDAGENT" run -c "$T_TMP/agent.yml" >>"$T_TMP/agent.out" 2>&1 &
	AGENT_PID=$!
}

stop_agent() {
	[ -n "$AGENT_PID" ] || return 0
	kill -TERM "$AGENT_PID" 2>/dev/null
	wait "$AGENT_PID"
	AGENT_RC=$?
	AGENT_PID=
}

# q PYTHON-EXPR: evaluate against the double's state (as `s`)
q() {
	curl -s --cacert "$AWS_SSL_CA_BUNDLE" \
		"https://127.0.0.1:$(srv_port cs)/__state" >"$T_TMP/st.json"
	$PY -c "import json,sys; s=json.load(open(sys.argv[1])); print($1)" \
		"$T_TMP/st.json" 2>/dev/null
}

# wait_for PYTHON-EXPR [SECONDS]: until it prints True
wait_for() {
	local i
	for i in $(seq $((${2:-30} * 5))); do
		[ "$(q "$1")" = True ] && return 0
		sleep 0.2
	done
	return 1
}
