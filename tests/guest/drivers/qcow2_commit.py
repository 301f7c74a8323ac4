"""-snapshot and HMP commit: while the guest runs, the qcow2 image on the
host stays empty although the guest wrote 1 MiB of 'K' at 1 MiB; after
"commit virtio0" the image holds them.

usage: qcow2_commit.py HMP_SOCKET SERIAL_LOG IMAGE"""

import os
import subprocess
import sys
import tempfile

from qmp import Hmp, check, main, wait_log

OFFSET, LENGTH = 1 << 20, 1 << 20


def image_bytes(image):
    # -U: the running VMM holds the image's locks.
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "part.raw")
        r = subprocess.run(["qemu-img", "convert", "-U", "-f", "qcow2", "-O", "raw", image, out],
                           capture_output=True)
        check(r.returncode == 0, "qemu-img convert: %s" % r.stderr.decode(errors="replace"))
        with open(out, "rb") as f:
            f.seek(OFFSET)
            return f.read(LENGTH)


def steps():
    sock, log, image = sys.argv[1:4]
    hmp = Hmp(sock)
    wait_log(log, "KTEST-POWER-BUTTON-READY")
    before = image_bytes(image)
    check(before == bytes(LENGTH), "with -snapshot the image stays empty (%d non-zero bytes)"
          % sum(1 for b in before if b))
    out = hmp.command("commit virtio0")
    check(out == "", "commit printed %r" % out)
    after = image_bytes(image)
    check(after == b"K" * LENGTH, "after commit the image holds the guest's data")
    r = subprocess.run(["qemu-img", "check", "-U", image], capture_output=True, text=True)
    print(r.stdout + r.stderr)
    check(r.returncode == 0, "qemu-img check -U after commit (status %d)" % r.returncode)
    out = hmp.command("system_powerdown")
    check(out == "", "system_powerdown printed %r" % out)


if __name__ == "__main__":
    sys.exit(main(steps))
