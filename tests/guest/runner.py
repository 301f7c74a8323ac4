#!/usr/bin/env python3
"""Runs guest test scenarios against a VMM on a machine with working KVM
(normally inside the nested test host, started there by run.py).

Each scenario's VMM output goes to RESULTS/<name>/serial.log; a line
"PASS|FAIL name seconds" is printed as each finishes (failures with their
reasons and the log's tail), and the run ends with "N passed, N failed".
"""

import argparse
import codecs
import concurrent.futures
import faulthandler
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import assets  # noqa: E402
import heartbeat  # noqa: E402
import bootmedia  # noqa: E402
import cpio  # noqa: E402
import scenario as sc  # noqa: E402

TAIL_LINES = 25
# Beyond its timeout and its driver's grace an attempt may still spend this
# long (VMM teardown, logs) before the heartbeat calls the runner stuck.
SCENARIO_OVERRUN_S = 180


def default_kestrel():
    return os.environ.get("KESTREL_BIN") or os.path.join(REPO, "build", "kestrel")


def vmm_argv(vmm, kestrel):
    if vmm == "qemu":
        return ["qemu-system-x86_64", "-enable-kvm"]
    return [kestrel]


class Result:
    def __init__(self, name, reasons, seconds, log_path):
        self.name = name
        self.reasons = reasons
        self.seconds = seconds
        self.log_path = log_path
        self.first_attempt = None  # reasons of a failed first attempt
        self.attempts = 1

    @property
    def passed(self):
        return not self.reasons

    def as_dict(self):
        return {"name": self.name, "passed": self.passed,
                "seconds": round(self.seconds, 1), "reasons": self.reasons,
                "log": self.log_path, "first_attempt": self.first_attempt}


def guest_initrd(s, base_initrd, workdir, tools=()):
    """Base initramfs, the tool archives (paths) the scenario asks for,
    plus an archive with the scenario's script and files."""
    if s.script is None and not s.guest_files and not s.guest_tools:
        return base_initrd
    overlay = cpio.CpioWriter()
    if s.script is not None:
        overlay.add_file("scenario.sh", s.script.encode(), 0o755)
    for path, text in s.guest_files.items():
        overlay.add_file(path, text.encode(), 0o644)
    out = os.path.join(workdir, "initrd.cpio.gz")
    with open(out, "wb") as f, open(base_initrd, "rb") as base:
        shutil.copyfileobj(base, f)
        f.write(b"\0" * (-f.tell() % 512))  # the kernel finds an archive only at an aligned offset
        for path in tools:  # uncompressed archives, each a multiple of 512 bytes
            with open(path, "rb") as t:
                shutil.copyfileobj(t, f)
        f.write(overlay.gzip_bytes())
    return out


def build_disk(name, spec, workdir, a):
    if spec.get("fs") in bootmedia.KINDS:   # the cached bootable media
        return bootmedia.copy_for_run(a, spec["fs"], spec.get("format", "raw"),
                                      os.path.join(workdir, name))
    files = spec.get("files", {})
    source = None
    if files:
        source = os.path.join(workdir, "disk-%s-files" % name)
        for path, text in files.items():
            full = os.path.join(source, path.lstrip("/"))
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w") as f:
                f.write(text)
    out = os.path.join(workdir, name + ".img")
    size = assets.parse_size(spec.get("size", "64M"))
    if spec.get("format", "raw") == "qcow2":
        # An empty, growing qcow2 image (with its file system converted in).
        qcow2 = os.path.join(workdir, name + ".qcow2")
        if spec.get("fs", "ext4") == "raw" and not source:
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", qcow2, str(size)], check=True)
        else:
            assets.make_disk_image(out, size, spec.get("fs", "ext4"), source)
            subprocess.run(["qemu-img", "convert", "-O", "qcow2", out, qcow2], check=True)
            os.unlink(out)
        return qcow2
    assets.make_disk_image(out, size, spec.get("fs", "ext4"), source)
    return out


def placeholder_values(s, a, workdir, results):
    vmlinux = a.get("vmlinux") or a["kernel"].replace("/vmlinuz-", "/vmlinux-")
    values = {"kernel": a["kernel"], "vmlinux": vmlinux, "append": s.append, "workdir": workdir,
              "results": results,
              "drivers": os.path.join(os.path.dirname(os.path.abspath(__file__)), "drivers"),
              "initrd": guest_initrd(s, a["l2_initrd"], workdir,
                                     [a[sc.GUEST_TOOLS[name]] for name in s.guest_tools]),
              "pingpong": a.get("tcp_pingpong", "")}
    for name, spec in s.disks.items():
        values["disk:" + name] = build_disk(name, spec, workdir, a)
    return values


def kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# A killed process that has not ended after this long is stuck in the
# kernel; the runner reports it and goes on instead of waiting for ever.
KILL_WAIT_S = 60


def task_states(pid):
    """Each thread of pid: state, wait channel and kernel stack."""
    lines = []
    for tid in sorted(os.listdir("/proc/%d/task" % pid), key=int):
        base = "/proc/%d/task/%s/" % (pid, tid)
        fields = [read_text(base + "comm").strip(), read_text(base + "stat").split(") ")[-1][:1],
                  "wchan=" + read_text(base + "wchan").strip()]
        lines.append("    task %s: %s" % (tid, " ".join(fields)))
        lines += ["      " + f for f in read_text(base + "stack").splitlines()[:12]]
    return "\n".join(lines)


def save_task_states(proc, path):
    """Where the VMM's threads were when its scenario failed (a silent
    guest: which vCPU thread runs, which waits and on what)."""
    try:
        states = task_states(proc.pid)
    except OSError:
        return
    with open(path, "w") as f:
        f.write("%s (pid %d) when the scenario failed:\n%s\n" % (proc.args[0], proc.pid, states))


def read_text(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def end_process(proc, wait_s=KILL_WAIT_S):
    """Kills proc's group and reaps proc; None, or why it could not."""
    kill_group(proc)
    try:
        proc.wait(wait_s)
        return None
    except subprocess.TimeoutExpired:
        try:
            states = task_states(proc.pid)
        except OSError:
            states = "    (gone)"
        return "%s (pid %d) did not end within %d s of SIGKILL:\n%s" % (
            os.path.basename(str(proc.args[0])), proc.pid, wait_s, states)


def follow_output(proc, log, judge, lock):
    """Logs output as it arrives (a partial last line too, so a hang
    mid-line shows in the tail) and judges complete lines."""
    fd = proc.stdout.fileno()
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pending = b""
    while True:
        chunk = os.read(fd, 65536)
        text = decoder.decode(chunk, final=not chunk)
        if text:
            log.write(text.replace("\r", ""))
            log.flush()
        pending += chunk
        lines = pending.split(b"\n")
        pending = lines.pop() if chunk else b""
        if not chunk and lines[-1] == b"":
            lines.pop()
        with lock:
            for raw in lines:
                judge.feed(raw.decode(errors="replace").rstrip("\r"), time.time())
        if not chunk:
            return


def supervise(proc, s, judge, lock, driver=None):
    """Waits for the VMM; returns how it ended: exited|timeout|killed.
    A driver that failed ends the VMM at once (its verdict is known)."""
    deadline = time.monotonic() + s.timeout
    while proc.poll() is None:
        with lock:
            forbidden = judge.forbidden is not None
            done = s.kill_after_markers and judge.all_markers_seen()
        driver_failed = driver is not None and driver.poll() not in (None, 0)
        if forbidden or done or driver_failed:
            return "killed"
        if time.monotonic() > deadline:
            return "timeout"
        time.sleep(0.1)
    return "exited"


def exit_reason(s, ending, status, judge):
    if ending == "timeout":
        seen = " (all markers seen; it did not exit)" \
            if s.expect and judge.all_markers_seen() else ""
        return "timed out after %.0f s%s" % (s.timeout, seen)
    if s.kill_after_markers:
        if ending == "exited" and not judge.all_markers_seen():
            return "command exited with status %d before all markers" % status
        return None
    if ending == "exited" and status != s.exit_status:
        how = ("killed by signal %d" % -status) if status < 0 \
            else "exit status %d" % status
        return "command %s, expected exit status %d" % (how, s.exit_status)
    return None


def start_driver(driver_argv, results):
    if not driver_argv:
        return None, None
    log = open(os.path.join(results, "driver.log"), "w")
    proc = subprocess.Popen(driver_argv, stdin=subprocess.DEVNULL, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    return proc, log


def finish_driver(proc, log, results, grace):
    """The driver's verdict once the VMM has ended (it gets `grace` more
    seconds): None when it passed."""
    if proc is None:
        return None
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        stuck = end_process(proc)
        if stuck:
            log.close()
            return "driver " + stuck
    log.close()
    if proc.returncode == 0:
        return None
    tail = log_tail(os.path.join(results, "driver.log"))
    how = "did not finish" if proc.returncode < 0 else "exited with status %d" % proc.returncode
    return "driver %s:\n%s" % (how, tail)


def execute(s, argv, log_path, driver_argv=None, kill_wait=KILL_WAIT_S):
    """Runs one scenario's command (and its driver) and judges it; returns
    the reasons it failed (empty when it passed)."""
    judge = sc.OutputJudge(s)
    lock = threading.Lock()
    results = os.path.dirname(log_path)
    with open(log_path, "w") as log:
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT,
                                    start_new_session=True)
        except OSError as e:
            return ["cannot start %s: %s" % (argv[0], e)]
        driver, driver_log = start_driver(driver_argv, results)
        reader = threading.Thread(target=follow_output, daemon=True,
                                  args=(proc, log, judge, lock))
        reader.start()
        try:
            ending = supervise(proc, s, judge, lock, driver)
            if ending == "timeout" or (driver is not None and driver.poll() not in (None, 0)):
                save_task_states(proc, os.path.join(results, "vmm-threads.txt"))
        finally:
            stuck = end_process(proc, kill_wait)
            reader.join(kill_wait)
            driver_problem = finish_driver(driver, driver_log, results, s.driver_grace)
    held = "the command's output stayed open %d s after it ended (a process " \
        "outside its group holds it)" % kill_wait if reader.is_alive() else None
    reasons = [stuck or exit_reason(s, ending, proc.returncode, judge), held, driver_problem]
    return [r for r in reasons if r] + judge.problems()


def run_scenario(s, args, a, results_root):
    results = os.path.join(results_root, s.name)
    workdir = os.path.join(args.workdir, s.name)
    os.makedirs(results, exist_ok=True)
    os.makedirs(workdir, exist_ok=True)
    log_path = os.path.join(results, "serial.log")
    started = time.monotonic()
    try:
        values = placeholder_values(s, a, workdir, results)
        vmm = vmm_argv(args.vmm, args.kestrel)
        argv = sc.expand_command(s.command, values, vmm)
        driver = sc.expand_command(s.driver, values, vmm) if s.driver else None
        with open(os.path.join(results, "command.txt"), "w") as f:
            f.write(shlex.join(argv) + "\n")
            if driver:
                f.write("driver: " + shlex.join(driver) + "\n")
        s.checks = [c for c in s.checks if c.vmm in (None, args.vmm)]
        reasons = execute(s, argv, log_path, driver, args.kill_wait)
    except (sc.ScenarioError, OSError, subprocess.CalledProcessError) as e:
        reasons = ["setup failed: %s" % e]
    finally:
        if not args.keep_work:
            shutil.rmtree(workdir, ignore_errors=True)
    return Result(s.name, reasons, time.monotonic() - started, log_path)


def run_with_retry(s, args, a, results_root):
    """In the nested test host about one boot in ten resets or hangs before
    init under QEMU as well as kestrel (TCG's SVM emulation; see
    tests/README.md), so there a failed scenario gets more attempts
    (--retries). Earlier attempts' logs stay in NAME.attemptN and the
    report gives the first failure."""
    r = run_scenario(s, args, a, results_root)
    first_reasons = r.reasons
    seconds = r.seconds
    retries = args.retries if s.retries is None else min(s.retries, args.retries)
    for attempt in range(1, retries + 1):
        if r.passed:
            break
        first = os.path.join(results_root, s.name)
        kept = "%s.attempt%d" % (first, attempt)
        shutil.rmtree(kept, ignore_errors=True)
        os.rename(first, kept)
        r = run_scenario(s, args, a, results_root)
        seconds += r.seconds
        r.first_attempt = first_reasons
        r.attempts = attempt + 1
    r.seconds = seconds
    return r


# A driver's log ends with the VMM's state after a failed check (qmp.py);
# its report shows the checks before it.
STATE_HEADING = "state of the VMM at the failure"


def log_tail(path):
    try:
        with open(path, errors="replace") as f:
            lines = f.read().split("\n" + STATE_HEADING)[0].splitlines()[-TAIL_LINES:]
    except OSError:
        return "    (no log)"
    return "\n".join("    | " + line for line in lines)


def report(result):
    word = "PASS" if result.passed else "FAIL"
    text = "%s %s %.1fs" % (word, result.name, result.seconds)
    if result.first_attempt:
        text += " (attempt %d; the first failed: %s)" % (result.attempts, "; ".join(result.first_attempt))
    if not result.passed:
        text += "\n" + "\n".join("    - " + r for r in result.reasons)
        if result.log_path:
            text += "\n    --- last %d lines of %s\n%s" % (
                TAIL_LINES, result.log_path, log_tail(result.log_path))
    print(text, flush=True)


class Summary:
    """RESULTS/summary.json, rewritten after every scenario so that a test
    host that dies half-way still leaves what finished."""

    def __init__(self, path, vmm, names):
        self.path = path
        self.data = {"vmm": vmm, "selected": names, "results": [],
                     "complete": False}
        self.write()

    def add(self, result):
        self.data["results"].append(result.as_dict())
        self.write()

    def finish(self):
        self.data["complete"] = True
        self.write()

    def write(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.data, f, indent=1)
        os.replace(tmp, self.path)


def select(scenarios, only):
    if not only:
        return scenarios
    known = {s.name: s for s in scenarios}
    missing = [n for n in only if n not in known]
    if missing:
        raise SystemExit("runner: no scenario %s (have: %s)" % (
            ", ".join(missing), ", ".join(sorted(known))))
    return [known[n] for n in only]


def vmm_problem(args):
    if args.vmm == "kestrel" and not os.access(args.kestrel, os.X_OK):
        return "kestrel binary not found at %s (build it, or pass --kestrel " \
               "PATH / set KESTREL_BIN)" % args.kestrel
    return None


# An idle machine boots the nested test host in ~7 s; a busy one slower,
# and its guests as much slower: scenario timeouts grow by the same factor.
L1_BOOT_IDLE_S = 7.0


def l1_boot_seconds():
    """How long the nested test host took to get here (None elsewhere)."""
    if os.environ.get("KVMHOST_MODE") != "nested":
        return None
    with open("/proc/uptime") as f:
        return float(f.read().split()[0])


def timeout_scale(l1_boot):
    """KESTREL_TIMEOUT_SCALE if set, else how much slower than idle the
    test host booted (never below 1)."""
    forced = os.environ.get("KESTREL_TIMEOUT_SCALE")
    if forced:
        return max(1.0, float(forced))
    return 1.0 if l1_boot is None else max(1.0, l1_boot / L1_BOOT_IDLE_S)


def announce(args, count, results_root, l1_boot, scale):
    print("guest tests: %d scenario(s), VMM %s, results in %s" % (
        count, " ".join(vmm_argv(args.vmm, args.kestrel)), results_root),
        flush=True)
    if l1_boot is not None:
        print("test host (L1) booted in %.1f s" % l1_boot, flush=True)
    if scale > 1.0:
        print("guest tests: timeouts x%.2f (a slow machine)" % scale, flush=True)


def dump_stuck(names):
    """What a runner past a scenario's deadline is waiting for: its own
    threads' stacks and every process's state, on stdout (the CI log)."""
    print("guest tests: past the deadline of %s; the runner's threads and the "
          "test host's processes follow" % " ".join(names), flush=True)
    faulthandler.dump_traceback(sys.stdout.fileno(), all_threads=True)
    ps = subprocess.run(["ps", "-eLo", "pid,tid,ppid,stat,wchan:28,etime,args"],
                        capture_output=True, text=True, errors="replace").stdout
    user = [line for line in ps.splitlines() if line.split()[-1:] != [] and
            not line.split(None, 6)[-1].startswith("[")]  # kernel threads left out
    print("\n".join(line[:200] for line in user[:150]), flush=True)
    for line in ps.splitlines()[1:]:
        fields = line.split()
        if len(fields) > 3 and fields[3].startswith("D"):
            print("task %s in D state:\n%s" % (fields[1], read_text(
                "/proc/%s/task/%s/stack" % (fields[0], fields[1]))), flush=True)


def run_all(args):
    scenarios = select(sc.load_dir(args.scenarios), args.only)
    # Longest first so the slow (SMP) guests do not end up last and alone;
    # --last ones (running when an earlier test host failed) at the end.
    scenarios.sort(key=lambda s: (s.name in args.last, -s.timeout, s.name))
    results_root = os.path.abspath(args.results)
    os.makedirs(results_root, exist_ok=True)
    a = assets.load_assets(args.assets) if args.assets else assets.build_all()
    summary = Summary(os.path.join(results_root, "summary.json"), args.vmm,
                      [s.name for s in scenarios])
    l1_boot = l1_boot_seconds()
    scale = timeout_scale(l1_boot)
    # The drivers' own waits grow by the same factor (qmp.deadline_after).
    os.environ["KESTREL_TIMEOUT_SCALE"] = "%.2f" % scale
    for s in scenarios:
        s.timeout *= scale
        s.driver_grace *= scale
    announce(args, len(scenarios), results_root, l1_boot, scale)
    problem = vmm_problem(args)
    lock = threading.Lock()
    alive = heartbeat.Heartbeat(on_overdue=dump_stuck).start()

    def one(s):
        alive.watch(s.name, (s.timeout + s.driver_grace + SCENARIO_OVERRUN_S) * (args.retries + 1))
        r = Result(s.name, [problem], 0.0, "") if problem else \
            run_with_retry(s, args, a, results_root)
        alive.done(s.name)
        with lock:
            report(r)
            summary.add(r)
        return r

    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(one, scenarios))
    alive.stop()
    summary.finish()
    passed = sum(r.passed for r in results)
    # A fresh host's part is labelled: run.py prints the one summary line.
    label = "this test host: " if args.part else ""
    print("%s%d passed, %d failed" % (label, passed, len(results) - passed), flush=True)
    return 0 if passed == len(results) else 1


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--vmm", choices=["kestrel", "qemu"], default="kestrel")
    p.add_argument("--kestrel", default=default_kestrel(),
                   help="kestrel binary (default $KESTREL_BIN or build/kestrel)")
    p.add_argument("--only", action="append", default=[], metavar="NAME",
                   help="run only this scenario (repeatable)")
    p.add_argument("--last", action="append", default=[], metavar="NAME",
                   help="run this scenario after the others (repeatable)")
    p.add_argument("--scenarios", default=os.path.join(HERE, "scenarios"))
    p.add_argument("--results", required=True)
    p.add_argument("--assets", help="assets.json from assets.py build "
                   "(default: build the assets here)")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--retries", type=int,
                   default=2 if os.environ.get("KVMHOST_MODE") == "nested" else 0,
                   help="attempts after a failure (default 2 in the nested test "
                   "host, 0 on hardware KVM)")
    p.add_argument("--part", action="store_true",
                   help="these scenarios are part of a larger run: label the "
                   "summary line, the caller prints the run's own")
    p.add_argument("--kill-wait", type=float, default=KILL_WAIT_S,
                   help="seconds a killed command may take to end before it is "
                   "reported stuck (default %(default)s)")
    p.add_argument("--workdir", default="/tmp/kestrel-guest-%d" % os.getpid())
    p.add_argument("--keep-work", action="store_true",
                   help="keep generated initrds and disk images")
    return p.parse_args(argv)


if __name__ == "__main__":
    sys.exit(run_all(parse_args(sys.argv[1:])))
