# Helpers for scripts that run `cdagent run` against the Commands API double
# (tests/servers/cmdsvc.py, started as server "cs"): source it after lib.sh
# and tests/servers/lib.sh.  The agent's config is $T_TMP/agent.yml; $PY is
# /usr/bin/python3.

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
