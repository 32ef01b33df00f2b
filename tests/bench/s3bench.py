#!/usr/bin/python3
"""S3 download benchmark: one large object from a real radosgw.

Starts a throwaway radosgw (tests/servers/rgw-up.sh), uploads SIZE MiB of
random bytes, then fetches the object alternately with a single `curl` GET
(the reference) and with cdagent's bundle module (tests/bench/s3-bench) at
several part sizes and connection counts.  Prints a Markdown table: median
seconds, ratio cdagent/curl, peak RSS.  Figures, not pass/fail.
"""
import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SERVERS = os.path.join(HERE, "..", "servers")
EMPTY_SHA = hashlib.sha256(b"").hexdigest()


def timed(cmd, env):
    """(seconds, peak RSS KiB) of cmd, RSS from GNU time."""
    start = time.monotonic()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        raise RuntimeError("%s failed: %s" % (cmd[0], proc.stderr.decode()))
    return elapsed, int(proc.stderr.decode().strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--builddir", default=".")
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workdir", default="/var/tmp")
    args = ap.parse_args()
    tool = os.path.abspath(os.path.join(args.builddir, "tests/bench/s3-bench"))
    work = tempfile.mkdtemp(prefix="cdagent-s3bench.", dir=args.workdir)
    rgw = os.path.join(work, "rgw")
    env = dict(os.environ)
    rows = []
    try:
        print("starting radosgw ...", file=sys.stderr, flush=True)
        envfile = subprocess.run([os.path.join(SERVERS, "rgw-up.sh")],
                                 env=dict(env, D=rgw), check=True,
                                 stdout=subprocess.PIPE).stdout.decode().strip()
        for line in open(envfile):
            k, _, v = line.strip().partition("=")
            if k:
                env[k] = v
        env["AWS_SSL_CA_BUNDLE"] = env["S3_CA"]
        blob = os.path.join(work, "blob.bin")
        print("uploading %d MiB ..." % args.size_mib, file=sys.stderr, flush=True)
        with open(blob, "wb") as f:
            for _ in range(args.size_mib):
                f.write(os.urandom(1 << 20))
        s3ctl = ["/usr/bin/python3", os.path.join(SERVERS, "s3ctl.py")]
        subprocess.run(s3ctl + ["mb", "bench"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run(s3ctl + ["put", "bench", "blob.bin", blob], env=env,
                       check=True, stdout=subprocess.DEVNULL)
        os.unlink(blob)
        out = os.path.join(work, "out.bin")
        curl = ["curl", "-sS", "--fail", "--cacert", env["S3_CA"],
                "--aws-sigv4", "aws:amz:us-east-1:s3",
                "--user", "%s:%s" % (env["AWS_ACCESS_KEY_ID"],
                                     env["AWS_SECRET_ACCESS_KEY"]),
                "-H", "x-amz-content-sha256: " + EMPTY_SHA,
                "-o", out, env["S3_ENDPOINT"] + "/bench/blob.bin"]
        configs = [(16, 1), (8, 4), (16, 4), (64, 4), (16, 8)]
        results = {c: [] for c in configs}
        rss = {c: 0 for c in configs}
        ref, ref_rss = [], 0
        for _ in range(args.runs):
            for c in [None] + configs:
                if os.path.exists(out):
                    os.unlink(out)
                subprocess.run(["sync"])
                if c is None:
                    t, r = timed(curl, env)
                    ref.append(t)
                    ref_rss = max(ref_rss, r)
                else:
                    t, r = timed([tool, env["S3_ENDPOINT"], "bench", "blob.bin",
                                  out, str(c[0] << 20), str(c[1])], env)
                    results[c].append(t)
                    rss[c] = max(rss[c], r)
                print("  %s %.2fs" % (c or "curl", t), file=sys.stderr, flush=True)
        mref = statistics.median(ref)
        rows.append(("curl, one GET", mref, 1.0, ref_rss))
        for c in configs:
            m = statistics.median(results[c])
            rows.append(("cdagent, %d MiB parts x %d connections" % c, m,
                         m / mref, rss[c]))
    finally:
        if os.path.exists(os.path.join(rgw, "env")):
            subprocess.run([os.path.join(SERVERS, "rgw-down.sh")],
                           env=dict(os.environ, D=rgw),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)
    print("\nS3 GetObject of a %d MiB object from radosgw (HTTPS, 127.0.0.1), "
          "median of %d runs:\n" % (args.size_mib, args.runs))
    print("| fetcher | seconds | ratio to curl | peak RSS |")
    print("| --- | ---: | ---: | ---: |")
    for name, t, ratio, r in rows:
        print("| %s | %.2f | %.2f | %.1f MiB |" % (name, t, ratio, r / 1024))
    return 0


if __name__ == "__main__":
    sys.exit(main())
