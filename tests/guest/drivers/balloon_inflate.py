"""balloon-inflate: inflate to 192 MiB, measure the VMM's RSS, deflate to
512 MiB; guest statistics through qom-get. See the scenario.

usage: balloon_inflate.py QMP_SOCKET SERIAL_LOG PIDFILE"""

import sys

from balloon import MiB, UNSET, guest_stats, rss_mib, wait_actual, wait_value
from qmp import Qmp, check, log_value, main, read_pid, wait_log

PATH = "/machine/peripheral/balloon0"


def check_stats(q, log):
    """After guest-stats-polling-interval is set, the statistics arrive and
    match what the guest printed from /proc/meminfo."""
    before = guest_stats(q, PATH)["last-update"]  # the driver's first report, at probe
    q.ok("qom-set", {"path": PATH, "property": "guest-stats-polling-interval", "value": 2})
    check(q.ok("qom-get", {"path": PATH, "property": "guest-stats-polling-interval"}) == 2,
          "the polling interval reads back")
    stats, _ = wait_value("guest-stats", lambda: guest_stats(q, PATH),
                          lambda s: s["last-update"] > before and s["stats"]["stat-total-memory"] != UNSET, 60)
    total_kb = int(log_value(log, "MEMTOTAL0"))
    free_kb = int(log_value(log, "MEMFREE0"))
    s = stats["stats"]
    check(s["stat-total-memory"] == total_kb * 1024,
          "stat-total-memory %d = MemTotal %d kB" % (s["stat-total-memory"], total_kb))
    free = s["stat-free-memory"] / 1024
    check(abs(free - free_kb) <= max(16 * 1024, free_kb * 0.1),
          "stat-free-memory %d kB is near MemFree %d kB" % (free, free_kb))
    check(0 < s["stat-available-memory"] <= s["stat-total-memory"], "stat-available-memory is plausible")
    first = stats["last-update"]
    wait_value("a second report", lambda: guest_stats(q, PATH)["last-update"], lambda t: t > first, 30)
    check(True, "the guest reports again after the interval")


def steps():
    sock, log, pidfile = sys.argv[1:4]
    q = Qmp(sock)
    q.ok("qmp_capabilities")
    pid = read_pid(pidfile)
    check(q.ok("query-balloon")["actual"] == 512 * MiB, "query-balloon: 512 MiB before any request")
    wait_log(log, "KTEST-POWER-BUTTON-READY", count=1)
    check_stats(q, log)

    full = rss_mib(pid)
    check(full >= 400, "after the guest touched 400 MiB the VMM's RSS is %.0f MiB" % full)
    q.ok("balloon", {"value": 192 * MiB})
    wait_actual(q, 192 * MiB)
    after = rss_mib(pid)
    check(full - after >= 150, "balloon 192: RSS %.0f -> %.0f MiB (-%.0f)" % (full, after, full - after))
    info = q.ok("human-monitor-command", {"command-line": "info balloon"})
    check(info == "balloon: actual=192\r\n", "info balloon: %r" % info)
    q.ok("system_powerdown")

    wait_log(log, "KTEST-POWER-BUTTON-READY", count=2)
    q.ok("balloon", {"value": 512 * MiB})
    wait_actual(q, 512 * MiB)
    q.ok("system_powerdown")
    q.wait_event("SHUTDOWN", 300)


if __name__ == "__main__":
    sys.exit(main(steps))
