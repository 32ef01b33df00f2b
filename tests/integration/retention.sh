#!/bin/bash
# Revision retention off the critical path (issue 18): revisions beyond
# max_revisions are removed after Install, by a detached process that holds
# ROOT/.cdagent-trash/<GID>.lock until it is done; the next deployment of the
# group waits for it before it downloads; each revision is renamed into the
# trash before it is removed, and what a killed removal left there is removed
# by the next one, unseen by deployments.
. "$(dirname "$0")/lib.sh"

root=$T_TMP/root
conf=$T_TMP/agent.yml
cat >"$conf" <<YML
:root_dir: $root
:log_dir: $T_TMP/log
:on_premises_config_file: $T_TMP/none.yml
:max_revisions: 2
YML
dest=$T_TMP/dest
rev=$T_TMP/rev
mkdir -p "$rev/content/sub"
for i in $(seq 1 300); do echo "$i" >"$rev/content/sub/f$i"; done
printf 'version: 0.0\nos: linux\nfiles:\n  - source: content\n    destination: %s\n' \
	"$dest" >"$rev/appspec.yml"

deploy() {
	run "$CDAGENT" local -c "$conf" -l "$rev" -t directory -g g
}
# revisions: the deployment directories of group g, once retention is done
revisions() {
	flock "$root/.cdagent-trash/g.lock" true 2>/dev/null
	find "$root/g" -mindepth 1 -maxdepth 1 -type d | wc -l
}

for n in 1 2 3 4; do
	deploy
	check "deployment $n succeeds" test "$RC" -eq 0
done
check "four deployments, max_revisions 2: two revisions kept" \
	test "$(revisions)" -eq 2
check "the installed revision is one of them" \
	test -d "$(cat "$root/deployment-instructions/g_last_successful_install")"
check "the trash holds only the group's lock" \
	test "$(ls -A "$root/.cdagent-trash")" = g.lock

# a removal killed half way: a renamed revision left in the trash
mkdir -p "$root/.cdagent-trash/999-0/deployment-archive/content"
echo stale >"$root/.cdagent-trash/999-0/deployment-archive/content/x"
deploy
check "a leftover in the trash does not disturb the next deployment" \
	test "$RC" -eq 0
check "the destination is the revision" diff -r "$rev/content" "$dest"
check "two revisions kept" test "$(revisions)" -eq 2
check "the leftover was removed" test ! -e "$root/.cdagent-trash/999-0"

# the next deployment waits for a retention still running (lock held)
flock "$root/.cdagent-trash/g.lock" sh -c "touch '$T_TMP/held'; sleep 2" &
holder=$!
while [ ! -e "$T_TMP/held" ]; do sleep 0.05; done
run "$CDAGENT" local -c "$conf" -l "$rev" -t directory -g g
check "a deployment during retention succeeds" test "$RC" -eq 0
check "it waited for retention to end before it started" \
	not_alive "$holder"
wait "$holder"

done_testing
