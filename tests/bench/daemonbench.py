#!/usr/bin/python3
"""Daemon benchmark: the resident memory and CPU of an idle `cdagent run`.

Starts the Commands API double (tests/servers/cmdsvc.py) with a short
long-poll hold and 20 held deployments, runs `cdagent run` against it, and
reads /proc/<pid> of the daemon's main process:
  * RSS after 100 idle polls, and the CPU time per idle poll;
  * RSS after the 20 deployments (released one after another, each
    DownloadBundle + Install + two hooks) and after 100 more idle polls.
Figures, not pass/fail.  Prints a Markdown table.
"""
import argparse
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SERVERS = os.path.join(HERE, "..", "servers")
HOST = "arn:aws:ec2:us-east-1:111122223333:instance/i-0bench"
AK, SK = "AKIDCMDSVCTEST000001", "cmdsvc-test-secret-0000000000000000000000"


def rss_kib(pid):
    """(VmRSS, RssAnon) in KiB: all resident pages, and the private ones
    (heap, stacks) without the shared libraries' file pages."""
    vals = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "RssAnon"):
                vals[k] = int(v.split()[0])
    return vals.get("VmRSS", 0), vals.get("RssAnon", 0)


def cpu_s(pid):
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--builddir", default=".")
    ap.add_argument("--workdir", default="/var/tmp")
    args = ap.parse_args()
    cdagent = os.path.abspath(os.path.join(args.builddir, "cdagent"))
    work = tempfile.mkdtemp(prefix="cdagent-dbench.", dir=args.workdir)
    procs = []
    try:
        subprocess.run([os.path.join(SERVERS, "mkca.sh"), work + "/ca"],
                       check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        rev = os.path.join(work, "rev")
        os.makedirs(rev + "/scripts")
        os.makedirs(rev + "/content")
        for i in range(50):
            with open("%s/content/f%d.txt" % (rev, i), "w") as f:
                f.write("x" * 4096)
        with open(rev + "/appspec.yml", "w") as f:
            f.write("version: 0.0\nos: linux\nfiles:\n  - source: content\n"
                    "    destination: %s/dest\nhooks:\n"
                    "  BeforeInstall:\n    - location: scripts/h.sh\n"
                    "  AfterInstall:\n    - location: scripts/h.sh\n" % work)
        with open(rev + "/scripts/h.sh", "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        os.chmod(rev + "/scripts/h.sh", 0o755)
        deps = []
        for i in range(20):
            did = "d-BENCH%04d" % i
            spec = {"DeploymentId": did, "DeploymentGroupId": "g-bench",
                    "DeploymentGroupName": "bench", "ApplicationName": "app",
                    "AgentActionOverrides": {"AgentOverrides": {
                        "FileExistsBehavior": "OVERWRITE"}},
                    "Revision": {"RevisionType": "Local Directory",
                                 "LocalRevision": {"Location": rev,
                                                   "BundleType": "directory"}}}
            deps.append({"id": did, "held": True, "spec": spec,
                         "commands": ["DownloadBundle", "BeforeInstall",
                                      "Install", "AfterInstall"]})
        scen = os.path.join(work, "scenario.json")
        with open(scen, "w") as f:
            json.dump({"host": HOST, "poll_hold_seconds": 0.05,
                       "deployments": deps}, f)
        port_file = os.path.join(work, "port")
        procs.append(subprocess.Popen(
            ["/usr/bin/python3", os.path.join(SERVERS, "cmdsvc.py"),
             "--cert", work + "/ca/server.crt", "--key",
             work + "/ca/server.key", "--scenario", scen, "--port-file",
             port_file, "--access-key", AK, "--secret-key", SK],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for _ in range(100):
            if os.path.exists(port_file):
                break
            time.sleep(0.1)
        port = int(open(port_file).read().split()[0])
        base = "https://127.0.0.1:%d" % port
        ctx = ssl.create_default_context(cafile=work + "/ca/ca.crt")

        def state():
            with urllib.request.urlopen(base + "/__state", context=ctx) as r:
                return json.load(r)

        def polls():
            return state()["requests"]["by_op"].get("PollHostCommand", 0)

        conf = os.path.join(work, "agent.yml")
        with open(conf, "w") as f:
            f.write(":root_dir: %s/root\n:log_dir: %s/log\n:pid_dir: %s/st\n"
                    ":on_premises_config_file: %s/none.yml\n"
                    ":wait_between_runs: 0\n:max_revisions: 2\n"
                    ":deploy_control_endpoint: %s\n" % (work, work, work, work, base))
        env = dict(os.environ, AWS_ACCESS_KEY_ID=AK, AWS_SECRET_ACCESS_KEY=SK,
                   AWS_REGION="us-east-1", AWS_HOST_IDENTIFIER=HOST,
                   AWS_SSL_CA_BUNDLE=work + "/ca/ca.crt",
                   AWS_EC2_METADATA_DISABLED="true")
        agent = subprocess.Popen([cdagent, "run", "-c", conf], env=env,
                                 stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        procs.append(agent)

        def idle(n):
            start, c0, t0 = polls(), cpu_s(agent.pid), time.monotonic()
            while polls() < start + n:
                time.sleep(0.2)
            return (cpu_s(agent.pid) - c0) / n, time.monotonic() - t0

        time.sleep(1)
        cpu_poll, _ = idle(100)
        rss_idle = rss_kib(agent.pid)
        t0 = time.monotonic()
        for d in deps:
            req = urllib.request.Request(
                base + "/__release?deployment=" + d["id"], method="POST")
            urllib.request.urlopen(req, context=ctx).read()
            while True:
                st = state()["deployments"][d["id"]]["status"]
                if st in ("Succeeded", "Failed"):
                    break
                time.sleep(0.05)
        deploy_s = time.monotonic() - t0
        rss_after = rss_kib(agent.pid)
        idle(100)
        rss_after_idle = rss_kib(agent.pid)
        bad = [k for k, c in state()["commands"].items()
               if c.get("completed_status") != "Succeeded"]
        agent.terminate()
        agent.wait(30)
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    print("\n`cdagent run` main process (the deployments run in child "
          "processes):\n")
    print("| measure | RSS | of which private (RssAnon) |")
    print("| --- | ---: | ---: |")
    for name, (total, anon) in (("after 100 idle polls", rss_idle),
                                ("after 20 deployments", rss_after),
                                ("after 100 more idle polls", rss_after_idle)):
        print("| %s | %.1f MiB | %.1f MiB |" % (name, total / 1024, anon / 1024))
    print("\nCPU per idle poll: %.2f ms; 20 deployments (4 commands each): "
          "%.1f s" % (cpu_poll * 1000, deploy_s))
    if bad:
        print("\ncommands not Succeeded: %s" % ", ".join(sorted(bad)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
