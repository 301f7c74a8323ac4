#!/usr/bin/env python3
"""Guest tests, one entry point: builds the assets, boots the KVM test host
once (nested under QEMU TCG unless this machine has hardware KVM) and runs
the scenarios inside it, printing PASS/FAIL lines and, last, exactly one
"N passed, N failed" line. Exit status 0 only when all passed.

  tests/guest/run.py                        all scenarios, kestrel
  tests/guest/run.py --vmm qemu             all scenarios, QEMU -enable-kvm
  tests/guest/run.py --only boot-1cpu       one scenario
"""

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "kvmhost"))
import assets  # noqa: E402
import kvmhost  # noqa: E402
import runner  # noqa: E402
import scenario as sc  # noqa: E402

# Test host boot, asset checks and slack on top of the scenarios' timeouts.
HOST_OVERHEAD = 300


def results_folder(vmm):
    root = os.path.join(assets.cache_dir(), "results")
    path = os.path.join(root, time.strftime("%Y%m%d-%H%M%S-") + vmm)
    os.makedirs(path, exist_ok=True)
    latest = os.path.join(root, "latest")
    if os.path.islink(latest) or not os.path.exists(latest):
        if os.path.islink(latest):
            os.unlink(latest)
        os.symlink(os.path.basename(path), latest)
    return path


def runner_command(args, results, assets_json):
    cmd = ["python3", os.path.join(HERE, "runner.py"), "--vmm", args.vmm,
           "--kestrel", os.path.abspath(args.kestrel),
           "--scenarios", os.path.abspath(args.scenarios),
           "--results", results, "--assets", assets_json,
           "--jobs", str(args.jobs)]
    for name in args.only:
        cmd += ["--only", name]
    if args.retries is not None:
        cmd += ["--retries", str(args.retries)]
    for name in getattr(args, "last", []):
        cmd += ["--last", name]
    if getattr(args, "part", False):
        cmd.append("--part")
    if args.kill_wait is not None:
        cmd += ["--kill-wait", str(args.kill_wait)]
    return cmd


def reported(results):
    """The runner's summary: (scenario results so far, complete?)."""
    try:
        with open(os.path.join(results, "summary.json")) as f:
            data = json.load(f)
        return data["results"], bool(data.get("complete"))
    except (OSError, ValueError, KeyError):
        return [], False


# A test host that froze (long L1 soft lockup) or died without a status (an
# L1 kernel panic) failed below the VMM: TCG's SVM emulation or L1's KVM.
HOST_FAULTS = (kvmhost.STATUS_WEDGED, kvmhost.STATUS_HOST_FAILED)
# Faulted hosts in a row that reported nothing before the run gives up. A
# host that reported something made progress, so the run is bounded by the
# number of scenarios (on 2026-12-03 the nested host's kernel died every one
# to three minutes, with the code of 2026-12-02 as with today's; in one CI
# run three hosts in a row died within 20 to 160 s, before any report). A
# dead host costs its boot (7 s) and the minutes until its panic.
IDLE_HOSTS = 6
# The runner shows life at least every 15 s (heartbeat.py) while its
# scenarios are within their deadlines; silence this long means L1 hung.
# (On 2026-12-05 a CI run's second test host hung silently in the net
# scenarios and was waited for until CI's limit.)
HOST_SILENCE_S = 240
# All test hosts of one run together, so CI (90 min) always gets the
# summary line: 4-5 times the usual stage.
STAGE_LIMIT_S = 2700
# A fresh host is not started with less time than this left.
MIN_HOST_S = 180


def run_host(args, command, results, budget, deadline):
    return kvmhost.run(command, results, timeout=min(budget, deadline - time.monotonic()),
                       silent_limit=args.host_silence)


def rerun_in_fresh_host(args, results, assets_json, missing, attempt, faulted, deadline):
    """Runs the scenarios a faulted test host had not reported in a new
    one, those it was running when it failed (folder `faulted` has theirs)
    last, so that one which brings hosts down does not stop the others.
    Returns (status, their results, complete?)."""
    print("guest tests: the test host failed below the VMM; running the %d "
          "unreported scenario(s) in a fresh one: %s"
          % (len(missing), " ".join(s.name for s in missing)), flush=True)
    again = os.path.join(results, "fresh-host-%d" % attempt)
    rerun_args = argparse.Namespace(**vars(args))
    rerun_args.only = [s.name for s in missing]
    rerun_args.last = [s.name for s in missing if os.path.isdir(os.path.join(faulted, s.name))]
    rerun_args.part = True
    command = runner_command(rerun_args, again, assets_json)
    budget = sum(s.timeout for s in missing) + HOST_OVERHEAD
    status = run_host(args, command, again, budget, deadline)
    return (status,) + reported(again)


def run_scenarios(args, results, assets_json, selected):
    """Runs `selected` in a test host, and what a faulted host left
    unreported in fresh ones while they make progress. Returns (status,
    results, complete?, printed?: whether one host ran everything and its
    runner printed the run's summary line)."""
    deadline = time.monotonic() + args.stage_limit
    budget = sum(s.timeout for s in selected) + HOST_OVERHEAD
    command = runner_command(args, results, assets_json)
    status = run_host(args, command, results, budget, deadline)
    done, complete = reported(results)
    printed = complete
    fresh = 0
    idle = 0 if done else 1
    faulted = results
    while (not complete and status in HOST_FAULTS and idle < IDLE_HOSTS
           and deadline - time.monotonic() > MIN_HOST_S):
        names = {r["name"] for r in done}
        missing = [s for s in selected if s.name not in names]
        if not missing:  # the host failed after its last report, before the summary
            return status, done, True, False
        fresh += 1
        status, more, complete = rerun_in_fresh_host(args, results, assets_json,
                                                     missing, fresh, faulted, deadline)
        faulted = os.path.join(results, "fresh-host-%d" % fresh)
        idle = 0 if more else idle + 1
        done = done + more
    return status, done, complete, printed


def summarize(selected, done, complete, status, results):
    """Prints the one "N passed, N failed" line over every host's results
    (the runner printed it already when one host ran everything)."""
    if not complete:
        print("guest tests: the test host did not finish (status %d); %d of %d "
              "scenario(s) reported; see %s" % (status, len(done), len(selected),
                                                results), flush=True)
    passed = sum(1 for r in done if r["passed"])
    print("%d passed, %d failed" % (passed, len(selected) - passed), flush=True)
    return 0 if complete and passed == len(selected) else (status or 1)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--vmm", choices=["kestrel", "qemu"], default="kestrel")
    p.add_argument("--kestrel", default=runner.default_kestrel(),
                   help="kestrel binary (default $KESTREL_BIN or build/kestrel)")
    p.add_argument("--only", action="append", default=[], metavar="NAME")
    p.add_argument("--scenarios", default=os.path.join(HERE, "scenarios"))
    p.add_argument("--results", help="results folder (default: a new one "
                   "under $KESTREL_CACHE/results, linked as 'latest')")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--retries", type=int, help="attempts after a failure "
                   "(default: 2 in the nested test host, 0 on hardware KVM)")
    p.add_argument("--stage-limit", type=float, default=STAGE_LIMIT_S,
                   help="seconds for all test hosts together (default %(default)s)")
    p.add_argument("--host-silence", type=float, default=HOST_SILENCE_S,
                   help="a test host whose runner shows no life for this many "
                   "seconds hung (default %(default)s)")
    p.add_argument("--kill-wait", type=float,
                   help="seconds a killed command may take to end before the "
                   "runner reports it stuck (default: the runner's)")
    args = p.parse_args(argv)
    os.environ["PYTHONUNBUFFERED"] = "1"

    selected = runner.select(sc.load_dir(args.scenarios), args.only)
    results = os.path.abspath(args.results or results_folder(args.vmm))
    os.makedirs(results, exist_ok=True)
    assets.build_all()
    assets_json = os.path.join(assets.cache_dir(), "assets.json")
    if runner.vmm_problem(args):
        # Nothing can run; let the runner report it without booting a host.
        command = runner_command(args, results, assets_json)
        return subprocess.run(command, stdin=subprocess.DEVNULL).returncode
    status, done, complete, printed = run_scenarios(args, results, assets_json, selected)
    if printed:
        return status
    return summarize(selected, done, complete, status, results)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
