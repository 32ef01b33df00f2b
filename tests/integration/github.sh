#!/bin/bash
# `cdagent local` with GitHub revisions against the GitHub double
# (tests/servers/github.py): tarball and zipball, a token sent to the API
# host and never forwarded to the redirect's host, anonymous downloads,
# retries on 5xx, and clear failures for unknown repositories and bad
# tokens that leave no bundle behind.
. "$(dirname "$0")/lib.sh"
. "$TOP_SRCDIR/tests/servers/lib.sh"
trap 'srv_stop_all; rm -rf "$T_TMP"' EXIT

root=$T_TMP/root
dest=$T_TMP/dest
conf=$T_TMP/agent.yml
"$SRV_BIN/mkca.sh" "$T_TMP/ca" >/dev/null 2>&1
export AWS_SSL_CA_BUNDLE=$T_TMP/ca/ca.crt
unset HTTPS_PROXY https_proxy NO_PROXY no_proxy
commit=0123456789abcdef0123456789abcdef01234567

# A repository archive as GitHub makes them: one top-level directory.
fixtures=$T_TMP/gh
top=$T_TMP/src/octo-app-${commit:0:7}
mkdir -p "$top/content" "$fixtures/octo/app"
echo "from github" >"$top/content/file.txt"
cat >"$top/appspec.yml" <<YML
version: 0.0
os: linux
files:
  - source: content
    destination: $dest
YML
tar -C "$T_TMP/src" -czf "$fixtures/octo/app/$commit.tar.gz" "$(basename "$top")"
(cd "$T_TMP/src" && zip -qr "$fixtures/octo/app/$commit.zip" "$(basename "$top")")

gh() {
	srv_stop gh 2>/dev/null
	: >"$(srv_log gh)"
	srv_start gh "$SRV_BIN/github.py" --root "$fixtures" \
		--cert "$T_TMP/ca/server.pem" --log "$(srv_log gh)" "$@" ||
		return 1
	cat >"$conf" <<YML
:root_dir: $root
:log_dir: $T_TMP/log
:on_premises_config_file: $T_TMP/none.yml
:github_api_url: https://127.0.0.1:$(srv_port gh 1)
YML
}

deploy() {
	run "$CDAGENT" local -c "$conf" -g grp -b OVERWRITE "$@"
}

leftovers() {
	find "$root" -name 'bundle.tar*' 2>/dev/null
}

gh --token s3cr3t-token
check "github double starts" test $? -eq 0
deploy -l "https://github.com/octo/app/commit/$commit" -t tar --github-token s3cr3t-token
check "tarball with a token deploys" test "$RC" -eq 0
check "the file is installed" test "$(cat "$dest/file.txt" 2>/dev/null)" = "from github"
log=$(cat "$(srv_log gh)")
check "the API host got the token" contains "$log" '"server": "api".*"status": 302'
check "the token was not forwarded to codeload" \
	lacks "$log" '"authorization_forwarded": true'
check "codeload served the archive" contains "$log" '"server": "codeload".*"status": 200'
check "a User-Agent was sent" lacks "$log" '"status": 403'
check "the token never reaches the log" \
	lacks "$(cat "$T_TMP/log/codedeploy-local.log")" "s3cr3t-token"

rm -rf "$dest"
deploy -l "https://api.github.com/repos/octo/app/zipball/$commit" -t zip --github-token s3cr3t-token
check "zipball deploys" test "$RC" -eq 0
check "zipball's file is installed" test "$(cat "$dest/file.txt" 2>/dev/null)" = "from github"

rm -rf "$root"
deploy -l "https://github.com/octo/app/commit/$commit" -t tar --github-token wrong-token
check "a bad token fails" test "$RC" -ne 0
check "a bad token: 401 with the URL" contains "$ERR" "401 'Unauthorized'.*token|repos/octo/app/tarball/$commit.*401"
check "a bad token leaves no bundle" test -z "$(leftovers)"

deploy -l "https://github.com/octo/nope/commit/$commit" -t tar --github-token s3cr3t-token
check "unknown repository fails with 404" contains "$ERR" "404 'Not Found'"
check "... and says what to check" contains "$ERR" "account, repository and commit"

# A host without the ca-certificates package: no system CA bundle.
nobundle() {
	run env -u SSL_CERT_FILE unshare -m sh -c \
		'mount -t tmpfs none /etc/ssl/certs && exec "$@"' sh "$@"
}
rm -rf "$root"
nobundle "$CDAGENT" local -c "$conf" -g grp -b OVERWRITE \
	-l "https://github.com/octo/app/commit/$commit" -t tar --github-token s3cr3t-token
check "no system CA bundle: AWS_SSL_CA_BUNDLE alone is trusted" test "$RC" -eq 0
nobundle env -u AWS_SSL_CA_BUNDLE "$CDAGENT" local -c "$conf" -g grp -b OVERWRITE \
	-l "https://github.com/octo/app/commit/$commit" -t tar --github-token s3cr3t-token
check "no system CA bundle and no AWS_SSL_CA_BUNDLE: says to install ca-certificates" \
	contains "$ERR" "CA bundle .* is missing; install ca-certificates"

gh --fail-first 2
deploy -l "https://github.com/octo/app/commit/$commit" -t tar
check "anonymous download after two 500s" test "$RC" -eq 0
check "it took three requests to the API" \
	test "$(grep -c '"server": "api"' "$(srv_log gh)")" -eq 3
check "anonymous: no Authorization header sent" \
	lacks "$(cat "$(srv_log gh)")" '[Aa]uthorization": "token'

done_testing
