#!/usr/bin/env python3
"""The long fuzzing campaign (kestrel issue 20): every libFuzzer target of
tests/fuzz runs until it has executed 10 million inputs or used one
CPU-hour without a crash. Called by scripts/fuzz.sh (campaign, status,
campaign-stop, campaign-reset); tests/README.md, "Fuzzing", says how.

Each target runs in chunks (10 min of wall time by default), at most two
targets at a time, every fuzzer under SCHED_IDLE (it only gets CPU time
nothing else wants). Per target, in $KESTREL_CACHE/fuzz/campaign/TARGET/:

  state.json    executions and CPU seconds so far (the fuzzer's own user +
                sys time, from wait4: wall time under SCHED_IDLE says
                nothing), cov, ft, state; replaced atomically after every
                chunk, so the campaign may be killed at any moment (a
                chunk cut short by SIGKILL is not counted) and resumed
  corpus/       what the fuzzer found (the seed corpus is read beside it)
  artifacts/    crash inputs (crash-*, leak-*, oom-*, timeout-*)
  chunks.log    one line per chunk
  fuzz.log      the last chunk's libFuzzer output (crash.log: the crash's)

A crash stops its target (state crashed) with the input kept. Once the
fuzzer binary has changed (a fix was built) the input is tried again at
the next pick: when it now runs clean, the target starts over from zero
(a run is clean from its last crash; the earlier counts stay in history).
A timeout under SCHED_IDLE may only mean that the fuzzer got no CPU for 30
s: the input is run again with a 30 s limit of CPU time instead, and only
an input that uses it up counts as a crash.
"""
import argparse
import fcntl
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(REPO, "build-fuzz", "tests", "fuzz")
CACHE = os.environ.get("KESTREL_CACHE") or os.path.expanduser("~/.cache/kestrel")
ROOT = os.path.join(CACHE, "fuzz", "campaign")
GOAL_EXECUTIONS = 10_000_000
GOAL_CPU_SECONDS = 3600
TIMEOUT = 30  # as scripts/fuzz.sh run_target
FLAGS = [f"-timeout={TIMEOUT}", "-rss_limit_mb=2048", "-print_final_stats=1"]
ENV = dict(os.environ, UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1")
IDLE = ["chrt", "-i", "0"]


def all_targets():
    names = []
    for path in sorted(glob.glob(os.path.join(BUILD, "fuzz-*"))):
        if os.path.isfile(path) and os.access(path, os.X_OK):
            names.append(os.path.basename(path)[len("fuzz-"):])
    return names


def folder(target):
    return os.path.join(ROOT, target)


def binary(target):
    return os.path.join(BUILD, "fuzz-" + target)


def binary_id(target):
    st = os.stat(binary(target))
    return f"{st.st_mtime_ns}:{st.st_size}"


def commit():
    r = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return r.stdout.strip() or "?"


def now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


# --- state, one JSON file per target, replaced atomically ---

def new_state(target):
    return {"target": target, "state": "pending", "executions": 0, "cpu_seconds": 0.0,
            "cov": None, "ft": None, "chunks": 0, "pid": None, "crash": None,
            "crash_binary": None, "crash_kind": None, "note": "", "history": [], "updated": None}


def load_state(target):
    try:
        with open(os.path.join(folder(target), "state.json")) as f:
            return {**new_state(target), **json.load(f)}
    except FileNotFoundError:
        return new_state(target)


def save_state(st):
    d = folder(st["target"])
    os.makedirs(d, exist_ok=True)
    st["updated"] = now()
    tmp = os.path.join(d, "state.json.tmp")
    with open(tmp, "w") as f:
        json.dump(st, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, os.path.join(d, "state.json"))
    dfd = os.open(d, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def goal_reached(st):
    return st["executions"] >= GOAL_EXECUTIONS or st["cpu_seconds"] >= GOAL_CPU_SECONDS


def alive(pid):
    if not pid:
        return False
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


# --- libFuzzer output ---

def final_stats(log):
    """(executions, cov, ft) of a libFuzzer log; None where it has none."""
    try:
        with open(log, errors="replace") as f:
            text = f.read()
    except FileNotFoundError:
        return None, None, None
    m = re.search(r"^stat::number_of_executed_units:\s*(\d+)", text, re.M)
    execs = int(m.group(1)) if m else None
    progress = re.findall(r"^#(\d+)\s.*?cov: (\d+) ft: (\d+)", text, re.M)
    cov = int(progress[-1][1]) if progress else None
    ft = int(progress[-1][2]) if progress else None
    return execs, cov, ft


def live_executions(log):
    """The executions of a running chunk so far (its last progress line)."""
    try:
        with open(log, "rb") as f:
            f.seek(max(0, os.path.getsize(log) - 65536))
            tail = f.read().decode(errors="replace")
    except OSError:
        return 0, None, None
    progress = re.findall(r"^#(\d+)\s.*?cov: (\d+) ft: (\d+)", tail, re.M)
    return (int(progress[-1][0]), int(progress[-1][1]), int(progress[-1][2])) if progress else (0, None, None)


def cpu_of(pid):
    """User + sys seconds of a running process (/proc), 0 if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def spawn(cmd, cwd, log, cpu_limit=None):
    """Starts cmd under SCHED_IDLE with its output in log. It gets SIGINT
    when the thread that started it dies (a campaign killed with SIGKILL
    leaves no fuzzer behind); with cpu_limit, SIGXCPU after that many CPU
    seconds."""
    wrap = ["setpriv", "--pdeathsig", "INT"] + IDLE
    if cpu_limit:
        wrap += ["prlimit", f"--cpu={cpu_limit}:{cpu_limit + 10}"]
    with open(log, "wb") as out:
        return subprocess.Popen(wrap + cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=ENV)


def wait_measured(proc):
    """(exit code, negative for a signal; user + sys seconds) of proc,
    which setpriv, chrt and prlimit have each replaced by the next."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_utime + usage.ru_stime


def scratch_folders(pid="*"):
    # fuzz_support.cpp names its scratch folder after the process; a fuzzer
    # that crashed or was interrupted leaves it behind (no atexit then).
    return glob.glob(f"/dev/shm/kestrel-fuzz-scratch.{pid}.*") + glob.glob(f"/tmp/kestrel-fuzz-scratch.{pid}.*")


def remove_scratch(pid):
    for d in scratch_folders(pid):
        shutil.rmtree(d, ignore_errors=True)


def remove_orphaned_scratch():
    for d in scratch_folders():
        pid = d.rsplit("kestrel-fuzz-scratch.", 1)[1].split(".")[0]
        if pid.isdigit() and not alive(int(pid)):
            shutil.rmtree(d, ignore_errors=True)


# --- the campaign ---

FINDINGS = ("crash-", "leak-", "oom-", "timeout-")  # not slow-unit-: SCHED_IDLE makes those


def history_entry(st, **extra):
    keep = ("executions", "cpu_seconds", "cov", "ft", "crash", "note")
    return {k: st[k] for k in keep} | {"ended": st["updated"]} | extra


class Campaign:
    def __init__(self, order, chunk_seconds, jobs):
        self.order = order
        self.chunk_seconds = chunk_seconds
        self.jobs = jobs
        self.lock = threading.Lock()
        self.taken = set()
        self.stopping = False
        self.running = {}  # target -> Popen of its fuzzer

    def log(self, msg):
        print(f"{now()} {msg}", flush=True)

    def stop(self, *_):
        self.stopping = True
        with self.lock:
            procs = list(self.running.values())
        for p in procs:
            try:
                p.send_signal(signal.SIGINT)  # libFuzzer prints its final stats and exits
            except ProcessLookupError:
                pass

    def run(self, target, cmd, log, cpu_limit=None, chunk=False):
        """Runs a fuzzer of target to its end; (exit code, CPU s), or None
        when the campaign is stopping. A chunk marks the target running."""
        with self.lock:
            if self.stopping:
                return None
            proc = spawn(cmd, folder(target), log, cpu_limit)
            self.running[target] = proc
        if chunk:
            st = load_state(target)
            st.update(state="running", pid=proc.pid, chunk_started=now())
            save_state(st)
        status, cpu = wait_measured(proc)
        with self.lock:
            self.running.pop(target, None)
        remove_scratch(proc.pid)
        return status, cpu

    def pick(self):
        """The next target to run: pending, left "running" by a campaign
        that was killed, or crashed with a fix built since."""
        for target in self.order:
            with self.lock:
                if self.stopping or target in self.taken:
                    continue
                self.taken.add(target)
            st = load_state(target)
            if st["state"] == "done" or (st["state"] == "crashed" and not self.crash_fixed(st)):
                with self.lock:
                    self.taken.discard(target)
                continue
            return target
        return None

    def crash_fixed(self, st):
        """True (and the target starts over) when the fuzzer binary changed
        since the crash and the crash input now runs clean."""
        target = st["target"]
        if not os.path.exists(binary(target)) or st["crash_binary"] == binary_id(target):
            return False
        built = binary_id(target)
        if st.get("crash_kind") == "regression":
            clean = self.regressions_pass(target)
        else:
            inputs = [p for p in st["crash"] or [] if os.path.exists(p)]
            r = self.run(target, [binary(target), f"-timeout={TIMEOUT}", "-rss_limit_mb=2048"] + inputs,
                         os.path.join(folder(target), "recheck.log"))
            clean = r is not None and r[0] == 0
        if self.stopping:
            return False  # no verdict: asked again at the next start
        if not clean:
            st["crash_binary"] = built
            save_state(st)
            self.log(f"{target}: the crash input still fails with the new binary (recheck.log)")
            return False
        self.log(f"{target}: the crash input runs clean now; the target starts over")
        st["history"].append(history_entry(st))
        st.update(state="pending", executions=0, cpu_seconds=0.0, chunks=0, crash=None,
                  crash_binary=None, crash_kind=None, note="restarted after a fix")
        save_state(st)
        return True

    def worker(self):
        while not self.stopping:
            target = self.pick()
            if target is None:
                return
            try:
                self.run_target(target)
            except Exception as e:  # one target's trouble must not end the campaign
                st = load_state(target)
                st.update(state="error", pid=None, note=f"{type(e).__name__}: {e}")
                save_state(st)
                self.log(f"{target}: error {e}")

    def run_target(self, target):
        """Chunks of target until it is done or crashed (or the campaign stops)."""
        failures = 0
        while not self.stopping:
            st = load_state(target)
            if st["state"] == "crashed":
                return
            if goal_reached(st):
                st.update(state="done", pid=None)
                save_state(st)
                self.record_run(st, "PASS")
                self.log(f"{target}: done, {st['executions']} executions, {st['cpu_seconds']:.0f} CPU s")
                return
            failures = failures + 1 if self.chunk(st) == "failed" else 0
            if failures >= 3:
                st = load_state(target)
                st.update(state="error", pid=None, note="three chunks in a row ended without stats (fuzz.log)")
                save_state(st)
                self.log(f"{target}: error, see {folder(target)}/fuzz.log")
                return

    def regressions_pass(self, target):
        """The inputs of tests/fuzz/regressions/TARGET each run once, as
        scripts/fuzz.sh does before every run."""
        regressions = os.path.join(REPO, "tests", "fuzz", "regressions", target)
        if not os.path.isdir(regressions):
            return True
        r = self.run(target, [binary(target), "-runs=0", regressions],
                     os.path.join(folder(target), "regressions.log"))
        return r is None or r[0] == 0

    def chunk_command(self, st):
        target = st["target"]
        seconds = min(self.chunk_seconds, max(60, int(GOAL_CPU_SECONDS - st["cpu_seconds"]) + 1))
        artifacts = os.path.join(folder(target), "artifacts")
        cmd = [binary(target), f"-max_total_time={seconds}", f"-runs={GOAL_EXECUTIONS - st['executions']}",
               f"-artifact_prefix={artifacts}/"] + FLAGS
        d = os.path.join(REPO, "tests", "fuzz", "dict", target + ".dict")
        if os.path.exists(d):
            cmd.append(f"-dict={d}")
        return cmd + ["corpus", os.path.join(REPO, "tests", "fuzz", "corpus", target)]

    def chunk(self, st):
        """One chunk: the regression inputs, then the fuzzer for a chunk of
        wall time. Updates and saves the state; returns "ok", "crashed",
        "stopped" or "failed" (no stats: killed from outside)."""
        target = st["target"]
        work = folder(target)
        artifacts = os.path.join(work, "artifacts")
        os.makedirs(os.path.join(work, "corpus"), exist_ok=True)
        os.makedirs(artifacts, exist_ok=True)
        if not self.regressions_pass(target):
            st.update(state="crashed", pid=None, crash=[os.path.join(work, "regressions.log")],
                      crash_kind="regression", crash_binary=binary_id(target),
                      note="a regression input fails again (regressions.log)")
            save_state(st)
            self.log(f"{target}: a regression input fails again")
            return "crashed"
        before = set(os.listdir(artifacts))
        head = commit()  # what the binary was built from, as far as the tree says
        log = os.path.join(work, "fuzz.log")
        started = time.time()
        r = self.run(target, self.chunk_command(st), log, chunk=True)
        if r is None:
            return "stopped"
        status, cpu = r
        wall = time.time() - started
        execs, cov, ft = final_stats(log)
        findings = sorted(os.path.join(artifacts, a) for a in set(os.listdir(artifacts)) - before
                          if a.startswith(FINDINGS))
        interrupted = self.stopping and status in (72, -signal.SIGINT)
        st = load_state(target)
        if execs is not None:
            st["executions"] += execs
            st["cpu_seconds"] = round(st["cpu_seconds"] + cpu, 1)
            st["chunks"] += 1
            st["cov"] = cov if cov is not None else st["cov"]
            st["ft"] = ft if ft is not None else st["ft"]
        if interrupted or status == 0:
            result = "clean"
        elif findings:
            result = self.judge(st, findings, log)
        else:
            result = "failed" if execs is None else f"exit {status}"
        if result != "crashed":
            st.update(state="pending", pid=None)
        save_state(st)
        with open(os.path.join(work, "chunks.log"), "a") as f:
            f.write(f"{now()} {head} {result}{' (interrupted)' if interrupted else ''}: "
                    f"{execs} executions, {cpu:.1f} CPU s, {wall:.0f} s wall, cov {cov}, ft {ft}; "
                    f"total {st['executions']}, {st['cpu_seconds']:.0f} CPU s\n")
        self.log(f"{target}: chunk {result}, {execs} executions in {cpu:.0f} CPU s "
                 f"({wall:.0f} s wall); total {st['executions']}, {st['cpu_seconds']:.0f} CPU s")
        if interrupted:
            return "stopped"
        return result if result in ("crashed", "failed") else "ok"

    def judge(self, st, inputs, log):
        """A chunk stopped on inputs: "crashed", or "starved" when they were
        only timeouts that a limit of CPU time does not reproduce."""
        target = st["target"]
        if all(os.path.basename(p).startswith("timeout-") for p in inputs):
            verdicts = [self.times_out(target, p) for p in inputs]
            if self.stopping:
                return "starved"  # no verdict; the inputs stay in artifacts/
            if not any(verdicts):
                starved = os.path.join(folder(target), "artifacts", "starved")
                os.makedirs(starved, exist_ok=True)
                for p in inputs:
                    os.replace(p, os.path.join(starved, os.path.basename(p)))
                self.log(f"{target}: a timeout under SCHED_IDLE that {TIMEOUT} s of CPU time do not "
                         f"reproduce (input kept in artifacts/starved)")
                return "starved"
        shutil.copyfile(log, os.path.join(folder(target), "crash.log"))
        st.update(state="crashed", pid=None, crash=inputs, crash_kind="input",
                  crash_binary=binary_id(target), note="crash.log")
        self.record_run(st, "FAIL")
        self.log(f"{target}: CRASH, input {' '.join(inputs)}")
        return "crashed"

    def times_out(self, target, path):
        """True when the input uses TIMEOUT s of CPU time."""
        cmd = [binary(target), "-timeout=0", "-rss_limit_mb=2048", path]
        r = self.run(target, cmd, os.path.join(folder(target), "timeout-check.log"), cpu_limit=TIMEOUT)
        return r is not None and (r[0] == -signal.SIGXCPU or r[1] >= TIMEOUT)

    def record_run(self, st, verdict):
        """The line scripts/fuzz.sh run appends to runs.log, for the target's end."""
        line = (f"{now()[:16]}Z {commit()} {verdict} {st['target']}: {st['executions']} executions in "
                f"{st['cpu_seconds']:.0f} CPU s (campaign), cov {st['cov']}, ft {st['ft']}")
        with open(os.path.join(CACHE, "fuzz", "runs.log"), "a") as f:
            f.write(line + "\n")


def take_driver_lock():
    os.makedirs(ROOT, exist_ok=True)
    fd = os.open(os.path.join(ROOT, "driver.lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        sys.exit(f"a campaign is running already (pid {driver_pid()}); scripts/fuzz.sh status")
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd


def driver_pid():
    """The running campaign's pid, or None."""
    path = os.path.join(ROOT, "driver.lock")
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return None  # nobody holds it
    except BlockingIOError:
        return int(os.read(fd, 32) or 0) or None
    finally:
        os.close(fd)


def cmd_run(args):
    targets = all_targets()
    if not targets:
        sys.exit(f"no fuzz targets in {BUILD}: scripts/sanitize.sh build fuzz")
    named = args.targets or targets
    unknown = [t for t in named + args.skip if t not in targets]
    if unknown:
        sys.exit(f"no such fuzz target: {' '.join(unknown)} (scripts/fuzz.sh list)")
    order = [t for t in named if t not in args.skip]
    lock = take_driver_lock()
    remove_orphaned_scratch()
    for t in order:  # left "running" by a campaign that was killed: its last chunk is lost
        st = load_state(t)
        if st["state"] in ("running", "error"):
            st.update(state="pending", pid=None)
            save_state(st)
    campaign = Campaign(order, args.chunk, args.jobs)
    signal.signal(signal.SIGTERM, campaign.stop)
    signal.signal(signal.SIGINT, campaign.stop)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    campaign.log(f"campaign of {len(order)} targets, {args.jobs} at a time, chunks of {args.chunk} s, in {ROOT}")
    workers = [threading.Thread(target=campaign.worker) for _ in range(args.jobs)]
    for w in workers:
        w.start()
    while any(w.is_alive() for w in workers):
        for w in workers:
            w.join(timeout=1)
    campaign.log("campaign stopped" if campaign.stopping else "campaign ended: every target done or crashed")
    os.close(lock)
    print_status(order)


def print_status(targets):
    pid = driver_pid()
    print(f"campaign {'running, pid ' + str(pid) if pid else 'not running'}; goal per target "
          f"{GOAL_EXECUTIONS:,} executions or {GOAL_CPU_SECONDS} CPU s; state in {ROOT}")
    print(f"{'target':28} {'executions':>11} {'CPU s':>7} {'cov':>6} {'ft':>7}  state")
    for t in targets:
        st = load_state(t)
        execs, cpu, cov, ft, state = st["executions"], st["cpu_seconds"], st["cov"], st["ft"], st["state"]
        if state == "running":
            if alive(st["pid"]) and pid:
                n, live_cov, live_ft = live_executions(os.path.join(folder(t), "fuzz.log"))
                execs, cpu = execs + n, cpu + cpu_of(st["pid"])
                cov, ft = live_cov or cov, live_ft or ft
            else:
                state = "stopped (last chunk lost)"
        elif state == "pending" and st["chunks"]:
            state = "pending (resumes)"
        if state == "crashed":
            state += ": " + " ".join(os.path.relpath(p, folder(t)) for p in st["crash"] or [])
        elif state == "error":
            state += ": " + st["note"]
        print(f"{t:28} {execs:>11} {cpu:>7.0f} {cov if cov is not None else '-':>6} "
              f"{ft if ft is not None else '-':>7}  {state}")


def cmd_status(args):
    print_status(args.targets or all_targets())


def cmd_stop(_args):
    pid = driver_pid()
    if not pid:
        sys.exit("no campaign is running")
    os.kill(pid, signal.SIGTERM)
    print(f"asked campaign {pid} to stop (its fuzzers finish their chunk's stats first)")


def cmd_reset(args):
    if driver_pid():
        sys.exit("stop the campaign first (scripts/fuzz.sh campaign-stop)")
    for t in args.targets:
        st = load_state(t)
        st["history"].append(history_entry(st, reset=True))
        st.update(state="pending", executions=0, cpu_seconds=0.0, chunks=0, pid=None, crash=None,
                  crash_binary=None, note="reset by hand")
        save_state(st)
        print(f"{t}: pending from zero (corpus kept)")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run (or resume) the campaign")
    run.add_argument("targets", nargs="*", help="in this order (default: every target)")
    run.add_argument("--skip", action="append", default=[], metavar="TARGET")
    run.add_argument("--chunk", type=int, default=600, metavar="SECONDS", help="wall time of a chunk")
    run.add_argument("--jobs", type=int, default=2, help="targets at a time (at most 2)")
    status = sub.add_parser("status")
    status.add_argument("targets", nargs="*")
    sub.add_parser("stop")
    reset = sub.add_parser("reset", help="start targets over from zero, corpus kept")
    reset.add_argument("targets", nargs="+")
    args = p.parse_args()
    if args.command == "run":
        args.jobs = max(1, min(args.jobs, 2))
        cmd_run(args)
    elif args.command == "status":
        cmd_status(args)
    elif args.command == "stop":
        cmd_stop(args)
    else:
        cmd_reset(args)


if __name__ == "__main__":
    main()
