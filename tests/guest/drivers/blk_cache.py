"""cache=writeback and cache=none: the guest's fsync reaches kestrel as
FLUSH requests (query-blockstats), and the bytes the guest wrote are in
the host files after exit (compared by MD5 with what the guest printed).

usage: blk_cache.py QMP_SOCKET SERIAL_LOG PIDFILE WRITEBACK_IMAGE NONE_IMAGE"""

import hashlib
import sys

from qmp import (Qmp, check, find_block, find_blockstats, log_value, main, read_pid,
                 wait_exit, wait_log)


def head_md5(path, size=1 << 20):
    with open(path, "rb") as f:
        return hashlib.md5(f.read(size)).hexdigest()


def steps():
    sock, log, pidfile, wb, nc = sys.argv[1:6]
    q = Qmp(sock)
    q.ok("qmp_capabilities")
    pid = read_pid(pidfile)
    wait_log(log, "KTEST-POWER-BUTTON-READY")
    for image, direct in ((wb, False), (nc, True)):
        b = find_block(q, image)
        check(b["inserted"]["cache"]["direct"] is direct, "%s: cache.direct=%s" % (image, direct))
        flushes = find_blockstats(q, b["device"])["flush_operations"]
        check(flushes >= 1, "%s: the guest's fsync arrived as %d flush(es)" % (image, flushes))
    q.ok("system_powerdown")
    wait_exit(pid)
    for image, key in ((wb, "MD5_VDA"), (nc, "MD5_VDB")):
        check(head_md5(image) == log_value(log, key), "%s holds what the guest wrote" % image)


if __name__ == "__main__":
    sys.exit(main(steps))
