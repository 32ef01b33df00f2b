#!/bin/bash
# `cdagent config`: effective values, errors with file:line, warnings,
# the on-premises file with its secret hidden.
. "$(dirname "$0")/lib.sh"

onprem_none="$T_TMP/no-onprem.yml"
conf="$T_TMP/agent.yml"

cat >"$conf" <<YML
:log_aws_wire: false
:log_dir: '$T_TMP/log/'
:root_dir: '$T_TMP/root'
:wait_between_runs: 1
:proxy_uri:
:on_premises_config_file: $onprem_none
YML
run "$CDAGENT" config -c "$conf"
check "valid file: exit 0" test "$RC" -eq 0
check "valid file: reads the file" contains "$OUT" "^# config file: $conf\$"
check "valid file: wait_between_runs 1" contains "$OUT" '^wait_between_runs 1$'
check "valid file: trailing slash dropped" contains "$OUT" "^log_dir $T_TMP/log\$"
check "valid file: defaults shown" contains "$OUT" '^max_revisions 5$'
check "valid file: unset shown as none" contains "$OUT" '^proxy_uri none$'
check "valid file: no warnings" test -z "$ERR"

run "$CDAGENT" config --config_file "$TOP_SRCDIR/conf/codedeployagent.yml"
check "v1's --config_file spelling and the shipped file" \
	contains "$RC $OUT" '^0 # config file'
check "shipped file: wait_between_runs 1" contains "$OUT" '^wait_between_runs 1$'

cat >"$conf" <<YML
:verbose: true
:wait_between_run: 5
:on_premises_config_file: $onprem_none
YML
run "$CDAGENT" config -c "$conf"
check "unknown key: still exit 0" test "$RC" -eq 0
check "unknown key: warning with line and suggestion" \
	contains "$ERR" "warning: $conf:2: unknown key 'wait_between_run' ignored; did you mean 'wait_between_runs'\\?"

cat >"$conf" <<YML
:verbose: true
:max_revisions: 0
:log_dir: logs
YML
run "$CDAGENT" config -c "$conf"
check "invalid values: exit 78 (EX_CONFIG)" test "$RC" -eq 78
check "invalid values: max_revisions named with line" \
	contains "$ERR" "error: $conf:2: key 'max_revisions' is 0; give .*1 or more"
check "invalid values: log_dir named with line" \
	contains "$ERR" "error: $conf:3: key 'log_dir' .*absolute"
check "invalid values: nothing printed on stdout" test -z "$OUT"

printf ':verbose: true\n:log_dir: [oops\n' >"$conf"
run "$CDAGENT" config -c "$conf"
check "malformed YAML: exit 78 (EX_CONFIG)" test "$RC" -eq 78
check "malformed YAML: file and line" contains "$ERR" "$conf:[0-9]+:[0-9]+:"

run "$CDAGENT" config -c "$T_TMP/missing.yml"
check "missing file: exit 78 (EX_CONFIG)" test "$RC" -eq 78
check "missing file: v1's message" \
	contains "$ERR" "The config file $T_TMP/missing.yml does not exist or is not readable"

cat >"$conf" <<YML
:use_fips_mode: true
:on_premises_config_file: $onprem_none
YML
AWS_REGION=eu-west-1 run "$CDAGENT" config -c "$conf"
check "FIPS outside the US: exit 78 (EX_CONFIG)" test "$RC" -eq 78
check "FIPS outside the US: v1's message" \
	contains "$ERR" 'use_fips_mode can be set to true only in regions located in the USA'
AWS_REGION=us-gov-west-1 run "$CDAGENT" config -c "$conf"
check "FIPS in us-gov-west-1: exit 0" test "$RC" -eq 0

onprem="$T_TMP/onprem.yml"
cat >"$onprem" <<YML
region: us-east-1
iam_user_arn: arn:aws:iam::123456789012:user/host
aws_access_key_id: AKIAIOSFODNN7EXAMPLE
aws_secret_access_key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
YML
printf ':on_premises_config_file: %s\n' "$onprem" >"$conf"
run "$CDAGENT" config -c "$conf"
check "on-premises file: exit 0" test "$RC" -eq 0
check "on-premises file: mode shown" contains "$OUT" '^onprem.mode iam_user$'
check "on-premises file: secret hidden" \
	contains "$OUT" '^onprem.aws_secret_access_key \[REDACTED\]$'
check "on-premises file: secret never printed" lacks "$OUT$ERR" 'wJalrXUtnFEMI'

printf 'region: us-east-1\niam_user_arn: a\niam_session_arn: b\n' >"$onprem"
run "$CDAGENT" config -c "$conf"
check "on-premises file with both ARNs: exit 78 (EX_CONFIG)" test "$RC" -eq 78
check "on-premises file with both ARNs: says so" \
	contains "$ERR" "$onprem: both iam_user_arn and iam_session_arn"

# --- config --json: each value and where it came from --------------------------
cat >"$conf" <<YML
# a comment
:log_dir: $T_TMP/logs
:proxy_uri: http://user:s3cret@proxy.example:3128
:wait_between_runs: 7
:frobnicate: 1
YML
run "$CDAGENT" config -c "$conf" --json
check "--json: exit 0" test "$RC" -eq 0
check "--json: the warning on stderr, not in the document" contains "$ERR" "unknown key 'frobnicate'"
check "--json: values, sources (file:line or default), unknown keys" \
	test "$(/usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
k = d["keys"]
conf = sys.argv[1]
assert d["config_file"] == conf
assert k["log_dir"] == {"value": sys.argv[2], "source": conf + ":2"}, k["log_dir"]
assert k["wait_between_runs"] == {"value": 7, "source": conf + ":4"}
assert k["max_revisions"] == {"value": 5, "source": "default"}, k["max_revisions"]
assert k["verbose"]["value"] is False and k["verbose"]["source"] == "default"
assert k["proxy_uri"]["value"] == "http://user:[REDACTED]@proxy.example:3128"
assert d["unknown_keys"] == [{"name": "frobnicate", "line": 5}]
print("ok")' "$conf" "$T_TMP/logs" <<<"$OUT" 2>&1)" = ok
check "--json: the proxy password never printed" lacks "$OUT" 's3cret'

# A configuration error is EX_CONFIG for every command that reads it.
printf ':verbose: true\n:log_dir: [oops\n' >"$conf"
run "$CDAGENT" status -c "$conf"
check "status with a malformed configuration: exit 78 (EX_CONFIG)" test "$RC" -eq 78
check "... naming the file and line" contains "$ERR" "$conf:[0-9]+:[0-9]+:"
run "$CDAGENT" local -c "$conf" -l "$T_TMP"
check "local with a malformed configuration: exit 78 (EX_CONFIG)" test "$RC" -eq 78
check "... naming the file and line" contains "$ERR" "^ERROR: $conf:[0-9]+:[0-9]+:"

done_testing
