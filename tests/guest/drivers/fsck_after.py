"""After the VMM has exited, e2fsck -fn must find the guest's ext4 image
clean.

usage: fsck_after.py PIDFILE IMAGE"""

import subprocess
import sys

from qmp import check, main, read_pid, wait_exit


def steps():
    pidfile, image = sys.argv[1:3]
    wait_exit(read_pid(pidfile), timeout=600)
    r = subprocess.run(["e2fsck", "-fn", image], capture_output=True, text=True)
    print(r.stdout + r.stderr)
    check(r.returncode == 0, "e2fsck -fn finds the image clean (status %d)" % r.returncode)


if __name__ == "__main__":
    sys.exit(main(steps))
