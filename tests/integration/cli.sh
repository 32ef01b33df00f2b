#!/bin/bash
# The command line: subcommand dispatch, usage errors, --help, version.
. "$(dirname "$0")/lib.sh"

run "$CDAGENT" version
check "version exits 0" test "$RC" -eq 0
check "version names the agent" contains "$OUT" '^cdagent [0-9]+\.[0-9]+\.[0-9]+$'
for lib in libcurl OpenSSL libarchive libyaml cJSON libsystemd; do
	check "version names $lib" contains "$OUT" "^  .*$lib[ /][0-9]"
done

run "$CDAGENT" --version
check "--version exits 0 and prints the version" \
	contains "$RC $OUT" '^0 cdagent [0-9]'

run "$CDAGENT"
check "no command: exit 2" test "$RC" -eq 2
check "no command: usage on stderr" contains "$ERR" '^usage: cdagent COMMAND'
check "no command: nothing on stdout" test -z "$OUT"

run "$CDAGENT" frobnicate
check "unknown command: exit 2" test "$RC" -eq 2
check "unknown command: named" contains "$ERR" "unknown command 'frobnicate'"
check "unknown command: usage" contains "$ERR" '^usage: cdagent'

run "$CDAGENT" --bogus
check "unknown top-level option: exit 2" test "$RC" -eq 2
check "unknown top-level option: named" contains "$ERR" "unknown option '--bogus'"

run "$CDAGENT" --help
check "--help exits 0" test "$RC" -eq 0
check "--help lists the commands" contains "$OUT" '^  config'

for sub in version config help; do
	run "$CDAGENT" "$sub" --help
	check "$sub --help exits 0" test "$RC" -eq 0
	check "$sub --help prints usage on stdout" contains "$OUT" "^usage: cdagent $sub"
	run "$CDAGENT" "$sub" -h
	check "$sub -h exits 0" test "$RC" -eq 0
done

run "$CDAGENT" help config
check "help config shows config's usage" contains "$RC $OUT" '^0 usage: cdagent config'

run "$CDAGENT" config --frob
check "bad option: exit 2" test "$RC" -eq 2
check "bad option: named, with a hint" contains "$ERR" "unknown option --frob"
check "bad option: points at --help" contains "$ERR" "cdagent config --help"

run "$CDAGENT" config -c
check "missing option argument: exit 2" test "$RC" -eq 2
check "missing option argument: named" contains "$ERR" "needs an argument"

run "$CDAGENT" version extra
check "stray argument: exit 2" test "$RC" -eq 2

done_testing
