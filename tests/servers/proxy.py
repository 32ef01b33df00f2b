#!/usr/bin/python3
"""proxy.py: a small HTTP CONNECT proxy on 127.0.0.1 for proxy/NO_PROXY tests.

The proxy speaks plain HTTP to its clients.  CONNECT host:port opens a TCP
connection to that target and, after "200 Connection established", relays
bytes both ways until either side closes (the TLS session runs end to end
through the tunnel).  Any other method gets 405 with "Allow: CONNECT".
With --auth USER:PASS a CONNECT without "Proxy-Authorization: Basic ..."
for those credentials gets 407 with a Proxy-Authenticate challenge.
A target that cannot be reached gets 502.

Usage:
  proxy.py [--auth USER:PASS] [--log requests.jsonl] [--port-file F]
Every request is logged when it is answered (for CONNECT: before the
relaying starts) with method, target ("host:port" for CONNECT), headers and
status; a finished tunnel adds {"event": "closed", "target": ...,
"bytes_up": N, "bytes_down": N}.
Readiness: the port in --port-file, "READY <port>" on stdout.
"""
import argparse
import base64
import select
import socket
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import srvlib  # noqa: E402


class ProxyHandler(srvlib.Handler):
    auth = None
    # Unbuffered reads: nothing past the request head may sit in a buffer,
    # it belongs to the tunnel.
    rbufsize = 0

    def refuse(self):
        self.drain_body()
        self.record(405)
        self.send_body(405, b"only CONNECT is supported\n",
                       "text/plain", [("Allow", "CONNECT")])

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = refuse
    do_OPTIONS = refuse

    def authorized(self):
        if self.auth is None:
            return True
        value = self.headers.get("Proxy-Authorization", "")
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            return base64.b64decode(token.strip()).decode() == self.auth
        except ValueError:
            return False

    def do_CONNECT(self):
        self.close_connection = True
        host, sep, port = self.path.rpartition(":")
        host = host.strip("[]")
        if not sep or not host or not port.isdigit():
            self.record(400)
            return self.send_body(400, b"CONNECT needs host:port\n",
                                  "text/plain")
        if not self.authorized():
            self.record(407)
            return self.send_body(407, b"proxy authentication required\n",
                                  "text/plain", [(
                                      "Proxy-Authenticate",
                                      'Basic realm="cdagent-test"')])
        try:
            upstream = socket.create_connection((host, int(port)), timeout=10)
        except OSError as e:
            self.record(502, error=str(e))
            return self.send_body(502, ("cannot reach %s: %s\n" % (
                self.path, e)).encode(), "text/plain")
        self.record(200)
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        up, down = self.relay(upstream)
        self.server.log.write({"server": self.server.name, "event": "closed",
                               "target": self.path, "bytes_up": up,
                               "bytes_down": down})

    def relay(self, upstream):
        """Copy bytes both ways until one side closes; (up, down) counts."""
        client = self.connection
        counts = {client: 0, upstream: 0}
        peer = {client: upstream, upstream: client}
        open_ends = [client, upstream]
        try:
            while open_ends:
                readable, _, _ = select.select(open_ends, [], [], 60)
                if not readable:
                    break
                for s in readable:
                    data = s.recv(65536)
                    if not data:
                        open_ends.remove(s)
                        try:
                            peer[s].shutdown(socket.SHUT_WR)
                        except OSError:
                            pass
                        continue
                    peer[s].sendall(data)
                    counts[s] += len(data)
        except OSError:
            pass
        finally:
            upstream.close()
        return counts[client], counts[upstream]


def main():
    ap = argparse.ArgumentParser(description="HTTP CONNECT proxy")
    srvlib.add_common_args(ap, tls=False)
    ap.add_argument("--auth", metavar="USER:PASS",
                    help="require Basic proxy authentication")
    args = srvlib.parse_args_with_config(ap)
    ProxyHandler.auth = args.auth
    server = srvlib.Server(ProxyHandler, None, srvlib.RequestLog(args.log),
                           "proxy")
    server.serve_in_thread()
    srvlib.announce([server.port], args.port_file)
    srvlib.wait_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
