"""discard=unmap: after the guest fills 16 MiB of a sparse raw image the
host file has them allocated; after blkdiscard in the guest the blocks are
punched out of the host file again.

usage: blk_discard.py QMP_SOCKET SERIAL_LOG IMAGE"""

import os
import sys

from qmp import Qmp, check, main, wait_log


def allocated_mib(path):
    return os.stat(path).st_blocks * 512 / (1 << 20)


def steps():
    sock, log, image = sys.argv[1:4]
    q = Qmp(sock)
    q.ok("qmp_capabilities")
    wait_log(log, "KTEST-POWER-BUTTON-READY", count=1)
    full = allocated_mib(image)
    check(full >= 16, "after the guest's writes %.1f MiB are allocated" % full)
    q.ok("system_powerdown")
    wait_log(log, "KTEST-POWER-BUTTON-READY", count=2)
    left = allocated_mib(image)
    check(left < 1, "after blkdiscard %.1f MiB are left" % left)
    q.ok("system_powerdown")
    q.wait_event("SHUTDOWN", 60)


if __name__ == "__main__":
    sys.exit(main(steps))
