#!/usr/bin/python3
"""github.py: a double of GitHub's archive download for bundle tests.

Two HTTPS listeners on 127.0.0.1, each on its own ephemeral port:
  api       GET|HEAD /repos/<owner>/<repo>/tarball/<commit>
            GET|HEAD /repos/<owner>/<repo>/zipball/<commit>
            answers 302 with Location on the codeload listener:
            https://<codeload-host>:<port>/<owner>/<repo>/legacy.tar.gz/<sha>
            (or legacy.zip), as api.github.com redirects to codeload.
  codeload  GET|HEAD /<owner>/<repo>/legacy.tar.gz/<commit> (or legacy.zip)
            serves <root>/<owner>/<repo>/<commit>.tar.gz (or .zip).

Rules on the api listener, checked in this order:
  * --fail-first N: the first N requests (to the listener(s) chosen by
    --fail-on, default api) get 500 with a JSON body.
  * no User-Agent header (or an empty one) -> 403, as GitHub does.
  * with --token T: "Authorization: token T" is required.  Without an
    Authorization header -> 404 (GitHub hides private repositories);
    with a different one -> 401 "Bad credentials".
  * an unknown path, repository or commit -> 404.
The codeload listener needs neither; every record it logs carries
"authorization_forwarded": true/false, whether the client (wrongly) sent
its Authorization header across the redirect to this other host:port.

Usage:
  github.py --root DIR --cert server.pem [--token T] [--fail-first N]
            [--fail-on api|codeload|both] [--codeload-host 127.0.0.1]
            [--log requests.jsonl] [--port-file F] [--config JSON]
Readiness: "API_PORT CODELOAD_PORT" in the port file, "READY API CODELOAD"
on stdout.  Log records: server ("api"/"codeload"), method, target, path,
query, headers, status, and for redirects "location".
"""
import argparse
import os
import re
import sys
import threading

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import srvlib  # noqa: E402

NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
FORMATS = {"tarball": ("legacy.tar.gz", ".tar.gz", "application/x-gzip"),
           "zipball": ("legacy.zip", ".zip", "application/zip")}
CODELOAD = {v[0]: (v[1], v[2]) for v in FORMATS.values()}


def safe_name(s):
    return bool(NAME_RE.match(s)) and not s.startswith(".")


class State:
    """Options and the shared failure counter."""

    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.failed = 0
        self.codeload_port = None

    def take_failure(self, role):
        if self.args.fail_on not in (role, "both"):
            return False
        with self.lock:
            if self.failed < self.args.fail_first:
                self.failed += 1
                return True
        return False

    def fixture(self, owner, repo, commit, suffix):
        if not (safe_name(owner) and safe_name(repo) and safe_name(commit)):
            return None
        path = os.path.join(self.args.root, owner, repo, commit + suffix)
        return path if os.path.isfile(path) else None


class GitHubHandler(srvlib.Handler):
    state = None

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        if self.server.name == "api":
            self.api()
        else:
            self.codeload()

    def do_POST(self):
        self.drain_body()
        self.not_found()

    do_PUT = do_DELETE = do_PATCH = do_POST

    def not_found(self, **extra):
        self.record(404, **extra)
        self.send_json(404, {"message": "Not Found",
                             "documentation_url": "https://docs.github.com"})

    def fail(self, **extra):
        self.record(500, injected_failure=True, **extra)
        self.send_json(500, {"message": "Injected server error"})

    def api(self):
        st = self.state
        if st.take_failure("api"):
            return self.fail()
        if not self.headers.get("User-Agent"):
            self.record(403)
            return self.send_json(403, {
                "message": "Requests without a User-Agent header are "
                           "refused; send one (any value will do)."})
        if st.args.token is not None:
            auth = self.headers.get("Authorization")
            if auth is None:
                return self.not_found(reason="no authorization")
            if auth != "token " + st.args.token:
                self.record(401)
                return self.send_json(401, {"message": "Bad credentials"})
        path, _ = self.split_path()
        parts = path.split("/")
        # ['', 'repos', owner, repo, 'tarball', commit]
        if (len(parts) != 6 or parts[0] != "" or parts[1] != "repos"
                or parts[4] not in FORMATS):
            return self.not_found()
        owner, repo, fmt, commit = parts[2], parts[3], parts[4], parts[5]
        name, suffix, _ = FORMATS[fmt]
        if st.fixture(owner, repo, commit, suffix) is None:
            return self.not_found()
        scheme = "https" if self.server.tls else "http"
        location = "%s://%s:%d/%s/%s/%s/%s" % (
            scheme, st.args.codeload_host, st.codeload_port, owner, repo,
            name, commit)
        self.record(302, location=location)
        self.send_body(302, b"", "text/html; charset=utf-8",
                       [("Location", location)])

    def codeload(self):
        st = self.state
        forwarded = "authorization" in self.header_dict()
        if st.take_failure("codeload"):
            return self.fail(authorization_forwarded=forwarded)
        path, _ = self.split_path()
        parts = path.split("/")
        # ['', owner, repo, 'legacy.tar.gz', commit]
        if len(parts) != 5 or parts[0] != "" or parts[3] not in CODELOAD:
            return self.not_found(authorization_forwarded=forwarded)
        owner, repo, name, commit = parts[1], parts[2], parts[3], parts[4]
        suffix, ctype = CODELOAD[name]
        fixture = st.fixture(owner, repo, commit, suffix)
        if fixture is None:
            return self.not_found(authorization_forwarded=forwarded)
        with open(fixture, "rb") as f:
            body = f.read()
        self.record(200, authorization_forwarded=forwarded, bytes=len(body))
        filename = "%s-%s-%s%s" % (owner, repo, commit[:7], suffix)
        self.send_body(200, body, ctype, [
            ("Content-Disposition", "attachment; filename=" + filename)])


def main():
    ap = argparse.ArgumentParser(
        description="GitHub API + codeload double over HTTPS")
    srvlib.add_common_args(ap)
    ap.add_argument("--root", help="fixtures: ROOT/<owner>/<repo>/<commit>"
                    ".tar.gz and .zip")
    ap.add_argument("--token", help="require 'Authorization: token T'")
    ap.add_argument("--fail-first", type=int, default=0, metavar="N",
                    help="answer the first N requests with 500")
    ap.add_argument("--fail-on", choices=("api", "codeload", "both"),
                    default="api")
    ap.add_argument("--codeload-host", default="127.0.0.1",
                    help="host name put in the redirect (localhost also "
                    "matches the certificate)")
    args = srvlib.parse_args_with_config(ap)
    if not args.root or not os.path.isdir(args.root):
        ap.error("--root DIR (an existing directory) is required")

    state = State(args)
    GitHubHandler.state = state
    tls = srvlib.tls_context(args)
    log = srvlib.RequestLog(args.log)
    api = srvlib.Server(GitHubHandler, tls, log, "api")
    codeload = srvlib.Server(GitHubHandler, tls, log, "codeload")
    state.codeload_port = codeload.port
    api.serve_in_thread()
    codeload.serve_in_thread()
    srvlib.announce([api.port, codeload.port], args.port_file)
    srvlib.wait_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
