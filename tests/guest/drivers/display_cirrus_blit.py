"""Drives the display-cirrus-blit scenario. Linux's cirrusfb draws fbcon
with the Cirrus BitBLT engine (text, also when scrolling redraws the
screen: colour expansion from system memory; blanks: fills). The same guest
runs in QEMU 7.2 beside the VMM under test, and both screendumps must be
identical. Then the guest programs absurd VGA and blitter registers (the
VMM under test only) and the VMM must still run and answer.

usage: display_cirrus_blit.py QMP_SOCKET SERIAL_LOG WORKDIR KERNEL INITRD APPEND"""

import os
import subprocess
import sys

from qmp import Qmp, check, main, wait_log

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "display"))
import images  # noqa: E402


def start_reference(workdir, kernel, initrd, append):
    serial = os.path.join(workdir, "qemu.serial")
    sock = os.path.join(workdir, "qemu.qmp")
    cmd = ["qemu-system-x86_64", "-enable-kvm", "-m", "256", "-kernel", kernel, "-initrd", initrd,
           "-append", append, "-serial", "file:" + serial, "-vga", "cirrus", "-display", "none",
           "-qmp", "unix:%s,server=on,wait=off" % sock, "-no-reboot"]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    q = Qmp(sock, timeout=120)
    q.ok("qmp_capabilities")
    return proc, q, serial


def describe_difference(a, b):
    if (a.width, a.height) != (b.width, b.height):
        return "sizes %dx%d and %dx%d" % (a.width, a.height, b.width, b.height)
    differing = [i // 3 for i in range(0, len(a.rgb), 3) if a.rgb[i:i + 3] != b.rgb[i:i + 3]]
    if not differing:
        return None
    first = differing[0]
    return "%d pixels differ, the first at (%d, %d)" % (len(differing), first % a.width, first // a.width)


def compare_with_qemu(q, log, workdir, reference):
    proc, ref, ref_log = reference
    wait_log(log, "KTEST-BLIT-DONE", 240)
    wait_log(ref_log, "KTEST-BLIT-DONE", 240)
    mine, theirs = os.path.join(workdir, "vmm.ppm"), os.path.join(workdir, "qemu.ppm")
    q.ok("screendump", {"filename": mine})
    ref.ok("screendump", {"filename": theirs})
    a, b = images.read_ppm(mine), images.read_ppm(theirs)
    check((a.width, a.height) == (1024, 768), "cirrusfb runs fbcon at 1024x768 (%dx%d)" % (a.width, a.height))
    check(len(a.distinct_colours()) >= 8, "the screen holds the coloured text (%d colours)" % len(a.distinct_colours()))
    problem = describe_difference(a, b)
    check(problem is None, "screendump after fbcon's blits is QEMU's, pixel for pixel (%s)" % (problem or "identical"))
    ref.execute("quit")
    proc.wait(30)


def survives_absurd_registers(q, log, workdir):
    q.ok("system_powerdown")  # the guest goes on to the absurd registers
    wait_log(log, "KTEST-ABSURD-DONE", 240)
    check(q.ok("query-status")["status"] == "running", "still running after absurd registers and blits")
    path = os.path.join(workdir, "after.ppm")
    q.ok("screendump", {"filename": path})
    image = images.read_ppm(path)
    check(image.width > 0 and image.height > 0, "screendump still works (%dx%d)" % (image.width, image.height))
    wait_log(log, "KTEST-POWER-BUTTON-READY", 60, count=2)
    q.ok("system_powerdown")


def steps():
    qmp_path, log, workdir, kernel, initrd, append = sys.argv[1:7]
    reference = start_reference(workdir, kernel, initrd, append)
    try:
        q = Qmp(qmp_path)
        q.ok("qmp_capabilities")
        compare_with_qemu(q, log, workdir, reference)
    finally:
        if reference[0].poll() is None:
            reference[0].kill()
            reference[0].wait()
    wait_log(log, "KTEST-POWER-BUTTON-READY", 60)
    survives_absurd_registers(q, log, workdir)


if __name__ == "__main__":
    sys.exit(main(steps))
