#!/usr/bin/python3
"""badhttp.py: a misbehaving S3-like HTTPS server for download fault tests.

Serves path-style GET/HEAD /<bucket>/<key> from local files, like S3's
GetObject (no signature check), and misbehaves on request.

Usage:
  badhttp.py --object /BUCKET/KEY=FILE [--object ...] [--etag E]
             [--version-id V] [--fault MODE] [--times N] [--after BYTES]
             [--status CODE] [--code S3CODE] [--message TEXT]
             [--stall-seconds S] [--objects JSON]
             [--cert server.pem | --no-tls]
             [--log requests.jsonl] [--port-file F] [--config JSON_FILE]
The --etag, --version-id and fault options apply to the --object objects,
which share one fault counter.  --objects (a JSON array) adds objects that
each carry their own options and counter, so one server can play several
scenarios:
  --objects '[{"path": "/b/slow", "file": "/tmp/f", "fault": "stall",
               "after": 100},
              {"path": "/b/busy", "file": "/tmp/f", "fault": "error",
               "status": 503, "code": "SlowDown", "times": 2}]'
(keys: path, file, etag, version_id, fault, times, after, status, code,
message, stall_seconds).  --config FILE: a JSON object whose keys are the
long option names, e.g. {"object": ["/b/k=/tmp/f"], "fault": "error",
"status": 429, "code": "SlowDown", "objects": [...]}; the command line
overrides it.

Normal behaviour:
  200 with the file, Content-Length, ETag (default: the quoted MD5 of the
  file), Last-Modified, Accept-Ranges and x-amz-version-id when a version
  id is set.  ?versionId= other than the object's -> 404 NoSuchVersion; an
  unknown key -> 404 NoSuchKey; If-Match with another ETag -> 412
  PreconditionFailed; methods other than GET/HEAD -> 405.
  Range: bytes=A-B, bytes=A- and bytes=-N -> 206 with Content-Range;
  a range starting past the end -> 416 InvalidRange; other Range values
  (several ranges, other units) are ignored -> 200.

Faults (MODE), applied to the first N (--times) requests for the object
(default: every request), after which it behaves normally:
  none        (default)
  truncate    headers with the full Content-Length, then only --after
              bytes of the body, then the connection is closed (GET only)
  stall       headers and --after bytes of the body, then nothing for
              --stall-seconds (default 300) (GET only)
  wrong-etag  the ETag header is not the object's ETag
  error       --status (default 500) with an S3 XML error document
              <Error><Code>--code</Code><Message>--message</Message>...,
              e.g. --status 503 --code SlowDown, --status 429 --code
              SlowDown, --status 400 --code Throttling, --status 403
              --code AccessDenied (messages default to S3's wording)
  drop        (command line only, for the whole server) close each new
              connection before the TLS handshake; N counts connections
Every request is logged (method, target, path, query, headers incl. Range,
status, "fault" when one was applied, "etag" sent, "bytes" of body sent);
a dropped connection logs {"event": "dropped"}.
Readiness: the port in --port-file, "READY <port>" on stdout.
"""
import argparse
import email.utils
import hashlib
import json
import os
import re
import sys
import threading
import uuid
from xml.sax.saxutils import escape

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import srvlib  # noqa: E402

FAULTS = ("none", "truncate", "stall", "wrong-etag", "error", "drop")
OBJECT_KEYS = {"path", "file", "etag", "version_id", "fault", "times",
               "after", "status", "code", "message", "stall_seconds"}
DEFAULT_MESSAGES = {
    "AccessDenied": "Access Denied",
    "SlowDown": "Please reduce your request rate.",
    "Throttling": "Rate exceeded",
    "InternalError": "We encountered an internal error. Please try again.",
    "ServiceUnavailable": "Service is unable to handle request.",
}
RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


class Fault:
    """One misbehaviour and how often it has been applied."""

    def __init__(self, mode="none", times=None, after=0, status=500,
                 code=None, message=None, stall_seconds=300.0):
        if mode not in FAULTS:
            raise ValueError("unknown fault %r (one of %s)"
                             % (mode, ", ".join(FAULTS)))
        self.mode = mode
        self.times = times
        self.after = int(after)
        self.status = int(status)
        self.code = code or ("InternalError" if self.status >= 500
                             else "AccessDenied")
        self.message = message if message is not None else \
            DEFAULT_MESSAGES.get(self.code, self.code)
        self.stall_seconds = float(stall_seconds)
        self.applied = 0
        self.lock = threading.Lock()

    def take(self, modes):
        """Whether this fault (if one of modes) applies to this request."""
        if self.mode not in modes:
            return False
        with self.lock:
            if self.times is None or self.applied < self.times:
                self.applied += 1
                return True
        return False


class Object:
    def __init__(self, path, file, fault, etag=None, version_id=None):
        if not path.startswith("/") or path.count("/") < 2:
            raise ValueError("object path %r: expected /BUCKET/KEY" % path)
        self.path = path
        with open(file, "rb") as f:
            self.data = f.read()
        self.etag = etag or hashlib.md5(self.data).hexdigest()
        if not self.etag.startswith('"'):
            self.etag = '"%s"' % self.etag
        self.version_id = version_id
        self.mtime = email.utils.formatdate(os.path.getmtime(file),
                                            usegmt=True)
        self.fault = fault


def parse_range(value, size):
    """(start, end) inclusive, "unsatisfiable", or None to ignore."""
    m = RANGE_RE.match(value.strip())
    if not m or (m.group(1) == "" and m.group(2) == ""):
        return None
    if m.group(1) == "":
        n = int(m.group(2))
        if n == 0:
            return "unsatisfiable"
        return max(0, size - n), size - 1
    start = int(m.group(1))
    end = int(m.group(2)) if m.group(2) else size - 1
    if m.group(2) and end < start:
        return None
    if start >= size:
        return "unsatisfiable"
    return start, min(end, size - 1)


class BadHandler(srvlib.Handler):
    objects = {}
    stop = threading.Event()

    def s3_error(self, status, code, message, extra_headers=(), **rec):
        path, _ = self.split_path()
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                "<Error><Code>%s</Code><Message>%s</Message>"
                "<Resource>%s</Resource><RequestId>%s</RequestId></Error>"
                % (escape(code), escape(message), escape(path),
                   self.request_id)).encode()
        self.record(status, error_code=code, **rec)
        self.send_body(status, body, "application/xml",
                       [("x-amz-request-id", self.request_id)]
                       + list(extra_headers))

    def do_PUT(self):
        self.request_id = uuid.uuid4().hex[:16].upper()
        self.drain_body()
        self.s3_error(405, "MethodNotAllowed",
                      "The specified method is not allowed against this "
                      "resource.")

    do_POST = do_DELETE = do_PATCH = do_PUT

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        self.request_id = uuid.uuid4().hex[:16].upper()
        is_get = self.command == "GET"
        path, query = self.split_path()
        obj = self.objects.get(path)
        if obj is None:
            return self.s3_error(404, "NoSuchKey",
                                 "The specified key does not exist.")
        fault = obj.fault
        if fault.take(("error",)):
            return self.s3_error(fault.status, fault.code, fault.message,
                                 fault="error")
        if "versionId" in query and query["versionId"][0] != obj.version_id:
            return self.s3_error(404, "NoSuchVersion",
                                 "The specified version does not exist.")
        if_match = self.headers.get("If-Match")
        if if_match is not None and if_match.strip('" ') not in (
                "*", obj.etag.strip('"')):
            return self.s3_error(412, "PreconditionFailed",
                                 "At least one of the pre-conditions you "
                                 "specified did not hold")

        size = len(obj.data)
        status, start, end = 200, 0, size - 1
        rng = self.headers.get("Range")
        parsed = parse_range(rng, size) if rng is not None else None
        if parsed == "unsatisfiable":
            return self.s3_error(416, "InvalidRange",
                                 "The requested range is not satisfiable",
                                 [("Content-Range", "bytes */%d" % size)])
        if parsed is not None:
            status, (start, end) = 206, parsed
        body = obj.data[start:end + 1]

        applied = None
        etag = obj.etag
        if fault.take(("wrong-etag",)):
            applied = "wrong-etag"
            etag = '"%s"' % hashlib.md5(b"wrong" + obj.data).hexdigest()
        elif is_get and fault.take(("truncate", "stall")):
            applied = fault.mode

        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", obj.mtime)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("x-amz-request-id", self.request_id)
        if status == 206:
            self.send_header("Content-Range",
                             "bytes %d-%d/%d" % (start, end, size))
        if obj.version_id:
            self.send_header("x-amz-version-id", obj.version_id)
        self.end_headers()
        if applied in ("truncate", "stall"):
            body = body[:fault.after]
        self.record(status, etag=etag, fault=applied,
                    bytes=len(body) if is_get else 0)
        if not is_get:
            return
        self.wfile.write(body)
        if applied in ("truncate", "stall"):
            self.wfile.flush()
            if applied == "stall":
                self.stop.wait(fault.stall_seconds)
            self.close_connection = True


class BadServer(srvlib.Server):
    drop = None

    def verify_request(self, request, client_address):
        if self.drop is not None and self.drop.take(("drop",)):
            self.log.write({"server": self.name, "event": "dropped",
                            "client_port": client_address[1]})
            return False
        return True


def load_objects(args):
    """path -> Object from --object and --objects; ValueError if bad."""
    objects = {}
    shared = Fault(args.fault if args.fault != "drop" else "none",
                   args.times, args.after, args.status, args.code,
                   args.message, args.stall_seconds)
    for spec in args.object:
        path, sep, file = spec.partition("=")
        if not sep:
            raise ValueError("--object %r: expected /BUCKET/KEY=FILE" % spec)
        objects[path] = Object(path, file, shared, args.etag,
                               args.version_id)
    for entry in args.objects or []:
        if not isinstance(entry, dict) or not {"path", "file"} <= set(entry):
            raise ValueError("--objects: each entry needs path and file")
        unknown = set(entry) - OBJECT_KEYS
        if unknown:
            raise ValueError("--objects: unknown keys %s"
                             % ", ".join(sorted(unknown)))
        if entry.get("fault") == "drop":
            raise ValueError("--objects: drop is a server-wide --fault")
        fault = Fault(entry.get("fault", "none"), entry.get("times"),
                      entry.get("after", 0), entry.get("status", 500),
                      entry.get("code"), entry.get("message"),
                      entry.get("stall_seconds", 300.0))
        objects[entry["path"]] = Object(entry["path"], entry["file"], fault,
                                        entry.get("etag"),
                                        entry.get("version_id"))
    return objects


def main():
    ap = argparse.ArgumentParser(description="misbehaving S3-like server")
    srvlib.add_common_args(ap)
    ap.add_argument("--object", action="append", default=[],
                    metavar="/BUCKET/KEY=FILE")
    ap.add_argument("--objects", type=json.loads, metavar="JSON",
                    help="a JSON array of objects with their own faults")
    ap.add_argument("--etag", help="ETag of the --object(s) (default: MD5)")
    ap.add_argument("--version-id", help="x-amz-version-id of the objects")
    ap.add_argument("--fault", choices=FAULTS, default="none")
    ap.add_argument("--times", type=int, default=None, metavar="N",
                    help="apply the fault to the first N requests only")
    ap.add_argument("--after", type=int, default=0, metavar="BYTES",
                    help="body bytes sent before truncate/stall")
    ap.add_argument("--status", type=int, default=500)
    ap.add_argument("--code", help="S3 error code for --fault error")
    ap.add_argument("--message", help="S3 error message for --fault error")
    ap.add_argument("--stall-seconds", type=float, default=300.0)
    args = srvlib.parse_args_with_config(ap)

    try:
        objects = load_objects(args)
    except (ValueError, OSError) as e:
        ap.error(str(e))
    if not objects:
        ap.error("no objects: give --object /BUCKET/KEY=FILE or --objects")

    BadHandler.objects = objects
    if args.fault == "drop":
        BadServer.drop = Fault("drop", args.times)
    stall = max([o.fault.stall_seconds for o in objects.values()])
    server = BadServer(BadHandler, srvlib.tls_context(args),
                       srvlib.RequestLog(args.log), "badhttp",
                       conn_timeout=max(30.0, stall + 5))
    server.serve_in_thread()
    srvlib.announce([server.port], args.port_file)
    srvlib.wait_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
