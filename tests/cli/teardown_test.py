#!/usr/bin/env python3
"""kestrel quits cleanly (exit 0, no signal) from a paused machine with
each kind of device: `quit` runs every device's teardown, in the board's
order, with the devices' backends (net clients, drives, chardevs) around
them. Found by a guest test: a qcow2 drive beside the default e1000 on
user networking died of SIGSEGV at quit (the e1000 touched its backend
port after the backend was gone). Needs /dev/kvm.

usage: teardown_test.py PATH/TO/kestrel
Prints one PASS/FAIL line per case, then "N passed, N failed"."""
import os
import subprocess
import sys
import tempfile

QMP_QUIT = b'{"execute": "qmp_capabilities"}\n{"execute": "quit"}\n'


def cases(work):
    qcow2 = os.path.join(work, "d.qcow2")
    raw, iso = os.path.join(work, "d.img"), os.path.join(work, "cd.iso")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", qcow2, "64M"], check=True)
    for path in (raw, iso):
        with open(path, "wb") as f:
            f.truncate(64 << 20)
    return [
        ("qcow2 drive beside the default e1000 on user net", ["-drive", "file=%s,if=virtio,format=qcow2" % qcow2]),
        ("qcow2 and raw drives, default NIC", ["-drive", "file=%s,if=virtio,format=qcow2" % qcow2,
                                               "-drive", "file=%s,if=virtio,format=raw" % raw]),
        ("e1000 and virtio-net on user net", ["-nic", "user,model=e1000", "-nic", "user,model=virtio-net-pci"]),
        ("IDE disk and CD-ROM", ["-drive", "file=%s,if=ide,format=raw" % raw, "-cdrom", iso]),
        ("balloon, cirrus, USB tablet", ["-device", "virtio-balloon-pci", "-vga", "cirrus", "-usb",
                                         "-device", "usb-tablet"]),
    ]


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    kestrel = os.path.abspath(sys.argv[1])
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="kestrel-teardown-") as work:
        for name, args in cases(work):
            argv = [kestrel, "-S", "-m", "256", "-display", "none", "-qmp", "stdio"] + args
            run = subprocess.run(argv, input=QMP_QUIT, capture_output=True, timeout=120)
            if run.returncode == 0:
                passed += 1
                print("PASS %s" % name, flush=True)
            else:
                failed += 1
                print("FAIL %s: exit status %d, stderr %r" % (name, run.returncode, run.stderr[-300:]), flush=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
