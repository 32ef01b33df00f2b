#!/usr/bin/python3
"""freeport.py [N]: print N (default 1) distinct free TCP ports on 127.0.0.1.

For daemons that cannot bind port 0 and report it (ceph-mon, radosgw).
The ports are picked at random between 10000 and the start of the kernel's
ephemeral range (net.ipv4.ip_local_port_range, usually 32768), so that
neither an outgoing connection nor a server binding port 0 can take one
between this check and the daemon's bind; that range is also clear of
Ceph's OSD ports (6800-7300).  Each port is checked by binding it (all N at
once); they are released before this exits, so a caller must bind them
soon and fail loudly if one was taken in between.  If the ephemeral range
starts too low, the kernel's port-0 choice is used instead.

Usage: read -r mon http https < <(/usr/bin/python3 freeport.py 3)
"""
import random
import socket
import sys

LOW = 10000


def ephemeral_start():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def try_bind(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        s.close()
        return None
    return s


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    high = ephemeral_start()
    socks = []
    try:
        if high - LOW >= 1000:
            candidates = random.sample(range(LOW, high), min(high - LOW, 200))
            for port in candidates:
                s = try_bind(port)
                if s is not None:
                    socks.append(s)
                    if len(socks) == count:
                        break
        while len(socks) < count:
            socks.append(try_bind(0))
        print(" ".join(str(s.getsockname()[1]) for s in socks))
    finally:
        for s in socks:
            s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
