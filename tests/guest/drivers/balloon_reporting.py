"""balloon-reporting: free page reporting returns freed guest memory to the
host without a balloon command; deflate-on-oom lets the guest take memory
back from the balloon. See the scenario.

usage: balloon_reporting.py QMP_SOCKET SERIAL_LOG PIDFILE"""

import sys

from balloon import MiB, rss_mib, wait_actual, wait_value
from qmp import Qmp, check, main, read_pid, wait_log


def steps():
    sock, log, pidfile = sys.argv[1:4]
    q = Qmp(sock)
    q.ok("qmp_capabilities")
    pid = read_pid(pidfile)
    wait_log(log, "KTEST-POWER-BUTTON-READY", count=1)
    full = rss_mib(pid)
    check(full >= 600, "after the guest touched 600 MiB the VMM's RSS is %.0f MiB" % full)
    q.ok("system_powerdown")

    wait_log(log, "FREED")
    rss, seconds = wait_value("the VMM's RSS", lambda: rss_mib(pid), lambda r: full - r >= 400, 60)
    check(True, "free page reporting: RSS %.0f -> %.0f MiB within %.1f s" % (full, rss, seconds))
    check(q.ok("query-balloon")["actual"] == 1024 * MiB, "reporting leaves the balloon empty")

    wait_log(log, "KTEST-POWER-BUTTON-READY", count=2)
    q.ok("balloon", {"value": 300 * MiB})
    wait_actual(q, 300 * MiB)
    q.ok("system_powerdown")
    wait_log(log, "OOM_DONE", timeout=300)
    actual = q.ok("query-balloon")["actual"]
    check(actual >= 500 * MiB, "deflate-on-oom: the guest took the balloon down to %d MiB" % (actual // MiB))
    wait_log(log, "KTEST-POWER-BUTTON-READY", count=3)
    q.ok("system_powerdown")
    q.wait_event("SHUTDOWN", 120)


if __name__ == "__main__":
    sys.exit(main(steps))
