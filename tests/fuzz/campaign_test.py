#!/usr/bin/env python3
"""Tests of scripts/fuzz_campaign.py (the long fuzzing campaign) against
stand-in fuzzers that print what libFuzzer prints: counts add up over
chunks and stop at the goal, a crash stops its target and a rebuilt fix
restarts it from zero, a timeout that only SCHED_IDLE caused is not a
crash, a failing regression input stops the target, and a campaign stopped
(SIGTERM) or killed (SIGKILL) resumes. Runs in a temporary copy of the
script's tree; takes a few seconds and no CPU to speak of.

usage: campaign_test.py   (ends with "N passed, N failed")
"""
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(os.path.dirname(os.path.dirname(HERE)), "scripts", "fuzz_campaign.py")

# A stand-in for a libFuzzer target, its behaviour chosen by its name.
FAKE_FUZZER = r'''#!/usr/bin/env python3
import os, signal, sys, time
name = os.path.basename(sys.argv[0])[len("fuzz-"):]
flags = dict(a[1:].split("=", 1) for a in sys.argv[1:] if a.startswith("-") and "=" in a)
paths = [a for a in sys.argv[1:] if not a.startswith("-")]
build = os.path.dirname(os.path.abspath(sys.argv[0]))
def stats(n, code):
    print(f"#{n}\tDONE   cov: 7 ft: 9 corp: 1/1b exec/s: 1 rss: 30Mb")
    print(f"stat::number_of_executed_units: {n}", flush=True)
    os._exit(code)
if flags.get("runs") == "0":  # the regression inputs
    for d in paths:
        for f in os.listdir(d):
            if open(os.path.join(d, f)).read() == "BAD" and not os.path.exists(os.path.join(build, "FIXED")):
                sys.exit(1)
    sys.exit(0)
if any(os.path.isfile(p) for p in paths):  # inputs run once: a crash checked again
    sys.exit(0 if os.path.exists(os.path.join(build, "FIXED")) or name == "starve" else 1)
t0 = time.process_time()
while time.process_time() - t0 < 0.1:
    pass
runs, art = int(flags["runs"]), flags["artifact_prefix"]
if name == "crash" and not os.path.exists(os.path.join(build, "FIXED")):
    open(art + "crash-1234", "w").write("boom")
    print("==1==ERROR: AddressSanitizer: heap-buffer-overflow")
    stats(10, 1)
if name == "starve" and not os.path.exists("starved-once"):
    open("starved-once", "w").close()
    open(art + "timeout-5678", "w").write("slow")
    stats(20, 70)
if name == "slow":
    signal.signal(signal.SIGINT, lambda *_: stats(500, 72))
    open("slow-started", "w").close()
    time.sleep(600)
stats(min(runs, 4_000_000), 0)
'''


class Tree:
    """A copy of the script with stand-in fuzzers and its own cache."""

    def __init__(self, names):
        self.root = tempfile.mkdtemp(prefix="kestrel-campaign-test.")
        self.cache = os.path.join(self.root, "cache")
        os.makedirs(os.path.join(self.root, "scripts"))
        shutil.copy(SCRIPT, os.path.join(self.root, "scripts"))
        self.build = os.path.join(self.root, "build-fuzz", "tests", "fuzz")
        os.makedirs(self.build)
        for n in names:
            self.fuzzer(n)
            os.makedirs(os.path.join(self.root, "tests", "fuzz", "corpus", n))

    def fuzzer(self, name, extra=""):
        path = os.path.join(self.build, "fuzz-" + name)
        with open(path, "w") as f:
            f.write(FAKE_FUZZER + extra)
        os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)

    def command(self, *args):
        return [sys.executable, os.path.join(self.root, "scripts", "fuzz_campaign.py"), *args]

    def env(self):
        return dict(os.environ, KESTREL_CACHE=self.cache)

    def run(self, *args):
        return subprocess.run(self.command(*args), env=self.env(), capture_output=True, text=True, timeout=120)

    def start(self, *args):
        return subprocess.Popen(self.command(*args), env=self.env(), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)

    def state(self, name):
        with open(os.path.join(self.cache, "fuzz", "campaign", name, "state.json")) as f:
            return json.load(f)

    def wait_for(self, name, filename, seconds=30):
        path = os.path.join(self.cache, "fuzz", "campaign", name, filename)
        deadline = time.time() + seconds
        while not os.path.exists(path):
            if time.time() > deadline:
                raise AssertionError(f"{path} never appeared")
            time.sleep(0.1)

    def close(self):
        shutil.rmtree(self.root, ignore_errors=True)


def test_counts_add_up_to_the_goal():
    t = Tree(["fast"])
    try:
        r = t.run("run", "--chunk", "1")
        st = t.state("fast")
        assert st["state"] == "done", st
        # 4 M, 4 M, then only the 2 M left (-runs).
        assert st["executions"] == 10_000_000 and st["chunks"] == 3, st
        assert st["cpu_seconds"] >= 0.3, st  # the stand-in burns 0.1 s of CPU per chunk
        assert (st["cov"], st["ft"]) == (7, 9), st
        assert "campaign ended" in r.stdout, r.stdout
        assert "fast" in r.stdout and "done" in r.stdout, r.stdout
        with open(os.path.join(t.cache, "fuzz", "runs.log")) as f:
            assert "PASS fast: 10000000 executions" in f.read()
    finally:
        t.close()


def test_crash_stops_target_and_fix_restarts_it():
    t = Tree(["crash", "fast"])
    try:
        t.run("run", "--chunk", "1")
        st = t.state("crash")
        assert st["state"] == "crashed", st
        assert st["crash"][0].endswith("artifacts/crash-1234") and os.path.exists(st["crash"][0]), st
        assert os.path.exists(os.path.join(t.cache, "fuzz", "campaign", "crash", "crash.log"))
        assert t.state("fast")["state"] == "done"  # the other target went on
        status = t.run("status").stdout
        assert "crashed: artifacts/crash-1234" in status, status
        # Same binary: the crash is not tried again, nothing runs.
        t.run("run", "--chunk", "1")
        assert t.state("crash")["state"] == "crashed"
        # A fix built: the input runs clean, the target starts over from zero.
        open(os.path.join(t.build, "FIXED"), "w").close()
        t.fuzzer("crash", "\n# rebuilt\n")
        t.run("run", "--chunk", "1")
        st = t.state("crash")
        assert st["state"] == "done" and st["executions"] == 10_000_000, st
        assert len(st["history"]) == 1 and st["history"][0]["executions"] == 10, st
    finally:
        t.close()


def test_timeout_from_starvation_is_not_a_crash():
    t = Tree(["starve"])
    try:
        t.run("run", "--chunk", "1")
        st = t.state("starve")
        assert st["state"] == "done", st
        assert st["executions"] == 20 + 10_000_000 - 20, st
        work = os.path.join(t.cache, "fuzz", "campaign", "starve")
        assert os.path.exists(os.path.join(work, "artifacts", "starved", "timeout-5678"))
        assert not os.path.exists(os.path.join(work, "artifacts", "timeout-5678"))
    finally:
        t.close()


def test_failing_regression_input_stops_target():
    t = Tree(["fast"])
    try:
        regressions = os.path.join(t.root, "tests", "fuzz", "regressions", "fast")
        os.makedirs(regressions)
        with open(os.path.join(regressions, "old-bug"), "w") as f:
            f.write("BAD")
        t.run("run", "--chunk", "1")
        st = t.state("fast")
        assert st["state"] == "crashed" and st["executions"] == 0, st
        assert "regression" in st["note"], st
        open(os.path.join(t.build, "FIXED"), "w").close()
        t.fuzzer("fast", "\n# rebuilt\n")
        t.run("run", "--chunk", "1")
        assert t.state("fast")["state"] == "done"
    finally:
        t.close()


def test_stop_and_kill_then_resume():
    t = Tree(["slow"])
    try:
        # SIGTERM: the running chunk is interrupted and counted.
        p = t.start("run", "--chunk", "600")
        t.wait_for("slow", "slow-started")
        status = t.run("status").stdout
        assert f"campaign running, pid {p.pid}" in status and " running" in status, status
        assert t.run("run").returncode != 0  # one campaign at a time
        t.run("stop")
        p.wait(timeout=30)
        st = t.state("slow")
        assert st["state"] == "pending" and st["executions"] == 500 and st["chunks"] == 1, st
        # SIGKILL: the chunk is lost, the fuzzer goes too (parent death signal).
        os.remove(os.path.join(t.cache, "fuzz", "campaign", "slow", "slow-started"))
        p = t.start("run", "--chunk", "600")
        t.wait_for("slow", "slow-started")
        fuzzer = t.state("slow")["pid"]
        p.send_signal(signal.SIGKILL)
        p.wait()
        deadline = time.time() + 10
        while os.path.exists(f"/proc/{fuzzer}") and time.time() < deadline:
            time.sleep(0.1)
        assert not os.path.exists(f"/proc/{fuzzer}"), "the fuzzer outlived its campaign"
        assert "stopped (last chunk lost)" in t.run("status").stdout
        st = t.state("slow")
        assert st["executions"] == 500, st
        # Resumed: it runs again from the 500 it had.
        os.remove(os.path.join(t.cache, "fuzz", "campaign", "slow", "slow-started"))
        p = t.start("run", "--chunk", "600")
        t.wait_for("slow", "slow-started")
        t.run("stop")
        p.wait(timeout=30)
        st = t.state("slow")
        assert st["executions"] == 1000 and st["chunks"] == 2, st
    finally:
        t.close()


def main():
    tests = [v for k, v in globals().items() if k.startswith("test_")]
    passed = failed = 0
    for test in tests:
        try:
            test()
            print(f"PASS {test.__name__}")
            passed += 1
        except Exception as e:
            print(f"FAIL {test.__name__}: {type(e).__name__}: {e}")
            failed += 1
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
