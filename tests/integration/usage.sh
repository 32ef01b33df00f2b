#!/bin/bash
# One usage text: what `cdagent COMMAND --help` prints and what cdagent(8)
# says agree.  For every command `cdagent help` lists (and codedeploy-local):
# its synopsis (the first line of --help) is a line of the man page's
# SYNOPSIS, and every option its --help names is in its entry under
# COMMANDS; every command of the man page is one `cdagent help` lists; the
# man page documents exit status 78 and is dated with the release.
. "$(dirname "$0")/lib.sh"

if ! command -v man >/dev/null || ! command -v groff >/dev/null; then
	not_ok "man and groff are installed (apt-get install man-db groff-base)"
	done_testing
fi
: "${TOP_BUILDDIR:=$(dirname "$CDAGENT")}"
man=$TOP_BUILDDIR/agent/cdagent.8
check "the built man page exists" test -s "$man"
# wide enough that no line wraps; hyphens as ASCII
page=$(MANWIDTH=1000 LC_ALL=C.UTF-8 man -l "$man" 2>/dev/null | sed 's/\xe2\x80\x90/-/g')
synopsis=$(sed -n '/^SYNOPSIS$/,/^[A-Z]/p' <<<"$page" | sed -n 's/^       //p')
commands=$(sed -n '/^COMMANDS$/,/^[A-Z]/p' <<<"$page")
lc() { tr '[:upper:]' '[:lower:]'; }

# entry NAME: the man page's COMMANDS entry for NAME (its tag line and text)
entry() {
	awk -v name="$1" '
		/^       [a-z]/ { on = ($1 == name) }
		on { print }
	' <<<"$commands"
}

listed=$("$CDAGENT" help | sed -n '/^Commands:/,/^$/s/^  \([a-z]\{1,\}\) .*/\1/p')
check "cdagent help lists commands" test -n "$listed"
in_man=$(sed -n 's/^       \([a-z]\{1,\}\)\( .*\)\{0,1\}$/\1/p' <<<"$commands" | sort -u)
OUT="help: $(echo $listed) / man: $(echo $in_man)"
check "the man page has an entry for exactly the commands of cdagent help" \
	test "$(echo "$listed" | sort -u)" = "$in_man"

for cmd in $listed; do
	run "$CDAGENT" "$cmd" --help
	check "$cmd --help: exit 0" test "$RC" -eq 0
	usage=$(head -1 <<<"$OUT" | sed -n 's/^usage: //p' | sed 's/  .*//')
	check "$cmd --help: a usage line" test -n "$usage"
	found=$(grep -ixF -- "$usage" <<<"$synopsis")
	check "$cmd: the man page's SYNOPSIS has '$usage'" test -n "$found"
	# the options: from the usage line and the option lines
	opts=$( { head -1 <<<"$OUT"; grep -E '^ +-' <<<"$OUT"; } |
		grep -oE '(^|[ [,])--?[a-zA-Z][a-zA-Z-]*' | sed 's/^[ [,]//' | sort -u)
	text=$(entry "$cmd")
	missing=
	for o in $opts; do
		grep -qF -- "$o" <<<"$text" || missing="$missing $o"
	done
	OUT="options:$(echo $opts) missing:$missing"
	check "$cmd: the man page's entry names every option of --help" test -z "$missing"
done

# codedeploy-local is cdagent local under another name
mkdir -p "$T_TMP/bin"
ln -s "$CDAGENT" "$T_TMP/bin/codedeploy-local"
run "$T_TMP/bin/codedeploy-local" --help
check "codedeploy-local --help: exit 0" test "$RC" -eq 0
check "the man page's SYNOPSIS has 'codedeploy-local [options]'" \
	contains "$synopsis" '^codedeploy-local \[options\]$'

exit_status=$(sed -n '/^EXIT STATUS$/,/^[A-Z]/p' <<<"$page")
check "EXIT STATUS documents 78 for configuration errors" contains "$exit_status" '78 \(EX_CONFIG\)'
check "EXIT STATUS documents 2 for usage errors" contains "$exit_status" ' 2 on a usage error'
date=$(sed -n 's/^\.TH CDAGENT 8 \([0-9-]*\) .*/\1/p' "$man")
release=$(sed -n 's/^m4_define(\[cd_release_date\], \[\([0-9-]*\)\])$/\1/p' "$TOP_SRCDIR/configure.ac")
check "the man page is dated with the release ($release)" test -n "$release" -a "$date" = "$release"
check "no command is 'not yet implemented'" lacks "$page" 'ot yet implemented'

done_testing
