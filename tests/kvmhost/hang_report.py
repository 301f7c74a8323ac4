"""What the test host's QEMU was doing when kvmhost gave it up (silent,
wedged or out of time), written to l1-hang.txt beside the console log:

- each thread of the L1 QEMU process: state, CPU used over two seconds,
  and the kernel function it waits in (wchan): a QEMU whose threads all
  sleep in futex_wait is deadlocked, one whose vCPU threads burn CPU is
  running (L1 itself is stuck, or very slow);
- through L1 QEMU's QMP socket: run state and each L1 vCPU's registers,
  twice a second apart (RIP moving or not); no answer within 5 s means
  QEMU's main loop is stuck too.

L1's kernel runs without KASLR offsets known here, so RIPs are raw; CPL
and whether they move already tell a spinning kernel from a halted one.
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "guest", "drivers"))
from qmp import Failure, Qmp  # noqa: E402

SAMPLE_S = 2.0
QMP_TIMEOUT_S = 5.0


def thread_states(pid):
    """{tid: (comm, state, cpu ticks, wchan)} of a process's threads."""
    out = {}
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return out
    for tid in tids:
        base = "/proc/%d/task/%s/" % (pid, tid)
        try:
            with open(base + "stat") as f:
                stat = f.read()
            with open(base + "wchan") as f:
                wchan = f.read().strip() or "-"
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        out[tid] = (comm, fields[0], int(fields[11]) + int(fields[12]), wchan)
    return out


def thread_lines(pid):
    a = thread_states(pid)
    time.sleep(SAMPLE_S)
    b = thread_states(pid)
    tick = os.sysconf("SC_CLK_TCK")
    lines = ["L1 QEMU threads (pid %d): state, CPU over %.0f s, wchan" % (pid, SAMPLE_S)]
    for tid, (comm, state, ticks, wchan) in sorted(b.items(), key=lambda kv: int(kv[0])):
        used = (ticks - a[tid][2]) / tick if tid in a else float("nan")
        lines.append("  %-7s %-16s %s %5.2f s  %s" % (tid, comm, state, used, wchan))
    return lines


def register_lines(text):
    """The lines of `info registers -a` that say where each CPU is."""
    keep = ("CPU#", "RIP=", "EIP=")
    return ["  " + l.strip() for l in text.splitlines() if l.strip().startswith(keep)]


def qmp_lines(path):
    try:
        q = Qmp(path, timeout=QMP_TIMEOUT_S)
        q.ok("qmp_capabilities")
        lines = ["L1 QEMU over QMP: %s" % json.dumps(q.ok("query-status"))]
        for n in range(2):
            lines.append("info registers -a (%d):" % (n + 1))
            lines += register_lines(q.ok("human-monitor-command", {"command-line": "info registers -a"}))
            time.sleep(1)
        return lines
    except (Failure, OSError, ValueError) as e:
        return ["L1 QEMU's QMP did not answer (%s): its main loop is stuck" % e]


def write(pid, qmp_path, out_path):
    """Writes the report; never raises (it only helps explain a failure)."""
    try:
        lines = thread_lines(pid) + [""] + qmp_lines(qmp_path)
        with open(out_path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return out_path
    except Exception as e:  # noqa: BLE001 - a diagnostic must not hide the real failure
        return "no hang report (%s)" % e
