#!/bin/bash
# The test servers of tests/servers behave as the bundle tests assume: the
# CA, a real radosgw with versioning and SigV4 checks, the GitHub double's
# redirect and token rules, each fault of badhttp.py, the CONNECT proxy, and
# a teardown that leaves no process behind.
. "$(dirname "$0")/lib.sh"
. "$TOP_SRCDIR/tests/servers/lib.sh"

RGW_D=$T_TMP/rgw
CA=$T_TMP/ca
PY=/usr/bin/python3
cleanup() {
	srv_stop_all
	[ -d "$RGW_D" ] && D=$RGW_D "$SRV_BIN/rgw-down.sh" 2>/dev/null
	rm -rf "$T_TMP"
}
trap cleanup EXIT

now_ms() { echo $(($(date +%s%N) / 1000000)); }
T_START=$(now_ms)
# section NAME: a TAP comment with the time since the start.
section() { echo "# $(($(now_ms) - T_START)) ms: $1"; }

# hdr NAME FILE: the value of response header NAME in a curl -D dump (the
# last response's, if there were redirects).
hdr() {
	tr -d '\r' <"$2" | awk -v n="$(echo "$1" | tr '[:upper:]' '[:lower:]')" '
		/^HTTP\// { v = "" }
		{ i = index($0, ":"); if (i && tolower(substr($0, 1, i - 1)) == n) v = substr($0, i + 2) }
		END { print v }'
}

# jsonl FILE EXPR: evaluate a python expression over R, the list of JSON
# records in FILE, and print the result.
jsonl() {
	$PY -c 'import json, sys
R = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
print(eval(sys.argv[2]))' "$1" "$2"
}

md5() { md5sum "$1" | cut -d' ' -f1; }
same() { cmp -s "$1" "$2"; }
eq() { [ "$1" = "$2" ]; }

# --- the certificate authority -------------------------------------------
section "CA"
run "$SRV_BIN/mkca.sh" "$CA"
check "mkca.sh makes a CA and a server certificate" test "$RC" -eq 0
run openssl verify -CAfile "$CA/ca.crt" "$CA/server.crt"
check "the server certificate verifies against the CA" contains "$OUT" ': OK$'
run openssl verify -CApath "$CA/cadir" "$CA/server.crt"
check "cadir/ works as a hashed CA directory" contains "$OUT" ': OK$'
run openssl x509 -noout -ext subjectAltName -in "$CA/server.crt"
check "the certificate names IP 127.0.0.1 and localhost" \
	contains "$OUT" 'IP Address:127\.0\.0\.1, DNS:localhost'
before=$(md5 "$CA/server.pem")
run "$SRV_BIN/mkca.sh" "$CA"
check "mkca.sh is idempotent" eq "$RC:$(md5 "$CA/server.pem")" "0:$before"

# --- radosgw ----------------------------------------------------------------
section "radosgw"
EMPTY=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

rgw_tests() {
	local t0 envf pids p alive_n dead_n v1 v2 E1 E2 V1 V2 key S3 B
	t0=$(now_ms)
	run env D="$RGW_D" CA_DIR="$CA" "$SRV_BIN/rgw-up.sh"
	check "rgw-up.sh brings up mon, osd and radosgw" test "$RC" -eq 0
	[ "$RC" -eq 0 ] || return
	echo "# rgw-up.sh took $(($(now_ms) - t0)) ms"
	envf=$OUT
	set -a
	# shellcheck disable=SC1090
	. "$envf"
	set +a
	OUT=$(cat "$envf")
	check "rgw-up.sh writes the endpoints, CA and keys to \$D/env" \
		eval '[[ $S3_ENDPOINT =~ ^https://127\.0\.0\.1:[0-9]+$ &&
			$S3_HTTP_ENDPOINT =~ ^http://127\.0\.0\.1:[0-9]+$ &&
			-s $S3_CA && $S3_REGION = us-east-1 &&
			-n $AWS_ACCESS_KEY_ID && -n $AWS_SECRET_ACCESS_KEY ]]'
	pids=
	for p in $(cat "$RGW_D"/run/{mon.a,osd.0,client.rgw.a}.pid 2>/dev/null); do
		pids="$pids $(proc_id "$p")"
	done
	alive_n=0
	for p in $pids; do alive_id "$p" && alive_n=$((alive_n + 1)); done
	check "three daemons run, each with a pid file" eq "$alive_n" 3

	S3=(curl -sS -m 30 --cacert "$S3_CA" --aws-sigv4 "aws:amz:$S3_REGION:s3"
		--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY")
	B=$S3_ENDPOINT/bundles
	v1=$T_TMP/v1 v2=$T_TMP/v2
	head -c 70000 /dev/urandom >"$v1"
	head -c 50000 /dev/urandom >"$v2"
	run "${S3[@]}" -o /dev/null -w '%{http_code}' \
		-H "x-amz-content-sha256: $EMPTY" -X PUT "$B"
	check "curl --aws-sigv4 creates a bucket" eq "$OUT" 200
	printf '<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>' >"$T_TMP/ver.xml"
	run "${S3[@]}" -o /dev/null -w '%{http_code}' \
		-H "x-amz-content-sha256: $(sha256sum "$T_TMP/ver.xml" | cut -d' ' -f1)" \
		-T "$T_TMP/ver.xml" "$B?versioning="
	check "curl enables versioning" eq "$OUT" 200
	"${S3[@]}" -o /dev/null -D "$T_TMP/h1" -T "$v1" \
		-H "x-amz-content-sha256: $(sha256sum "$v1" | cut -d' ' -f1)" \
		"$B/app/bundle.tar"
	"${S3[@]}" -o /dev/null -D "$T_TMP/h2" -T "$v2" \
		-H "x-amz-content-sha256: $(sha256sum "$v2" | cut -d' ' -f1)" \
		"$B/app/bundle.tar"
	V1=$(hdr x-amz-version-id "$T_TMP/h1") V2=$(hdr x-amz-version-id "$T_TMP/h2")
	E1=$(hdr etag "$T_TMP/h1") E2=$(hdr etag "$T_TMP/h2")
	OUT="V1=$V1 V2=$V2 E1=$E1 E2=$E2"
	check "two PUTs of one key give two version ids" \
		eval '[ -n "$V1" ] && [ -n "$V2" ] && [ "$V1" != "$V2" ]'
	check "each version's ETag is the MD5 of its bytes" \
		eq "$E1 $E2" "\"$(md5 "$v1")\" \"$(md5 "$v2")\""

	run "${S3[@]}" -o "$T_TMP/got1" -D "$T_TMP/g1" -w '%{http_code}' \
		-H "x-amz-content-sha256: $EMPTY" "$B/app/bundle.tar?versionId=$V1"
	check "GET ?versionId= of the old version gives its bytes" \
		eval '[ "$OUT" = 200 ] && same "$v1" "$T_TMP/got1"'
	check "... with its ETag and version id" \
		eq "$(hdr etag "$T_TMP/g1") $(hdr x-amz-version-id "$T_TMP/g1")" "$E1 $V1"
	run "${S3[@]}" -o "$T_TMP/got2" -w '%{http_code}' \
		-H "x-amz-content-sha256: $EMPTY" "$B/app/bundle.tar"
	check "GET without versionId gives the latest bytes" \
		eval '[ "$OUT" = 200 ] && same "$v2" "$T_TMP/got2"'
	run curl -sS -m 30 -o "$T_TMP/got3" -w '%{http_code}' \
		--aws-sigv4 "aws:amz:$S3_REGION:s3" \
		--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
		-H "x-amz-content-sha256: $EMPTY" \
		"$S3_HTTP_ENDPOINT/bundles/app/bundle.tar?versionId=$V1"
	check "the plain-HTTP endpoint serves the same bucket" \
		eval '[ "$OUT" = 200 ] && same "$v1" "$T_TMP/got3"'
	run curl -sS -m 30 --cacert "$S3_CA" --aws-sigv4 "aws:amz:$S3_REGION:s3" \
		--user "$AWS_ACCESS_KEY_ID:wrong$AWS_SECRET_ACCESS_KEY" \
		-w ' %{http_code}' -H "x-amz-content-sha256: $EMPTY" \
		"$B/app/bundle.tar?versionId=$V1"
	check "a wrong secret gets 403 SignatureDoesNotMatch" \
		contains "$OUT" '<Code>SignatureDoesNotMatch</Code>.* 403$'

	# A key curl cannot sign (test-environment.md §2b), through boto3.
	key='app/a b+c ü€.tar'
	run "$SRV_BIN/s3ctl.py" put bundles "$key" "$v1"
	V1=$(jsonl <(echo "$OUT") 'R[0]["VersionId"]' 2>/dev/null)
	check "s3ctl.py put prints the VersionId and ETag as JSON" \
		eval '[ "$RC" = 0 ] && [ -n "$V1" ] &&
			[ "$(jsonl <(echo "$OUT") "R[0][\"ETag\"]")" = "\"$(md5 "$v1")\"" ]'
	run "$SRV_BIN/s3ctl.py" put bundles "$key" "$v2"
	# --version-id=V: a radosgw version id may start with '-'
	run "$SRV_BIN/s3ctl.py" get bundles "$key" "$T_TMP/got4" --version-id="$V1"
	check "s3ctl.py gets the old version of a key with ' ', '+' and UTF-8" \
		eval '[ "$RC" = 0 ] && same "$v1" "$T_TMP/got4"'
	run "$SRV_BIN/s3ctl.py" versions bundles --prefix 'app/a b'
	check "s3ctl.py versions lists both versions" \
		eq "$(jsonl <(echo "$OUT") 'sorted(v["IsLatest"] for v in R[0])')" \
		"[False, True]"
	run "$SRV_BIN/s3ctl.py" --secret-key "wrong$AWS_SECRET_ACCESS_KEY" \
		get bundles "$key" "$T_TMP/got5"
	check "s3ctl.py with a wrong secret fails with SignatureDoesNotMatch" \
		eval '[ "$RC" = 1 ] && contains "$ERR" "SignatureDoesNotMatch \(HTTP 403\)"'
	run "$SRV_BIN/s3ctl.py" rm bundles "$key" --version-id="$V1"
	run "$SRV_BIN/s3ctl.py" versions bundles --prefix 'app/a b'
	check "s3ctl.py rm deletes one version" \
		eq "$(jsonl <(echo "$OUT") 'len(R[0])')" 1

	t0=$(now_ms)
	run env D="$RGW_D" "$SRV_BIN/rgw-down.sh"
	echo "# rgw-down.sh took $(($(now_ms) - t0)) ms"
	dead_n=0 left=
	for p in $pids; do
		if ! alive_id "$p"; then
			dead_n=$((dead_n + 1))
		else
			left="$left $p $(tr '\0' ' ' <"/proc/${p%%:*}/cmdline")"
		fi
	done
	[ -e "$RGW_D" ] && left="$left; $RGW_D: $(ls -R "$RGW_D" 2>&1 | head -20)"
	OUT="left:$left"
	check "rgw-down.sh stops every daemon of its pid files and removes \$D" \
		eval '[ "$RC" = 0 ] && [ "$dead_n" = 3 ] && [ ! -e "$RGW_D" ]'
}

missing=
for cmd in ceph-mon ceph-osd radosgw radosgw-admin ceph; do
	command -v "$cmd" >/dev/null || missing="$missing $cmd"
done
$PY -c 'import boto3' 2>/dev/null || missing="$missing boto3"
if [ -n "$missing" ]; then
	not_ok "radosgw and boto3 are installed (missing:$missing)" \
		"apt-get install -y --no-install-recommends ceph-mon ceph-osd radosgw ceph-common python3-boto3"
else
	rgw_tests
fi

# --- github.py ----------------------------------------------------------------
section "github.py"
SHA=0123456789abcdef0123456789abcdef01234567
fix=$T_TMP/gh/octo/app
mkdir -p "$fix" "$T_TMP/src/app"
echo "hello" >"$T_TMP/src/app/index.html"
tar -C "$T_TMP/src" -czf "$fix/$SHA.tar.gz" app
$PY -c 'import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z: z.write(sys.argv[2], "app/index.html")' \
	"$fix/$SHA.zip" "$T_TMP/src/app/index.html"

srv_start gh "$SRV_BIN/github.py" --root "$T_TMP/gh" --cert "$CA/server.pem" \
	--token 'tok en+1' --log "$(srv_log gh)"
check "github.py starts and writes both ports" \
	eval '[ -n "$(srv_port gh 1)" ] && [ -n "$(srv_port gh 2)" ] &&
		[ "$(srv_port gh 1)" != "$(srv_port gh 2)" ]'
OUT=$(cat "$SRV_DIR/gh.out")
check "github.py prints READY with its ports" \
	contains "$OUT" "^READY $(srv_port gh 1) $(srv_port gh 2)$"
API=https://127.0.0.1:$(srv_port gh 1)
CL=https://127.0.0.1:$(srv_port gh 2)
GC=(curl -sS -m 30 --cacert "$CA/ca.crt" -w '%{http_code}')
AUTH=(-H 'Authorization: token tok en+1')
TGZ=/repos/octo/app/tarball/$SHA

run "${GC[@]}" -A '' -o "$T_TMP/b" "${AUTH[@]}" "$API$TGZ"
check "github.py: no User-Agent -> 403" \
	eval '[ "$OUT" = 403 ] && grep -q User-Agent "$T_TMP/b"'
run "${GC[@]}" -o /dev/null "$API$TGZ"
check "github.py: token configured, no Authorization -> 404" eq "$OUT" 404
run "${GC[@]}" -o /dev/null -H 'Authorization: token nope' "$API$TGZ"
check "github.py: a wrong token -> 401" eq "$OUT" 401
run "${GC[@]}" -o /dev/null -D "$T_TMP/h" "${AUTH[@]}" "$API$TGZ"
check "github.py: tarball -> 302 to codeload on the other port" \
	eq "$OUT $(hdr location "$T_TMP/h")" "302 $CL/octo/app/legacy.tar.gz/$SHA"
run "${GC[@]}" -L -o "$T_TMP/t.tgz" "${AUTH[@]}" "$API$TGZ"
check "github.py: following it gives the tarball fixture" \
	eval '[ "$OUT" = 200 ] && same "$fix/$SHA.tar.gz" "$T_TMP/t.tgz"'
FWD='[r["authorization_forwarded"] for r in R if r["server"] == "codeload"]'
OUT=$(jsonl "$(srv_log gh)" "$FWD")
check "github.py: codeload records that curl kept Authorization to itself" \
	eq "$OUT" "[False]"
run "${GC[@]}" -L --location-trusted -o /dev/null "${AUTH[@]}" "$API$TGZ"
OUT=$(jsonl "$(srv_log gh)" "$FWD")
check "github.py: codeload records a forwarded Authorization" \
	eq "$OUT" "[False, True]"
run "${GC[@]}" -L -o "$T_TMP/t.zip" "${AUTH[@]}" \
	"$API/repos/octo/app/zipball/$SHA"
check "github.py: zipball gives the zip fixture" \
	eval '[ "$OUT" = 200 ] && same "$fix/$SHA.zip" "$T_TMP/t.zip"'
run "${GC[@]}" -o /dev/null "${AUTH[@]}" \
	"$API/repos/octo/app/tarball/${SHA/0/f}"
code1=$OUT
run "${GC[@]}" -o /dev/null "${AUTH[@]}" "$API/repos/octo/other/tarball/$SHA"
check "github.py: an unknown commit or repository -> 404" \
	eq "$code1 $OUT" "404 404"
OUT=$(jsonl "$(srv_log gh)" \
	'" ".join("%s:%s" % (r["server"], r["status"]) for r in R)')
check "github.py logs every request" eq "$OUT" "api:403 api:404 api:401 \
api:302 api:302 codeload:200 api:302 codeload:200 api:302 codeload:200 \
api:404 api:404"

srv_start gh2 "$SRV_BIN/github.py" --root "$T_TMP/gh" --cert "$CA/server.pem" \
	--fail-first 2
codes=
for _ in 1 2 3; do
	codes="$codes $("${GC[@]}" -o /dev/null \
		"https://127.0.0.1:$(srv_port gh2)$TGZ")"
done
OUT=$codes
check "github.py --fail-first 2: 500, 500, then the redirect" \
	eq "$codes" " 500 500 302"
srv_start gh3 "$SRV_BIN/github.py" --root "$T_TMP/gh" --cert "$CA/server.pem" \
	--fail-first 1 --fail-on codeload
run "${GC[@]}" -L -o /dev/null "https://127.0.0.1:$(srv_port gh3)$TGZ"
code1=$OUT
run "${GC[@]}" -L -o /dev/null "https://127.0.0.1:$(srv_port gh3)$TGZ"
check "github.py --fail-on codeload fails the download, not the redirect" \
	eq "$code1 $OUT" "500 200"

# --- badhttp.py -----------------------------------------------------------------
section "badhttp.py"
obj=$T_TMP/obj
head -c 100000 /dev/urandom >"$obj"
BC=(curl -sS -m 30 --cacert "$CA/ca.crt" -w '%{http_code}')
# burl SERVER [KEY]: the URL of an object of a badhttp.py server.
burl() { echo "https://127.0.0.1:$(srv_port "$1")/bundles/${2:-app/bundle.tar}"; }
cat >"$T_TMP/bad.json" <<JSON
{"cert": "$CA/server.pem", "object": ["/bundles/app/bundle.tar=$obj"],
 "version_id": "v123",
 "objects": [
  {"path": "/bundles/truncate", "file": "$obj", "fault": "truncate", "after": 1000},
  {"path": "/bundles/stall", "file": "$obj", "fault": "stall", "after": 500},
  {"path": "/bundles/wrong-etag", "file": "$obj", "fault": "wrong-etag"},
  {"path": "/bundles/e503", "file": "$obj", "fault": "error", "status": 503,
   "code": "SlowDown", "times": 2},
  {"path": "/bundles/e429", "file": "$obj", "fault": "error", "status": 429,
   "code": "SlowDown"},
  {"path": "/bundles/e400", "file": "$obj", "fault": "error", "status": 400,
   "code": "Throttling"},
  {"path": "/bundles/e403", "file": "$obj", "fault": "error", "status": 403,
   "code": "AccessDenied"}]}
JSON
srv_start bad "$SRV_BIN/badhttp.py" --config "$T_TMP/bad.json" \
	--log "$(srv_log bad)"
run "${BC[@]}" -o "$T_TMP/b" -D "$T_TMP/h" "$(burl bad)"
check "badhttp.py serves the object with its MD5 ETag and version id" \
	eval '[ "$OUT" = 200 ] && same "$obj" "$T_TMP/b" &&
		[ "$(hdr etag "$T_TMP/h") $(hdr x-amz-version-id "$T_TMP/h")" = "\"$(md5 "$obj")\" v123" ]'
run "${BC[@]}" -o "$T_TMP/b" -D "$T_TMP/h" -H 'Range: bytes=10-19' "$(burl bad)"
check "badhttp.py: Range bytes=10-19 -> 206 with Content-Range" \
	eval '[ "$OUT" = 206 ] && [ "$(hdr content-range "$T_TMP/h")" = "bytes 10-19/100000" ] &&
		cmp -s "$T_TMP/b" <(tail -c +11 "$obj" | head -c 10)'
run "${BC[@]}" -o "$T_TMP/b" -H 'Range: bytes=-100' "$(burl bad)"
check "badhttp.py: a suffix range gives the last bytes" \
	eval '[ "$OUT" = 206 ] && cmp -s "$T_TMP/b" <(tail -c 100 "$obj")'
run "${BC[@]}" -o "$T_TMP/b" -H 'Range: bytes=99990-' "$(burl bad)"
check "badhttp.py: an open range runs to the end" \
	eval '[ "$OUT" = 206 ] && cmp -s "$T_TMP/b" <(tail -c 10 "$obj")'
run "${BC[@]}" -o "$T_TMP/b" -H 'Range: bytes=100000-' "$(burl bad)"
check "badhttp.py: a range past the end -> 416 InvalidRange" \
	eval '[ "$OUT" = 416 ] && grep -q "<Code>InvalidRange</Code>" "$T_TMP/b"'
run "${BC[@]}" -o "$T_TMP/b" "$(burl bad)?versionId=other"
check "badhttp.py: another versionId -> 404 NoSuchVersion" \
	eval '[ "$OUT" = 404 ] && grep -q "<Code>NoSuchVersion</Code>" "$T_TMP/b"'
run "${BC[@]}" -o "$T_TMP/b" "$(burl bad nokey)"
check "badhttp.py: an unknown key -> 404 NoSuchKey" \
	eval '[ "$OUT" = 404 ] && grep -q "<Code>NoSuchKey</Code>" "$T_TMP/b"'
run "${BC[@]}" -o "$T_TMP/b" -H 'If-Match: "0000"' "$(burl bad)"
check "badhttp.py: If-Match with another ETag -> 412" eq "$OUT" 412
run "${BC[@]}" -o /dev/null -I "$(burl bad)"
OUT="$OUT $(jsonl "$(srv_log bad)" '[r["headers"].get("range") for r in R if r["status"] == 206]')"
check "badhttp.py: HEAD works; the log records Range headers" \
	eq "$OUT" "200 ['bytes=10-19', 'bytes=-100', 'bytes=99990-']"

run "${BC[@]}" -o "$T_TMP/b" "$(burl bad truncate)"
check "badhttp.py fault truncate: curl sees a short body and an error" \
	eval '[ "$RC" != 0 ] && [ "$(stat -c %s "$T_TMP/b")" = 1000 ]'
run "${BC[@]}" --max-time 3 -o "$T_TMP/b" "$(burl bad stall)"
check "badhttp.py fault stall: curl times out after 500 bytes" \
	eval '[ "$RC" = 28 ] && [ "$(stat -c %s "$T_TMP/b")" = 500 ]'
run "${BC[@]}" -o "$T_TMP/b" -D "$T_TMP/h" "$(burl bad wrong-etag)"
check "badhttp.py fault wrong-etag: right bytes, another ETag" \
	eval '[ "$OUT" = 200 ] && same "$obj" "$T_TMP/b" &&
		[ -n "$(hdr etag "$T_TMP/h")" ] &&
		[ "$(hdr etag "$T_TMP/h")" != "\"$(md5 "$obj")\"" ]'
codes=
for i in 1 2 3; do
	codes="$codes $("${BC[@]}" -o "$T_TMP/b$i" "$(burl bad e503)")"
done
OUT=$codes
check "badhttp.py fault error 503 SlowDown, times 2: 503, 503, 200" \
	eval '[ "$codes" = " 503 503 200" ] &&
		grep -q "<Code>SlowDown</Code>" "$T_TMP/b1" && same "$obj" "$T_TMP/b3"'
run "${BC[@]}" -o "$T_TMP/b" "$(burl bad e429)"
check "badhttp.py fault error: 429 SlowDown" \
	eval '[ "$OUT" = 429 ] && grep -q "<Code>SlowDown</Code>" "$T_TMP/b"'
run "${BC[@]}" -o "$T_TMP/b" "$(burl bad e400)"
check "badhttp.py fault error: 400 Throttling" \
	eval '[ "$OUT" = 400 ] && grep -q "<Code>Throttling</Code>" "$T_TMP/b"'
run "${BC[@]}" -o "$T_TMP/b" -D "$T_TMP/h" "$(burl bad e403)"
check "badhttp.py fault error: 403 with an S3 XML AccessDenied document" \
	eval '[ "$OUT" = 403 ] && [ "$(hdr content-type "$T_TMP/h")" = application/xml ] &&
		grep -q "<Error><Code>AccessDenied</Code><Message>Access Denied</Message>" "$T_TMP/b"'
OUT=$(jsonl "$(srv_log bad)" \
	'" ".join("%s:%s" % (r["path"], r["fault"]) for r in R if r.get("fault"))')
check "badhttp.py logs the faults it applied" eq "$OUT" \
	"/bundles/truncate:truncate /bundles/stall:stall \
/bundles/wrong-etag:wrong-etag /bundles/e503:error /bundles/e503:error \
/bundles/e429:error /bundles/e400:error /bundles/e403:error"

srv_start drop "$SRV_BIN/badhttp.py" --object "/bundles/app/bundle.tar=$obj" \
	--cert "$CA/server.pem" --etag my-etag --fault drop --times 1 \
	--log "$(srv_log drop)"
run "${BC[@]}" -o /dev/null "$(burl drop)"
code1="$RC $OUT"
run "${BC[@]}" -o "$T_TMP/b" -D "$T_TMP/h" "$(burl drop)"
OUT="$code1 / $RC $OUT $(hdr etag "$T_TMP/h") $(jsonl "$(srv_log drop)" '[r.get("event", r.get("status")) for r in R]')"
check "badhttp.py --fault drop --times 1: no answer, then the object" \
	eval '[ "${code1% *}" != 0 ] && [ "${code1#* }" = 000 ] &&
		contains "$OUT" " / 0 200 \"my-etag\" \[.dropped., 200\]$" &&
		same "$obj" "$T_TMP/b"'

# --- proxy.py -----------------------------------------------------------------
section "proxy.py"
srv_start proxy "$SRV_BIN/proxy.py" --log "$(srv_log proxy)"
PX=http://127.0.0.1:$(srv_port proxy)
PC=(curl -sS -m 30 --cacert "$CA/ca.crt" -w '%{http_connect} %{http_code}')
BAD=127.0.0.1:$(srv_port bad)
run "${BC[@]}" -x "$PX" -o "$T_TMP/b" "$(burl bad)"
check "proxy.py tunnels to badhttp.py" \
	eval '[ "$OUT" = 200 ] && same "$obj" "$T_TMP/b"'
OUT=$(jsonl "$(srv_log proxy)" '[(r["method"], r["target"], r["status"]) for r in R if "method" in r]')
check "proxy.py records the CONNECT target" eq "$OUT" "[('CONNECT', '$BAD', 200)]"
run env https_proxy="$PX" NO_PROXY=127.0.0.1 "${BC[@]}" -o /dev/null "$(burl bad)"
OUT="$OUT $(jsonl "$(srv_log proxy)" 'sum(1 for r in R if r.get("method") == "CONNECT")')"
check "with NO_PROXY=127.0.0.1 curl goes direct (the proxy sees nothing)" eq "$OUT" "200 1"
run "${BC[@]}" -x "$PX" -o /dev/null "http://$BAD/bundles/app/bundle.tar"
check "proxy.py refuses a plain GET with 405" eq "$OUT" 405
run "${PC[@]}" -x "$PX" -o /dev/null "https://127.0.0.1:$($PY "$SRV_BIN/freeport.py")/x"
OUT="$RC $OUT $(jsonl "$(srv_log proxy)" 'R[-1]["status"]')"
check "proxy.py answers 502 for a target that refuses" contains "$OUT" '^[1-9][0-9]* 502 000 502$'

srv_start aproxy "$SRV_BIN/proxy.py" --auth 'u:p w'
run "${PC[@]}" -x "http://127.0.0.1:$(srv_port aproxy)" -o /dev/null "$(burl bad)"
code1="$RC $OUT"
run "${PC[@]}" -x "http://127.0.0.1:$(srv_port aproxy)" --proxy-user 'u:p w' \
	-o /dev/null "$(burl bad)"
OUT="$code1 / $RC $OUT"
check "proxy.py --auth: 407 without credentials, tunnel with them" \
	contains "$OUT" '^[1-9][0-9]* 407 000 / 0 200 200$'

# --- teardown -------------------------------------------------------------------
section "teardown"
pids=
for f in "$SRV_DIR"/*.pid; do pids="$pids $(proc_id "$(cat "$f")")"; done
n=0
for p in $pids; do alive_id "$p" && n=$((n + 1)); done
srv_stop_all
left=
for p in $pids; do alive_id "$p" && left="$left $p"; done
OUT="$n started, left:$left; pid files: $(ls "$SRV_DIR"/*.pid 2>/dev/null)"
check "srv_stop_all stops every server (none left running)" \
	eval '[ "$n" = 7 ] && [ -z "$left" ] && ! ls "$SRV_DIR"/*.pid >/dev/null 2>&1'

done_testing
