"""Two virtio-blk disks, one multiqueue on an iothread: the iothread is a
thread of kestrel's named after its id, as QEMU names it ("IO io1").

usage: blk_multi.py PIDFILE SERIAL_LOG"""

import glob
import sys

from qmp import check, main, read_pid, wait_log


def steps():
    pidfile, log = sys.argv[1:3]
    pid = read_pid(pidfile)
    wait_log(log, "KTEST-MQ-DONE")
    names = []
    for comm in glob.glob("/proc/%d/task/*/comm" % pid):
        with open(comm) as f:
            names.append(f.read().strip())
    check("IO io1" in names, "an 'IO io1' thread exists: %s" % sorted(set(names)))


if __name__ == "__main__":
    sys.exit(main(steps))
