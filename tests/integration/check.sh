#!/bin/bash
# `cdagent check`: an appspec file, a revision directory and tar/tgz/zip
# bundles checked offline; file:line:col messages; exit 0/1 (2 for usage);
# --host checks users; no temporary files left behind.
. "$(dirname "$0")/lib.sh"

export TMPDIR=$T_TMP/tmp
mkdir -p "$TMPDIR"
app=$T_TMP/app
mkdir -p "$app/scripts" "$app/content"
echo hi >"$app/content/index.html"
printf '#!/bin/sh\nexit 0\n' >"$app/scripts/start.sh"
chmod 755 "$app/scripts/start.sh"
cat >"$app/appspec.yml" <<'YML'
version: 0.0
os: linux
files:
  - source: content
    destination: /srv/www
hooks:
  ApplicationStart:
    - location: scripts/start.sh
      runas: no-such-user-cdagent
YML

run "$CDAGENT" check "$app"
check "a valid directory: exit 0" test "$RC" -eq 0
check "... with a summary" contains "$OUT" "^$app: 0 error\\(s\\), 0 warning\\(s\\)\$"
run "$CDAGENT" check --host "$app"
check "--host: a missing runas user is an error" test "$RC" -eq 1
check "... file:line:col: error: naming the user" contains "$OUT" "^appspec.yml:8:7: error: runas user 'no-such-user-cdagent' does not exist on this host"

cp -r "$app" "$T_TMP/typo"
sed -i 's/^  ApplicationStart:$/  ApplicationStar:/; s/^os: linux$/os: linux\ncolour: blue/' "$T_TMP/typo/appspec.yml"
run "$CDAGENT" check "$T_TMP/typo"
check "a typo'd hook: exit 1" test "$RC" -eq 1
check "... file:line:col: error: with a suggestion" contains "$OUT" "^appspec.yml:8:3: error: .*'ApplicationStar'.*ApplicationStart"

cp -r "$app" "$T_TMP/missing"
rm "$T_TMP/missing/scripts/start.sh"
sed -i 's/^os: linux$/os: linux\ncolour: blue/' "$T_TMP/missing/appspec.yml"
(cd "$T_TMP/missing" && tar -czf "$T_TMP/missing.tgz" . && zip -qr "$T_TMP/missing.zip" .)
for b in missing.tgz missing.zip; do
	run "$CDAGENT" check "$T_TMP/$b"
	check "$b: exit 1" test "$RC" -eq 1
	check "$b: a missing script is an error" contains "$OUT" "^appspec.yml:9:7: error: hook ApplicationStart: script 'scripts/start.sh' does not exist in the revision"
	check "$b: the unknown key a warning" contains "$OUT" "^appspec.yml:3:1: warning: unknown key 'colour'"
done
cp "$T_TMP/missing.tgz" "$T_TMP/missing.bin"
run "$CDAGENT" check -t tgz "$T_TMP/missing.bin"
check "-t gives the type when the name does not" contains "$RC $(tr '\n' ' ' <<<"$OUT")" "^1 .*script 'scripts/start.sh' does not exist"
check "no temporary directory left behind" test -z "$(ls -A "$TMPDIR")"

run "$CDAGENT" check "$T_TMP/missing/appspec.yml"
check "an appspec file alone: only the appspec is checked" contains "$RC $(tr '\n' ' ' <<<"$OUT")" "^0 appspec.yml:3:1: warning: unknown key 'colour'"
mv "$app/appspec.yml" "$app/custom.yml"
run "$CDAGENT" check -A custom.yml "$app"
check "-A names the appspec file" test "$RC" -eq 0
printf '  HealthCheck:\n    - location: scripts/start.sh\n' >>"$app/custom.yml"
run "$CDAGENT" check -A custom.yml "$app"
check "a custom event not given: an error" test "$RC" -eq 1
run "$CDAGENT" check -A custom.yml -e HealthCheck "$app"
check "-e allows a custom event" test "$RC" -eq 0

run "$CDAGENT" check "$T_TMP/nope"
check "a missing PATH: exit 1, named" contains "$RC $OUT" "^1 .*$T_TMP/nope: does not exist"
run "$CDAGENT" check
check "no PATH: usage, exit 2" contains "$RC $ERR" "^2 .*needs one PATH"
run "$CDAGENT" check --help
check "--help: exit 0" contains "$RC $OUT" "^0 usage: cdagent check"

done_testing
