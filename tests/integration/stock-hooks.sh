#!/bin/bash
# The stock scripts in hooks/: wait-for-http and wait-for-port against real
# servers on 127.0.0.1; systemd-unit against a stand-in systemctl (no
# systemd runs here; the packaging tests run it under real systemd).  Also:
# the example app carries exact copies of the stock scripts it uses.
. "$(dirname "$0")/lib.sh"

hooks=$TOP_SRCDIR/hooks
free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

port=$(free_port)
mkdir -p "$T_TMP/www"
echo ok >"$T_TMP/www/health"
/usr/bin/python3 -m http.server "$port" --bind 127.0.0.1 --directory "$T_TMP/www" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$T_TMP"' EXIT
"$hooks/wait-for-port" 127.0.0.1 "$port" 10 >/dev/null

run "$hooks/wait-for-http" "http://127.0.0.1:$port/health" 10
check "wait-for-http: 200 -> exit 0" test "$RC" -eq 0
check "wait-for-http: says it answered" contains "$OUT" "answered 200"

start=$(date +%s)
run "$hooks/wait-for-http" "http://127.0.0.1:$port/missing" 2
check "wait-for-http: 404 until the deadline -> exit 1" test "$RC" -eq 1
check "wait-for-http: reports the status it got" contains "$OUT" "answered 404"
check "wait-for-http: says it gave up" contains "$ERR" "did not answer 2xx within 2 seconds"
check "wait-for-http: gave up near the deadline" test $(($(date +%s) - start)) -le 5

closed=$(free_port)
run "$hooks/wait-for-http" "http://127.0.0.1:$closed/" 1
check "wait-for-http: nothing listening -> exit 1" test "$RC" -eq 1

run "$hooks/wait-for-http" "ftp://x/" 1
check "wait-for-http: not an http URL -> exit 2" test "$RC" -eq 2
run "$hooks/wait-for-http"
check "wait-for-http: no URL -> exit 2 with usage" contains "$RC $ERR" '^2 usage: wait-for-http'

# wait-for-http without curl or wget: bash's /dev/tcp
mkdir -p "$T_TMP/bin"
for tool in sh bash date sleep timeout awk cat; do ln -sf "$(command -v $tool)" "$T_TMP/bin/$tool"; done
run env PATH="$T_TMP/bin" "$hooks/wait-for-http" "http://127.0.0.1:$port/health" 5
check "wait-for-http: works with bash alone" contains "$RC $OUT" "^0 .*answered 200"

run "$hooks/wait-for-port" 127.0.0.1 "$port" 5
check "wait-for-port: open port -> exit 0" contains "$RC $OUT" "^0 wait-for-port: 127.0.0.1:$port is open"
run "$hooks/wait-for-port" 127.0.0.1 "$closed" 1
check "wait-for-port: closed port -> exit 1" contains "$RC $ERR" "^1 wait-for-port: 127.0.0.1:$closed is still closed after 1 seconds"
run "$hooks/wait-for-port" --closed 127.0.0.1 "$closed" 1
check "wait-for-port --closed: closed port -> exit 0" test "$RC" -eq 0
(sleep 1; kill $server) &
run "$hooks/wait-for-port" --closed 127.0.0.1 "$port" 10
check "wait-for-port --closed: waits until the server goes away" test "$RC" -eq 0
run "$hooks/wait-for-port" 127.0.0.1 notaport
check "wait-for-port: bad port -> exit 2" test "$RC" -eq 2

# systemd-unit against a stand-in systemctl that keeps unit states in files
mkdir -p "$T_TMP/fake" "$T_TMP/units"
cat >"$T_TMP/fake/systemctl" <<'SH'
#!/bin/sh
# stand-in: units are files in $UNITS holding their state
case $1 in
show) eval "u=\${$#}"; [ -e "$UNITS/$u" ] && echo loaded || echo not-found ;;
is-active) cat "$UNITS/$2" 2>/dev/null || echo inactive ;;
start|restart) [ -e "$UNITS/$3" ] || exit 5; echo "$1 $3" >>"$UNITS/log"
	if [ "$3" = broken.service ]; then echo failed >"$UNITS/$3"; else (sleep 1; echo active >"$UNITS/$3") & fi ;;
stop) [ -e "$UNITS/$3" ] || exit 5; echo "stop $3" >>"$UNITS/log"; (sleep 1; echo inactive >"$UNITS/$3") & ;;
status) echo "status of $3" ;;
esac
SH
chmod 755 "$T_TMP/fake/systemctl"
export UNITS=$T_TMP/units
echo inactive >"$UNITS/app.service"
echo inactive >"$UNITS/broken.service"
run env PATH="$T_TMP/fake:$PATH" "$hooks/systemd-unit" start app.service 10
check "systemd-unit start: waits until active" contains "$RC $OUT" '^0 systemd-unit: app.service is active'
check "systemd-unit start: asked systemctl without blocking" contains "$(cat "$UNITS/log")" '^start app.service$'
run env PATH="$T_TMP/fake:$PATH" "$hooks/systemd-unit" stop app.service 10
check "systemd-unit stop: waits until inactive" contains "$RC $OUT" '^0 systemd-unit: app.service is inactive'
run env PATH="$T_TMP/fake:$PATH" "$hooks/systemd-unit" stop absent.service 10
check "systemd-unit stop of a unit that is not loaded: exit 0" contains "$RC $OUT" '^0 .*not loaded; nothing to stop'
run env PATH="$T_TMP/fake:$PATH" "$hooks/systemd-unit" start broken.service 10
check "systemd-unit start of a failing unit: exit 1 with its status" contains "$RC $ERR" '^1 systemd-unit: broken.service is failed, not active'
run env PATH="$T_TMP/fake:$PATH" "$hooks/systemd-unit" reload app.service
check "systemd-unit: bad action -> exit 2" test "$RC" -eq 2

for f in wait-for-http wait-for-port; do
	check "hello-app carries the current stock $f" cmp -s "$hooks/$f" "$TOP_SRCDIR/tests/data/hello-app/scripts/$f"
done
for f in "$hooks"/*; do
	check "$(basename "$f") documents its usage at the top" contains "$(head -5 "$f")" "^#   $(basename "$f") "
done

done_testing
