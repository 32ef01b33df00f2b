#!/bin/bash
# `cdagent local` against a real S3 (Ceph radosgw, tests/servers/rgw-up.sh)
# and against servers that misbehave (tests/servers/badhttp.py), a GitHub
# API double and a CONNECT proxy: revisions by versionId, keys with spaces,
# '+' and unicode, a large object by parallel ranged GETs checked byte for
# byte, wrong secrets, ETag mismatches, cut and stalled transfers resumed,
# throttling, the proxy and NO_PROXY.  A failed download never leaves a
# bundle behind.
. "$(dirname "$0")/lib.sh"
. "$TOP_SRCDIR/tests/servers/lib.sh"

PY=/usr/bin/python3
S3CTL="$PY $SRV_BIN/s3ctl.py"
RGW_DIR=$T_TMP/rgw
cleanup() {
	srv_stop_all
	[ -f "$RGW_DIR/env" ] && D=$RGW_DIR "$SRV_BIN/rgw-down.sh" >/dev/null 2>&1
	rm -rf "$T_TMP"
}
trap cleanup EXIT

root=$T_TMP/root
dest=$T_TMP/dest
conf=$T_TMP/agent.yml

# write_conf [EXTRA YAML LINES...]: the agent config for the next deploys.
write_conf() {
	{
		echo ":root_dir: $root"
		echo ":log_dir: $T_TMP/log"
		echo ":on_premises_config_file: $T_TMP/none.yml"
		echo ":s3_endpoint_override: $S3_ENDPOINT"
		printf '%s\n' "$@"
	} >"$conf"
}

deploy() {
	run "$CDAGENT" local -c "$conf" -g grp -b OVERWRITE "$@"
}

# make_bundle DIR TEXT OUT.tgz: a revision installing content/file.txt
make_bundle() {
	mkdir -p "$1/content"
	echo "$2" >"$1/content/file.txt"
	cat >"$1/appspec.yml" <<YML
version: 0.0
os: linux
files:
  - source: content
    destination: $dest
YML
	tar -C "$1" -czf "$3" .
}

# the bundles left in the deployment root (none after a failed download)
leftovers() {
	find "$root" -name 'bundle.tar*' 2>/dev/null
}

newest_droot() {
	ls -td "$root"/grp/*/ 2>/dev/null | head -1
}

## --- radosgw --------------------------------------------------------------
if ! command -v radosgw >/dev/null || ! command -v ceph-mon >/dev/null; then
	not_ok "radosgw is installed" \
		"install ceph-mon ceph-osd radosgw ceph-common (see .ci/packages)"
	done_testing
fi
if ! D=$RGW_DIR "$SRV_BIN/rgw-up.sh" >"$T_TMP/rgw-up.out" 2>&1; then
	not_ok "radosgw starts" "$(tail -20 "$T_TMP/rgw-up.out")"
	done_testing
fi
ok "radosgw starts"
set -a
. "$RGW_DIR/env"
set +a
export AWS_SSL_CA_BUNDLE=$S3_CA AWS_REGION=us-east-1
unset SSL_CERT_FILE HTTPS_PROXY https_proxy HTTP_PROXY http_proxy NO_PROXY no_proxy

run $S3CTL mb bundles
check "bucket created" test "$RC" -eq 0
run $S3CTL versioning bundles
check "versioning enabled" test "$RC" -eq 0

make_bundle "$T_TMP/v1" "version one" "$T_TMP/v1.tgz"
make_bundle "$T_TMP/v2" "version two" "$T_TMP/v2.tgz"
run $S3CTL put bundles app/rev.tgz "$T_TMP/v1.tgz"
v1=$($PY -c 'import json,sys; print(json.load(sys.stdin)["VersionId"])' <<<"$OUT")
etag1=$($PY -c 'import json,sys; print(json.load(sys.stdin)["ETag"])' <<<"$OUT")
run $S3CTL put bundles app/rev.tgz "$T_TMP/v2.tgz"
check "two versions of one key" test -n "$v1"

write_conf
deploy -l "s3://bundles/app/rev.tgz?versionId=$v1" -t tgz
check "older version by versionId deploys" test "$RC" -eq 0
check "the older version's file is installed" \
	test "$(cat "$dest/file.txt" 2>/dev/null)" = "version one"
d=$(newest_droot)
check "the bundle is kept byte for byte" cmp -s "$d/bundle.tar" "$T_TMP/v1.tgz"
check ".bundle-etag holds the ETag S3 sent" \
	test "\"$(cat "$d/.bundle-etag" 2>/dev/null)\"" = "$etag1"

deploy -l "s3://bundles/app/rev.tgz" -t tgz
check "latest version without versionId" test "$(cat "$dest/file.txt")" = "version two"

deploy -l "s3://bundles/app/rev.tgz?versionId=$v1&etag=$etag1" -t tgz
check "matching etag (with quotes) deploys" test "$RC" -eq 0

# v1 decodes the query (URI.decode_www_form): a quoted ETag sent URL-encoded
deploy -l "s3://bundles/app/rev.tgz?versionId=$($PY -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$v1")&etag=$($PY -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$etag1")" -t tgz
check "a percent-encoded etag=%22...%22 is decoded and deploys" test "$RC" -eq 0

rm -rf "$root"
deploy -l "s3://bundles/app/rev.tgz?versionId=$v1&etag=0123456789abcdef" -t tgz
check "etag mismatch fails" test "$RC" -ne 0
check "etag mismatch names both values" contains "$ERR" "0123456789abcdef.*$(tr -d '"' <<<"$etag1")|$(tr -d '"' <<<"$etag1").*0123456789abcdef"
check "etag mismatch leaves no bundle" test -z "$(leftovers)"

AWS_SECRET_ACCESS_KEY=not-the-secret deploy -l "s3://bundles/app/rev.tgz" -t tgz
check "wrong secret fails" test "$RC" -ne 0
check "wrong secret: SignatureDoesNotMatch with bucket and key" \
	contains "$ERR" "s3://bundles/app/rev.tgz.*SignatureDoesNotMatch"
check "wrong secret: says what to fix" contains "$ERR" "credentials"
check "wrong secret leaves no bundle" test -z "$(leftovers)"

deploy -l "s3://bundles/app/rev.tgz?versionId=nosuchversion" -t tgz
check "unknown version: 404 named with the version" \
	contains "$ERR" "version nosuchversion.*HTTP 404"

deploy -l "s3://no-such-bucket-here/app/rev.tgz" -t tgz
check "unknown bucket fails clearly" contains "$ERR" "NoSuchBucket|HTTP 404"

for key in "app/with space.tgz" "app/plus+sign.tgz" "app/ünïcødé-ключ.tgz"; do
	run $S3CTL put bundles "$key" "$T_TMP/v1.tgz"
	deploy -l "s3://bundles/$key" -t tgz
	check "key '$key' deploys" test "$RC" -eq 0
done

# The daemon: an in-place deployment of an S3 revision by versionId, pushed
# by the Commands API double.
HOST=arn:aws:ec2:us-east-1:111122223333:instance/i-0s3test
spec='{"DeploymentId":"d-S3DAEMON1","DeploymentGroupId":"g-s3","DeploymentGroupName":"s3grp","ApplicationName":"app","AgentActionOverrides":{"AgentOverrides":{"FileExistsBehavior":"OVERWRITE"}},"Revision":{"RevisionType":"S3","S3Revision":{"Bucket":"bundles","Key":"app/rev.tgz","Version":"'"$v1"'","ETag":'"$($PY -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$etag1")"',"BundleType":"tgz"}}}'
printf '%s\n' '{"host":"'"$HOST"'","deployments":[{"id":"d-S3DAEMON1","spec":'"$spec"',"commands":["ApplicationStop","DownloadBundle","BeforeInstall","Install","AfterInstall","ApplicationStart","ValidateService"]}]}' >"$T_TMP/scenario.json"
srv_start cs "$SRV_BIN/cmdsvc.py" --cert "$RGW_DIR/server.crt" --key "$RGW_DIR/server.key" \
	--scenario "$T_TMP/scenario.json" --access-key "$AWS_ACCESS_KEY_ID" \
	--secret-key "$AWS_SECRET_ACCESS_KEY" --poll-hold 1
check "the Commands API double starts" test $? -eq 0
write_conf ":pid_dir: $T_TMP/state" ":wait_between_runs: 1" \
	":deploy_control_endpoint: https://127.0.0.1:$(srv_port cs)"
rm -rf "$dest"
AWS_HOST_IDENTIFIER=$HOST AWS_EC2_METADATA_DISABLED=true \
	"$CDAGENT" run -c "$conf" >"$T_TMP/agent.out" 2>&1 &
agent=$!
for i in $(seq 150); do
	curl -s --cacert "$S3_CA" "https://127.0.0.1:$(srv_port cs)/__state" >"$T_TMP/st.json"
	[ "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["done"])' "$T_TMP/st.json")" = True ] && break
	sleep 0.2
done
kill -TERM "$agent"
wait "$agent"
check "cdagent run deploys an S3 revision by versionId" \
	test "$($PY -c 'import json,sys; s=json.load(open(sys.argv[1])); print(all(c["completed_status"]=="Succeeded" and c["completes"]==1 for c in s["commands"].values()))' "$T_TMP/st.json")" = True
check "... installing the older version" test "$(cat "$dest/file.txt" 2>/dev/null)" = "version one"
check "... the bundle fetched before ApplicationStop, not again at DownloadBundle" \
	grep -q "using the bundle fetched before ApplicationStop" "$T_TMP/agent.out"
srv_stop cs

# A large object: parallel ranged GETs, compared byte for byte.
big=$T_TMP/big
mkdir -p "$big"
head -c $((300 * 1024 * 1024)) /dev/urandom >"$big/blob.bin"
printf 'version: 0.0\nos: linux\n' >"$big/appspec.yml"
tar -C "$big" -cf "$T_TMP/big.tar" .
rm -f "$big/blob.bin"
run $S3CTL put bundles app/big.tar "$T_TMP/big.tar"
check "300 MB object uploaded" test "$RC" -eq 0
write_conf ":s3_download_part_size: 16MiB" ":s3_download_connections: 4"
deploy -l "s3://bundles/app/big.tar" -t tar
check "300 MB object deploys" test "$RC" -eq 0
d=$(newest_droot)
check "300 MB object arrives byte for byte" cmp -s "$d/bundle.tar" "$T_TMP/big.tar"
check "the log counts the ranged GETs" \
	contains "$(cat "$T_TMP/log/codedeploy-local.log" 2>/dev/null)" "(19|[2-9][0-9]) ranged GETs over 4 connections"
rm -f "$T_TMP/big.tar"
rm -rf "$root"

## --- a server that misbehaves ----------------------------------------------
# a 3 MB revision: several 1 MiB parts
obj=$T_TMP/obj.tgz
make_bundle "$T_TMP/o" "from badhttp" "$obj"
head -c 3000000 /dev/urandom >"$T_TMP/o/content/noise.bin"
tar -C "$T_TMP/o" -czf "$obj" .

# bad SCENARIO-JSON: start badhttp.py with one object per scenario
bad() {
	srv_stop bad 2>/dev/null
	srv_start bad "$SRV_BIN/badhttp.py" --cert "$RGW_DIR/server.pem" \
		--log "$(srv_log bad)" --objects "$1" || return 1
	S3_ENDPOINT=https://127.0.0.1:$(srv_port bad)
}

bad "[{\"path\":\"/b/cut\",\"file\":\"$obj\",\"fault\":\"truncate\",\"after\":500000,\"times\":2},
      {\"path\":\"/b/busy\",\"file\":\"$obj\",\"fault\":\"error\",\"status\":503,\"code\":\"SlowDown\",\"times\":2},
      {\"path\":\"/b/throttled\",\"file\":\"$obj\",\"fault\":\"error\",\"status\":400,\"code\":\"Throttling\",\"times\":1},
      {\"path\":\"/b/denied\",\"file\":\"$obj\",\"fault\":\"error\",\"status\":403,\"code\":\"AccessDenied\"},
      {\"path\":\"/b/alwayscut\",\"file\":\"$obj\",\"fault\":\"truncate\",\"after\":100000},
      {\"path\":\"/b/stall\",\"file\":\"$obj\",\"fault\":\"stall\",\"after\":200000,\"times\":1},
      {\"path\":\"/b/lying\",\"file\":\"$obj\",\"fault\":\"wrong-etag\"}]"
check "badhttp starts" test $? -eq 0
write_conf ":s3_download_part_size: 1MiB" ":s3_download_connections: 3" ":http_read_timeout: 2"

deploy -l "s3://b/cut" -t tgz
check "a transfer cut short is resumed" test "$RC" -eq 0
check "resumed transfer is byte-exact" cmp -s "$(newest_droot)/bundle.tar" "$obj"
check "the resume asked for the rest with Range" \
	contains "$(grep '/b/cut' "$(srv_log bad)")" '"range": "bytes=(500000|1548576|2597152)-'

deploy -l "s3://b/busy" -t tgz
check "503 SlowDown is retried" test "$RC" -eq 0
deploy -l "s3://b/throttled" -t tgz
check "400 Throttling is retried" test "$RC" -eq 0

rm -rf "$root"
deploy -l "s3://b/denied" -t tgz
check "403 fails at once" test "$RC" -ne 0
check "403 names the S3 code and what to fix" contains "$ERR" "AccessDenied.*s3:GetObject"
check "403 leaves no bundle" test -z "$(leftovers)"
n=$(grep -c '/b/denied' "$(srv_log bad)")
check "403 is not retried (2 requests: HEAD and the error GET)" test "$n" -le 2

deploy -l "s3://b/alwayscut" -t tgz
check "a transfer cut every time fails" test "$RC" -ne 0
check "... saying it gave up" contains "$ERR" "gave up after [0-9]+ attempts"
check "... and leaves no bundle" test -z "$(leftovers)"

deploy -l "s3://b/stall" -t tgz
check "a stalled transfer is abandoned and asked for again" test "$RC" -eq 0
check "the stall is logged" contains "$(cat "$T_TMP/log/codedeploy-local.log")" "stalled"

rm -rf "$root"
deploy -l "s3://b/lying?etag=$(md5sum "$obj" | cut -d' ' -f1)" -t tgz
check "a server sending the wrong ETag fails" test "$RC" -ne 0
check "... naming both ETags" contains "$ERR" "ETag is .*expects"
check "... and leaves no bundle" test -z "$(leftovers)"

## --- proxy ---------------------------------------------------------------
srv_start proxy "$SRV_BIN/proxy.py" --log "$(srv_log proxy)"
check "proxy starts" test $? -eq 0
proxy=http://127.0.0.1:$(srv_port proxy)
write_conf ":proxy_uri: $proxy"
deploy -l "s3://b/busy" -t tgz
check "proxy_uri carries S3 traffic" test "$RC" -eq 0
check "the proxy saw a CONNECT to the S3 endpoint" \
	contains "$(cat "$(srv_log proxy)")" "127.0.0.1:$(srv_port bad)"
: >"$(srv_log proxy)"
write_conf
HTTPS_PROXY=$proxy deploy -l "s3://b/busy" -t tgz
check "HTTPS_PROXY is used" contains "$(cat "$(srv_log proxy)")" "127.0.0.1:$(srv_port bad)"
: >"$(srv_log proxy)"
HTTPS_PROXY=$proxy NO_PROXY=127.0.0.1 deploy -l "s3://b/busy" -t tgz
check "NO_PROXY bypasses the proxy" test "$RC" -eq 0
check "... the proxy saw nothing" test ! -s "$(srv_log proxy)"

done_testing
