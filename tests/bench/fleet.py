#!/usr/bin/python3
"""Fleet benchmark: N `cdagent run` daemons against one Commands API double
and one radosgw on this machine, as a fleet would run them.

Each agent has its own configuration, root, log and state directories and
host identity (AWS_HOST_IDENTIFIER); all poll one tests/servers/cmdsvc.py
(one held in-place deployment per host, from one S3 bundle of 4 `exit 0`
hooks in radosgw, tests/servers/rgw-up.sh).  Every process started here is
recorded by pid and stopped by pid; every wait is bounded.

Phases and what is reported (figures, not pass/fail; a Markdown table):
  start      the largest number of polls in one second while the fleet
             starts, as a multiple of the steady rate;
  idle       per agent: private memory (Private_* of smaps_rollup, every
             process of the agent), CPU per second; the fleet's polls per
             second and the largest number in one second;
  deployment released to all N hosts at once: offer -> last complete, the
             median host and the last one, per host: agent CPU (its
             processes and reaped children, less the idle rate and less
             the hooks' own CPU, measured here per run), Commands API TLS
             handshakes, S3 requests (radosgw's access log / N), every
             command completed exactly once and Succeeded;
  outage     --outage seconds of dropped connections, then --throttle
             seconds of ThrottlingException: time until every host polled
             successfully again, the largest 1-s burst after each as a
             multiple of the steady rate.

Usage: fleet.py --builddir DIR [--agents N] [--cdagent PATH] ...
(`make bench-fleet N=...`).  Run as root (hooks run as root).
"""
import argparse
import json
import os
import resource
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SERVERS = os.path.join(HERE, "..", "servers")
PY = "/usr/bin/python3"
INPLACE = ["ApplicationStop", "DownloadBundle", "BeforeInstall", "Install",
           "AfterInstall", "ApplicationStart", "ValidateService"]
HOOKS = ["BeforeInstall", "AfterInstall", "ApplicationStart",
         "ValidateService"]
TICK = os.sysconf("SC_CLK_TCK")


def say(msg):
    print("fleet: %s" % msg, file=sys.stderr, flush=True)


def host_of(i):
    return "arn:aws:ec2:us-east-1:111122223333:instance/i-fleet%05d" % i


def proc_cpu(pid, children=False):
    """CPU seconds of pid (with its reaped children's when asked)."""
    try:
        f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(f[11]) + int(f[12])
    if children:
        ticks += int(f[13]) + int(f[14])
    return ticks / TICK


def kids(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def private_kib(pid):
    total = 0
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith(("Private_Clean:", "Private_Dirty:")):
                    total += int(line.split()[1])
    except OSError:
        pass
    return total


def agent_cpu(pid):
    """An agent's CPU: its main process with every child it reaped, plus
    its living children (the relay, a running command)."""
    return proc_cpu(pid, children=True) + sum(proc_cpu(k) for k in kids(pid))


def agent_private_kib(pid):
    return private_kib(pid) + sum(private_kib(k) for k in kids(pid))


class Fleet:
    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="cdagent-fleet.",
                                     dir=args.workdir)
        self.procs = []    # (name, Popen) of everything we started
        self.agents = []   # Popen of each agent, index = host number
        self.rgw = None
        self.env = dict(os.environ)
        self.base = None
        self.ctx = None
        self.req_path = os.path.join(self.work, "requests.jsonl")
        self.req_off = 0
        self.records = []

    # --- servers -------------------------------------------------------------

    def start_rgw(self):
        say("starting radosgw")
        self.rgw = os.path.join(self.work, "rgw")
        out = subprocess.run(
            [os.path.join(SERVERS, "rgw-up.sh")],
            env=dict(self.env, D=self.rgw, CA_DIR=self.work + "/ca"),
            check=True, stdout=subprocess.PIPE, timeout=300)
        for line in open(out.stdout.decode().strip()):
            k, _, v = line.strip().partition("=")
            if k:
                self.env[k] = v.strip("'\"")

    def upload_bundle(self):
        rev = os.path.join(self.work, "rev")
        os.makedirs(rev + "/scripts")
        with open(rev + "/content.txt", "w") as f:
            f.write("fleet\n")
        with open(rev + "/appspec.yml", "w") as f:
            f.write("version: 0.0\nos: linux\nhooks:\n")
            for ev in HOOKS:
                f.write("  %s:\n    - location: scripts/h.sh\n" % ev)
        self.hook = rev + "/scripts/h.sh"
        with open(self.hook, "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        os.chmod(self.hook, 0o755)
        tgz = os.path.join(self.work, "rev.tgz")
        with tarfile.open(tgz, "w:gz") as t:
            for name in ("appspec.yml", "content.txt", "scripts"):
                t.add(os.path.join(rev, name), arcname=name)
        s3ctl = [PY, os.path.join(SERVERS, "s3ctl.py")]
        subprocess.run(s3ctl + ["mb", "fleet"], env=self.env, check=True,
                       stdout=subprocess.DEVNULL, timeout=60)
        subprocess.run(s3ctl + ["put", "fleet", "rev.tgz", tgz],
                       env=self.env, check=True, stdout=subprocess.DEVNULL,
                       timeout=60)

    def start_cmdsvc(self):
        deps = []
        for k, i in [(k, i) for k in range(self.args.deployments)
                     for i in range(self.args.agents)]:
            did = "d-F%05d-%d" % (i, k)
            spec = {"DeploymentId": did, "DeploymentGroupId": "g-fleet",
                    "DeploymentGroupName": "fleet", "ApplicationName": "app",
                    "AgentActionOverrides": {"AgentOverrides": {
                        "FileExistsBehavior": "OVERWRITE"}},
                    "Revision": {"RevisionType": "S3", "S3Revision": {
                        "Bucket": "fleet", "Key": "rev.tgz",
                        "BundleType": "tgz"}}}
            deps.append({"id": did, "host": host_of(i), "held": True,
                         "spec": spec, "commands": INPLACE})
        scen = os.path.join(self.work, "scenario.json")
        with open(scen, "w") as f:
            json.dump({"poll_hold_seconds": self.args.poll_hold,
                       "deployments": deps}, f)
        port_file = os.path.join(self.work, "cmdsvc.port")
        p = subprocess.Popen(
            [PY, os.path.join(SERVERS, "cmdsvc.py"),
             "--cert", self.work + "/ca/server.crt",
             "--key", self.work + "/ca/server.key", "--scenario", scen,
             "--port-file", port_file, "--requests", self.req_path,
             "--access-key", self.env["AWS_ACCESS_KEY_ID"],
             "--secret-key", self.env["AWS_SECRET_ACCESS_KEY"]],
            stdout=subprocess.DEVNULL, stderr=open(self.work + "/cmdsvc.err",
                                                   "w"))
        self.procs.append(("cmdsvc", p))
        deadline = time.monotonic() + 60
        while not os.path.exists(port_file):
            if time.monotonic() > deadline or p.poll() is not None:
                raise RuntimeError("cmdsvc.py did not start")
            time.sleep(0.1)
        self.base = "https://127.0.0.1:%d" % int(open(port_file).read())
        self.ctx = ssl.create_default_context(cafile=self.work + "/ca/ca.crt")

    def api(self, path, method="GET"):
        """A control request to the double; retried while it is busy."""
        req = urllib.request.Request(self.base + path, method=method)
        for attempt in range(5):
            try:
                with urllib.request.urlopen(req, context=self.ctx,
                                            timeout=120) as r:
                    return json.load(r)
            except (OSError, urllib.error.URLError):
                if attempt == 4:
                    raise
                time.sleep(2)

    def state(self):
        return self.api("/__state")

    def new_records(self):
        """Records appended to the requests log since the last call."""
        with open(self.req_path) as f:
            f.seek(self.req_off)
            data = f.read()
        end = data.rfind("\n") + 1
        self.req_off += len(data[:end].encode())
        recs = [json.loads(l) for l in data[:end].splitlines() if l]
        self.records.extend(recs)
        return recs

    # --- agents --------------------------------------------------------------

    def start_agents(self):
        say("starting %d agents" % self.args.agents)
        self.t_start = time.time()
        for i in range(self.args.agents):
            d = os.path.join(self.work, "a%05d" % i)
            os.makedirs(d)
            conf = os.path.join(d, "agent.yml")
            with open(conf, "w") as f:
                f.write(":root_dir: %s/root\n:log_dir: %s/log\n"
                        ":pid_dir: %s/state\n"
                        ":on_premises_config_file: %s/none.yml\n"
                        ":wait_between_runs: %d\n:http_read_timeout: 80\n"
                        ":max_revisions: 2\n"
                        ":deploy_control_endpoint: %s\n"
                        ":s3_endpoint_override: %s\n"
                        % (d, d, d, d, self.args.wait, self.base,
                           self.env["S3_ENDPOINT"]))
            env = dict(self.env, AWS_REGION="us-east-1",
                       AWS_HOST_IDENTIFIER=host_of(i),
                       AWS_SSL_CA_BUNDLE=self.work + "/ca/ca.crt",
                       AWS_EC2_METADATA_DISABLED="true")
            for k in ("HTTPS_PROXY", "https_proxy", "INVOCATION_ID",
                      "AWS_SESSION_TOKEN"):
                env.pop(k, None)
            p = subprocess.Popen([self.args.cdagent, "run", "-c", conf],
                                 env=env, stdin=subprocess.DEVNULL,
                                 stdout=open(d + "/agent.out", "w"),
                                 stderr=subprocess.STDOUT)
            self.procs.append(("agent %d" % i, p))
            self.agents.append(p)

    def fleet_cpu(self):
        return [agent_cpu(p.pid) for p in self.agents]

    # --- measures ------------------------------------------------------------

    def polls_by_second(self, t0, t1, ok_only=False):
        counts = {}
        for r in self.records:
            if r["op"] == "PollHostCommand" and t0 <= r["time"] < t1 and \
                    (not ok_only or r["status"] == 200):
                s = int(r["time"])
                counts[s] = counts.get(s, 0) + 1
        return counts

    def hook_cpu_s(self, runs=50):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        for _ in range(runs):
            subprocess.run([self.hook], check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return ((after.ru_utime - before.ru_utime) +
                (after.ru_stime - before.ru_stime)) / runs

    def rgw_requests(self):
        """radosgw's access-log lines for the bundle so far."""
        n = 0
        log = os.path.join(self.rgw, "log", "client.rgw.a.log")
        try:
            with open(log, errors="replace") as f:
                for line in f:
                    if "beast:" in line and " /fleet/rev.tgz" in line:
                        n += 1
        except OSError:
            return None
        return n

    def deploy(self, k, idle_rate):
        """Release deployment k to every host; its figures."""
        a = self.args
        res = {}
        say("deployment %d to %d hosts" % (k + 1, a.agents))
        hs0 = self.api("/__summary")["handshakes_by_host"]
        s3_0 = self.rgw_requests()
        cpu0 = self.fleet_cpu()
        t_offer = time.time()
        for i in range(a.agents):
            self.api("/__release?deployment=d-F%05d-%d" % (i, k), "POST")
        deadline = time.monotonic() + a.deploy_timeout
        while True:
            deps = self.api("/__summary")["deployments"]
            if all(deps["d-F%05d-%d" % (i, k)] in ("Succeeded", "Failed")
                   for i in range(a.agents)):
                break
            if time.monotonic() > deadline:
                say("the deployment did not finish in %d s"
                    % a.deploy_timeout)
                break
            time.sleep(2)
        t_done = time.time()
        time.sleep(2)  # the last children exit and are reaped
        cpu1 = self.fleet_cpu()
        st1 = self.state()
        self.new_records()
        last = {}
        for r in self.records:
            if r["op"] == "PutHostCommandComplete" and r["time"] >= t_offer:
                hc = (r["body"] or {}).get("HostCommandIdentifier", "")
                dep = hc.rsplit("-", 1)[0]
                last[dep] = max(last.get(dep, 0), r["time"])
        done = sorted(t - t_offer for t in last.values())
        res["hosts_done"] = len(done)
        res["offer_to_last_s"] = done[-1] if done else float("nan")
        res["median_host_s"] = statistics.median(done) if done else 0
        dur = t_done - t_offer + 2
        hooks_s = self.hook_ms / 1000 * len(HOOKS)
        per_host = [(c1 - c0) - r * dur - hooks_s
                    for c0, c1, r in zip(cpu0, cpu1, idle_rate)]
        res["cpu_s"] = statistics.median(per_host)
        res["cpu_max_s"] = max(per_host)
        hs = [st1["handshakes_by_host"].get(host_of(i), 0) -
              hs0.get(host_of(i), 0) for i in range(a.agents)]
        res["handshakes_median"] = statistics.median(hs)
        res["handshakes_max"] = max(hs)
        s3_1 = self.rgw_requests()
        res["s3_requests"] = (s3_1 - s3_0) / a.agents \
            if s3_0 is not None and s3_1 is not None else None
        cmds = [c for c in st1["commands"].values()
                if c["deployment"].endswith("-%d" % k)]
        res["exactly_once"] = sum(1 for c in cmds
                                  if c["completes"] == 1 and
                                  c["completed_status"] == "Succeeded")
        res["commands"] = len(cmds)
        return res

    def run(self):
        a = self.args
        res = {"deploy": []}
        subprocess.run([os.path.join(SERVERS, "mkca.sh"), self.work + "/ca"],
                       check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        self.start_rgw()
        self.upload_bundle()
        self.start_cmdsvc()
        res["hook_cpu_ms"] = self.hook_ms = self.hook_cpu_s() * 1000
        self.start_agents()

        # start: the first 2 naps
        start_win = 2 * a.wait + 2 * a.poll_hold + 5
        time.sleep(start_win)
        self.new_records()
        start_counts = self.polls_by_second(self.t_start,
                                            self.t_start + start_win)

        # idle
        say("idle for %d s" % a.idle)
        cpu0, t0 = self.fleet_cpu(), time.time()
        time.sleep(a.idle)
        cpu1, t1 = self.fleet_cpu(), time.time()
        self.new_records()
        idle_counts = self.polls_by_second(t0, t1)
        steady = sum(idle_counts.values()) / (t1 - t0)
        res["steady_polls_s"] = steady
        res["idle_max_1s"] = max(idle_counts.values() or [0])
        res["start_max_1s"] = max(start_counts.values() or [0])
        idle_rate = [(c1 - c0) / (t1 - t0) for c0, c1 in zip(cpu0, cpu1)]
        res["idle_cpu_ms_s"] = statistics.median(idle_rate) * 1000
        res["idle_private_kib"] = statistics.median(
            agent_private_kib(p.pid) for p in self.agents)

        for k in range(a.deployments):
            res["deploy"].append(self.deploy(k, idle_rate))
        res["idle_private_after_kib"] = statistics.median(
            agent_private_kib(p.pid) for p in self.agents)

        # outage, then throttling
        for action, secs in (("drop", a.outage), ("throttle", a.throttle)):
            if secs <= 0:
                continue
            say("%s for %d s" % (action, secs))
            self.api("/__window?action=%s&seconds=%d" % (action, secs),
                     "POST")
            t_end = time.time() + secs
            time.sleep(secs)
            deadline = time.monotonic() + a.recover_timeout
            back = {}
            while len(back) < a.agents and time.monotonic() < deadline:
                time.sleep(2)
                for r in self.new_records():
                    if r["op"] == "PollHostCommand" and r["status"] == 200 \
                            and r["time"] >= t_end:
                        h = (r["body"] or {}).get("HostIdentifier")
                        back.setdefault(h, r["time"] - t_end)
            time.sleep(max(0, t_end + 2 * a.wait - time.time()))
            self.new_records()
            after = self.polls_by_second(t_end, t_end + 2 * a.wait + 60)
            res[action] = {
                "back": len(back),
                "all_back_s": max(back.values()) if back else float("nan"),
                "max_1s": max(after.values() or [0]),
            }
        return res

    def stop(self):
        for name, p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 60
        for name, p in reversed(self.procs):
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if self.rgw and os.path.exists(os.path.join(self.rgw, "env")):
            subprocess.run([os.path.join(SERVERS, "rgw-down.sh")],
                           env=dict(os.environ, D=self.rgw),
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=120)
        if not self.args.keep:
            shutil.rmtree(self.work, ignore_errors=True)


def report(a, res, load):
    steady = res["steady_polls_s"] or float("nan")
    print("\nFleet of %d agents (%s), wait_between_runs %d s, polls held "
          "%.1f s; load average at start %s\n"
          % (a.agents, a.cdagent, a.wait, a.poll_hold, load))
    print("| measure | value |")
    print("| --- | ---: |")
    rows = [
        ("private memory per idle agent (median)",
         "%.1f MiB" % (res["idle_private_kib"] / 1024)),
        ("... after the deployments",
         "%.1f MiB" % (res["idle_private_after_kib"] / 1024)),
        ("idle CPU per agent", "%.2f ms/s" % res["idle_cpu_ms_s"]),
        ("steady polls per second (fleet)", "%.1f" % steady),
        ("largest 1-s count, idle", "%d (%.1fx)"
         % (res["idle_max_1s"], res["idle_max_1s"] / steady)),
        ("largest 1-s count, at start", "%d (%.1fx)"
         % (res["start_max_1s"], res["start_max_1s"] / steady)),
    ]
    for k, d in enumerate(res["deploy"]):
        n = "deployment %d" % (k + 1)
        rows += [
            (n + ": hosts done / commands exactly once Succeeded",
             "%d / %d of %d" % (d["hosts_done"], d["exactly_once"],
                                d["commands"])),
            (n + ": offer -> last complete", "%.1f s" % d["offer_to_last_s"]),
            (n + ": median host, last host - median", "%.1f s, %.1f s"
             % (d["median_host_s"],
                d["offer_to_last_s"] - d["median_host_s"])),
            (n + ": agent CPU per host (median, max)", "%.3f s, %.3f s"
             % (d["cpu_s"], d["cpu_max_s"])),
            (n + ": Commands API TLS handshakes per host (median, max)",
             "%g, %d" % (d["handshakes_median"], d["handshakes_max"])),
            (n + ": S3 requests per host", "%.2f" % d["s3_requests"]
             if d["s3_requests"] is not None else "n/a"),
        ]
    for action, label in (("drop", "outage %d s" % a.outage),
                          ("throttle", "throttling %d s" % a.throttle)):
        if action in res:
            r = res[action]
            rows.append(("after %s: hosts back, time to all back" % label,
                         "%d, %.1f s" % (r["back"], r["all_back_s"])))
            rows.append(("after %s: largest 1-s burst" % label,
                         "%d (%.1fx steady)" % (r["max_1s"],
                                                r["max_1s"] / steady)))
    for k, v in rows:
        print("| %s | %s |" % (k, v))
    print("\nAgent CPU: main process with reaped children plus living "
          "children, less the idle rate and %d hook runs at %.1f ms each "
          "(measured here)." % (len(HOOKS), res["hook_cpu_ms"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--builddir", default=".")
    ap.add_argument("--cdagent", help="the binary (default BUILDDIR/cdagent)")
    ap.add_argument("--agents", "-n", type=int, default=20)
    ap.add_argument("--wait", type=int, default=30,
                    help="wait_between_runs (s)")
    ap.add_argument("--poll-hold", type=float, default=1.0)
    ap.add_argument("--idle", type=int, default=60, help="idle window (s)")
    ap.add_argument("--deployments", type=int, default=2,
                    help="deployments, one after another (the first "
                    "also starts what an agent keeps)")
    ap.add_argument("--outage", type=int, default=60)
    ap.add_argument("--throttle", type=int, default=30)
    ap.add_argument("--deploy-timeout", type=int, default=600)
    ap.add_argument("--recover-timeout", type=int, default=300)
    ap.add_argument("--workdir", default="/var/tmp")
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument("--keep", action="store_true", help="keep the work dir")
    a = ap.parse_args()
    a.cdagent = os.path.abspath(a.cdagent or
                                os.path.join(a.builddir, "cdagent"))
    if os.geteuid() != 0:
        sys.exit("fleet.py: run as root (the hooks run as root)")
    def interrupted(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)

    # Stopped by a signal, still stop everything started, by pid.
    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    load = open("/proc/loadavg").read().split()[:3]
    fleet = Fleet(a)
    try:
        res = fleet.run()
    finally:
        fleet.stop()
    report(a, res, " ".join(load))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
