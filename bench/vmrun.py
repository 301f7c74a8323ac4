"""Run one VMM process and time it: wall clock from fork to the reaping of
the child, the child's CPU time and peak RSS (wait4 rusage), and the wall
time at which given markers first appeared on its stdout.

The VMM is started through rusage_exec (bench/rusage_exec.c, a small static
program that forks, execs the VMM, wait4s and writes the numbers to a file):
started straight from Python, ru_maxrss would include Python's own peak,
because Linux keeps the pre-exec address space's high-water mark.
stdin is /dev/null, stdout a pipe read here, stderr a file. The exit is
noticed through a pidfd, so no polling interval adds to the marker times.
"""

import os
import select
import signal
import time
from dataclasses import dataclass, field


@dataclass
class RunResult:
    argv: list
    wall_s: float = 0.0             # fork+exec -> child reaped (rusage_exec)
    t0_mono: float = 0.0            # time.monotonic() at the spawn (markers count from it)
    outer_wall_s: float = 0.0       # the same seen from here (+ rusage_exec)
    cpu_s: float = 0.0              # user + system time of the child
    user_s: float = 0.0
    sys_s: float = 0.0
    maxrss_kib: int = 0             # ru_maxrss (Linux: KiB)
    status: object = None           # exit code, "signal N", or "timeout"
    markers: dict = field(default_factory=dict)   # marker -> seconds after exec
    stdout: bytes = b""
    stderr: str = ""

    diag: str = ""                  # process states when a run had to be killed

    def to_json(self, keep_stdout=False):
        d = {k: getattr(self, k) for k in ("wall_s", "outer_wall_s", "cpu_s",
                                           "user_s", "sys_s",
                                           "maxrss_kib", "status", "markers")}
        if self.stderr:
            d["stderr"] = self.stderr[-2000:]
        if self.diag:
            d["diag"] = self.diag[-6000:]
        if keep_stdout:
            d["stdout"] = self.stdout.decode(errors="replace")[-4000:]
        return d


def exit_status(wait_status):
    if os.WIFEXITED(wait_status):
        return os.WEXITSTATUS(wait_status)
    return "signal %d" % os.WTERMSIG(wait_status)


class MarkerWatch:
    """Remembers when each marker first shows up in a growing byte stream."""

    def __init__(self, markers, on_marker=None):
        self.pending = [m.encode() for m in markers]
        self.found = {}
        self.data = bytearray()
        self.on_marker = on_marker

    def feed(self, chunk, now):
        start = max(0, len(self.data) - max((len(m) for m in self.pending), default=0))
        self.data += chunk
        for m in list(self.pending):
            if self.data.find(m, start) >= 0:
                self.found[m.decode()] = now
                self.pending.remove(m)
                if self.on_marker:
                    self.on_marker(m.decode())


HELPER = os.environ.get("BENCH_RUSAGE_EXEC", "rusage_exec")


def read_stat(path, r):
    """Fills r from rusage_exec's line; False when there is none (killed)."""
    try:
        with open(path) as f:
            wall_ns, code, sig, user_us, sys_us, maxrss = map(int, f.read().split())
    except (OSError, ValueError):
        return False
    r.wall_s, r.user_s, r.sys_s = wall_ns / 1e9, user_us / 1e6, sys_us / 1e6
    r.cpu_s, r.maxrss_kib = r.user_s + r.sys_s, maxrss
    r.status = code if not sig else "signal %d" % sig
    return True


def run(argv, timeout, markers=(), stderr_path="/tmp/bench-stderr.txt",
        stop_after=None, stat_path="/tmp/bench-rusage.txt", on_marker=None):
    """Runs argv to its end (killed after `timeout` s, status "timeout",
    with the processes' states in diag). stop_after: seconds after which the child is killed on
    purpose (status "stopped" when it was still running then). on_marker(marker) is called
    as each marker first shows up."""
    out_r, out_w = os.pipe()
    devnull = os.open("/dev/null", os.O_RDONLY)
    err = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    actions = [(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, out_w, 1),
               (os.POSIX_SPAWN_DUP2, err, 2)]
    watch = MarkerWatch(markers, on_marker)
    if os.path.exists(stat_path):
        os.unlink(stat_path)
    t0_mono, t0 = time.monotonic(), time.perf_counter()
    pid = os.posix_spawnp(HELPER, [HELPER, stat_path] + list(argv), os.environ,
                          file_actions=actions)
    for fd in (out_w, devnull, err):
        os.close(fd)
    pidfd = os.pidfd_open(pid)
    CURRENT.update(pid=pid, t0=t0, argv=argv)
    limit = stop_after if stop_after is not None else timeout
    killed = follow(out_r, pidfd, pid, watch, t0, t0 + limit)
    diag = stop(pid, pidfd, expected=stop_after is not None) if killed else ""
    _, wait_status, _ = os.wait4(pid, 0)
    CURRENT.clear()
    t_end = time.perf_counter()
    drain(out_r, watch, t0)
    os.close(out_r)
    os.close(pidfd)
    r = RunResult(argv=list(argv), outer_wall_s=t_end - t0, t0_mono=t0_mono,
                  markers=watch.found, stdout=bytes(watch.data))
    if killed:
        read_stat(stat_path, r)
        r.status = "stopped" if stop_after is not None else "timeout"
        r.diag = diag
        if "still alive" in diag:
            r.status = "hung (survived SIGKILL)"
    elif not read_stat(stat_path, r):
        r.status = "rusage_exec failed (%s)" % exit_status(wait_status)
    with open(stderr_path, errors="replace") as f:
        r.stderr = f.read()
    return r


def follow(out_r, pidfd, pid, watch, t0, deadline):
    """Reads stdout until the child exits; kills it at the deadline.
    Returns True when it had to kill."""
    fds = [out_r, pidfd]
    while True:
        left = deadline - time.perf_counter()
        if left <= 0:
            return True
        ready, _, _ = select.select(fds, [], [], left)
        if out_r in ready:
            chunk = os.read(out_r, 65536)
            if chunk:
                watch.feed(chunk, time.perf_counter() - t0)
            else:
                fds.remove(out_r)
        if pidfd in ready:
            return False


def stop(pid, pidfd, expected):
    """Ends rusage_exec and its VMM (SIGTERM: it SIGKILLs the VMM and reaps
    it). Returns a description of the processes when the stop was not
    planned (a timeout) or did not work."""
    diag = "" if expected else describe_tree(pid)
    os.kill(pid, signal.SIGTERM)
    ready, _, _ = select.select([pidfd], [], [], 10)
    if not ready:
        diag += "\nstill alive 10 s after SIGTERM:\n" + describe_tree(pid)
        os.kill(pid, signal.SIGKILL)
    return diag


def read_text(path, limit=2000):
    try:
        with open(path, errors="replace") as f:
            return f.read(limit).strip()
    except OSError as e:
        return "(%s)" % e.strerror


def descendants(pid):
    out = [pid]
    for task in os.listdir("/proc/%d/task" % pid) if os.path.isdir("/proc/%d" % pid) else []:
        for child in read_text("/proc/%d/task/%s/children" % (pid, task)).split():
            if child.isdigit():
                out += descendants(int(child))
    return out


def describe_tree(pid):
    """State, CPU ticks, wait channel and kernel stack of every thread of pid
    and its descendants: what a stuck VMM was doing."""
    lines = []
    for p in descendants(pid):
        lines.append("pid %d %s" % (p, read_text("/proc/%d/cmdline" % p, 300).replace("\0", " ")))
        try:
            tasks = os.listdir("/proc/%d/task" % p)
        except OSError:
            continue
        for t in tasks:
            base = "/proc/%d/task/%s/" % (p, t)
            stat = read_text(base + "stat").rsplit(")", 1)[-1].split()
            state, ticks = (stat[0], int(stat[11]) + int(stat[12])) if len(stat) > 12 else ("?", -1)
            lines.append("  tid %s %s state %s cpu %d ticks wchan %s" % (
                t, read_text(base + "comm"), state, ticks, read_text(base + "wchan")))
            stack = read_text(base + "stack", 600).splitlines()[:8]
            lines += ["    " + x for x in stack]
    return "\n".join(lines)


CURRENT = {}   # the run in progress: pid (rusage_exec), t0, argv


def drain(out_r, watch, t0):
    while True:
        ready, _, _ = select.select([out_r], [], [], 0)
        if not ready:
            return
        chunk = os.read(out_r, 65536)
        if not chunk:
            return
        watch.feed(chunk, time.perf_counter() - t0)
