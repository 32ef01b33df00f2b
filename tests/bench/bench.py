#!/usr/bin/python3
"""make bench: unpack + install of generated bundles next to the floor.

For each payload (empty; 10 x 100 KiB; 10,000 x 4 KiB; 4 x 125 MiB) and each
bundle format (directory, tar, tgz, zip), time cdagent's DownloadBundle
unpack + Install (tests/bench/deploy-bench) and, in the same run, the floor:
`tar -xf` (or `unzip -q`, or `cp -a` for a directory) into a scratch dir
followed by `cp -a` to the destination.  Prints a table of median wall
times, the ratio ours/floor, and peak RSS of each.
"""
import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile

PAYLOADS = [
    ("empty", 0, 0),
    ("10 x 100 KiB", 10, 100 * 1024),
    ("10000 x 4 KiB", 10000, 4 * 1024),
    ("4 x 125 MiB", 4, 125 * 1024 * 1024),
]
FORMATS = ["directory", "tar", "tgz", "zip"]
if not os.path.exists("/usr/bin/time"):
    sys.exit("bench: needs GNU time (apt-get install time)")
APPSPEC = b"version: 0.0\nos: linux\n"


def make_tree(path, count, size):
    os.makedirs(path)
    with open(os.path.join(path, "appspec.yml"), "wb") as f:
        f.write(APPSPEC)
    rnd = random.Random(42)
    block = bytes(rnd.getrandbits(8) for _ in range(65536))
    for i in range(count):
        sub = os.path.join(path, "d%03d" % (i // 1000))
        os.makedirs(sub, exist_ok=True)
        with open(os.path.join(sub, "f%05d" % i), "wb") as f:
            left = size
            while left > 0:
                n = min(left, len(block))
                # vary content so compression is realistic, not trivial
                f.write(block[(i * 7) % 1024:][:n] if n < len(block) - 1024 else block[:n])
                left -= n


def make_bundles(work, name, count, size):
    tree = os.path.join(work, name, "tree")
    make_tree(tree, count, size)
    out = {"directory": tree}
    tar_path = os.path.join(work, name, "bundle.tar")
    with tarfile.open(tar_path, "w") as t:
        for entry in sorted(os.listdir(tree)):
            t.add(os.path.join(tree, entry), arcname=entry)
    out["tar"] = tar_path
    tgz_path = os.path.join(work, name, "bundle.tgz")
    with tarfile.open(tgz_path, "w:gz", compresslevel=1) as t:
        for entry in sorted(os.listdir(tree)):
            t.add(os.path.join(tree, entry), arcname=entry)
    out["tgz"] = tgz_path
    zip_path = os.path.join(work, name, "bundle.zip")
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for root, dirs, files in os.walk(tree):
            dirs.sort()
            for fn in sorted(files):
                full = os.path.join(root, fn)
                z.write(full, os.path.relpath(full, tree))
    out["zip"] = zip_path
    return out


def run(cmd):
    """Run a command under GNU time; return (seconds, its peak RSS in KiB).

    The RSS comes from /usr/bin/time -f %M (a fork of the small `time`
    binary), not from this Python process's wait4: a child's peak RSS
    counts the memory of the process it was forked from.
    """
    start = time.monotonic()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    elapsed = time.monotonic() - start
    err = proc.stderr.decode()
    if proc.returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(cmd), err))
    return elapsed, int(err.strip().splitlines()[-1])


def floor_cmd(fmt, bundle, scratch, dest):
    if fmt == "directory":
        first = "cp -a '%s/.' '%s/'" % (bundle, scratch)
    elif fmt == "zip":
        first = "unzip -q '%s' -d '%s'" % (bundle, scratch)
    else:
        first = "tar -xf '%s' -C '%s'" % (bundle, scratch)
    return ["/bin/sh", "-c", "%s && cp -a '%s/.' '%s/'" % (first, scratch, dest)]


def fresh(*paths):
    for p in paths:
        shutil.rmtree(p, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--builddir", default=".")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--workdir", default="/var/tmp")
    ap.add_argument("--only", default="", help="substring of payload names")
    args = ap.parse_args()
    tool = os.path.abspath(os.path.join(args.builddir, "tests/bench/deploy-bench"))
    work = tempfile.mkdtemp(prefix="cdagent-bench.", dir=args.workdir)
    rows = []
    try:
        for name, count, size in PAYLOADS:
            if args.only and args.only not in name:
                continue
            print("generating %s ..." % name, file=sys.stderr, flush=True)
            bundles = make_bundles(work, name.replace(" ", ""), count, size)
            for fmt in FORMATS:
                bundle = bundles[fmt]
                runs = args.runs if count * size < 100 << 20 else max(3, args.runs // 2)
                ours, floor, ours_rss, floor_rss = [], [], 0, 0
                for _ in range(runs):
                    scratch = os.path.join(work, "scratch")
                    dest = os.path.join(work, "dest")
                    fresh(scratch, dest)
                    os.makedirs(scratch)
                    os.makedirs(dest)
                    t, rss = run(floor_cmd(fmt, bundle, scratch, dest))
                    floor.append(t)
                    floor_rss = max(floor_rss, rss)
                    fresh(scratch, dest)
                    os.makedirs(scratch)
                    os.makedirs(dest)
                    t, rss = run([tool, fmt, bundle, scratch, dest])
                    ours.append(t)
                    ours_rss = max(ours_rss, rss)
                fresh(os.path.join(work, "scratch"), os.path.join(work, "dest"))
                mo, mf = statistics.median(ours), statistics.median(floor)
                rows.append((name, fmt, mf, mo, mo / mf if mf > 0 else 0,
                             floor_rss, ours_rss))
                print("%-14s %-9s floor %.3fs  cdagent %.3fs  ratio %.2f  rss %d/%d KiB"
                      % rows[-1], file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("| payload | format | floor (s) | cdagent (s) | ratio | floor peak RSS | cdagent peak RSS |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for name, fmt, mf, mo, ratio, frss, orss in rows:
        print("| %s | %s | %.3f | %.3f | %.2f | %.1f MiB | %.1f MiB |"
              % (name, fmt, mf, mo, ratio, frss / 1024, orss / 1024))
    print("\nfloor = tar -xf / unzip -q / cp -a into a scratch dir, then cp -a to "
          "the destination; median of the runs, same machine, same run.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
