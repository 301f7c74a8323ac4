"""virtio-blk basics seen from the host: query-block/blockstats and info
block describe the disks; a second VMM on the same writable image is
refused (file locking), as is a missing image; after the guest wrote a file on its ext4 disk and
powered off, the host image holds it.

usage: blk_basic.py QMP_SOCKET SERIAL_LOG PIDFILE DATA_IMAGE RO_IMAGE VMM..."""

import subprocess
import sys

from qmp import (Qmp, check, find_block, find_blockstats, main, read_pid, wait_exit,
                 wait_log)


def second_vmm_refused(vmm, image):
    r = subprocess.run(vmm + ["-display", "none", "-nodefaults", "-S", "-drive",
                              "file=%s,if=virtio,format=raw" % image],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 1 and 'Failed to get "write" lock' in r.stderr,
          "a second VMM on the same image is refused: %r" % r.stderr.strip())


def missing_image_refused(vmm, image):
    missing = image + ".missing"
    r = subprocess.run(vmm + ["-display", "none", "-nodefaults", "-S", "-drive",
                              "file=%s,if=virtio,format=raw" % missing],
                       capture_output=True, text=True, timeout=60)
    want = "Could not open '%s': No such file or directory" % missing
    check(r.returncode == 1 and want in r.stderr, "a missing image: exit 1, %r" % r.stderr.strip())


def steps():
    sock, log, pidfile, data, ro = sys.argv[1:6]
    vmm = sys.argv[6:]
    q = Qmp(sock)
    q.ok("qmp_capabilities")
    pid = read_pid(pidfile)
    wait_log(log, "KTEST-BLK-WRITTEN")
    d, r = find_block(q, data), find_block(q, ro)
    check(d["inserted"]["ro"] is False and r["inserted"]["ro"] is True, "query-block: ro flags")
    check(d["inserted"]["image"]["virtual-size"] == 64 << 20, "query-block: virtual-size")
    stats = find_blockstats(q, d["device"])
    check(stats["wr_operations"] > 0 and stats["rd_operations"] > 0, "query-blockstats counts I/O")
    info = q.ok("human-monitor-command", {"command-line": "info block"})
    check(data in info and ro in info, "info block lists both images")
    second_vmm_refused(vmm, data)
    missing_image_refused(vmm, data)
    wait_log(log, "KTEST-POWER-BUTTON-READY")
    q.ok("system_powerdown")
    q.wait_event("SHUTDOWN", 60)
    wait_exit(pid)
    out = subprocess.run(["debugfs", "-R", "cat /guest.txt", data], capture_output=True,
                         text=True).stdout
    check("guest-pattern-0815" in out, "the host image holds the guest's file")


if __name__ == "__main__":
    sys.exit(main(steps))
