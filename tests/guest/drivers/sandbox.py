"""Checks a sandboxed kestrel from outside while its guest works, then
makes a vCPU thread call socket() (ptrace) and expects the process to die
of SIGSYS (the scenario's expected exit status is -31).

usage: sandbox.py QMP_SOCKET FLOOD_SOCKET SERIAL_LOG PIDFILE CHROOT"""

import os
import socket
import sys
import time

import syscall_inject as inj
from qmp import deadline_after, Qmp, check, connect_unix, main, open_fds, read_pid, wait_log


def status_field(pid, field, task=None):
    path = "/proc/%d/task/%d/status" % (pid, task) if task else "/proc/%d/status" % pid
    with open(path) as f:
        for line in f:
            if line.startswith(field + ":"):
                return line.split(":", 1)[1].strip()
    return None


def rss_kib(pid):
    return int(status_field(pid, "VmRSS").split()[0])


def filters_everywhere(pid):
    tasks = sorted(int(t) for t in os.listdir("/proc/%d/task" % pid))
    names = {t: open("/proc/%d/task/%d/comm" % (pid, t)).read().strip() for t in tasks}
    modes = {names[t]: status_field(pid, "Seccomp", t) for t in tasks}
    check(set(modes.values()) == {"2"}, "Seccomp: 2 in every thread %s" % modes)
    stacked = {names[t]: status_field(pid, "Seccomp_filters", t) for t in tasks}
    check(stacked["CPU 0/KVM"] == "2" and stacked["IO io1"] == "2" and stacked["kestrel"] == "1",
          "vCPU and iothreads stack their own filter on the main one %s" % stacked)


def steps():
    qmp_sock, flood_sock, log, pidfile, root = sys.argv[1:6]
    pid = read_pid(pidfile)
    q = Qmp(qmp_sock)
    q.ok("qmp_capabilities")
    silent = connect_unix(flood_sock)  # a client that never reads
    filters_everywhere(pid)
    check(status_field(pid, "Uid").split() == ["65534"] * 4, "-runas: uid 65534")
    check(os.readlink("/proc/%d/root" % pid) == os.path.realpath(root), "-chroot: root is the work folder")
    wait_log(log, "^CMP_VDA=0$")
    wait_log(log, "KTEST-FLOOD-START")
    rss0, fds0 = rss_kib(pid), open_fds(pid)
    peak = rss0
    deadline = deadline_after(240)
    while time.monotonic() < deadline:
        peak = max(peak, rss_kib(pid))
        with open(log, errors="replace") as f:
            if "KTEST-FLOOD-DONE" in f.read():
                break
        time.sleep(0.5)
    wait_log(log, "KTEST-FLOOD-DONE")
    check(peak - rss0 < 2048, "RSS flat while the guest floods a serial port nobody reads "
          "(%d KiB -> peak %d KiB)" % (rss0, peak))
    check(open_fds(pid) == fds0, "fd count flat during the flood (%d)" % fds0)
    s = q.ok("query-status")
    check(s["status"] == "running", "the monitor works under the sandbox")
    wait_log(log, "KTEST-POWER-BUTTON-READY")
    try:
        inj.inject(pid, "CPU 0/KVM", inj.SYS_SOCKET, (socket.AF_UNIX, socket.SOCK_STREAM, 0))
        check(False, "socket() in a vCPU thread returned instead of killing kestrel")
    except inj.Killed as e:
        check(e.signal == 31, "socket() in a vCPU thread: kestrel killed by signal %d (SIGSYS)" % e.signal)
    silent.close()


if __name__ == "__main__":
    sys.exit(main(steps))
