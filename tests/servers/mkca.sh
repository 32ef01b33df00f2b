#!/bin/bash
# mkca.sh DIR: a throwaway certificate authority and one server certificate
# for the test servers on 127.0.0.1.
#
# Writes into DIR (created if missing):
#   ca.crt ca.key          the CA (EC P-256, CA:TRUE), valid 30 days
#   server.crt server.key  CN=127.0.0.1, SAN IP:127.0.0.1,DNS:localhost,
#                          serverAuth, signed by the CA
#   server.pem             server.crt followed by server.key (radosgw's
#                          ssl_certificate, and --cert of the python servers)
#   cadir/                 the CA as cadir/ca.pem plus its OpenSSL hash link
#                          (<hash>.0), for AWS_SSL_CA_DIRECTORY-style tests
#
# Idempotent: if every file is present, the server certificate verifies
# against the CA and neither expires within a day, nothing is rewritten.
# Otherwise all files are made afresh in DIR/.mkca.tmp and moved into place.
# Prints nothing on success; exits non-zero with openssl's message otherwise.
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
	echo "usage: $0 DIR" >&2
	exit 2
fi
dir=$1
mkdir -p "$dir"
files="ca.crt ca.key server.crt server.key server.pem cadir/ca.pem"

current() {
	local f
	for f in $files; do
		[ -s "$dir/$f" ] || return 1
	done
	openssl x509 -checkend 86400 -noout -in "$dir/ca.crt" >/dev/null &&
		openssl x509 -checkend 86400 -noout -in "$dir/server.crt" >/dev/null &&
		openssl verify -CAfile "$dir/ca.crt" "$dir/server.crt" >/dev/null 2>&1 &&
		[ -e "$dir/cadir/$(openssl x509 -hash -noout -in "$dir/ca.crt").0" ]
}

current && exit 0

tmp=$dir/.mkca.tmp
rm -rf "$tmp"
mkdir -p "$tmp/cadir"
trap 'rm -rf "$tmp"' EXIT
umask 077

openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$tmp/ca.key" -out "$tmp/ca.crt" -days 30 \
	-subj "/CN=cdagent test CA $(date +%s)-$$" \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" \
	-addext "subjectKeyIdentifier=hash" 2>"$tmp/err" ||
	{ cat "$tmp/err" >&2; exit 1; }

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$tmp/server.key" -out "$tmp/server.csr" \
	-subj "/CN=127.0.0.1" 2>"$tmp/err" ||
	{ cat "$tmp/err" >&2; exit 1; }

cat >"$tmp/ext.cnf" <<'EOF'
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.crt" \
	-CAkey "$tmp/ca.key" -set_serial "0x$(openssl rand -hex 8)" -days 30 \
	-extfile "$tmp/ext.cnf" -out "$tmp/server.crt" 2>"$tmp/err" ||
	{ cat "$tmp/err" >&2; exit 1; }

cat "$tmp/server.crt" "$tmp/server.key" >"$tmp/server.pem"
cp "$tmp/ca.crt" "$tmp/cadir/ca.pem"
ln -s ca.pem "$tmp/cadir/$(openssl x509 -hash -noout -in "$tmp/ca.crt").0"
chmod 644 "$tmp/ca.crt" "$tmp/server.crt" "$tmp/cadir/ca.pem"
chmod 755 "$tmp/cadir"

rm -rf "$dir/cadir"
for f in ca.key ca.crt server.key server.crt server.pem; do
	mv -f "$tmp/$f" "$dir/$f"
done
mv "$tmp/cadir" "$dir/cadir"
