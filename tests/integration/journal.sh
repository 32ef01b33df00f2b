#!/bin/bash
# Hook output in journald: a private systemd-journald in a mount namespace
# (test-environment.md §3), a local deployment whose hook prints lines, and
# journalctl DEPLOYMENT_ID=... must show them with the deployment's fields.
. "$(dirname "$0")/lib.sh"

journald=/lib/systemd/systemd-journald
if [ ! -x "$journald" ] || ! command -v journalctl >/dev/null || ! command -v unshare >/dev/null; then
	not_ok "systemd-journald, journalctl and unshare are installed (package systemd, util-linux)"
	done_testing
fi

app=$T_TMP/app
mkdir -p "$app/scripts" "$app/files"
echo x >"$app/files/x"
cat >"$app/appspec.yml" <<YML
version: 0.0
os: linux
colour: blue
files:
  - source: files
    destination: $T_TMP/dest
hooks:
  AfterInstall:
    - location: scripts/hello.sh
YML
printf '#!/bin/sh\necho "hello from the hook"\nprintf "bin\\000ary\\377\\n"\necho "warning from the hook" >&2\n' >"$app/scripts/hello.sh"
chmod 755 "$app/scripts/hello.sh"
cat >"$T_TMP/agent.yml" <<YML
:root_dir: $T_TMP/root
:log_dir: $T_TMP/log
:on_premises_config_file: $T_TMP/none.yml
YML

# Everything journald needs lives in tmpfs mounts of a private namespace.
unshare -m --propagation private bash -c '
	set -e
	T=$1; CDAGENT=$2; JOURNALD=$3
	mkdir -p /run/systemd/journal /run/log
	mount -t tmpfs tmpfs /run/systemd/journal
	mount -t tmpfs tmpfs /run/log
	if [ ! -s /etc/machine-id ]; then
		/usr/bin/python3 -c "import uuid; print(uuid.uuid4().hex)" >"$T/machine-id"
		mount --bind "$T/machine-id" /etc/machine-id
	fi
	"$JOURNALD" >"$T/journald.out" 2>&1 & J=$!
	for i in $(seq 100); do [ -S /run/systemd/journal/socket ] && break; sleep 0.05; done
	"$CDAGENT" local -c "$T/agent.yml" -l "$T/app" -g jgroup >"$T/local.out" 2>&1 || echo "local failed: $?" >>"$T/local.out"
	did=$(grep -o "d-[A-Z0-9]\{9\}-local" "$T/local.out" | head -1)
	echo "$did" >"$T/did"
	for i in $(seq 50); do
		journalctl -D "/run/log/journal/$(cat /etc/machine-id)" --no-pager -o json \
			DEPLOYMENT_ID="$did" >"$T/journal.json" 2>"$T/journalctl.err" || true
		grep -q "warning from the hook" "$T/journal.json" && break
		sleep 0.1
	done
	kill $J; wait $J || true
' _ "$T_TMP" "$CDAGENT" "$journald"

OUT=$(cat "$T_TMP/local.out" 2>/dev/null)
ERR=$(cat "$T_TMP/journalctl.err" "$T_TMP/journald.out" 2>/dev/null)
did=$(cat "$T_TMP/did" 2>/dev/null)
check "the deployment succeeded" lacks "$OUT" 'local failed'
check "a deployment id was printed" contains "$did" '^d-[A-Z0-9]{9}-local$'

# one JSON object per line; check the hook lines with python
fields=$(/usr/bin/python3 - "$T_TMP/journal.json" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    msg = e.get("MESSAGE", "")
    if isinstance(msg, list):
        msg = bytes(msg).decode("utf-8", "replace")
    print("|".join([msg, e.get("DEPLOYMENT_ID", ""), e.get("DEPLOYMENT_GROUP_ID", ""),
                    e.get("LIFECYCLE_EVENT", ""), e.get("SCRIPT", ""),
                    e.get("HOOK_PID", ""), e.get("PRIORITY", ""),
                    e.get("SYSLOG_IDENTIFIER", "")]))
PY
)
OUT=$fields
check "journald has the hook's stdout line with every field" \
	contains "$fields" "^\[stdout\]hello from the hook\|$did\|jgroup\|AfterInstall\|scripts/hello.sh\|[0-9]+\|6\|codedeploy-local\$"
check "journald has the hook's stderr line" \
	contains "$fields" "^\[stderr\]warning from the hook\|$did\|jgroup\|AfterInstall\|scripts/hello.sh\|"
check "journald has the event header" \
	contains "$fields" "^LifecycleEvent - AfterInstall\|$did\|jgroup\|AfterInstall\|"
check "journald has the appspec warning with the deployment's fields" \
	contains "$fields" "unknown key 'colour'.*\|$did\|jgroup\|\|\|\|4\|codedeploy-local\$"
check "journald has a line with NUL and invalid UTF-8 byte for byte (binary MESSAGE)" \
	/usr/bin/python3 -c '
import json, sys
want = list(b"[stdout]bin\x00ary\xff")
sys.exit(0 if any(json.loads(l).get("MESSAGE") == want for l in open(sys.argv[1])) else 1)
' "$T_TMP/journal.json"
check "the hook's lines are in scripts.log too" \
	contains "$(cat "$T_TMP"/root/jgroup/*/logs/scripts.log)" '\[stdout\]hello from the hook$'

done_testing
