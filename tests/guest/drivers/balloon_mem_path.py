"""balloon-mem-path: inflation punches holes in the -mem-path file.

usage: balloon_mem_path.py QMP_SOCKET SERIAL_LOG RAM_FILE"""

import sys

from balloon import MiB, allocated_mib, wait_actual
from qmp import Qmp, check, main, wait_log


def steps():
    sock, log, ram = sys.argv[1:4]
    q = Qmp(sock)
    q.ok("qmp_capabilities")
    wait_log(log, "KTEST-POWER-BUTTON-READY", count=1)
    full = allocated_mib(ram)
    check(full >= 160, "after the guest touched 160 MiB the RAM file has %.0f MiB allocated" % full)
    q.ok("balloon", {"value": 128 * MiB})
    wait_actual(q, 128 * MiB)
    after = allocated_mib(ram)
    check(full - after >= 100, "balloon 128: the RAM file went from %.0f to %.0f MiB allocated" % (full, after))
    q.ok("system_powerdown")
    q.wait_event("SHUTDOWN", 120)


if __name__ == "__main__":
    sys.exit(main(steps))
