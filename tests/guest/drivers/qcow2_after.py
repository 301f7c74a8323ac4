"""After the VMM has exited: qemu-img check finds the qcow2 image clean
(no leaks either: the VMM shut down cleanly), qemu-img compare finds it
equal to the raw copy the guest made, and the image is still sparse.

usage: qcow2_after.py PIDFILE IMAGE RAW_COPY"""

import json
import subprocess
import sys
import time

from qmp import deadline_after, check, main, read_pid, wait_exit


def steps():
    pidfile, image, copy = sys.argv[1:4]
    # As long as the VMM runs: the runner ends it at the scenario's timeout
    # (and this driver its driver_grace later).
    wait_exit(read_pid(pidfile), timeout=24 * 3600)
    # The image stays open (and locked) a moment after the process is gone
    # while the kernel cancels its io_uring requests.
    deadline = deadline_after(30)
    while True:
        r = subprocess.run(["qemu-img", "check", image], capture_output=True, text=True)
        if "lock" not in r.stderr or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    print(r.stdout + r.stderr)
    check(r.returncode == 0, "qemu-img check finds the image clean (status %d)" % r.returncode)
    r = subprocess.run(["qemu-img", "compare", "-f", "qcow2", "-F", "raw", image, copy],
                       capture_output=True, text=True)
    print(r.stdout + r.stderr)
    check(r.returncode == 0, "qemu-img compare: the image equals the guest's raw copy (status %d)" % r.returncode)
    info = json.loads(subprocess.run(["qemu-img", "info", "--output=json", image], capture_output=True,
                                     text=True, check=True).stdout)
    print("actual-size %d, virtual-size %d" % (info["actual-size"], info["virtual-size"]))
    check(info["actual-size"] < info["virtual-size"], "the image grew only as the guest wrote")


if __name__ == "__main__":
    sys.exit(main(steps))
