#!/usr/bin/python3
"""make bench: steady-state redeploys of many-file revisions, against the floor.

For 10,000 and 100,000 files (tgz and zip), cdagent redeploys with
`cdagent local` as a user would: the previous revision installed, five
revisions kept (max_revisions 5), so each deployment extracts the new
bundle, removes the previous install, installs the new one and deletes the
oldest revision.  In the same run, interleaved with it (floor, cdagent,
[reference], floor, cdagent, ...), the standard-tools same-work floor
(tests/bench/floor.sh: tar/unzip, find -delete, cp -a, rm -rf one after the
other) does the same file work.  Then the per-deployment overhead: an
empty-payload bundle with five `exit 0` hooks.

--ref BINARY adds a second cdagent (e.g. a build of the previous commit),
measured in the same interleaved pairs, for before/after figures.

Each time is the wall time of the command; a deployment's retention work
that cdagent leaves to a background process after the result is known is
waited for, untimed, before the next run (a user's next deployment does
not overlap it either).  Prints medians, ratios to the floor, per-file cost
and peak RSS (total from GNU time, private sampled from smaps_rollup).
"""
import argparse
import fcntl
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from bench import zip_tree  # noqa: E402

HOOKS = ["ApplicationStop", "BeforeInstall", "AfterInstall",
         "ApplicationStart", "ValidateService"]
FILE_SIZE = 1024
if not os.path.exists("/usr/bin/time"):
    sys.exit("bench: needs GNU time (apt-get install time)")


def write_appspec(path, dest, hooks=False):
    text = "version: 0.0\nos: linux\nfiles:\n  - source: /\n    destination: %s\n" % dest
    if hooks:
        text += "hooks:\n" + "".join(
            "  %s:\n    - location: hooks/ok.sh\n" % ev for ev in HOOKS)
    with open(os.path.join(path, "appspec.yml"), "w") as f:
        f.write(text)


def make_tree(path, count, dest, hooks=False):
    os.makedirs(path)
    if hooks:
        os.makedirs(os.path.join(path, "hooks"))
        with open(os.path.join(path, "hooks", "ok.sh"), "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        os.chmod(os.path.join(path, "hooks", "ok.sh"), 0o755)
    write_appspec(path, dest, hooks)
    block = os.urandom(FILE_SIZE)
    for i in range(count):
        # 100 files a directory, 100 directories a level: node_modules-like
        sub = os.path.join(path, "m%03d" % (i // 10000), "d%03d" % (i // 100 % 100))
        if i % 100 == 0:
            os.makedirs(sub, exist_ok=True)
        with open(os.path.join(sub, "f%06d.js" % i), "wb") as f:
            f.write(block[i % 64:] + block[:i % 64])


def make_bundle(tree, fmt, out):
    if fmt == "zip":
        zip_tree(tree, out)
    else:
        with tarfile.open(out, "w:gz", compresslevel=1) as t:
            for entry in sorted(os.listdir(tree)):
                t.add(os.path.join(tree, entry), arcname=entry)


def private_kib(pid):
    total = 0
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Private_"):
                    total += int(line.split()[1])
    except (OSError, ValueError):
        return 0
    return total


def run(cmd):
    """(seconds, peak RSS KiB from GNU time, peak private KiB sampled)."""
    peak_private = [0]
    start = time.monotonic()
    proc = subprocess.Popen(["/usr/bin/time", "-f", "%M"] + cmd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    done = threading.Event()

    def sample():
        child = None
        while not done.wait(0.05):
            if child is None:
                try:
                    with open("/proc/%d/task/%d/children" % (proc.pid, proc.pid)) as f:
                        kids = f.read().split()
                    child = int(kids[0]) if kids else None
                except OSError:
                    pass
            if child is not None:
                peak_private[0] = max(peak_private[0], private_kib(child))
    sampler = threading.Thread(target=sample)
    sampler.start()
    _, err = proc.communicate()
    elapsed = time.monotonic() - start
    done.set()
    sampler.join()
    err = err.decode()
    if proc.returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(cmd), err))
    return elapsed, int(err.strip().splitlines()[-1]), peak_private[0]


def wait_background(root, gid):
    """Wait, untimed, until no background retention of GID runs."""
    lock = os.path.join(root, ".cdagent-trash", gid + ".lock")
    try:
        fd = os.open(lock, os.O_RDONLY)
    except OSError:
        return
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.close(fd)


class Agent:
    def __init__(self, name, binary, work):
        self.name, self.binary = name, binary
        self.base = os.path.join(work, name)
        self.dest = os.path.join(self.base, "dest")  # each agent its own
        os.makedirs(self.base)
        self.conf = os.path.join(self.base, "agent.yml")
        with open(self.conf, "w") as f:
            f.write(":root_dir: %s/root\n:log_dir: %s/log\n:max_revisions: 5\n"
                    ":enable_deployments_log: false\n"
                    ":on_premises_config_file: %s/none.yml\n"
                    % (self.base, self.base, self.base))
        self.times, self.rss, self.private = [], 0, 0

    def reset(self):
        shutil.rmtree(os.path.join(self.base, "root"), ignore_errors=True)
        shutil.rmtree(self.dest, ignore_errors=True)
        self.times, self.rss, self.private = [], 0, 0

    def deploy(self, fmt, bundle, timed=True):
        t, rss, private = run([self.binary, "local", "-c", self.conf, "-l", bundle,
                               "-t", fmt, "-g", "bench"])
        wait_background(os.path.join(self.base, "root"), "bench")
        if timed:
            self.times.append(t)
            self.rss, self.private = max(self.rss, rss), max(self.private, private)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--builddir", default=".")
    ap.add_argument("--ref", help="a second cdagent binary, measured in the same pairs")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--counts", default="10000,100000")
    ap.add_argument("--formats", default="tgz,zip")
    ap.add_argument("--workdir", default="/var/tmp")
    args = ap.parse_args()
    floor_sh = os.path.join(os.path.dirname(os.path.abspath(__file__)), "floor.sh")
    work = tempfile.mkdtemp(prefix="cdagent-redeploy.", dir=args.workdir)
    dest = os.path.join(work, "dest")
    agents = [Agent("cdagent", os.path.abspath(os.path.join(args.builddir, "cdagent")), work)]
    if args.ref:
        agents.append(Agent("reference", os.path.abspath(args.ref), work))
    rows, overhead = [], []
    try:
        for count in [int(c) for c in args.counts.split(",") if c]:
            print("generating %d files ..." % count, file=sys.stderr, flush=True)
            tree = os.path.join(work, "tree")
            shutil.rmtree(tree, ignore_errors=True)
            make_tree(tree, count, dest)
            for fmt in args.formats.split(","):
                bundle = os.path.join(work, "bundle." + fmt)
                make_bundle(tree, fmt, bundle)
                for agent in agents:
                    agent.bundle = os.path.join(agent.base, "bundle." + fmt)
                    write_appspec(tree, agent.dest)
                    make_bundle(tree, fmt, agent.bundle)
                floor_dir = os.path.join(work, "floor")
                shutil.rmtree(floor_dir, ignore_errors=True)
                floor_revs, floor_times, n = [], [], 0
                # steady state: five revisions kept, the last one installed
                for agent in agents:
                    agent.reset()
                    for _ in range(5):
                        agent.deploy(fmt, agent.bundle, timed=False)
                for _ in range(5):
                    n += 1
                    floor_revs.append(os.path.join(floor_dir, "r%d" % n))
                    subprocess.run([floor_sh, fmt, bundle, floor_revs[-1], dest,
                                    os.path.join(floor_dir, "none")], check=True)
                for _ in range(args.runs):
                    n += 1
                    floor_revs.append(os.path.join(floor_dir, "r%d" % n))
                    t = time.monotonic()
                    subprocess.run([floor_sh, fmt, bundle, floor_revs[-1], dest,
                                    floor_revs.pop(0)], check=True)
                    floor_times.append(time.monotonic() - t)
                    for agent in agents:
                        agent.deploy(fmt, agent.bundle)
                mf = statistics.median(floor_times)
                for agent in agents:
                    ma = statistics.median(agent.times)
                    rows.append((count, fmt, agent.name, mf, ma, ma / mf,
                                 ma / count * 1e6, agent.rss / 1024,
                                 agent.private / 1024))
                    print("%d files %s: floor %.3fs %s %.3fs ratio %.2f "
                          "(%.1f us/file) rss %.1f MiB private %.1f MiB" % (
                              rows[-1][0], rows[-1][1], rows[-1][3], rows[-1][2],
                              rows[-1][4], rows[-1][5], rows[-1][6], rows[-1][7],
                              rows[-1][8]), file=sys.stderr, flush=True)
                shutil.rmtree(floor_dir, ignore_errors=True)
                os.unlink(bundle)
                for agent in agents:
                    os.unlink(agent.bundle)
        # per-deployment overhead: empty payload, five exit-0 hooks
        for agent in agents:
            agent.bundle = os.path.join(agent.base, "overhead")
            make_tree(agent.bundle, 0, agent.dest, hooks=True)
            agent.reset()
            agent.deploy("directory", agent.bundle, timed=False)
        for _ in range(max(args.runs, 11)):
            for agent in agents:
                agent.deploy("directory", agent.bundle)
        for agent in agents:
            overhead.append((agent.name, statistics.median(agent.times) * 1000,
                             agent.rss / 1024, agent.private / 1024))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("Steady-state redeploys (`cdagent local`, previous revision installed, "
          "max_revisions 5, %d-byte files), nproc %d, median of %d interleaved runs:\n"
          % (FILE_SIZE, os.cpu_count(), args.runs))
    print("| files | format | agent | floor (s) | agent (s) | ratio | us/file | "
          "peak RSS | peak private |")
    print("| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print("| %d | %s | %s | %.3f | %.3f | %.2f | %.1f | %.1f MiB | %.1f MiB |" % r)
    print("\nfloor = tests/bench/floor.sh: extract the new archive, remove the "
          "previous install, copy the new one, delete the oldest revision.")
    for name, ms, rss, private in overhead:
        print("Per-deployment overhead (%s; empty payload, five `exit 0` hooks, "
              "median of %d): %.1f ms, peak RSS %.1f MiB, private %.1f MiB"
              % (name, max(args.runs, 11), ms, rss, private))
    if len(overhead) == 2:
        print("Overhead ratio cdagent/reference: %.2f" % (overhead[0][1] / overhead[1][1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
