#!/usr/bin/python3
"""A fake EC2 instance metadata service (IMDS) for cdagent's tests.

Listens on 127.0.0.1 on an ephemeral port (or --port) and prints
"READY <port>" on stdout once it accepts connections (and writes the port
to --port-file, atomically, if given).

IMDSv2 as EC2 does it:
  * PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds 1..21600
    returns a token valid for that many seconds (echoing the TTL header);
    a missing or bad TTL is 400, a request carrying X-Forwarded-For (sent
    through a proxy) is 403.  --token-status N answers every PUT with N
    instead (an IMDS without v2, or one that refuses PUT); --token-delay S
    waits S seconds before answering (a hop limit that drops the reply).
  * A GET with an unknown or expired token is 401.  A GET without a token
    is 401 with --v2-only, else served as IMDSv1.

Paths served: /latest/meta-data/ (a listing), .../instance-id,
.../services/partition, .../services/domain (404 when set to ""),
/latest/dynamic/instance-identity/document, .../iam/security-credentials/
(the role; 404 without one) and .../iam/security-credentials/<role>: new
credentials on every request (AccessKeyId ASIAFAKE<serial>), expiring
--credentials-lifetime seconds later, so a client's refresh is visible.
--pad wraps bodies (and the document's region) in white space.

Control (not part of IMDS), POST with an empty body, answers JSON:
  /_control/expire-tokens      every token issued so far becomes invalid
  /_control/set?key=value...   change v2_only, token_status, token_delay,
                               role, partition, domain, region,
                               credentials_lifetime
  /_control/state              counters: tokens issued, credentials issued

Every request is appended to --log as one JSON line: seq, method, path,
token ("none", "valid", "expired", "unknown"), ttl (the TTL header or
null), forwarded (X-Forwarded-For present), absolute (an absolute URI in
the request line: a proxy-style request), status.  Token and key values
are never logged.

Stops on SIGTERM/SIGINT, and with --exit-with-stdin when stdin reaches
end-of-file (so a crashed test leaves no server behind).
"""
import argparse
import datetime
import json
import os
import secrets
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

MAX_TTL = 21600
TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"
TOKEN_HEADER = "X-aws-ec2-metadata-token"


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.v2_only = args.v2_only
        self.token_status = args.token_status
        self.token_delay = args.token_delay
        self.role = args.role
        self.partition = args.partition
        self.domain = args.domain
        self.region = args.region
        self.account_id = args.account_id
        self.instance_id = args.instance_id
        self.credentials_lifetime = args.credentials_lifetime
        self.pad = args.pad
        self.tokens = {}  # token -> monotonic expiry
        self.tokens_issued = 0
        self.credentials_issued = 0
        self.seq = 0
        self.log = open(args.log, "a", encoding="utf-8") if args.log else None

    def record(self, entry):
        with self.lock:
            self.seq += 1
            entry["seq"] = self.seq
            if self.log:
                self.log.write(json.dumps(entry, sort_keys=True) + "\n")
                self.log.flush()


def utc_iso(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def version_string(self):
        return "EC2ws"

    def log_message(self, fmt, *args):  # quiet: the JSON log says it all
        pass

    @property
    def st(self):
        return self.server.state

    def reply(self, status, body=b"", ctype="text/plain", headers=None):
        if isinstance(body, str):
            body = body.encode()
        # Logged before the reply leaves, so a client that has its answer
        # always finds the request in the log.
        self.entry["status"] = status
        self.st.record(self.entry)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def padded(self, text):
        return "\n  " + text + " \n" if self.st.pad else text

    def begin(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        split = urlsplit(self.path)
        self.entry = {
            "method": self.command,
            "path": split.path,
            "token": "none",
            "ttl": self.headers.get(TTL_HEADER),
            "forwarded": self.headers.get("X-Forwarded-For") is not None,
            "absolute": self.path.startswith("http://"),
            "status": None,
        }
        return split

    def do_PUT(self):
        split = self.begin()
        if split.path != "/latest/api/token":
            return self.reply(404, "Not Found")
        if self.st.token_delay:
            time.sleep(self.st.token_delay)
        if self.st.token_status:
            return self.reply(self.st.token_status, "refused")
        if self.entry["forwarded"]:
            return self.reply(403, "Forbidden")
        ttl = self.headers.get(TTL_HEADER)
        try:
            ttl = int(ttl)
        except (TypeError, ValueError):
            return self.reply(400, "Bad Request")
        if not 1 <= ttl <= MAX_TTL:
            return self.reply(400, "Bad Request")
        token = secrets.token_urlsafe(32)
        with self.st.lock:
            self.st.tokens[token] = time.monotonic() + ttl
            self.st.tokens_issued += 1
        self.reply(200, token, headers={TTL_HEADER: str(ttl)})

    def do_POST(self):
        split = self.begin()
        if split.path == "/_control/expire-tokens":
            with self.st.lock:
                self.st.tokens.clear()
        elif split.path == "/_control/set":
            for key, value in parse_qsl(split.query, keep_blank_values=True):
                if key in ("v2_only", "pad"):
                    setattr(self.st, key, value.lower() in ("1", "true", "yes"))
                elif key in ("token_status", "credentials_lifetime"):
                    setattr(self.st, key, int(value))
                elif key == "token_delay":
                    self.st.token_delay = float(value)
                elif key in ("role", "partition", "domain", "region"):
                    setattr(self.st, key, value)
                else:
                    return self.reply(400, "unknown key %s" % key)
        elif split.path != "/_control/state":
            return self.reply(404, "Not Found")
        with self.st.lock:
            state = {
                "tokens_issued": self.st.tokens_issued,
                "credentials_issued": self.st.credentials_issued,
                "live_tokens": len(self.st.tokens),
            }
        self.reply(200, json.dumps(state), "application/json")

    def check_token(self):
        """None when the request may go on, else the status to answer."""
        token = self.headers.get(TOKEN_HEADER)
        if token is None:
            return 401 if self.st.v2_only else None
        with self.st.lock:
            expiry = self.st.tokens.get(token)
        if expiry is None:
            self.entry["token"] = "unknown"
            return 401
        if time.monotonic() >= expiry:
            self.entry["token"] = "expired"
            return 401
        self.entry["token"] = "valid"
        return None

    def do_GET(self):
        split = self.begin()
        status = self.check_token()
        if status is not None:
            return self.reply(status, "Unauthorized")
        self.serve_metadata(split.path)

    def serve_metadata(self, path):
        st = self.st
        creds_prefix = "/latest/meta-data/iam/security-credentials/"
        if path in ("/latest/meta-data", "/latest/meta-data/"):
            return self.reply(200, "ami-id\ninstance-id\niam/\nservices/")
        if path == "/latest/meta-data/instance-id":
            return self.reply(200, self.padded(st.instance_id))
        if path == "/latest/meta-data/services/partition":
            if not st.partition:
                return self.reply(404, "Not Found")
            return self.reply(200, self.padded(st.partition))
        if path == "/latest/meta-data/services/domain":
            if not st.domain:
                return self.reply(404, "Not Found")
            return self.reply(200, self.padded(st.domain))
        if path == "/latest/dynamic/instance-identity/document":
            region = "  %s\n" % st.region if st.pad else st.region
            doc = {
                "accountId": st.account_id,
                "architecture": "x86_64",
                "availabilityZone": st.region + "a",
                "imageId": "ami-0123456789abcdef0",
                "instanceId": st.instance_id,
                "instanceType": "t3.micro",
                "pendingTime": "2024-01-01T00:00:00Z",
                "privateIp": "10.0.0.10",
                "region": region,
                "version": "2017-09-30",
            }
            return self.reply(200, self.padded(json.dumps(doc, indent=2)),
                              "application/json")
        if path == creds_prefix:
            if not st.role:
                return self.reply(404, "Not Found")
            return self.reply(200, self.padded(st.role))
        if path.startswith(creds_prefix):
            if not st.role or path[len(creds_prefix):] != st.role:
                return self.reply(404, "Not Found")
            with st.lock:
                st.credentials_issued += 1
                serial = st.credentials_issued
                lifetime = st.credentials_lifetime
            now = time.time()
            body = {
                "Code": "Success",
                "LastUpdated": utc_iso(now),
                "Type": "AWS-HMAC",
                "AccessKeyId": "ASIAFAKE%012d" % serial,
                "SecretAccessKey": "secret-%d-%s" % (serial, secrets.token_hex(8)),
                "Token": "token-%d-%s" % (serial, secrets.token_hex(16)),
                "Expiration": utc_iso(now + lifetime),
            }
            return self.reply(200, json.dumps(body, indent=2), "application/json")
        return self.reply(404, "Not Found")


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that gave up (a timeout test) is not an error.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log")
    ap.add_argument("--v2-only", action="store_true")
    ap.add_argument("--token-status", type=int, default=0)
    ap.add_argument("--token-delay", type=float, default=0.0)
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--account-id", default="123456789012")
    ap.add_argument("--instance-id", default="i-deadbeef")
    ap.add_argument("--partition", default="aws")
    ap.add_argument("--domain", default="amazonaws.com")
    ap.add_argument("--role", default="cdagent-test-role")
    ap.add_argument("--credentials-lifetime", type=int, default=3600)
    ap.add_argument("--pad", action="store_true")
    ap.add_argument("--exit-with-stdin", action="store_true")
    args = ap.parse_args()

    server = Server(("127.0.0.1", args.port), Handler)
    server.state = State(args)
    port = server.server_address[1]

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.exit_with_stdin:
        def watch():
            while sys.stdin.buffer.read(4096):
                pass
            stop()
        threading.Thread(target=watch, daemon=True).start()

    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, args.port_file)
    print("READY %d" % port, flush=True)
    server.serve_forever(poll_interval=0.1)
    server.server_close()


if __name__ == "__main__":
    main()
