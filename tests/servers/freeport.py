#!/usr/bin/python3
"""freeport.py [N]: print N (default 1) distinct free TCP ports on 127.0.0.1.

For daemons that cannot bind port 0 and report it (ceph-mon, radosgw).
All N sockets are bound at once, so the ports differ; the kernel picks them
from the ephemeral range (net.ipv4.ip_local_port_range), which is disjoint
from Ceph's OSD range (ms_bind_port_min..max, 6800-7300).  The ports are
released before this exits, so a caller must bind them soon and fail loudly
if one was taken in between.

Usage: read -r mon http https < <(/usr/bin/python3 freeport.py 3)
"""
import socket
import sys


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    socks = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        print(" ".join(str(s.getsockname()[1]) for s in socks))
    finally:
        for s in socks:
            s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
