#!/usr/bin/python3
"""make bench: unpack + install, and whole local deployments, next to the floor.

For each payload (empty; 10 x 100 KiB; 10,000 x 4 KiB; 4 x 125 MiB) and each
bundle format (directory, tar, tgz, zip), time cdagent's DownloadBundle
unpack + Install (tests/bench/deploy-bench) and, in the same run, the floor:
`tar -xf` (or `unzip -q`, or `cp -a` for a directory) into a scratch dir
followed by `cp -a` to the destination.  Then the same bundles deployed
whole with `cdagent local` (a config, DownloadBundle, Install, every hook
event) next to the same floor, and the overhead of a deployment of an
empty-payload bundle with five `exit 0` hooks.  Prints tables of median wall
times, the ratio ours/floor, and peak RSS.
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
HOOKS = ["ApplicationStop", "BeforeInstall", "AfterInstall",
         "ApplicationStart", "ValidateService"]


def appspec_for(dest, hooks):
    text = "version: 0.0\nos: linux\nfile_exists_behavior: OVERWRITE\n"
    text += "files:\n  - source: /\n    destination: %s\n" % dest
    if hooks:
        text += "hooks:\n"
        for ev in HOOKS:
            text += "  %s:\n    - location: hooks/ok.sh\n" % ev
    return text.encode()


def make_tree(path, count, size, dest, hooks=False):
    os.makedirs(path)
    with open(os.path.join(path, "appspec.yml"), "wb") as f:
        f.write(appspec_for(dest, hooks))
    if hooks:
        os.makedirs(os.path.join(path, "hooks"))
        with open(os.path.join(path, "hooks", "ok.sh"), "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        os.chmod(os.path.join(path, "hooks", "ok.sh"), 0o755)
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


def zip_tree(tree, zip_path):
    """A zip bundle of the tree's files, in name order (also redeploy.py)."""
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for root, dirs, files in os.walk(tree):
            dirs.sort()
            for fn in sorted(files):
                full = os.path.join(root, fn)
                z.write(full, os.path.relpath(full, tree))


def make_bundles(work, name, count, size, hooks=False):
    tree = os.path.join(work, name, "tree")
    make_tree(tree, count, size, os.path.join(work, "dest"), hooks)
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
    zip_tree(tree, zip_path)
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
    cdagent = os.path.abspath(os.path.join(args.builddir, "cdagent"))
    work = tempfile.mkdtemp(prefix="cdagent-bench.", dir=args.workdir)
    conf = os.path.join(work, "agent.yml")
    with open(conf, "w") as f:
        f.write(":root_dir: %s/root\n:log_dir: %s/log\n:max_revisions: 2\n"
                ":enable_deployments_log: false\n"
                ":on_premises_config_file: %s/none.yml\n" % (work, work, work))
    rows, deploy_rows, overhead = [], [], None

    def local_cmd(fmt, bundle):
        return [cdagent, "local", "-c", conf, "-l", bundle, "-t", fmt, "-g", "bench"]
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
                # the same bundle deployed whole by cdagent local
                local, local_rss = [], 0
                for _ in range(runs):
                    fresh(os.path.join(work, "root"), os.path.join(work, "dest"))
                    t, rss = run(local_cmd(fmt, bundle))
                    local.append(t)
                    local_rss = max(local_rss, rss)
                fresh(os.path.join(work, "root"), os.path.join(work, "dest"))
                ml = statistics.median(local)
                deploy_rows.append((name, fmt, mf, ml, ml / mf if mf > 0 else 0,
                                    local_rss))
                print("%-14s %-9s floor %.3fs  cdagent local %.3fs  ratio %.2f  rss %d KiB"
                      % deploy_rows[-1], file=sys.stderr, flush=True)
        if not args.only or args.only in "overhead":
            tree = os.path.join(work, "overhead", "tree")
            make_tree(tree, 0, 0, os.path.join(work, "dest"), hooks=True)
            times, peak = [], 0
            for _ in range(max(args.runs, 10)):
                fresh(os.path.join(work, "root"), os.path.join(work, "dest"))
                t, rss = run(local_cmd("directory", tree))
                times.append(t)
                peak = max(peak, rss)
            overhead = (max(args.runs, 10), statistics.median(times) * 1000,
                        peak / 1024)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("| payload | format | floor (s) | cdagent (s) | ratio | floor peak RSS | cdagent peak RSS |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for name, fmt, mf, mo, ratio, frss, orss in rows:
        print("| %s | %s | %.3f | %.3f | %.2f | %.1f MiB | %.1f MiB |"
              % (name, fmt, mf, mo, ratio, frss / 1024, orss / 1024))
    print("\nfloor = tar -xf / unzip -q / cp -a into a scratch dir, then cp -a to "
          "the destination; median of the runs, same machine, same run.")
    if deploy_rows:
        print("\nWhole deployments with `cdagent local` (config, DownloadBundle, "
              "Install, all events):\n")
        print("| payload | format | floor (s) | cdagent local (s) | ratio | cdagent peak RSS |")
        print("| --- | --- | ---: | ---: | ---: | ---: |")
        for name, fmt, mf, mo, ratio, orss in deploy_rows:
            print("| %s | %s | %.3f | %.3f | %.2f | %.1f MiB |"
                  % (name, fmt, mf, mo, ratio, orss / 1024))
    if overhead is not None:
        print("\nPer-deployment overhead (empty payload, five `exit 0` hooks, "
              "`cdagent local`, median of %d): %.1f ms, peak RSS %.1f MiB"
              % overhead)
    return 0


if __name__ == "__main__":
    sys.exit(main())
