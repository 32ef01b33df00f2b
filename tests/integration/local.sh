#!/bin/bash
# `cdagent local` / `codedeploy-local`: v1's options and validation (exit 2,
# nothing touched), every bundle type, event orderings and custom events,
# file-exists behaviours, a second deployment, failing hooks, and the
# example app deployed twice.
. "$(dirname "$0")/lib.sh"

root=$T_TMP/root
conf=$T_TMP/agent.yml
cat >"$conf" <<YML
:root_dir: $root
:log_dir: $T_TMP/log
:on_premises_config_file: $T_TMP/none.yml
YML
dest=$T_TMP/dest
export PROOF=$T_TMP/proof

# make_app DIR: a revision whose hooks append their event to $PROOF
make_app() {
	local dir=$1 ev
	mkdir -p "$dir/scripts" "$dir/content"
	echo "content of $dir" >"$dir/content/file.txt"
	{
		echo "version: 0.0"
		echo "os: linux"
		echo "files:"
		echo "  - source: content"
		echo "    destination: $dest"
		echo "hooks:"
		for ev in ApplicationStop BeforeInstall AfterInstall ApplicationStart ValidateService; do
			printf '  %s:\n    - location: scripts/%s.sh\n' "$ev" "$ev"
			printf '#!/bin/sh\necho "%s $DEPLOYMENT_ID $(basename "$(dirname "$(dirname "$(dirname "$0")")")")" >> "$PROOF"\n' "$ev" >"$dir/scripts/$ev.sh"
			chmod 755 "$dir/scripts/$ev.sh"
		done
	} >"$dir/appspec.yml"
}

deploy() {
	run "$CDAGENT" local -c "$conf" "$@"
}

# --- help, version, usage -------------------------------------------------
deploy --help
check "--help exits 0 (v1 bug 42)" test "$RC" -eq 0
check "--help lists -l and --github-token" contains "$OUT" 'bundle-location.*github-token|github-token'
deploy --version
check "--version exits 0 (v1 bug 42)" contains "$RC $OUT" '^0 cdagent [0-9]'
deploy --frob
check "unknown option: exit 2" test "$RC" -eq 2
check "unknown option: named" contains "$ERR" 'unknown option --frob'

# --- validation: exit 2, message, nothing touched ----------------------------
make_app "$T_TMP/app"
validation() {
	local name=$1 pattern=$2
	shift 2
	deploy "$@"
	check "$name: exit 2" test "$RC" -eq 2
	check "$name: says why" contains "$ERR" "^ERROR: .*$pattern"
	check "$name: deployment root untouched" test ! -e "$root"
}
validation "bad type" "type rar is not a valid type. Must be one of tgz,tar,zip,directory" -l "$T_TMP/app" -t rar
validation "s3 location without a key" "s3 location s3://bucket/\\?versionId=1 not in the expected format" -l "s3://bucket/?versionId=1" -t tgz
validation "http location" "cannot be http, only encrypted \\(https\\)" -l http://example.com/b.tgz -t tgz
validation "missing location" "which does not exist" -l "$T_TMP/nope" -t directory
touch "$T_TMP/file.tgz"
validation "directory type on a file" "specified with type directory but it is a file" -l "$T_TMP/file.tgz" -t directory
validation "archive type on a directory" "compressed local file but it is a directory" -l "$T_TMP/app" -t tgz
mkdir -p "$T_TMP/empty"
validation "directory without appspec" "Expecting appspec file at location $T_TMP/empty/appspec.yml" -l "$T_TMP/empty"
validation "custom appspec name missing" "Expecting appspec file at location $T_TMP/app/custom.yml" -l "$T_TMP/app" -A custom.yml
validation "bad file exists behavior" "file exists behavior MERGE is not valid" -l "$T_TMP/app" -b MERGE
validation "Install before DownloadBundle" "The only events that can be specified before DownloadBundle are BeforeBlockTraffic,AfterBlockTraffic,ApplicationStop" -l "$T_TMP/app" -e Install,DownloadBundle
validation "ApplicationStart before Install" "The only events that can be specified before Install are BeforeBlockTraffic,AfterBlockTraffic,ApplicationStop,DownloadBundle,BeforeInstall" -l "$T_TMP/app" -e ApplicationStart,Install
validation "empty event" "comma-separated" -l "$T_TMP/app" -e BeforeInstall,,ApplicationStart
validation "bad event name" "not a valid lifecycle event name" -l "$T_TMP/app" -e 'rm -rf'
validation "unsafe group" "deployment group" -l "$T_TMP/app" -g ../escape
# issue 13: group names that collide with the agent's own entries, or too long
validation "group named like the instructions" "agent's own directory" -l "$T_TMP/app" -g deployment-instructions
validation "group named like the logs" "agent's own directory" -l "$T_TMP/app" -g deployment-logs
validation "group starting with a dot" "starts with '\.'" -l "$T_TMP/app" -g .cdagent-locks
validation "group name too long" "at most 219 bytes" -l "$T_TMP/app" -g "$(printf '%0220d' 0)"
validation "bad percent-encoding in the s3 query" "'etag=%zz' has a '%' not followed by two hex digits" -l "s3://bucket/key?etag=%zz" -t zip
validation "s3 without key" "not in the expected format of 's3://bucket/key'" -l s3://bucket -t zip
validation "unknown https host" "cannot be determined to be S3, Github, or a local file" -l https://example.com/x.zip -t zip
validation "bad github URL" "github location .* not in the expected format" -l https://github.com/onlyowner -t zip
run env -u CODEDEPLOY_AGENT_CONFIG_FILE "$CDAGENT" local -c "$T_TMP/missing.yml" -l "$T_TMP/app"
check "missing config: exit 78 (EX_CONFIG)" test "$RC" -eq 78
check "missing config: named" contains "$ERR" "ERROR: The config file $T_TMP/missing.yml does not exist or is not readable"

# --- a directory bundle, default events -------------------------------------
deploy -l "$T_TMP/app"
check "directory bundle: exit 0" test "$RC" -eq 0
check "announces the deployment folder" contains "$OUT" "^Starting to execute deployment from within folder $root/default-local-deployment-group/d-[A-Z0-9]{9}-local\$"
check "points at scripts.log" contains "$OUT" "^See the deployment log at $root/default-local-deployment-group/d-[A-Z0-9]{9}-local/logs/scripts.log for more details\$"
check "says it succeeded" contains "$OUT" "succeeded"
did1=$(grep -o 'd-[A-Z0-9]\{9\}-local' <<<"$OUT" | head -1)
check "file installed" test "$(cat "$dest/file.txt" 2>/dev/null)" = "content of $T_TMP/app"
check "first deployment: no ApplicationStop, four events" \
	test "$(cut -d' ' -f1 "$PROOF" | tr '\n' ' ')" = "BeforeInstall AfterInstall ApplicationStart ValidateService "
check "hooks see the deployment id" contains "$(cat "$PROOF")" "^BeforeInstall $did1 "
check "v1 layout: archive" test -d "$root/default-local-deployment-group/$did1/deployment-archive/scripts"
check "v1 layout: last successful" test "$(cat "$root/deployment-instructions/default-local-deployment-group_last_successful_install")" = "$root/default-local-deployment-group/$did1"
check "v1 layout: cleanup file" test -s "$root/deployment-instructions/default-local-deployment-group-cleanup"
check "v1 layout: install.json" contains "$(cat "$root/deployment-instructions/default-local-deployment-group-install.json")" '^\{"instructions":\[\{"type":"mkdir","directory":"[^"]*/dest"\},\{"type":"copy","source":"[^"]*/deployment-archive/content/file.txt","destination":"[^"]*/dest/file.txt"\}\]\}$'
check "agent log written" test -s "$T_TMP/log/codedeploy-local.log"

# --- second deployment: ApplicationStop runs from the previous revision ---------
: >"$PROOF"
make_app "$T_TMP/app2"
deploy -l "$T_TMP/app2"
check "second deployment: exit 0" test "$RC" -eq 0
check "second deployment: ApplicationStop from the previous revision" \
	contains "$(head -1 "$PROOF")" "^ApplicationStop d-[A-Z0-9]{9}-local $did1\$"
check "second deployment: file replaced" test "$(cat "$dest/file.txt")" = "content of $T_TMP/app2"
check "group holds both deployments" test "$(ls "$root/default-local-deployment-group" | wc -l)" -eq 2

# --- a broken revision never stops the running app ----------------------------------
last_before=$(cat "$root/deployment-instructions/default-local-deployment-group_last_successful_install")
ndeploy=$(ls "$root/default-local-deployment-group" | wc -l)
cp -r "$T_TMP/app2" "$T_TMP/typo"
sed -i 's/^  AfterInstall:$/  AfterInstal:/' "$T_TMP/typo/appspec.yml"
: >"$PROOF"
deploy -l "$T_TMP/typo"
check "typo'd hook name: exit 1" test "$RC" -eq 1
check "typo'd hook name: the appspec error, file:line:col" contains "$ERR" "^ERROR: appspec.yml:[0-9]+:[0-9]+: .*AfterInstal"
check "typo'd hook name: ApplicationStop of the running app did not run" test ! -s "$PROOF"
check "typo'd hook name: installed files untouched" test "$(cat "$dest/file.txt")" = "content of $T_TMP/app2"
check "typo'd hook name: last successful unchanged" test "$(cat "$root/deployment-instructions/default-local-deployment-group_last_successful_install")" = "$last_before"
check "typo'd hook name: no event ran" lacks "$OUT" "succeeded|skipped"
check "typo'd hook name: names the agent log, not a missing scripts.log" contains "$(tail -1 <<<"$OUT")" "^See the agent log at $T_TMP/log/codedeploy-local.log for more details\$"
check "typo'd hook name: no scripts.log named" lacks "$OUT" "scripts.log"
cp -r "$T_TMP/app2" "$T_TMP/missing"
rm "$T_TMP/missing/scripts/AfterInstall.sh" "$T_TMP/missing/content/file.txt"
rmdir "$T_TMP/missing/content"
printf '      runas: no-such-user-cdagent\n' >>"$T_TMP/missing/appspec.yml"
printf 'colour: blue\n' >>"$T_TMP/missing/appspec.yml"
deploy -l "$T_TMP/missing"
check "missing script and source: exit 1" test "$RC" -eq 1
check "missing script: file:line:col and the script" contains "$ERR" "appspec.yml:[0-9]+:[0-9]+: hook AfterInstall: script 'scripts/AfterInstall.sh' does not exist in the revision"
check "missing source: named" contains "$ERR" "appspec.yml:[0-9]+:[0-9]+: files: source 'content' does not exist in the revision"
check "missing runas user: named" contains "$ERR" "runas user 'no-such-user-cdagent' does not exist on this host"
check "unknown key: a warning on the console" contains "$ERR" "^WARNING: appspec.yml:[0-9]+:1: unknown key 'colour'"
check "unknown key: the warning in the agent log" contains "$(cat "$T_TMP/log/codedeploy-local.log")" "unknown key 'colour'"
check "missing script: ApplicationStop did not run" test ! -s "$PROOF"
check "missing script: installed files untouched" test "$(cat "$dest/file.txt")" = "content of $T_TMP/app2"

# --- --json: one document, events with status, duration, exit code, error --------
cp -r "$T_TMP/app2" "$T_TMP/fails3"
printf '#!/bin/sh\necho "line one"\necho "the reason it failed" >&2\nexit 3\n' >"$T_TMP/fails3/scripts/ApplicationStart.sh"
deploy -l "$T_TMP/fails3" --json
check "--json failing: exit 1" test "$RC" -eq 1
json_check() {
	/usr/bin/python3 -c "$1" <<<"$OUT" 2>&1
}
check "--json failing: one JSON document with the failing event" test "$(json_check '
import json, sys
d = json.load(sys.stdin)
ev = {e["name"]: e for e in d["events"]}
assert d["status"] == "Failed", d
assert ev["ApplicationStart"]["status"] == "Failed"
assert ev["ApplicationStart"]["exit_code"] == 3
assert "exit code 3" in ev["ApplicationStart"]["error"]
assert ev["AfterInstall"]["status"] == "Succeeded" and ev["AfterInstall"]["exit_code"] is None
assert ev["ValidateService"]["status"] == "NotRun"
assert all(isinstance(e["duration_ms"], (int, float)) for e in d["events"])
assert d["logs"]["scripts"].endswith("/logs/scripts.log")
print("ok")')" = ok
check "--json: the human lines go to stderr" contains "$ERR" "ApplicationStart failed \\([0-9.]+ s\\)"
check "failing script: its last lines on the console" contains "$ERR" "^    .*\\[stderr\\]the reason it failed\$"
did3=$(grep -o 'd-[A-Z0-9]\{9\}-local' <<<"$OUT" | head -1)
run "$CDAGENT" status -c "$conf"
check "status: the last deployment, its failed command and time" \
	contains "$(tr '\n' ' ' <<<"$OUT")" "last deployment: d-[A-Z0-9]{9}-local \(group default-local-deployment-group\) +last command: ApplicationStart Failed, [0-9-]{10} [0-9:]{8} UTC"
check "status: the error and where the logs are" \
	contains "$(tr '\n' ' ' <<<"$OUT")" "error: +Script at specified location: scripts/ApplicationStart.sh failed with exit code 3 +scripts log: $root/default-local-deployment-group/d-[A-Z0-9]{9}-local/logs/scripts.log +agent log: +$T_TMP/log/codedeploy-local.log"
run "$CDAGENT" status -c "$conf" --json
check "status --json: the last deployment" test "$(/usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)["last_deployment"]
assert d["command"] == "ApplicationStart" and d["status"] == "Failed", d
assert d["logs"]["scripts"].endswith("/logs/scripts.log") and d["time"] > 0
print("ok")' <<<"$OUT" 2>&1)" = ok
deploy -l "$T_TMP/typo"
run "$CDAGENT" status -c "$conf"
check "status: a revision that failed its checks is the last deployment" \
	contains "$(tr '\n' ' ' <<<"$OUT")" "last command: check of the new revision Failed.*error: .*AfterInstal"
check "status: ... naming no scripts.log that does not exist" lacks "$OUT" "scripts log"
both=$("$CDAGENT" local -c "$conf" -l "$T_TMP/fails3" 2>&1 | cat)
check "piped, stdout and stderr keep their order" \
	contains "$(tr '\n' ' ' <<<"$both")" "AfterInstall succeeded.* ApplicationStart failed .*the reason it failed .*ERROR: Script at specified location: scripts/ApplicationStart.sh failed with exit code 3 Total time .* See the deployment log"
deploy -l "$T_TMP/fails3"
check "failing script: its words on stdout" contains "$OUT" "^    .*\\[stderr\\]the reason it failed\$"
check "failing script: per-event durations" contains "$OUT" "^  AfterInstall succeeded \\([0-9]+\\.[0-9] s\\)\$"
check "failing script: total time" contains "$OUT" "^Total time [0-9]+\\.[0-9] s\$"
deploy -l "$T_TMP/app2" --json
check "--json success: exit 0" test "$RC" -eq 0
check "--json success: parses, every event done" test "$(json_check '
import json, sys
d = json.load(sys.stdin)
assert d["status"] == "Succeeded" and d["error"] is None, d
assert [e["name"] for e in d["events"]][:4] == ["BeforeBlockTraffic", "AfterBlockTraffic", "ApplicationStop", "DownloadBundle"]
assert all(e["status"] in ("Succeeded", "Skipped") for e in d["events"]), d
assert d["duration_ms"] >= 0
print("ok")')" = ok

# --- archives: tar, tgz, zip (with a top directory stripped) ---------------------
rm -rf "$root" "$dest"
make_app "$T_TMP/pkg/myapp"
(cd "$T_TMP/pkg/myapp" && tar -cf "$T_TMP/b.tar" . && tar -czf "$T_TMP/b.tgz" .)
(cd "$T_TMP/pkg" && zip -qr "$T_TMP/b.zip" myapp)
for t in tar tgz zip; do
	rm -rf "$dest"
	deploy -l "$T_TMP/b.$t" -t "$t" -g "group-$t"
	check "$t bundle: exit 0" test "$RC" -eq 0
	check "$t bundle: installed" test -f "$dest/file.txt"
	check "$t bundle: bundle.tar links the bundle" test -L "$(ls -d "$root/group-$t"/d-*)/bundle.tar"
done
check "zip: the single top directory was stripped" test -f "$(ls -d "$root/group-zip"/d-*)/deployment-archive/appspec.yml"
# Python's tarfile writes the root of an empty arcname as "/": the root
rm -rf "$dest"
/usr/bin/python3 - "$T_TMP/pkg/myapp" "$T_TMP/rootslash.tar" "$T_TMP/etcx.tar" <<'PY'
import io, sys, tarfile
src, good, bad = sys.argv[1:]
with tarfile.open(good, "w") as t:
    t.add(src, arcname="")
    for name in ("./", "."):
        info = tarfile.TarInfo(name)
        info.type = tarfile.DIRTYPE
        t.addfile(info)
with tarfile.open(bad, "w") as t:
    t.add(src, arcname="")
    info = tarfile.TarInfo("/etc/cdagent-test-x")
    info.size = 2
    t.addfile(info, io.BytesIO(b"x\n"))
PY
check "python's tarfile names the root '/'" contains "$(tar -tf "$T_TMP/rootslash.tar")" '^/$'
deploy -l "$T_TMP/rootslash.tar" -t tar -g rootslash
check "a root entry '/' (and './', '.') is skipped: deploys" test "$RC" -eq 0
check "... and installs" test -f "$dest/file.txt"
deploy -l "$T_TMP/etcx.tar" -t tar -g etcx
check "an absolute entry /etc/x is still refused" contains "$RC $ERR" "^1 .*'/etc/cdagent-test-x': its name is an absolute path"
check "... and nothing written there" test ! -e /etc/cdagent-test-x

# --- events: subsets, insertion of DownloadBundle/Install, custom events ------------
rm -rf "$root" "$dest"
: >"$PROOF"
deploy -l "$T_TMP/app" -e BeforeInstall,ApplicationStart
check "-e subset: exit 0" test "$RC" -eq 0
check "-e subset: only those hooks" test "$(cut -d' ' -f1 "$PROOF" | tr '\n' ' ')" = "BeforeInstall ApplicationStart "
check "-e subset: DownloadBundle and Install added first" contains "$OUT" "DownloadBundle succeeded"
rm -rf "$dest"
mkdir -p "$T_TMP/custom/scripts"
cp -r "$T_TMP/app/." "$T_TMP/custom/"
printf '  HealthCheck:\n    - location: scripts/HealthCheck.sh\n' >>"$T_TMP/custom/appspec.yml"
printf '#!/bin/sh\necho "HealthCheck $LIFECYCLE_EVENT" >> "$PROOF"\n' >"$T_TMP/custom/scripts/HealthCheck.sh"
chmod 755 "$T_TMP/custom/scripts/HealthCheck.sh"
: >"$PROOF"
deploy -l "$T_TMP/custom" -e DownloadBundle,ApplicationStart,HealthCheck -g custom
check "custom event: exit 0" test "$RC" -eq 0
check "custom event: runs after ApplicationStart" test "$(cut -d' ' -f1 "$PROOF" | tr '\n' ' ')" = "ApplicationStart HealthCheck "
check "custom event: LIFECYCLE_EVENT is its name" contains "$(cat "$PROOF")" '^HealthCheck HealthCheck$'
rm -rf "$dest"
deploy -l "$T_TMP/custom" -g custom2
check "appspec with a custom hook not asked for: fails" test "$RC" -eq 1
check "appspec with a custom hook not asked for: names it" contains "$ERR" "HealthCheck"
rm -rf "$dest"
deploy -l "$T_TMP/app" -e ApplicationStart,NotInAppspec -g custom3
check "asked-for custom event missing from the appspec: fails" test "$RC" -eq 1
check "asked-for custom event missing from the appspec: names it" contains "$ERR" "NotInAppspec"

# --- file exists behaviour: -b and the appspec ---------------------------------------
rm -rf "$root" "$dest"
mkdir -p "$dest"
echo theirs >"$dest/file.txt"
deploy -l "$T_TMP/app"
check "DISALLOW (default) with an existing file: exit 1" test "$RC" -eq 1
check "DISALLOW: says which file" contains "$ERR" "already exists at this location: $dest/file.txt"
check "DISALLOW: the file is untouched" test "$(cat "$dest/file.txt")" = theirs
deploy -l "$T_TMP/app" -b RETAIN
check "RETAIN: exit 0 and kept" contains "$RC $(cat "$dest/file.txt")" '^0 theirs$'
deploy -l "$T_TMP/app" -b overwrite
check "OVERWRITE (any case, as v1): replaced" contains "$RC $(cat "$dest/file.txt")" "^0 content of"
echo theirs >"$dest/file.txt"
rm -f "$root/deployment-instructions/default-local-deployment-group-cleanup"
cp -r "$T_TMP/app" "$T_TMP/app-ow"
sed -i 's/^os: linux$/os: linux\nfile_exists_behavior: OVERWRITE/' "$T_TMP/app-ow/appspec.yml"
deploy -l "$T_TMP/app-ow" -b DISALLOW
check "appspec OVERWRITE beats -b DISALLOW" contains "$RC $(cat "$dest/file.txt")" "^0 content of"

# --- a failing hook ---------------------------------------------------------------
rm -rf "$dest"
cp -r "$T_TMP/app" "$T_TMP/bad"
printf '#!/bin/sh\necho "about to fail"\necho "bad thing" >&2\nexit 7\n' >"$T_TMP/bad/scripts/AfterInstall.sh"
deploy -l "$T_TMP/bad" -g bad
check "failing hook: exit 1" test "$RC" -eq 1
check "failing hook: names the script path" contains "$OUT" "^Your local deployment failed while trying to execute your script at $root/bad/d-[A-Z0-9]{9}-local/deployment-archive/scripts/AfterInstall.sh\$"
check "failing hook: then the log line" contains "$(tail -1 <<<"$OUT")" "^See the deployment log at .*/logs/scripts.log for more details\$"
check "failing hook: exit code in the message" contains "$ERR" "failed with exit code 7"
log=$(cat "$root"/bad/d-*/logs/scripts.log)
check "failing hook: output in scripts.log" contains "$log" '^[0-9-]{10} [0-9:]{8} \[stdout\]about to fail$'
check "failing hook: stderr in scripts.log" contains "$log" '^[0-9-]{10} [0-9:]{8} \[stderr\]bad thing$'
check "failing hook: later events did not run" lacks "$OUT" 'ApplicationStart succeeded'

# --- codedeploy-local name ------------------------------------------------------
ln -s "$CDAGENT" "$T_TMP/codedeploy-local"
rm -rf "$dest"
run "$T_TMP/codedeploy-local" -c "$conf" -l "$T_TMP/app" -g via-link
check "codedeploy-local (argv[0]): deploys" test "$RC" -eq 0

# --- the example app, twice -------------------------------------------------------
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export HELLO_PORT=$port HELLO_WWW=$T_TMP/www HELLO_PIDFILE=$T_TMP/hello.pid
cp -r "$TOP_SRCDIR/tests/data/hello-app" "$T_TMP/hello"
sed -i "s#/tmp/cdagent-example/www#$T_TMP/www#" "$T_TMP/hello/appspec.yml"
deploy -l "$T_TMP/hello" -g hello
check "example app: first deployment" test "$RC" -eq 0
pid1=$(cat "$HELLO_PIDFILE" 2>/dev/null)
id1=$(proc_id "$pid1")
check "example app: serves its page" contains "$(/usr/bin/python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$port/index.html').read().decode())" 2>&1)" 'Hello from cdagent'
deploy -l "$T_TMP/hello" -g hello
check "example app: second deployment" test "$RC" -eq 0
pid2=$(cat "$HELLO_PIDFILE" 2>/dev/null)
check "example app: the first server was stopped" \
	eval '[ -n "$id1" ] && ! alive_id "$id1"'
check "example app: a new server runs" alive "$pid2"
check "example app: a new server, not the old one" test "$pid2" != "$pid1"
kill "$pid2" 2>/dev/null

# --- hook output is bytes (issue 14) -------------------------------------------
# 64 KiB of /dev/urandom and of /dev/zero, no final newline: the deployment
# runs to its end; scripts.log holds the bytes as written; a failure still
# reports its code and message.
mkdir -p "$T_TMP/binapp/scripts"
printf 'version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    - location: scripts/bin.sh\n  AfterInstall:\n    - location: scripts/zero.sh\n' >"$T_TMP/binapp/appspec.yml"
printf '#!/bin/sh\nhead -c 65536 /dev/urandom\nhead -c 65536 /dev/urandom >&2\necho\nprintf "\\033[31mred\\033[0m\\001\\000end"\n' >"$T_TMP/binapp/scripts/bin.sh"
printf '#!/bin/sh\nhead -c 65536 /dev/zero\nexit ${ZERO_EXIT:-0}\n' >"$T_TMP/binapp/scripts/zero.sh"
chmod 755 "$T_TMP/binapp/scripts/"*.sh
deploy -l "$T_TMP/binapp" -g binary -e BeforeInstall,AfterInstall
check "binary hook output: deploys" test "$RC" -eq 0
check "binary hook output: every event reported" contains "$OUT" 'AfterInstall succeeded'
blog=$(ls "$root"/binary/d-*/logs/scripts.log)
check "binary hook output: scripts.log has the NULs as written" \
	test "$(tr -cd '\000' <"$blog" | wc -c)" -ge 65537
check "binary hook output: ANSI stripped, other bytes kept" \
	grep -aq "$(printf '\\[stdout\\]red\001')" "$blog"
ZERO_EXIT=4 deploy -l "$T_TMP/binapp" -g binary -e BeforeInstall,AfterInstall
check "binary hook output, failing: exit 1, not a crash" test "$RC" -eq 1
check "binary hook output, failing: code and message" contains "$ERR" "failed with exit code 4"

done_testing
