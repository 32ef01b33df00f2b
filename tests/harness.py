#!/usr/bin/python3
"""Run cdagent's test programs and count their individual test cases.

Every program speaks TAP on stdout: the cmocka unit binaries (with
CMOCKA_MESSAGE_OUTPUT=TAP) and the integration scripts (tests/integration/
lib.sh).  Programs run in parallel; each one's output goes to
tests/logs/<name>.log.  A program that crashes, exits non-zero without a
failed case, or runs fewer cases than its plan counts as a failure.

Prints one line per program, the output of failing programs, and finally
"N passed, N failed".  Exits 1 if anything failed.
"""
import argparse
import concurrent.futures
import os
import re
import signal
import subprocess
import sys
import time

OK_RE = re.compile(r"^(not ok|ok)\b\s*(\d+)?\s*-?\s*(.*)$")
PLAN_RE = re.compile(r"^1\.\.(\d+)")


def parse_tap(text):
    """Return (passed, failed names, plan) from TAP text."""
    passed, failed, plan = 0, [], None
    for line in text.splitlines():
        line = line.strip()
        m = PLAN_RE.match(line)
        if m:
            plan = (plan or 0) + int(m.group(1))
            continue
        m = OK_RE.match(line)
        if not m:
            continue
        name = m.group(3)
        skipped = "# SKIP" in name.upper()
        if m.group(1) == "ok" or skipped:
            passed += 1
        else:
            failed.append(name or "(unnamed)")
    return passed, failed, plan


def failure_details(text, limit=24):
    """Each "not ok" line with the "#" lines that follow it (the check's
    diagnostics), at most LIMIT lines per failure."""
    blocks, cur = [], None
    for line in text.splitlines():
        if line.startswith("not ok"):
            cur = [line]
            blocks.append(cur)
        elif cur is not None and line.startswith("#") and len(cur) < limit:
            cur.append(line)
        else:
            cur = None
    return blocks


def command_for(program, args):
    if program.endswith(".sh"):
        return ["/bin/bash", os.path.join(args.srcdir, program)]
    if program.endswith(".py"):
        return ["/usr/bin/python3", os.path.join(args.srcdir, program)]
    cmd = [os.path.join(args.builddir, program)]
    if args.wrapper:
        cmd = args.wrapper.split() + cmd
    return cmd


def run_one(program, args, env):
    name = program.replace("/", "_")
    log_path = os.path.join(args.logdir, name + ".log")
    start = time.monotonic()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(command_for(program, args), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=args.timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            timed_out = True
        log.write(out)
    text = out.decode("utf-8", "replace")
    passed, failed, plan = parse_tap(text)
    problems = []
    if timed_out:
        problems.append("timed out after %ds" % args.timeout)
    elif proc.returncode < 0:
        problems.append("killed by signal %d" % -proc.returncode)
    elif proc.returncode != 0 and not failed:
        problems.append("exited with status %d" % proc.returncode)
    ran = passed + len(failed)
    if plan is not None and ran < plan:
        problems.append("ran %d of %d planned tests" % (ran, plan))
    if ran == 0 and not problems:
        problems.append("reported no test results")
    failed += problems
    return {
        "program": program,
        "passed": passed,
        "failed": failed,
        "seconds": time.monotonic() - start,
        "log": log_path,
        "text": text,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--srcdir", default=".")
    ap.add_argument("--builddir", default=".")
    ap.add_argument("--logdir", default=None)
    ap.add_argument("--wrapper", default="")
    ap.add_argument("--timeout", type=int, default=600)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--summary-file", default=None)
    ap.add_argument("programs", nargs="+")
    args = ap.parse_args()
    args.srcdir = os.path.abspath(args.srcdir)
    args.builddir = os.path.abspath(args.builddir)
    args.logdir = args.logdir or os.path.join(args.builddir, "tests", "logs")
    os.makedirs(args.logdir, exist_ok=True)

    env = dict(os.environ)
    env.update({
        "CMOCKA_MESSAGE_OUTPUT": "TAP",
        "TOP_SRCDIR": args.srcdir,
        "TOP_BUILDDIR": args.builddir,
        "CDAGENT": os.path.join(args.builddir, "cdagent"),
        "ASAN_OPTIONS": "halt_on_error=1:abort_on_error=1:detect_leaks=1:"
                        "strict_string_checks=1",
        "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
        "LC_ALL": "C.UTF-8",
    })

    total_pass = total_fail = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(run_one, p, args, env) for p in args.programs]
        for fut in futures:
            r = fut.result()
            total_pass += r["passed"]
            total_fail += len(r["failed"])
            status = "FAIL" if r["failed"] else "PASS"
            print("%s %-40s %4d passed, %d failed  (%.1fs)" % (
                status, r["program"], r["passed"], len(r["failed"]),
                r["seconds"]), flush=True)
            if r["failed"]:
                for name in r["failed"]:
                    print("     not ok: %s" % name)
                # The diagnostics of every failure, wherever it is in the
                # log; the tail alone loses those of early failures.
                for block in failure_details(r["text"]):
                    for line in block:
                        print("     > " + line)
                print("     --- %s (last 40 lines) ---" % r["log"])
                for line in r["text"].splitlines()[-40:]:
                    print("     | " + line)
    summary = "%d passed, %d failed" % (total_pass, total_fail)
    if args.summary_file:
        with open(args.summary_file, "w") as f:
            f.write(summary + "\n")
    print(summary)
    return 1 if total_fail else 0


if __name__ == "__main__":
    sys.exit(main())
