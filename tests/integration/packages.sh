#!/bin/bash
# The packages and the unit: `make dist`, then the .deb (dpkg-buildpackage)
# and the .rpm (rpmbuild -ta) built side by side from that tarball in the
# build tree, as `make deb` and `make rpm` do.  Checks what each package
# holds (paths, modes, owners, conffiles, relations, dependencies), runs
# the maintainer scripts and rpm scriptlets against scratch directories in
# a private mount namespace (a stub systemctl records what they ask of
# systemd), installs the rpm into another root, and checks the unit with
# `systemd-analyze verify` and the man pages with groff and mandoc.
. "$(dirname "$0")/lib.sh"

# `make check` inside a package build (dh_auto_test, %check) must not build
# packages again.
if [ -n "${DEB_RULES_REQUIRES_ROOT:-}" ] || [ -n "${RPM_BUILD_ROOT:-}" ]; then
	echo "ok 1 - packages # SKIP inside a package build"
	echo "1..1"
	exit 0
fi

missing=
for tool in dpkg-buildpackage:dpkg-dev dh:debhelper rpmbuild:rpm \
	systemd-analyze:systemd groff:groff-base mandoc:mandoc xz:xz-utils \
	readelf:binutils unshare:util-linux lintian:lintian rpmlint:rpmlint; do
	command -v "${tool%%:*}" >/dev/null || missing="$missing ${tool#*:}"
done
if [ -n "$missing" ]; then
	not_ok "the packaging tools are installed (apt-get install$missing)"
	done_testing
fi

: "${TOP_BUILDDIR:=$(dirname "$CDAGENT")}"
B=$TOP_BUILDDIR
S=$TOP_SRCDIR
# The harness runs under make: keep its jobserver out of these builds.
unset MAKEFLAGS MFLAGS MAKELEVEL

bg_pids=
cleanup() {
	local p
	for p in $bg_pids; do
		kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$T_TMP"
}
trap cleanup EXIT

# rpm (Debian's) warns on stderr that it should not be used directly.
rpmq() {
	rpm "$@" 2>&1 | grep -v 'should not be used directly'
	return "${PIPESTATUS[0]}"
}

version=$("$CDAGENT" version | sed -n 's/^cdagent //p')
check "the built binary names its version" contains "$version" '^[0-9]+\.[0-9]+\.[0-9]+'

# --- build ------------------------------------------------------------
start=$(date +%s)
run make -C "$B" dist
check "make dist" test "$RC" -eq 0
tarball=$B/cdagent-$version.tar.xz
check "make dist made cdagent-$version.tar.xz" test -s "$tarball"

setsid make -C "$B" deb-from-dist >"$T_TMP/deb.log" 2>&1 &
deb_pid=$!
setsid make -C "$B" rpm-from-dist >"$T_TMP/rpm.log" 2>&1 &
rpm_pid=$!
bg_pids="$deb_pid $rpm_pid"
wait "$deb_pid"
deb_rc=$?
wait "$rpm_pid"
rpm_rc=$?
bg_pids=
echo "# deb and rpm built in $(($(date +%s) - start)) s"
RC=$deb_rc OUT=$(tail -30 "$T_TMP/deb.log") ERR=
check "make deb-from-dist (dpkg-buildpackage -us -uc -b)" test "$deb_rc" -eq 0
RC=$rpm_rc OUT=$(tail -30 "$T_TMP/rpm.log") ERR=
check "make rpm-from-dist (rpmbuild -ta)" test "$rpm_rc" -eq 0

deb=$(ls "$B"/cdagent_"$version"_*.deb 2>/dev/null | head -1)
rpmfile=$(ls "$B"/cdagent-"$version"-*.rpm 2>/dev/null | grep -v '\.src\.rpm$' | head -1)
check "the .deb is in the build tree" test -n "$deb" -a -s "${deb:-/nonexistent}"
check "the binary .rpm is in the build tree" test -n "$rpmfile" -a -s "${rpmfile:-/nonexistent}"
check "the source .rpm is in the build tree" test -s "$B/cdagent-$version-1.src.rpm"
check "no scratch build directory is left" test ! -e "$B/deb-build" -a ! -e "$B/rpm-build"
[ -n "$deb" ] || deb=/nonexistent
[ -n "$rpmfile" ] || rpmfile=/nonexistent

# The packaged configuration's directories (conf/codedeployagent.yml).
conf_value() {
	sed -n "s/^:\{0,1\}$1: *'\{0,1\}\([^']*\)'\{0,1\} *\$/\1/p" "$S/conf/codedeployagent.yml" | sed 's:/$::'
}
root_dir=$(conf_value root_dir)
log_dir=$(conf_value log_dir)
pid_dir=$(conf_value pid_dir)
check "conf/codedeployagent.yml names the directories the packages make" \
	test "$root_dir|$log_dir|$pid_dir" = \
	"/opt/codedeploy-agent/deployment-root|/var/log/aws/codedeploy-agent|/opt/codedeploy-agent/state/.pid"

# --- the .deb: control ------------------------------------------------
field() { dpkg-deb -f "$deb" "$1" 2>/dev/null; }
OUT=$(dpkg-deb -I "$deb" 2>&1)
check "deb: package cdagent, version $version" test "$(field Package) $(field Version)" = "cdagent $version"
for rel in Provides Conflicts Replaces; do
	check "deb: $rel: codedeploy-agent" test "$(field "$rel")" = codedeploy-agent
done
check "deb: conffiles are the configuration and the logrotate snippet" \
	test "$(dpkg-deb --info "$deb" conffiles 2>&1 | sort | tr '\n' ' ')" = \
	"/etc/codedeploy-agent/conf/codedeployagent.yml /etc/logrotate.d/codedeploy-agent "
check "deb: Maintainer is configure's (--with-maintainer)" \
	test "$(field Maintainer)" = "$(sed -n 's/^CD_MAINTAINER = //p' "$B/Makefile")"
check "deb: Homepage is configure's (--with-homepage)" \
	test "$(field Homepage)" = "$(sed -n 's/^CD_HOMEPAGE = //p' "$B/Makefile")"

rm -rf "$T_TMP/deb" && mkdir "$T_TMP/deb" && dpkg-deb -x "$deb" "$T_TMP/deb"
mkdir "$T_TMP/debctl" && dpkg-deb -e "$deb" "$T_TMP/debctl"

# Depends: exactly the packages that hold the shared libraries the binary
# needs (${shlibs:Depends}); ${misc:Depends} adds nothing.
depends=$(field Depends | tr ',' '\n' | sed 's/^ *//; s/ .*//' | grep . | sort -u)
needed=$(readelf -d "$T_TMP/deb/usr/sbin/cdagent" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
owners=$(for so in $needed; do
	dpkg -S "*/$so" 2>/dev/null | grep -v diversion | head -1 | sed 's/[:,].*//'
done | sort -u)
OUT="Depends: $depends / owners of NEEDED: $owners"
check "deb: Depends are the packages of the linked shared libraries" \
	test -n "$depends" -a "$depends" = "$owners"

# --- the .deb: files --------------------------------------------------
OUT=$(dpkg-deb -c "$deb")
# has MODE PATH: a line of dpkg-deb -c with that mode, root/root and path.
has() {
	grep -qE "^$1 root/root +[0-9]+ [0-9-]+ [0-9:]+ \./$2( -> .*)?\$" <<<"$OUT"
}
check "deb: /usr/sbin/cdagent 0755" has -rwxr-xr-x usr/sbin/cdagent
check "deb: /usr/sbin/codedeploy-local -> cdagent" \
	contains "$OUT" ' \./usr/sbin/codedeploy-local -> cdagent$'
check "deb: the configuration 0644" has -rw-r--r-- etc/codedeploy-agent/conf/codedeployagent.yml
check "deb: the unit 0644 in the systemd unit directory" \
	has -rw-r--r-- '(usr/)?lib/systemd/system/codedeploy-agent\.service'
for h in systemd-unit wait-for-http wait-for-port; do
	check "deb: stock hook $h 0755 in /usr/share/cdagent/hooks" has -rwxr-xr-x "usr/share/cdagent/hooks/$h"
done
check "deb: cdagent.8 0644" has -rw-r--r-- 'usr/share/man/man8/cdagent\.8\.gz'
check "deb: codedeploy-local.8 (a link to cdagent.8)" \
	contains "$OUT" ' \./usr/share/man/man8/codedeploy-local\.8\.gz( -> cdagent\.8\.gz)?$'
check "deb: the on-premises example in the docs" has -rw-r--r-- usr/share/doc/cdagent/codedeploy.onpremises.yml.example
check "deb: the README in the docs" has -rw-r--r-- 'usr/share/doc/cdagent/README\.md(\.gz)?'
check "deb: the DEP-5 copyright file" has -rw-r--r-- usr/share/doc/cdagent/copyright
check "deb: the logrotate snippet 0644" has -rw-r--r-- etc/logrotate.d/codedeploy-agent
check "deb: every entry owned by root/root" lacks "$OUT" '^[^ ]+ [^r][^ ]*/|^[^ ]+ root/[^r]'
check "deb: nothing group- or world-writable" lacks "$OUT" '^[-d].{4}w|^[-d].{7}w'
check "deb: nothing under /opt (postinst makes it)" lacks "$OUT" ' \./opt/'
check "deb: the configuration is conf/codedeployagent.yml" \
	cmp -s "$S/conf/codedeployagent.yml" "$T_TMP/deb/etc/codedeploy-agent/conf/codedeployagent.yml"
unit_in_deb=$(ls "$T_TMP"/deb/lib/systemd/system/codedeploy-agent.service \
	"$T_TMP"/deb/usr/lib/systemd/system/codedeploy-agent.service 2>/dev/null | head -1)
check "deb: the unit starts /usr/sbin/cdagent run" \
	grep -qx 'ExecStart=/usr/sbin/cdagent run' "${unit_in_deb:-/nonexistent}"
check "deb: the man page carries version $version" \
	contains "$(zcat "$T_TMP/deb/usr/share/man/man8/cdagent.8.gz" 2>&1)" "^\.TH CDAGENT 8 .*\"cdagent $version\""
RC=0 OUT=$("$T_TMP/deb/usr/sbin/cdagent" version 2>&1)
check "deb: the packaged binary runs and is version $version" contains "$OUT" "^cdagent $version\$"

# --- the .deb: maintainer scripts -------------------------------------
for s in postinst prerm postrm; do
	check "deb: $s is valid sh" sh -n "$T_TMP/debctl/$s"
done
OUT=$(cat "$T_TMP/debctl/postinst")
check "deb: postinst enables the unit (dh_installsystemd)" \
	contains "$OUT" "deb-systemd-helper .*enable 'codedeploy-agent\.service'"
check "deb: debhelper neither starts nor restarts it (--no-start)" \
	lacks "$OUT" "_dh_action=|deb-systemd-invoke [a-z-]* 'codedeploy-agent"
check "deb: no blocking restart anywhere" lacks "$OUT" 'systemctl [a-z-]*restart|invoke [a-z-]*restart'
check "deb: postinst queues the upgrade restart (--no-block)" \
	contains "$OUT" '^[[:space:]]*systemctl --no-block try-restart codedeploy-agent\.service'
check "deb: the #DEBHELPER# token was replaced once" \
	test "$(grep -c 'Automatically added by dh_installsystemd' <<<"$OUT")" = 1
OUT=$(cat "$T_TMP/debctl/prerm")
check "deb: prerm stops it on removal" contains "$OUT" '^if \[ "\$1" = remove \] '
check "deb: ... with deb-systemd-invoke" contains "$OUT" '^	deb-systemd-invoke stop codedeploy-agent\.service'
check "deb: prerm has no other stop" test "$(grep -c 'stop' <<<"$(grep -v '^#' <<<"$OUT")")" = 1
check "deb: the copyright file is DEP-5 and Apache-2.0" \
	test "$(sed -n '1p' "$T_TMP/deb/usr/share/doc/cdagent/copyright")|$(grep -c '^License: Apache-2.0$' "$T_TMP/deb/usr/share/doc/cdagent/copyright")" = \
	"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/|2"
check "deb: postrm purge forgets the unit" \
	contains "$(cat "$T_TMP/debctl/postrm")" "deb-systemd-helper purge 'codedeploy-agent\.service'"

# Our parts of postinst and postrm (deb/, before debhelper's additions)
# against tmpfs /opt, /var/log and /etc/codedeploy-agent in a private
# mount namespace; stat lines "MODE OWNER PATH" and exit statuses come out.
unshare -m --propagation private bash -s "$S/deb" "$T_TMP" "$root_dir" "$log_dir" "$pid_dir" \
	>"$T_TMP/scripts.out" 2>&1 <<'SH'
set -u
D=$1 T=$2 ROOT=$3 LOG=$4 PID=$5
# /etc too, with the user and group names stat needs copied in.  Any
# failure here stops everything: the scripts below must never see the
# host's own directories.
set -e
mkdir -p "$T/etc-save"
cp /etc/passwd /etc/group "$T/etc-save/"
mount -t tmpfs tmpfs /opt
mount -t tmpfs tmpfs /var/log
mount -t tmpfs tmpfs /etc
mountpoint -q /opt && mountpoint -q /var/log && mountpoint -q /etc
cp "$T/etc-save/passwd" "$T/etc-save/group" /etc/
mkdir -p /etc/codedeploy-agent/conf
set +e
echo "region: us-east-1" >/etc/codedeploy-agent/conf/codedeploy.onpremises.yml
report() { for p in "$@"; do stat -c '%a %U:%G %n' "$p" 2>/dev/null || echo "absent $p"; done; }
echo "== configure"
sh "$D/cdagent.postinst" configure; echo "rc $?"
report /opt/codedeploy-agent "$ROOT" /opt/codedeploy-agent/state "$PID" /var/log/aws "$LOG"
echo "== upgrade keeps data and modes"
echo data >"$ROOT/keep"; chmod 0711 "$ROOT"; echo log >"$LOG/codedeploy-agent.log"
sh "$D/cdagent.postinst" configure 0.0.1; echo "rc $?"
report "$ROOT" "$ROOT/keep" "$LOG/codedeploy-agent.log"
echo "== postrm remove and upgrade keep everything"
sh "$D/cdagent.postrm" remove; echo "rc $?"
sh "$D/cdagent.postrm" upgrade 0.0.1; echo "rc $?"
report "$ROOT/keep" "$LOG/codedeploy-agent.log"
echo "== purge"
mkdir -p /var/log/aws/other-tool
sh "$D/cdagent.postrm" purge 2>&1; echo "rc $?"
report "$ROOT" /opt/codedeploy-agent "$LOG" /var/log/aws/other-tool /etc/codedeploy-agent/conf/codedeploy.onpremises.yml
echo "== purge without an on-premises file"
rm /etc/codedeploy-agent/conf/codedeploy.onpremises.yml
sh "$D/cdagent.postrm" purge 2>&1; echo "rc $?"
report /etc/codedeploy-agent
echo "== symlink refused"
mkdir -p /opt/elsewhere /opt/codedeploy-agent
ln -s /opt/elsewhere "$ROOT"
sh "$D/cdagent.postinst" configure 2>&1; echo "rc $?"
rm "$ROOT"
echo "== upgrade restart"
# systemd running, a stub systemctl: the upgrade queues a restart, an
# install does not; a policy-rc.d that says 101 stops it.
# /usr/sbin too: no policy-rc.d of the host's (containers have one)
mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/system /run/stub
mount -t tmpfs tmpfs /usr/sbin
printf '#!/bin/sh\necho "systemctl $*" >>/run/stub/log\ncase "$*" in *is-enabled*) echo enabled ;; esac\n' >/run/stub/systemctl
chmod 755 /run/stub/systemctl
: >/run/stub/log
PATH=/run/stub:$PATH sh "$D/cdagent.postinst" configure 0.0.1; echo "rc $?"
log() { tr '\n' ' ' </run/stub/log | sed 's/ $//'; }
echo "upgrade: $(log)"
: >/run/stub/log
PATH=/run/stub:$PATH sh "$D/cdagent.postinst" configure; echo "rc $?"
echo "install: $(log)"
: >/run/stub/log
PATH=/run/stub:$PATH sh "$D/cdagent.prerm" upgrade 0.0.2; echo "rc $?"
echo "prerm upgrade: $(log)"
: >/run/stub/log
PATH=/run/stub:$PATH sh "$D/cdagent.prerm" remove; echo "rc $?"
echo "prerm remove: $(log)"
: >/run/stub/log
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
chmod 755 /usr/sbin/policy-rc.d
PATH=/run/stub:$PATH sh "$D/cdagent.postinst" configure 0.0.1; echo "rc $?"
echo "policy 101: $(log)"
umount /usr/sbin /run
SH
OUT=$(cat "$T_TMP/scripts.out")
sect() { sed -n "/^== $1/,/^==/p" <<<"$OUT"; }
check "postinst configure: exit 0" contains "$(sect configure)" '^rc 0$'
check "postinst: /opt/codedeploy-agent 0755 root" contains "$(sect configure)" '^755 root:root /opt/codedeploy-agent$'
check "postinst: deployment root 0755 root" contains "$(sect configure)" "^755 root:root $root_dir\$"
check "postinst: pid directory 0700 root" contains "$(sect configure)" "^700 root:root $pid_dir\$"
check "postinst: log directory 0755 root" contains "$(sect configure)" "^755 root:root $log_dir\$"
check "postinst again (upgrade): keeps an administrator's mode" contains "$(sect upgrade)" "^711 root:root $root_dir\$"
check "postinst again (upgrade): keeps the data" contains "$(sect upgrade)" "^644 root:root $root_dir/keep\$"
check "postrm remove/upgrade: deployment root kept" contains "$(sect 'postrm remove')" "^644 root:root $root_dir/keep\$"
check "postrm remove/upgrade: logs kept" contains "$(sect 'postrm remove')" "^644 root:root $log_dir/codedeploy-agent.log\$"
check "postrm purge: exit 0" contains "$(sect purge)" '^rc 0$'
check "postrm purge: deployment root gone" contains "$(sect purge)" "^absent $root_dir\$"
check "postrm purge: /opt/codedeploy-agent gone" contains "$(sect purge)" '^absent /opt/codedeploy-agent$'
check "postrm purge: logs gone" contains "$(sect purge)" "^absent $log_dir\$"
check "postrm purge: keeps the on-premises file (credentials)" \
	contains "$(sect purge)" '^[0-9]+ root:root /etc/codedeploy-agent/conf/codedeploy\.onpremises\.yml$'
check "postrm purge: says it kept it" \
	contains "$(sect purge)" '^cdagent: kept /etc/codedeploy-agent/conf/codedeploy\.onpremises\.yml'
check "postrm purge without an on-premises file: the configuration directory gone" \
	contains "$(sect 'purge without')" '^absent /etc/codedeploy-agent$'
check "postrm purge: another tool's logs under /var/log/aws stay" \
	contains "$(sect purge)" ' /var/log/aws/other-tool$'
check "postinst refuses a symlink as the deployment root" contains "$(sect symlink)" '^rc 1$'
check "postinst says which path is a symlink" contains "$(sect symlink)" "$root_dir is a symbolic link"
restart_out=$(sect 'upgrade restart')
check "postinst upgrade: queues try-restart --no-block, nothing else" \
	contains "$restart_out" '^upgrade: systemctl --system daemon-reload systemctl --no-block try-restart codedeploy-agent\.service$'
check "postinst install: starts it through deb-systemd-invoke, no restart" \
	contains "$restart_out" '^install: .*systemctl --quiet --system start codedeploy-agent\.service'
check "postinst install: ... no try-restart" lacks "$(grep '^install:' <<<"$restart_out")" 'try-restart'
check "postinst upgrade: policy-rc.d 101 honoured" contains "$restart_out" '^policy 101: systemctl --system daemon-reload$'
check "prerm upgrade: does not stop it" contains "$restart_out" '^prerm upgrade: $'
check "prerm remove: stops it" contains "$restart_out" '^prerm remove: systemctl stop codedeploy-agent\.service$'
check "postinst and prerm: every run exits 0" test "$(grep -c '^rc 0$' <<<"$restart_out")" = 5

# --- the .rpm: header -------------------------------------------------
OUT=$(rpmq -qp --qf '%{NAME} %{VERSION}\n' "$rpmfile")
check "rpm: package cdagent, version $version" test "$OUT" = "cdagent $version"
OUT=$(rpmq -qp --provides "$rpmfile")
check "rpm: provides codedeploy-agent (versioned)" contains "$OUT" '^codedeploy-agent = [0-9]'
OUT=$(rpmq -qp --conflicts "$rpmfile")
check "rpm: conflicts with codedeploy-agent" test "$OUT" = codedeploy-agent
OUT=$(rpmq -qp --obsoletes "$rpmfile")
check "rpm: obsoletes codedeploy-agent" test "$OUT" = codedeploy-agent
OUT=$(rpmq -qpc "$rpmfile" | tr '\n' ' ')
check "rpm: the config files are the configuration and the logrotate snippet" test "$OUT" = \
	"/etc/codedeploy-agent/conf/codedeployagent.yml /etc/logrotate.d/codedeploy-agent "
OUT=$(rpmq -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$rpmfile")
check "rpm: the configuration is %config(noreplace)" \
	contains "$OUT" '^cn /etc/codedeploy-agent/conf/codedeployagent\.yml$'
check "rpm: the logrotate snippet is %config(noreplace)" \
	contains "$OUT" '^cn /etc/logrotate\.d/codedeploy-agent$'
check "rpm: LICENSE is %license" contains "$OUT" '^l /usr/share/licenses/cdagent(-[0-9.]+)?/LICENSE$'
check "rpm: README.md is %doc" contains "$OUT" '^d /usr/share/doc/cdagent/README\.md$'
OUT=$(rpmq -qp --qf '%{LICENSE}|%{URL}\n' "$rpmfile")
check "rpm: License Apache-2.0, URL from configure (--with-homepage)" test "$OUT" = \
	"Apache-2.0|$(sed -n 's/^CD_HOMEPAGE = //p' "$B/Makefile")"
OUT=$(rpmq -qp --changelog "$rpmfile" | head -1)
check "rpm: %changelog names the release, its date and the maintainer" test "$OUT" = \
	"* $(sed -n 's/^CD_RELEASE_DATE_RPM = //p' "$B/Makefile") $(sed -n 's/^CD_MAINTAINER = //p' "$B/Makefile") - $version-1"
OUT=$(rpmq -qpR "$rpmfile")
OUT=$(grep -vE '^(lib[^ ]+\.so[^ ]*|rpmlib\(.*|rtld\(GNU_HASH\)|/bin/(ba)?sh|config\(cdagent\) = .*)$' <<<"$OUT")
check "rpm: requires only shared libraries, sh/bash and rpm internals" test -z "$OUT"
OUT=$(rpmq -qpR "$rpmfile")
check "rpm: requires the linked libraries" contains "$OUT" '^libcurl\.so\.4\(\)'

OUT=$(rpmq -qlpv "$rpmfile")
# rpmhas MODE PATH: a line of rpm -qlpv.
rpmhas() {
	grep -qE "^$1 +[0-9]+ root +root +[0-9]+ .* $2( -> .*)?\$" <<<"$OUT"
}
check "rpm: /usr/sbin/cdagent 0755" rpmhas -rwxr-xr-x /usr/sbin/cdagent
check "rpm: /usr/sbin/codedeploy-local -> cdagent" contains "$OUT" ' /usr/sbin/codedeploy-local -> cdagent$'
check "rpm: the configuration 0644" rpmhas -rw-r--r-- /etc/codedeploy-agent/conf/codedeployagent.yml
check "rpm: the unit in /usr/lib/systemd/system" rpmhas -rw-r--r-- /usr/lib/systemd/system/codedeploy-agent.service
for h in systemd-unit wait-for-http wait-for-port; do
	check "rpm: stock hook $h 0755" rpmhas -rwxr-xr-x "/usr/share/cdagent/hooks/$h"
done
check "rpm: cdagent.8" rpmhas -rw-r--r-- '/usr/share/man/man8/cdagent\.8(\.gz)?'
check "rpm: codedeploy-local.8" contains "$OUT" ' /usr/share/man/man8/codedeploy-local\.8(\.gz)?( -> .*)?$'
check "rpm: owns the deployment root, 0755" rpmhas drwxr-xr-x "$root_dir"
check "rpm: owns the pid directory, 0700" rpmhas drwx------ "$pid_dir"
check "rpm: owns the log directory, 0755" rpmhas drwxr-xr-x "$log_dir"
check "rpm: nothing group- or world-writable" lacks "$OUT" '^[-d].{4}w|^[-d].{7}w'

# --- the .rpm: scriptlets, with a stub systemctl ----------------------
mkdir -p "$T_TMP/stub"
cat >"$T_TMP/stub/systemctl" <<'SH'
#!/bin/sh
echo "systemctl $*" >>"$SYSTEMCTL_LOG"
# is-enabled answers as the presets would: $PRESET_DISABLED says no
if [ "$1 $2" = "-q is-enabled" ] && [ -n "${PRESET_DISABLED:-}" ]; then exit 1; fi
exit 0
SH
chmod 755 "$T_TMP/stub/systemctl"
for tag in POSTIN PREUN POSTUN; do
	rpmq -qp --qf "%{$tag}\n" "$rpmfile" >"$T_TMP/$tag.sh"
done
# scriptlet TAG ARG systemd|nosystemd: what it asked of systemctl, one line.
scriptlet() {
	: >"$T_TMP/systemctl.log"
	unshare -m --propagation private env PRESET_DISABLED="${PRESET_DISABLED:-}" sh -c '
		mount -t tmpfs tmpfs /run || exit 99
		if [ "$3" = systemd ]; then mkdir -p /run/systemd/system; fi
		PATH=$4:$PATH SYSTEMCTL_LOG=$5 sh "$1" "$2"
	' _ "$T_TMP/$1.sh" "$2" "$3" "$T_TMP/stub" "$T_TMP/systemctl.log"
	RC=$?
	OUT=$(tr '\n' ';' <"$T_TMP/systemctl.log")
}
scriptlet POSTIN 1 systemd
check "rpm %post, install: applies the presets, starts the unit they enabled" test "$RC|$OUT" = \
	"0|systemctl --no-reload preset codedeploy-agent.service;systemctl daemon-reload;systemctl -q is-enabled codedeploy-agent.service;systemctl --no-block start codedeploy-agent.service;"
PRESET_DISABLED=1 scriptlet POSTIN 1 systemd
check "rpm %post, install, presets say disable: not started" test "$RC|$OUT" = \
	"0|systemctl --no-reload preset codedeploy-agent.service;systemctl daemon-reload;systemctl -q is-enabled codedeploy-agent.service;"
scriptlet POSTIN 2 systemd
check "rpm %post, upgrade: leaves the unit alone" test "$RC|$OUT" = "0|"
scriptlet POSTIN 1 nosystemd
check "rpm %post without systemd running: presets only" test "$RC|$OUT" = \
	"0|systemctl --no-reload preset codedeploy-agent.service;"
scriptlet PREUN 0 systemd
check "rpm %preun, erase: disables and stops" test "$RC|$OUT" = \
	"0|systemctl --no-reload disable --now codedeploy-agent.service;"
scriptlet PREUN 1 systemd
check "rpm %preun, upgrade: keeps it running" test "$RC|$OUT" = "0|"
scriptlet POSTUN 1 systemd
check "rpm %postun, upgrade: try-restart without waiting" test "$RC|$OUT" = \
	"0|systemctl daemon-reload;systemctl --no-block try-restart codedeploy-agent.service;"
scriptlet POSTUN 0 systemd
check "rpm %postun, erase: reload only" test "$RC|$OUT" = "0|systemctl daemon-reload;"
scriptlet POSTUN 1 nosystemd
check "rpm %postun without systemd running: nothing" test "$RC|$OUT" = "0|"

# --- the .rpm installed into another root -----------------------------
alt=$T_TMP/alt
mkdir -p "$alt"
run rpmq --root "$alt" --dbpath /var/lib/rpm --nodeps --noscripts -ivh "$rpmfile"
check "rpm -ivh --root: exit 0" test "$RC" -eq 0
modes=$(cd "$alt" && stat -c '%a %U:%G %F %n' usr/sbin/cdagent usr/sbin/codedeploy-local \
	etc/codedeploy-agent/conf/codedeployagent.yml usr/lib/systemd/system/codedeploy-agent.service \
	usr/share/cdagent/hooks/wait-for-http ".$root_dir" ".$pid_dir" ".$log_dir" 2>&1)
OUT=$modes
check "rpm root: the binary 0755" contains "$OUT" '^755 root:root regular file usr/sbin/cdagent$'
check "rpm root: the codedeploy-local link" contains "$OUT" '^777 root:root symbolic link usr/sbin/codedeploy-local$'
check "rpm root: the configuration 0644" contains "$OUT" '^644 root:root regular file etc/codedeploy-agent/conf/codedeployagent.yml$'
check "rpm root: the unit" contains "$OUT" '^644 root:root regular file usr/lib/systemd/system/codedeploy-agent.service$'
check "rpm root: a stock hook 0755" contains "$OUT" '^755 root:root regular file usr/share/cdagent/hooks/wait-for-http$'
check "rpm root: the deployment root 0755" contains "$OUT" "^755 root:root directory \\.$root_dir\$"
check "rpm root: the pid directory 0700" contains "$OUT" "^700 root:root directory \\.$pid_dir\$"
check "rpm root: the log directory 0755" contains "$OUT" "^755 root:root directory \\.$log_dir\$"
run rpmq --root "$alt" --dbpath /var/lib/rpm -V --nodeps cdagent
check "rpm -V in the other root: everything as packaged" test "$RC|$OUT" = "0|"
echo ":verbose: true" >>"$alt/etc/codedeploy-agent/conf/codedeployagent.yml"
echo data >"$alt$root_dir/keep"
run rpmq --root "$alt" --dbpath /var/lib/rpm --nodeps --noscripts -e cdagent
check "rpm -e --root: exit 0" test "$RC" -eq 0
check "rpm -e: the binary is gone" test ! -e "$alt/usr/sbin/cdagent"
check "rpm -e: a changed configuration is kept as .rpmsave" \
	test -f "$alt/etc/codedeploy-agent/conf/codedeployagent.yml.rpmsave"
check "rpm -e: a deployment root with data is kept" test -f "$alt$root_dir/keep"
check "rpm -e: the empty log directory is removed" test ! -e "$alt$log_dir"

# --- lint -------------------------------------------------------------
# No error and no warning, pedantic tags included; overrides (lintian) and
# filters (rpmlint) only with a reason on the line above each.
run lintian --pedantic --fail-on error,warning,pedantic --tag-display-limit 0 "$deb"
OUT=$(grep -v '^N: ' <<<"$OUT")
check "lintian --pedantic: no error, warning or pedantic tag" test "$RC|$(grep -E '^[EWP]: ' <<<"$OUT")" = "0|"
check "lintian used the package's overrides" \
	test -f "$T_TMP/deb/usr/share/lintian/overrides/cdagent"
srpm=$B/cdagent-$version-1.src.rpm
run rpmlint -c "$S/rpm/rpmlint.toml" -r "$S/rpm/cdagent.rpmlintrc" "$rpmfile" "$srpm"
check "rpmlint on the rpm, the source rpm and its spec: 0 errors, 0 warnings" \
	contains "$OUT" ' 0 errors, 0 warnings'
# reasoned FILE PATTERN: every line matching PATTERN follows a comment
reasoned() {
	awk -v pat="$2" '
		$0 ~ pat && prev !~ /^# ./ { print FILENAME ":" NR ": no reason above: " $0; bad = 1 }
		{ prev = $0 }
		END { exit bad }
	' "$1"
}
run reasoned "$S/deb/cdagent.lintian-overrides" '^cdagent'
check "every lintian override has its reason" test "$RC|$OUT" = "0|"
run reasoned "$S/rpm/cdagent.rpmlintrc" '^addFilter'
check "every rpmlint filter has its reason" test "$RC|$OUT" = "0|"

# --- the unit ---------------------------------------------------------
unit=$B/init/codedeploy-agent.service
mkdir -p "$T_TMP/unit" "$T_TMP/man/man8"
cp "$B/agent/cdagent.8" "$S/agent/codedeploy-local.8" "$T_TMP/man/man8/"
# systemd-analyze verify finds our man page for Documentation= via MANPATH.
sed "s|^ExecStart=[^ ]*/cdagent |ExecStart=$CDAGENT |" "$unit" >"$T_TMP/unit/codedeploy-agent.service"
run grep -c "^ExecStart=$CDAGENT run\$" "$T_TMP/unit/codedeploy-agent.service"
check "the copy of the unit runs the built binary" test "$OUT" = 1
(cd "$T_TMP/unit" && MANPATH=$T_TMP/man systemd-analyze verify codedeploy-agent.service) \
	>"$T_TMP/verify.out" 2>&1
RC=$? OUT=$(cat "$T_TMP/verify.out") ERR=
check "systemd-analyze verify: exit 0 and no output at all" test "$RC|$OUT" = "0|"
sed 's/^Type=notify$/Type=notifyy/' "$T_TMP/unit/codedeploy-agent.service" >"$T_TMP/unit/broken.service"
(cd "$T_TMP/unit" && MANPATH=$T_TMP/man systemd-analyze verify broken.service) >"$T_TMP/verify.out" 2>&1
OUT=$(cat "$T_TMP/verify.out")
check "systemd-analyze verify does complain about a broken copy" test -n "$OUT"
missing=
for line in 'Type=notify' 'NotifyAccess=main' "ExecReload=/bin/sh -c 'kill -HUP \"\$\$MAINPID\"'" \
	'WatchdogSec=60s' 'Restart=on-failure' 'RestartPreventExitStatus=78' 'KillMode=process' \
	'SyslogIdentifier=codedeploy-agent' 'Wants=network-online.target' \
	'After=network-online.target' 'WantedBy=multi-user.target'; do
	grep -qxF -- "$line" "$unit" || missing="$missing [$line]"
done
OUT="missing:$missing"
check "unit: notify with watchdog, reload, restart, KillMode=process, ordering, install" test -z "$missing"
OUT=$(cat "$unit")
check "unit: stops later than kill_agent_max_wait_time_seconds (7200 s)" \
	test "$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s$/\1/p' "$unit")" -gt 7200
check "unit: no placeholder left" lacks "$OUT" '@[A-Za-z_]+@'

# --- the man pages ----------------------------------------------------
man=$B/agent/cdagent.8
run groff -ww -man -z "$man"
check "groff -ww -man: no warnings" test "$RC|$OUT$ERR" = "0|"
run mandoc -Tlint "$man"
check "mandoc -Tlint: clean" test "$RC|$OUT$ERR" = "0|"
OUT=$(MANWIDTH=80 man -l "$man" 2>"$T_TMP/man.err")
ERR=$(cat "$T_TMP/man.err")
check "man -l renders without warnings" test -z "$ERR"
# wide enough that no sentence wraps
OUT=$(MANWIDTH=1000 man -l "$man" 2>/dev/null)
missing=
for word in 'cdagent run' 'cdagent local' 'cdagent status' 'cdagent version' \
	'cdagent config' 'cdagent help' /etc/codedeploy-agent/conf/codedeployagent.yml \
	codedeploy.onpremises.yml AWS_REGION AWS_HOST_IDENTIFIER AWS_SSL_CA_BUNDLE \
	SSL_CERT_FILE HTTPS_PROXY NO_PROXY AWS_EC2_METADATA_SERVICE_ENDPOINT \
	AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE AWS_EC2_METADATA_DISABLED AWS_ACCESS_KEY_ID \
	AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_SSL_CA_DIRECTORY CODEDEPLOY_GITHUB_TOKEN \
	CODEDEPLOY_DEVELOPER_MODE DEPLOYMENT_ID DEPLOYMENT_GROUP_ID LIFECYCLE_EVENT \
	SCRIPT HOOK_PID PRIORITY 'exits 0 when the agent runs and 3 when it does not' \
	'78 (EX_CONFIG)' RestartPreventExitStatus=78 /etc/logrotate.d/codedeploy-agent; do
	grep -qF -- "$word" <<<"$OUT" || missing="$missing [$word]"
done
OUT="missing:$missing"
check "man page: every command, file, variable, exit status and journal field" test -z "$missing"
check "man page: no placeholder left" lacks "$(cat "$man")" '@[A-Za-z_]+@'
OUT=$(MANPATH=$T_TMP/man MANWIDTH=80 man codedeploy-local 2>&1)
check "man codedeploy-local shows cdagent(8)" contains "$OUT" '^CDAGENT\(8\)'

done_testing
