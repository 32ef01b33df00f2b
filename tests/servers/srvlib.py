"""Shared parts of the python test servers (github.py, badhttp.py, proxy.py).

Readiness protocol: a server binds 127.0.0.1 port 0 (the kernel picks a free
ephemeral port), and only once every listener is accepting does it
 * write its port(s), space-separated on one line, to --port-file F
   (written to F.tmp and renamed, so a reader never sees half a line), and
 * print "READY <port> [<port>...]" on stdout.
tests/servers/lib.sh (srv_start) waits for the port file.

Request log: --log F appends one JSON object per line per request (or per
connection event), flushed at once, so a test can read it as soon as its
client has finished.  Header names are lower-cased; repeated headers are
joined with ", ".

TLS: --cert PEM [--key PEM] (server.pem from mkca.sh holds both).  The
handshake runs in the connection's own thread, so a client that stalls or
fails the handshake does not block others; handshake failures are logged as
{"event": "tls-error"}.
"""
import argparse
import http.server
import json
import os
import socket
import ssl
import sys
import threading
import time
import urllib.parse


def add_common_args(ap, tls=True):
    """Add --config, --port-file, --log and (if tls) --cert/--key/--no-tls."""
    ap.add_argument("--config", help="JSON object of option defaults")
    ap.add_argument("--port-file", help="write the listening port(s) here")
    ap.add_argument("--log", help="append one JSON line per request here")
    if tls:
        ap.add_argument("--cert", help="PEM certificate (and key)")
        ap.add_argument("--key", help="PEM key if not in --cert")
        ap.add_argument("--no-tls", action="store_true",
                        help="serve plain HTTP instead of HTTPS")


def tls_context(args):
    """The server SSLContext for args, or None for plain HTTP."""
    if getattr(args, "no_tls", True):
        return None
    if not args.cert:
        sys.exit("%s: --cert PEM is required (or --no-tls)" % sys.argv[0])
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    return ctx


class RequestLog:
    """Thread-safe JSON-lines request log; a no-op without a path."""

    def __init__(self, path):
        self.lock = threading.Lock()
        self.file = open(path, "a", encoding="utf-8") if path else None

    def write(self, record):
        if self.file is None:
            return
        record = dict(record)
        record.setdefault("time", round(time.time(), 3))
        line = json.dumps(record, sort_keys=True, ensure_ascii=False)
        with self.lock:
            self.file.write(line + "\n")
            self.file.flush()


def announce(ports, port_file):
    """Tell the world the server is ready (see the module docstring)."""
    text = " ".join(str(p) for p in ports)
    if port_file:
        tmp = port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(text + "\n")
        os.replace(tmp, port_file)
    print("READY " + text, flush=True)


class Server(http.server.ThreadingHTTPServer):
    """A threading HTTP(S) server on 127.0.0.1:0 with a request log."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, handler, tls=None, log=None, name="server",
                 conn_timeout=30.0):
        self.tls = tls
        self.log = log or RequestLog(None)
        self.name = name
        self.conn_timeout = conn_timeout
        super().__init__(("127.0.0.1", 0), handler)

    @property
    def port(self):
        return self.server_address[1]

    def get_request(self):
        sock, addr = self.socket.accept()
        sock.settimeout(self.conn_timeout)
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_side=True,
                                        do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ssl.SSLError, ConnectionError, socket.timeout,
                            BrokenPipeError)):
            return
        super().handle_error(request, client_address)

    def serve_in_thread(self):
        t = threading.Thread(target=self.serve_forever, daemon=True)
        t.start()
        return t


class Handler(http.server.BaseHTTPRequestHandler):
    """Base request handler: TLS handshake in setup, JSON helpers, record()."""

    protocol_version = "HTTP/1.1"
    server_version = "cdagent-test"

    def version_string(self):
        return self.server_version

    def setup(self):
        if isinstance(self.request, ssl.SSLSocket):
            try:
                self.request.do_handshake()
            except (ssl.SSLError, OSError) as e:
                self.server.log.write({"server": self.server.name,
                                       "event": "tls-error",
                                       "error": str(e)})
                raise
        super().setup()

    def log_message(self, fmt, *args):
        sys.stderr.write("%s: %s\n" % (self.server.name, fmt % args))

    def header_dict(self):
        out = {}
        for name, value in self.headers.items():
            name = name.lower()
            out[name] = out[name] + ", " + value if name in out else value
        return out

    def split_path(self):
        """(path, query dict of lists) of the request target, decoded."""
        parts = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(parts.path, errors="surrogateescape")
        query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
        return path, query

    def record(self, status, **extra):
        path, query = self.split_path()
        rec = {"server": self.server.name, "method": self.command,
               "target": self.path, "path": path, "query": query,
               "headers": self.header_dict(), "status": status,
               "client_port": self.client_address[1]}
        rec.update(extra)
        self.server.log.write(rec)

    def send_body(self, status, body, content_type="application/octet-stream",
                  headers=(), head_only=False):
        """A complete response with Content-Length."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if not head_only and self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status, obj, headers=()):
        body = (json.dumps(obj, indent=2) + "\n").encode()
        self.send_body(status, body, "application/json; charset=utf-8",
                       headers)

    def drain_body(self):
        """Read and discard a request body so the connection stays usable."""
        length = int(self.headers.get("Content-Length") or 0)
        while length > 0:
            chunk = self.rfile.read(min(length, 65536))
            if not chunk:
                break
            length -= len(chunk)


def parse_args_with_config(ap, argv=None):
    """Parse argv; a --config JSON file (an object whose keys are long option
    names, '-' or '_') supplies defaults that the command line overrides."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config")
    known, _ = pre.parse_known_args(argv)
    if known.config:
        with open(known.config, encoding="utf-8") as f:
            cfg = json.load(f)
        if not isinstance(cfg, dict):
            ap.error("--config %s: expected a JSON object" % known.config)
        dests = {a.dest for a in ap._actions}
        defaults = {}
        for key, value in cfg.items():
            dest = key.replace("-", "_")
            if dest not in dests:
                ap.error("--config %s: unknown key %r" % (known.config, key))
            defaults[dest] = value
        ap.set_defaults(**defaults)
    return ap.parse_args(argv)


def wait_forever():
    """Block the main thread until SIGTERM/SIGINT ends the process."""
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
