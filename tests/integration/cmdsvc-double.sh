#!/bin/bash
# The Commands API test double itself (tests/servers/cmdsvc.py): requests
# signed by curl's own SigV4 and by the double's client, wrong secrets,
# keys, scopes, dates, tokens and prefixes, input validation, scripted
# faults, PKCS7 envelopes checked with openssl cms, the long-poll hold and
# its wake-up, concurrent and held deployments, the request log, the state
# dump and clean-up.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
SRV=$TOP_SRCDIR/tests/servers/cmdsvc.py
for tool in "$PY" openssl curl; do
	if ! command -v "$tool" >/dev/null; then
		not_ok "$tool is installed"
		done_testing
	fi
done

SERVER_PIDS=()
stop_servers() {
	local pid
	for pid in "${SERVER_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
}
trap 'stop_servers; kill "${HELPER_PID-}" 2>/dev/null; rm -rf "$T_TMP"' EXIT

AK=AKIDCMDSVCTEST000001
SK=cmdsvc-test-secret-0000000000000000000000
H=arn:aws:ec2:us-east-1:111122223333:instance/i-0cmdsvctest
CA=$T_TMP/ca.crt
T_CORAL=com.amazon.coral.service

# The self-test and a scenario with a typo run while the rest starts.
"$PY" "$SRV" --self-test >"$T_TMP/selftest.out" 2>&1 &
SELFTEST_PID=$!
echo '{"deployments": [{"id": "d-1", "spec": {}, "commands": [{"nmae": "X"}]}]}' \
	>"$T_TMP/typo.json"
"$PY" "$SRV" --cert /dev/null --key /dev/null --scenario "$T_TMP/typo.json" \
	>"$T_TMP/typo.out" 2>&1 &
TYPO_PID=$!

# A throwaway CA and a server certificate for 127.0.0.1.
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
run bash -c "
	openssl req -x509 $ec -keyout '$T_TMP/ca.key' -out '$CA' -days 1 \
		-subj /CN=cmdsvc-test-ca &&
	openssl req $ec -keyout '$T_TMP/srv.key' -out '$T_TMP/srv.csr' \
		-subj /CN=127.0.0.1 &&
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >'$T_TMP/ext' &&
	openssl x509 -req -in '$T_TMP/srv.csr' -CA '$CA' -CAkey '$T_TMP/ca.key' \
		-CAcreateserial -out '$T_TMP/srv.crt' -days 1 \
		-extfile '$T_TMP/ext'"
check "test CA and server certificate made" test "$RC" -eq 0

# One helper process answers JSON queries and makes signed requests with
# cmdsvc.py's client, so checks do not pay for a process start-up each.  A
# request is one tab-separated line ("eval FILE EXPR", "get URL CAFILE" or
# "call ARGS..."), the answer one line.
HELPER_PY='
import importlib.util, json, ssl, sys, urllib.request
spec = importlib.util.spec_from_file_location("cmdsvc", sys.argv[1])
cmdsvc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cmdsvc)
for line in sys.stdin:
    req = line.rstrip("\n").split("\t")
    try:
        if req[0] == "eval":
            with open(req[1]) as src:
                j = json.load(src)
            v = eval(req[2])
            out = v if isinstance(v, str) else json.dumps(v)
        elif req[0] == "get":
            ctx = ssl.create_default_context(cafile=req[2])
            with urllib.request.urlopen(req[1], context=ctx) as resp:
                out = resp.read().decode()
        else:
            out = cmdsvc.call(cmdsvc.build_parser().parse_args(req[1:]))
    except (Exception, SystemExit) as exc:
        out = "HELPER-ERROR %s: %s" % (type(exc).__name__, exc)
    print(out.replace("\n", "\\n"), flush=True)
'
coproc HELPER { "$PY" -u -c "$HELPER_PY" "$SRV"; }
HELPER_PID=$HELPER_PID

helper() {
	local IFS=$'\t'
	HOUT="HELPER-ERROR: the helper process is gone"
	[ -n "${HELPER[1]-}" ] || return 0
	printf '%s\n' "$*" >&"${HELPER[1]}"
	IFS= read -r -t 60 HOUT <&"${HELPER[0]}"
}

# jv EXPR [JSON]: V = a Python expression over JSON (default $OUT) as j.
jv() {
	printf '%s' "${2-$OUT}" >"$T_TMP/.jv"
	helper eval "$T_TMP/.jv" "$1"
	V=$HOUT
}

# matches TEXT REGEX: bash's own extended regex, no grep process.
matches() {
	[[ $1 =~ $2 ]]
}

# now_ms: NOW = wall-clock milliseconds.
now_ms() {
	local us=${EPOCHREALTIME/./}
	NOW=$((us / 1000))
}

# start_server NAME ARGS...: start the double in the background.
start_server() {
	local name=$1
	shift
	"$PY" "$SRV" --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key" \
		--port-file "$T_TMP/$name.port" --requests "$T_TMP/$name.jsonl" \
		--state-file "$T_TMP/$name.state" --access-key "$AK" \
		--secret-key "$SK" "$@" >"$T_TMP/$name.out" 2>"$T_TMP/$name.err" &
	PID=$!
	SERVER_PIDS+=("$PID")
}

# wait_port NAME PID: PORT = the port once the server has written it.
wait_port() {
	local i
	PORT=
	for i in $(seq 400); do
		[ -s "$T_TMP/$1.port" ] && { PORT=$(<"$T_TMP/$1.port"); return; }
		alive "$2" || return
		sleep 0.05
	done
}

# Target the standard (main), the secure or the misc server.
use_main() {
	PORT=$MAIN_PORT VARIANT=standard SVC=codedeploy-commands
	PREFIX=CodeDeployCommandService_v20141006 TOKEN_ARGS=() API_EXTRA=()
}
use_misc() {
	use_main
	PORT=$MISC_PORT
	API_EXTRA=(--date-offset 1800)
}
use_secure() {
	PORT=$SEC_PORT VARIANT=secure SVC=codedeploy-commands-secure
	PREFIX=CodeDeployCommandService API_EXTRA=()
	TOKEN_ARGS=(--session-token "$TOKEN")
}

# api OP BODY [ARGS...]: a request signed by cmdsvc.py's client; CODE is
# the HTTP status (or DROPPED), OUT the body.
api() {
	local op=$1 body=$2
	shift 2
	helper call --call "$op" --url "https://127.0.0.1:$PORT/" \
		--cacert "$CA" --access-key "$AK" --secret-key "$SK" \
		--variant "$VARIANT" --agent-version OFFICIAL_test \
		"${TOKEN_ARGS[@]}" "${API_EXTRA[@]}" --body "$body" "$@"
	CODE=${HOUT%% *}
	OUT=${HOUT#* }
}

# capi OP BODY [CURL ARGS...]: the same signed by curl --aws-sigv4, an
# independent SigV4 implementation; RC is curl's exit status.
capi() {
	local op=$1 body=$2 token=()
	shift 2
	[ "$VARIANT" = secure ] && token=(-H "x-amz-security-token: $TOKEN")
	OUT=$(curl -sS --cacert "$CA" --aws-sigv4 "aws:amz:us-east-1:$SVC" \
		--user "$AK:$SK" -H "Content-Type: application/x-amz-json-1.1" \
		-H "X-Amz-Target: $PREFIX.$op" \
		-H "x-amz-codedeploy-agent-version: OFFICIAL_test" "${token[@]}" \
		"$@" --data-binary "$body" -w '\n%{http_code}' \
		"https://127.0.0.1:$PORT/" 2>"$T_TMP/.err")
	RC=$?
	ERR=$(<"$T_TMP/.err")
	CODE=${OUT##*$'\n'}
	OUT=${OUT%$'\n'*}
}

# state: OUT = the state dump; sval EXPR: V = a value from it.
state() {
	helper get "https://127.0.0.1:$PORT/__state" "$CA"
	OUT=$HOUT
}

sval() {
	state
	jv "$1"
}

SPEC1='{"DeploymentId":"d-SIGNED001","DeploymentGroupId":"dg-0001","DeploymentGroupName":"group","ApplicationName":"app","Revision":{"RevisionType":"S3","S3Revision":{"Bucket":"bundles","Key":"app/bundle.tgz","BundleType":"tgz"}}}'
SPEC2='{"DeploymentId":"d-TAMPER001","DeploymentGroupId":"dg-0001","DeploymentGroupName":"group","ApplicationName":"app","Revision":{"RevisionType":"S3","S3Revision":{"Bucket":"bundles","Key":"app/other.tgz","BundleType":"tgz"}}}'
cat >"$T_TMP/main.json" <<JSON
{
 "host": "$H",
 "poll_hold_seconds": 3,
 "deployments": [
  {"id": "d-SIGNED001", "spec": $SPEC1,
   "commands": ["DownloadBundle", "Install"]},
  {"id": "d-TAMPER001", "envelope": "pkcs7-tampered", "spec": $SPEC2,
   "commands": ["ApplicationStart"]}
 ],
 "faults": [
  {"op": "PollHostCommand", "nth": 2, "action": "throttle"},
  {"op": "PollHostCommand", "nth": 3, "action": "duplicate"},
  {"op": "PollHostCommand", "nth": 6, "action": "wrong-host"},
  {"op": "GetDeploymentSpecification", "nth": 2, "action": "server-503"},
  {"op": "PostHostCommandUpdate", "nth": 2, "action": "drop"}
 ]
}
JSON
cat >"$T_TMP/secure.json" <<JSON
{
 "host": "$H",
 "poll_hold_seconds": 1,
 "faults": [
  {"op": "PostHostCommandUpdate", "nth": 1, "action": "throttle-429", "body": false},
  {"op": "PostHostCommandUpdate", "nth": 2, "action": "error", "status": 400,
   "type": "AccessDeniedException", "message": "User is not authorized"},
  {"op": "PostHostCommandUpdate", "nth": 3, "action": "delay", "seconds": 0.5},
  {"op": "PostHostCommandUpdate", "nth": 4, "action": "drop-after"},
  {"op": "PostHostCommandUpdate", "nth": 5, "action": "server-500"},
  {"op": "PollHostCommand", "nth": 5, "action": "unknown-command"},
  {"op": "PollHostCommand", "nth": 6, "action": "empty"}
 ],
 "deployments": [
  {"id": "d-GROUPA01", "envelope": "text", "spec": {"DeploymentId": "d-GROUPA01"},
   "commands": ["BeforeInstall"]},
  {"id": "d-GROUPB01", "concurrent": true, "spec": {"DeploymentId": "d-GROUPB01"},
   "commands": [{"name": "AfterInstall", "ack_status": "Succeeded"}]},
  {"id": "d-HELD0001", "concurrent": true, "held": true,
   "spec": {"DeploymentId": "d-HELD0001"}, "commands": ["ValidateService"]},
  {"id": "d-PREACK01", "concurrent": true, "envelope": "none",
   "commands": [{"name": "Install", "preacked": true}]}
 ]
}
JSON
cat >"$T_TMP/misc.json" <<JSON
{
 "host": "$H",
 "poll_hold_seconds": 1,
 "empty_poll": "null",
 "redeliver_unacked": true,
 "deployments": [
  {"id": "d-MISC00001", "envelope": "json", "spec": {"DeploymentId": "d-MISC00001"},
   "commands": [
    {"name": "BeforeInstall", "id": "opaque-0001", "report_host": "i", "nonce": null},
    {"name": "AfterInstall", "instance": {"Nonce": "7"}}]}
 ]
}
JSON
TOKEN=cmdsvc-session-token

# --- start-up ----------------------------------------------------------------
start_server main --scenario "$T_TMP/main.json"
MAIN_PID=$PID
start_server secure --scenario "$T_TMP/secure.json" --variant secure \
	--session-token "$TOKEN" --require-agent-version
SEC_PID=$PID
start_server misc --scenario "$T_TMP/misc.json" --clock-offset 1800
MISC_PID=$PID
wait_port main "$MAIN_PID"
MAIN_PORT=$PORT
wait_port secure "$SEC_PID"
SEC_PORT=$PORT
wait_port misc "$MISC_PID"
MISC_PORT=$PORT
check "the servers write their port files" \
	test -n "$MAIN_PORT" -a -n "$SEC_PORT" -a -n "$MISC_PORT"
OUT=$(<"$T_TMP/main.out")
check "server prints READY <port>" test "$OUT" = "READY $MAIN_PORT"
[ -n "$MAIN_PORT" ] && [ -n "$SEC_PORT" ] && [ -n "$MISC_PORT" ] ||
	done_testing
use_main

wait "$TYPO_PID"
RC=$?
OUT=$(<"$T_TMP/typo.out")
check "a scenario typo: exit 2 naming the place and the key" test "$RC $OUT" = \
	"2 cmdsvc.py: scenario $T_TMP/typo.json: deployments[0].commands[0]: unknown key nmae (known: ack_status, host, id, instance, name, nonce, preacked, report_host, update_status)"

wait "$SELFTEST_PID"
RC=$?
OUT=$(<"$T_TMP/selftest.out")
check "--self-test: AWS S3 SigV4 examples, round trips, PKCS7 helpers" \
	test "$RC" -eq 0
check "--self-test ran its checks" matches "$OUT" $'\n1\\.\\.1[0-9]$'

POLL='{"HostIdentifier":"'$H'"}'
HC1=hc-d-SIGNED001-1
HC2=hc-d-SIGNED001-2
HC3=hc-d-TAMPER001-1
echo '{}' >"$CA.json" # for helper evals that read files of their own

# --- PollHostCommand and SigV4 ---------------------------------------------
capi PollHostCommand "$POLL" # poll 1
check "curl-signed poll 1: the scripted DownloadBundle" test "$CODE $OUT" = \
	'200 {"HostCommand":{"HostCommandIdentifier":"'$HC1'","HostIdentifier":"'$H'","DeploymentExecutionId":"codedeploy/d-SIGNED001/execution/1","CommandName":"DownloadBundle","Nonce":1}}'

capi PollHostCommand "$POLL" --user "$AK:wrong-secret"
check "bad secret (curl): 400 InvalidSignatureException" matches "$CODE $OUT" \
	'^400 \{"__type":"'$T_CORAL'#InvalidSignatureException","message":"The request signature we calculated does not match'
check "bad secret: the message shows the expected canonical request" \
	matches "$OUT" 'should have been\\n.POST\\n/\\n\\ncontent-type:application/x-amz-json-1.1\\nhost:127.0.0.1:'
api PollHostCommand "$POLL" --secret-key wrong-secret
check "bad secret (client): 400 InvalidSignatureException" matches \
	"$CODE $OUT" '^400 .*InvalidSignatureException'

capi PollHostCommand "$POLL" --user "AKIDUNKNOWN000000000:$SK"
check "unknown access key: 400 UnrecognizedClientException" test "$CODE $OUT" = \
	'400 {"__type":"'$T_CORAL'#UnrecognizedClientException","message":"The security token included in the request is invalid."}'

OUT=$(curl -sS --cacert "$CA" -H "Content-Type: application/x-amz-json-1.1" \
	-H "X-Amz-Target: $PREFIX.PollHostCommand" --data-binary "$POLL" \
	-w ' %{http_code}' "https://127.0.0.1:$PORT/")
check "unsigned request: 400 MissingAuthenticationTokenException" test "$OUT" = \
	'{"__type":"'$T_CORAL'#MissingAuthenticationTokenException","message":"Missing Authentication Token"} 400'

api PollHostCommand "$POLL" --target CodeDeployCommandService.PollHostCommand
check "secure prefix on the standard variant: 400 UnknownOperationException" \
	test "$CODE $OUT" = '400 {"__type":"'$T_CORAL'#UnknownOperationException"}'
api UnknownThing "$POLL"
check "unknown operation: 400 UnknownOperationException" \
	test "$CODE $OUT" = '400 {"__type":"'$T_CORAL'#UnknownOperationException"}'
api PollHostCommand "$POLL" --content-type application/json
check "wrong content type: 400 UnknownOperationException" \
	test "$CODE $OUT" = '400 {"__type":"'$T_CORAL'#UnknownOperationException"}'

capi PollHostCommand "$POLL" -i # poll 2
check "poll 2 (scripted): 400 ThrottlingException, Rate exceeded" matches \
	"$CODE $OUT" $'^400 .*\r\n\r\n\\{"__type":"com.amazon.coral.availability#ThrottlingException","message":"Rate exceeded"\\}$'
check "error replies carry x-amzn-ErrorType" matches "$OUT" \
	$'\r\nx-amzn-ErrorType: ThrottlingException\r\n'
check "replies carry x-amzn-RequestId" matches "$OUT" \
	$'\r\nx-amzn-RequestId: [0-9a-f-]{36}\r\n'

api PollHostCommand "$POLL" # poll 3
check "poll 3 (scripted duplicate): the same HostCommand again" matches \
	"$CODE $OUT" '^200 \{"HostCommand":\{"HostCommandIdentifier":"'$HC1'",'

api PollHostCommand "$POLL" --date-offset -1200
check "x-amz-date 20 minutes old: Signature expired" matches "$CODE $OUT" \
	'^400 \{"__type":"'$T_CORAL'#InvalidSignatureException","message":"Signature expired: [0-9T]{15}Z is now earlier than'
api PollHostCommand "$POLL" --date-offset 1200
check "x-amz-date 20 minutes ahead: Signature not yet current" matches \
	"$CODE $OUT" '^400 .*InvalidSignatureException.*Signature not yet current'
api PutHostCommandAcknowledgement '{"HostCommandIdentifier":"hc-nonesuch"}' \
	--date-offset 600
check "x-amz-date 10 minutes ahead: past SigV4 (within 15 min)" matches \
	"$CODE $OUT" '^400 \{"__type":"ClientException","message":"HostCommandIdentifier hc-nonesuch is not known"'
api PollHostCommand "$POLL" --unsigned x-amz-date
check "x-amz-date sent but not signed: InvalidSignatureException" matches \
	"$CODE $OUT" "^400 .*InvalidSignatureException.*'X-Amz-Date' must be a 'SignedHeader'"
api PollHostCommand "$POLL" --unsigned host
check "host not signed: InvalidSignatureException" matches "$CODE $OUT" \
	"^400 .*InvalidSignatureException.*'Host' or ':authority'"
api PollHostCommand "$POLL" --omit x-amz-date --unsigned x-amz-date
check "no x-amz-date: IncompleteSignatureException" matches "$CODE $OUT" \
	"^400 .*IncompleteSignatureException.*X-Amz-Date"
api PollHostCommand "$POLL" --region us-west-2
check "scope in another region: InvalidSignatureException" matches \
	"$CODE $OUT" "^400 .*InvalidSignatureException.*scoped to a valid region, not 'us-west-2'"
api PollHostCommand "$POLL" --session-token surprise
check "a token when none is configured: UnrecognizedClientException" \
	matches "$CODE $OUT" '^400 .*UnrecognizedClientException'

# --- input validation ---------------------------------------------------------
api PutHostCommandAcknowledgement '{"Diagnostics":{"Format":"JSON","Payload":"{}"}}'
check "ack without HostCommandIdentifier: 400 ValidationException" test \
	"$CODE $OUT" = '400 {"__type":"com.amazon.coral.validate#ValidationException","message":"1 validation error detected: Value null at '"'hostCommandIdentifier'"' failed to satisfy constraint: Member must not be null"}'
api PutHostCommandComplete '{"HostCommandIdentifier":null,"CommandStatus":"Done"}'
check "null identifier and a bad enum: 2 validation errors" matches \
	"$CODE $OUT" "^400 .*ValidationException.*2 validation errors detected: Value null at 'hostCommandIdentifier'.*; Value 'Done' at 'commandStatus'.*enum value set: \[Pending, InProgress, Succeeded, Failed\]"
api GetDeploymentSpecification '{"DeploymentExecutionId":"no-slashes","HostIdentifier":"'$H'"}'
check "DeploymentExecutionId against its pattern" matches "$CODE $OUT" \
	"^400 .*ValidationException.*'deploymentExecutionId' failed to satisfy constraint: Member must satisfy regular expression pattern"
api PollHostCommand '{"HostIdentifier":42}'
check "a number for a string: 400 SerializationException (Message)" \
	matches "$CODE $OUT" '^400 \{"__type":"'$T_CORAL'#SerializationException","Message":'
api PollHostCommand '{"HostIdentifier":"'$H'","Extra":1}'
check "an unknown member: 400 SerializationException" matches "$CODE $OUT" \
	"^400 .*SerializationException.*Unknown member 'Extra'"
api PollHostCommand '[1]'
check "a body that is not an object: 400 SerializationException" matches \
	"$CODE $OUT" '^400 .*SerializationException'

# --- GetDeploymentSpecification: a signed PKCS7 envelope -------------------------
GET1='{"DeploymentExecutionId":"codedeploy/d-SIGNED001/execution/1","HostIdentifier":"'$H'"}'
capi GetDeploymentSpecification "$GET1"
check "GetDeploymentSpecification: 200, CodeDeploy, PKCS7/JSON" matches \
	"$CODE $OUT" '^200 \{"DeploymentSystem":"CodeDeploy","DeploymentSpecification":\{"GenericEnvelope":\{"Format":"PKCS7/JSON","Payload":"-----BEGIN PKCS7-----\\n'
jv 'j["DeploymentSpecification"]["GenericEnvelope"]["Payload"]'
printf '%b' "$V" >"$T_TMP/spec1.pem"
run openssl cms -verify -noverify -inform PEM -binary -in "$T_TMP/spec1.pem" \
	-out "$T_TMP/spec1.json"
check "openssl cms -verify -noverify accepts the envelope" test "$RC" -eq 0
check "the signed content is the scripted spec" test \
	"$(<"$T_TMP/spec1.json")" = "$SPEC1"
api GetDeploymentSpecification "$GET1"
check "GetDeploymentSpecification 2 (scripted): 503 ServerException" matches \
	"$CODE $OUT" '^503 \{"__type":"ServerException",'
api GetDeploymentSpecification '{"DeploymentExecutionId":"codedeploy/d-SIGNED001/execution/1","HostIdentifier":"arn:aws:ec2:us-east-1:111122223333:instance/i-0other"}'
check "spec for a host the deployment does not target: ClientException" \
	matches "$CODE $OUT" '^400 \{"__type":"ClientException"'

# --- acknowledge, hold, wake-up, complete exactly once ----------------------------
NOOP_FALSE='{"Format":"JSON","Payload":"{\"IsCommandNoop\":false}"}'
capi PutHostCommandAcknowledgement '{"HostCommandIdentifier":"'$HC1'","Diagnostics":'"$NOOP_FALSE"'}'
check "ack: InProgress" test "$CODE $OUT" = '200 {"CommandStatus":"InProgress"}'

now_ms
t0=$NOW
api PollHostCommand "$POLL" # poll 4
now_ms
check "poll 4 while DownloadBundle runs: {} after the 3 s hold" test \
	"$CODE $OUT $((NOW - t0 >= 2900))" = "200 {} 1"

# poll 5 waits in the background; completing DownloadBundle must wake it
# well before its 3 s hold ends.
now_ms
t0=$NOW
capi PollHostCommand "$POLL" >/dev/null &
BG=$!
for i in $(seq 100); do
	sval 'j["polls_held"]'
	[ "$V" = 1 ] && break
	sleep 0.02
done
check "state shows the held poll" test "$V" = 1
DONE0='{"Format":"JSON","Payload":"{\"error_code\":0,\"script_name\":\"\",\"message\":\"Succeeded: \",\"log\":\"\"}"}'
capi PutHostCommandComplete '{"HostCommandIdentifier":"'$HC1'","CommandStatus":"Succeeded","Diagnostics":'"$DONE0"'}'
check "complete: 200 {}" test "$CODE $OUT" = "200 {}"
wait "$BG"
now_ms
helper eval "$CA.json" '(lambda r: [r["status"], r["response"]["HostCommand"]["HostCommandIdentifier"], r["response"]["HostCommand"]["HostIdentifier"]])([r for r in map(json.loads, open("'$T_TMP/main.jsonl'")) if r["op"] == "PollHostCommand"][-1])'
V=$HOUT
check "the held poll wakes at once with Install" test \
	"$V $((NOW - t0 < 2500))" = '[200, "'$HC2'", "'$H'"] 1'

state
jv '[j["commands"]["'$HC1'"][k] for k in ("acknowledged", "acks", "ack_diagnostics", "completes", "status", "completed_before_ack", "problems", "deliveries")]'
check "state: DownloadBundle delivered twice, acked once, completed once" \
	test "$V" = '[true, 1, {"IsCommandNoop": false}, 1, "Succeeded", false, [], 2]'
jv 'j["commands"]["'$HC1'"]["diagnostics"]'
check "state: the completion diagnostics, parsed" test "$V" = \
	'{"error_code": 0, "script_name": "", "message": "Succeeded: ", "log": ""}'
api PutHostCommandComplete '{"HostCommandIdentifier":"'$HC1'","CommandStatus":"Succeeded","Diagnostics":'"$DONE0"'}'
check "a second complete: 400 ClientException" matches "$CODE $OUT" \
	'^400 \{"__type":"ClientException","message":".*already completed'
sval 'j["commands"]["'$HC1'"]["completes"]'
check "state counts the second complete" test "$V" = 2

# --- heartbeats and dropped connections ------------------------------------------
api PutHostCommandAcknowledgement '{"HostCommandIdentifier":"'$HC2'","Diagnostics":'"$NOOP_FALSE"'}'
api PostHostCommandUpdate '{"HostCommandIdentifier":"'$HC2'","EstimatedCompletionTime":1795000000}'
check "PostHostCommandUpdate: InProgress" test "$CODE $OUT" = \
	'200 {"CommandStatus":"InProgress"}'
capi PostHostCommandUpdate '{"HostCommandIdentifier":"'$HC2'"}'
check "update 2 (scripted drop): connection closed without a reply" \
	test "$RC $CODE" = "52 000"
api PostHostCommandUpdate '{"HostCommandIdentifier":"'$HC2'","EstimatedCompletionTime":"2026-02-19T12:00:00Z"}'
check "an ISO-8601 string timestamp: SerializationException" matches \
	"$CODE $OUT" '^400 .*SerializationException.*epoch seconds'
sval '[h["estimated_completion_time"] for h in j["commands"]["'$HC2'"]["heartbeats"]]'
check "state: one heartbeat recorded" test "$V" = "[1795000000]"

printf -v LOG9000 '%9000s' ''
api PutHostCommandComplete '{"HostCommandIdentifier":"'$HC2'","CommandStatus":"Failed","Diagnostics":{"Format":"JSON","Payload":"'"$LOG9000"'"}}'
check "a diagnostics payload over 8192 chars: ValidationException" matches \
	"$CODE $OUT" "^400 .*ValidationException.*'diagnostics.payload'.*less than or equal to 8192"
LOG=
for i in $(seq 200); do
	LOG+='LifecycleEvent - Install\\n'
done
FAIL4='{"Format":"JSON","Payload":"{\"error_code\":4,\"script_name\":\"scripts/x.sh\",\"message\":\"Script at specified location: scripts/x.sh failed with exit code 1\",\"log\":\"'$LOG'\"}"}'
capi PutHostCommandComplete '{"HostCommandIdentifier":"'$HC2'","CommandStatus":"Failed","Diagnostics":'"$FAIL4"'}'
check "a 5 KiB failed complete (curl): 200" test "$CODE $OUT" = "200 {}"
state
jv '[j["commands"]["'$HC2'"]["status"], j["commands"]["'$HC2'"]["diagnostics"]["error_code"], len(j["commands"]["'$HC2'"]["diagnostics"]["log"]), j["deployments"]["d-SIGNED001"]["status"], j["commands"]["'$HC2'"]["problems"]]'
check "state: Install Failed with code 4 and its log, deployment Failed" \
	test "$V" = '["Failed", 4, 5000, "Failed", []]'

# --- the next deployment: wrong host first, then a tampered spec ------------------
api PollHostCommand "$POLL" # poll 6
check "poll 6 (scripted wrong-host): another HostIdentifier" matches \
	"$CODE $OUT" '^200 \{"HostCommand":\{"HostCommandIdentifier":"'$HC3'","HostIdentifier":"arn:aws:ec2:us-east-1:000000000000:instance/i-0000000000wrong",'
api PollHostCommand "$POLL" # poll 7
check "poll 7: the same command for this host" test "$CODE $OUT" = \
	'200 {"HostCommand":{"HostCommandIdentifier":"'$HC3'","HostIdentifier":"'$H'","DeploymentExecutionId":"codedeploy/d-TAMPER001/execution/2","CommandName":"ApplicationStart","Nonce":3}}'
api GetDeploymentSpecification '{"DeploymentExecutionId":"codedeploy/d-TAMPER001/execution/2","HostIdentifier":"'$H'"}'
jv 'j["DeploymentSpecification"]["GenericEnvelope"]["Payload"]'
printf '%b' "$V" >"$T_TMP/spec2.pem"
run openssl cms -verify -noverify -inform PEM -binary -in "$T_TMP/spec2.pem" \
	-out "$T_TMP/spec2.json"
check "openssl cms -verify -noverify rejects the tampered envelope" \
	test "$RC" -ne 0 -a -s "$T_TMP/spec2.pem"
check "openssl reports the content digest failure" matches "$ERR" \
	'digest failure|content verify error'
sval '[len(j["deployments"]["d-TAMPER001"]["tampered_content"]) == len(j["deployments"]["d-TAMPER001"]["content"]), j["deployments"]["d-TAMPER001"]["tampered_content"] != j["deployments"]["d-TAMPER001"]["content"], json.loads(j["deployments"]["d-TAMPER001"]["tampered_content"]) is not None]'
check "state: the tampered content differs, same length, still JSON" test \
	"$V" = "[true, true, true]"
DONE5='{"Format":"JSON","Payload":"{\"error_code\":5,\"script_name\":\"\",\"message\":\"PKCS7 signature verification failed\",\"log\":\"\"}"}'
api PutHostCommandComplete '{"HostCommandIdentifier":"'$HC3'","CommandStatus":"Failed","Diagnostics":'"$DONE5"'}'
check "complete without ack (v1 spec failure): accepted" test "$CODE" = 200

# --- the state dump and the request log --------------------------------------------
state
jv '[j["done"], j["pending"], j["commands"]["'$HC3'"]["completed_before_ack"]]'
check "state: every deployment finished; completed before ack flagged" \
	test "$V" = '[true, [], true]'
jv '[j["unknown_ids"], j["agent_versions"], j["hosts_seen"]]'
check "state: unknown identifiers, agent versions and hosts seen" test "$V" = \
	'[["hc-nonesuch"], ["OFFICIAL_test"], ["'$H'"]]'
jv '[(f["op"], f["nth"], f["action"]) for f in j["faults_fired"]]'
check "state: faults fired as scripted" test "$V" = \
	'[["PollHostCommand", 2, "throttle"], ["PollHostCommand", 3, "duplicate"], ["GetDeploymentSpecification", 2, "server-503"], ["PostHostCommandUpdate", 2, "drop"], ["PollHostCommand", 6, "wrong-host"]]'
jv '[j["requests"]["total"], j["commands"]]'
LIVE=$V
jv 'j["requests"]["total"]'
total=$V
jv '[j["requests"]["total"], j["commands"]]' "$(<"$T_TMP/main.state")"
check "state file matches GET /__state" test "$V" = "$LIVE"
mapfile -t LINES <"$T_TMP/main.jsonl"
check "request log: one line per API request" test "${#LINES[@]}" -eq "$total"
helper eval "$CA.json" '[[r["status"], r["op"], r["body"].get("HostCommandIdentifier")] for r in map(json.loads, open("'$T_TMP/main.jsonl'")) if "authorization" in r["headers"] or r["status"] == "dropped" or (r["op"] == "PutHostCommandComplete" and r["status"] == 200)]'
check "request log: statuses and bodies, no Authorization header" \
	test "$HOUT" = '[[200, "PutHostCommandComplete", "'$HC1'"], ["dropped", "PostHostCommandUpdate", "'$HC2'"], [200, "PutHostCommandComplete", "'$HC2'"], [200, "PutHostCommandComplete", "'$HC3'"]]'
ALL="${LINES[*]} $(<"$T_TMP/main.state")"
check "request log and state: the secret never appears" test \
	"${ALL/$SK/}" = "$ALL"
rm -f "$T_TMP/main.state"
kill -USR1 "$MAIN_PID"
for i in $(seq 100); do
	[ -s "$T_TMP/main.state" ] && break
	sleep 0.02
done
check "SIGUSR1 rewrites the state file" test -s "$T_TMP/main.state"

# --- the secure variant: token, agent version, concurrency, held deployments ----------
use_secure
capi PollHostCommand "$POLL"
check "secure (curl): prefix, service name and token accepted" matches \
	"$CODE $OUT" '^200 \{"HostCommand":\{"HostCommandIdentifier":"hc-d-GROUPA01-1",'
api PollHostCommand "$POLL"
check "secure: the concurrent deployment dispatched while the first runs" \
	matches "$CODE $OUT" '^200 \{"HostCommand":\{"HostCommandIdentifier":"hc-d-GROUPB01-1",'
api PutHostCommandAcknowledgement '{"HostCommandIdentifier":"hc-d-GROUPB01-1","Diagnostics":{"Format":"JSON","Payload":"{\"IsCommandNoop\":true}"}}'
check "secure: scripted ack status Succeeded" test "$CODE $OUT" = \
	'200 {"CommandStatus":"Succeeded"}'
TOKEN_ARGS=()
api PollHostCommand "$POLL"
check "secure: no token: UnrecognizedClientException" matches "$CODE $OUT" \
	'^400 .*UnrecognizedClientException'
api PollHostCommand "$POLL" --session-token wrong
check "secure: wrong token: UnrecognizedClientException" matches \
	"$CODE $OUT" '^400 .*UnrecognizedClientException'
use_secure
api PollHostCommand "$POLL" --unsigned x-amz-security-token
check "secure: token not signed: InvalidSignatureException" matches \
	"$CODE $OUT" "^400 .*'X-Amz-Security-Token' must be a 'SignedHeader'"
SVC=codedeploy-commands capi PollHostCommand "$POLL"
check "secure: signed for codedeploy-commands: InvalidSignatureException" \
	matches "$CODE $OUT" "^400 .*InvalidSignatureException.*correct service: 'codedeploy-commands-secure'"
api PollHostCommand "$POLL" --target CodeDeployCommandService_v20141006.PollHostCommand
check "secure: standard prefix: UnknownOperationException" matches \
	"$CODE $OUT" '^400 .*UnknownOperationException'
api PollHostCommand "$POLL" --agent-version ""
check "secure: --require-agent-version rejects a request without it" \
	matches "$CODE $OUT" '^400 .*ClientException.*x-amz-codedeploy-agent-version'
now_ms
t0=$NOW
api PollHostCommand "$POLL"
now_ms
check "secure: held deployment not dispatched: {} after the 1 s hold" test \
	"$CODE $OUT $((NOW - t0 >= 900))" = "200 {} 1"
OUT=$(curl -sS --cacert "$CA" -X POST \
	"https://127.0.0.1:$PORT/__release?deployment=d-HELD0001")
check "secure: /__release" test "$OUT" = '{"released":"d-HELD0001"}'
api PollHostCommand "$POLL"
check "secure: released deployment dispatched" matches "$CODE $OUT" \
	'^200 \{"HostCommand":\{"HostCommandIdentifier":"hc-d-HELD0001-1",.*"CommandName":"ValidateService"'
api GetDeploymentSpecification '{"DeploymentExecutionId":"codedeploy/d-GROUPA01/execution/1","HostIdentifier":"'$H'"}'
check "secure: TEXT/JSON envelope carries the spec verbatim" test \
	"$CODE $OUT" = '200 {"DeploymentSystem":"CodeDeploy","DeploymentSpecification":{"GenericEnvelope":{"Format":"TEXT/JSON","Payload":"{\"DeploymentId\":\"d-GROUPA01\"}"}}}'

api PollHostCommand "$POLL" # secure poll 5
check "secure: poll 5 (scripted unknown-command): an injected command" \
	matches "$CODE $OUT" '^200 \{"HostCommand":\{"HostCommandIdentifier":"hc-injected-1","HostIdentifier":"'$H'","DeploymentExecutionId":"codedeploy/d-HELD0001/execution/3","CommandName":"FrobnicateEvent"\}\}$'
api PutHostCommandAcknowledgement '{"HostCommandIdentifier":"hc-injected-1","Diagnostics":{"Format":"JSON","Payload":"{\"IsCommandNoop\":true}"}}'
check "secure: the injected command can be acknowledged" test "$CODE $OUT" = \
	'200 {"CommandStatus":"InProgress"}'
api PollHostCommand "$POLL" # secure poll 6
check "secure: poll 6 (scripted empty): {}" test "$CODE $OUT" = "200 {}"

UPD='{"HostCommandIdentifier":"hc-d-GROUPA01-1"}'
api PostHostCommandUpdate "$UPD"
check "secure: update 1 (scripted throttle-429, no body): 429, empty" \
	test "$CODE:$OUT" = "429:"
api PostHostCommandUpdate "$UPD"
check "secure: update 2 (scripted error): 400 AccessDeniedException" test \
	"$CODE $OUT" = '400 {"__type":"AccessDeniedException","message":"User is not authorized"}'
now_ms
t0=$NOW
api PostHostCommandUpdate "$UPD"
now_ms
check "secure: update 3 (scripted delay): answered after 0.5 s, Pending" \
	test "$CODE $OUT $((NOW - t0 >= 500))" = '200 {"CommandStatus":"Pending"} 1'
api PostHostCommandUpdate "$UPD"
check "secure: update 4 (scripted drop-after): no reply" matches "$CODE" \
	'^DROPPED'
api PostHostCommandUpdate "$UPD"
check "secure: update 5 (scripted server-500): 500 ServerException" matches \
	"$CODE $OUT" '^500 \{"__type":"ServerException"'
DONE7='{"Format":"JSON","Payload":"{\"error_code\":7,\"script_name\":\"\",\"message\":\"Failed: restarted\",\"log\":\"\"}"}'
api PutHostCommandComplete '{"HostCommandIdentifier":"hc-d-PREACK01-1","CommandStatus":"Failed","Diagnostics":'"$DONE7"'}'
check "secure: a preacked command completed without a poll" test "$CODE $OUT" = \
	"200 {}"
state
jv '[len(j["commands"]["hc-d-GROUPA01-1"]["heartbeats"]), j["commands"]["hc-injected-1"]["injected"], [j["commands"]["hc-d-PREACK01-1"][k] for k in ("deliveries", "acknowledged", "completed_before_ack", "status", "problems")], j["agent_versions"]]'
check "secure: state after the faults, injection and crash recovery" \
	test "$V" = '[2, true, [0, true, false, "Failed", []], ["OFFICIAL_test"]]'

# --- misc: a skewed server clock, redelivery, odd commands, null polls ------------
use_misc
API_EXTRA=()
api PollHostCommand "$POLL"
check "misc: server clock 30 min ahead: Signature expired" matches \
	"$CODE $OUT" '^400 .*Signature expired'
use_misc
api PollHostCommand "$POLL"
check "misc: signed at the server's time: report_host, no Nonce" test \
	"$CODE $OUT" = '200 {"HostCommand":{"HostCommandIdentifier":"opaque-0001","HostIdentifier":"i","DeploymentExecutionId":"codedeploy/d-MISC00001/execution/1","CommandName":"BeforeInstall"}}'
api PollHostCommand "$POLL"
check "misc: redelivered until acknowledged" matches "$CODE $OUT" \
	'^200 \{"HostCommand":\{"HostCommandIdentifier":"opaque-0001",'
api PutHostCommandAcknowledgement '{"HostCommandIdentifier":"opaque-0001"}'
check "misc: ack without diagnostics: InProgress" test "$CODE $OUT" = \
	'200 {"CommandStatus":"InProgress"}'
api PollHostCommand "$POLL"
check "misc: acknowledged, not completed: {\"HostCommand\":null}" test \
	"$CODE $OUT" = '200 {"HostCommand":null}'
DONEV2='{"Format":"JSON","Payload":"{\"error_code\":0,\"log\":\"\",\"message\":\"Succeeded\",\"script_name\":\"\"}"}'
api PutHostCommandComplete '{"HostCommandIdentifier":"opaque-0001","CommandStatus":"Succeeded","Diagnostics":'"$DONEV2"'}'
check "misc: complete with keys in another order: accepted" test \
	"$CODE $OUT" = "200 {}"
api PollHostCommand "$POLL"
check "misc: the next command, with the scripted Nonce string" matches \
	"$CODE $OUT" '^200 \{"HostCommand":\{"HostCommandIdentifier":"hc-d-MISC00001-2",.*"CommandName":"AfterInstall","Nonce":"7"\}\}$'
api GetDeploymentSpecification '{"DeploymentExecutionId":"codedeploy/d-MISC00001/execution/1","HostIdentifier":"'$H'"}'
check "misc: a JSON envelope" test "$CODE $OUT" = \
	'200 {"DeploymentSystem":"CodeDeploy","DeploymentSpecification":{"GenericEnvelope":{"Format":"JSON","Payload":"{\"DeploymentId\":\"d-MISC00001\"}"}}}'
sval 'j["commands"]["opaque-0001"]["problems"]'
check "misc: state flags the missing ack diagnostics and the key order" \
	test "$V" = '["ack without Diagnostics", "complete payload keys are not exactly error_code,script_name,message,log in that order"]'

# --- clean-up -------------------------------------------------------------------
jv 'j["workdir"]' "$(<"$T_TMP/main.state")"
WORKDIR=$V
check "the signer lives in the server's scratch directory" test \
	-s "$WORKDIR/signer.key"
kill -TERM "$MAIN_PID" "$SEC_PID" "$MISC_PID"
wait "$MAIN_PID"
rc_main=$?
wait "$SEC_PID"
rc_sec=$?
wait "$MISC_PID"
rc_misc=$?
check "SIGTERM: the servers exit 0" test "$rc_main $rc_sec $rc_misc" = "0 0 0"
check "SIGTERM: the scratch directory is removed" test ! -e "$WORKDIR"
curl -sS --cacert "$CA" "https://127.0.0.1:$MAIN_PORT/__state" 2>/dev/null
RC=$?
check "SIGTERM: the port is closed" test "$RC" -eq 7
SERVER_PIDS=()

done_testing
