#!/usr/bin/env python3
"""What kestrel says about its devices, against QEMU 7.2 for the same
command line.

Usage: compare_with_qemu.py PATH/TO/kestrel [PATH/TO/qemu-system-x86_64]

For each case both VMMs start stopped (-S, no guest code runs, so this
machine's own /dev/kvm serves) and answer HMP commands through QMP's
human-monitor-command. Everything kestrel prints must be what QEMU prints,
where QEMU prints more (devices and properties kestrel does not have):

- "-device help": each kestrel line under the same category header;
  "-device TYPE,help": each kestrel property line, for every kestrel type.
- "info qtree": each kestrel device at the same place in the tree (bus by
  bus), with each of its property and PCI lines.
- "info pci": each kestrel function with all its lines.
- "info mtree", address space I/O: each kestrel region (address range,
  priority and name); the PM block is the exception (kestrel maps it at
  0x600 as firmware would, QEMU leaves that to firmware).
Ends with "N passed, N failed".
"""
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "guest", "drivers"))
from qmp import Qmp  # noqa: E402

CASES = {
    "a disk from -drive if=virtio, COM1": ["-serial", "null", "-drive", "file={img},if=virtio,format=raw"],
    "-device with ids, addr and properties": [
        "-chardev", "null,id=c0", "-device", "isa-serial,chardev=c0,id=com1",
        "-object", "iothread,id=io1", "-drive", "file={img},if=none,id=d0,format=raw",
        "-device", "virtio-blk-pci,drive=d0,id=disk0,addr=5,num-queues=2,serial=SN,iothread=io1",
        "-global", "isa-serial.irq=3",
    ],
    "-vga std, a second VGA with properties": [
        "-serial", "null", "-vga", "std", "-device", "VGA,id=v2,vgamem_mb=3,xres=1024,yres=768,edid=off",
    ],
    "-vga cirrus": ["-serial", "null", "-vga", "cirrus"],
    "-device cirrus-vga, USB tablet on piix3-usb-uhci": [
        "-serial", "null", "-device", "cirrus-vga,vgamem_mb=8,id=c", "-device", "piix3-usb-uhci,id=usb",
        "-device", "usb-tablet,id=tablet",
    ],
    "-usb -usbdevice tablet": ["-serial", "null", "-usb", "-usbdevice", "tablet"],
}
HMP = ["info qtree", "info pci", "info mtree"]

passed = failed = 0


def report(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("PASS " + what, flush=True)
    else:
        failed += 1
        print("FAIL " + what + ("\n  " + detail.replace("\n", "\n  ") if detail else ""), flush=True)


def hmp_answers(binary, args, work):
    sock = os.path.join(work, "qmp-%d.sock" % time.monotonic_ns())
    cmd = [binary, "-S", "-nodefaults", "-display", "none", "-machine", "pc", "-enable-kvm",
           "-qmp", "unix:%s,server=on,wait=off" % sock] + args
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        qmp = Qmp(sock, timeout=60)
        qmp.ok("qmp_capabilities")
        answers = {line: qmp.ok("human-monitor-command", {"command-line": line}) for line in HMP}
        qmp.execute("quit")
        proc.wait(timeout=30)
        return answers
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def qtree_entries(text):
    """{(path, line)} where path is the chain of bus and dev lines above."""
    entries = set()
    stack = []  # (indent, label)
    for raw in text.splitlines():
        if not raw.strip():
            continue
        indent = len(raw) - len(raw.lstrip())
        line = raw.strip()
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = tuple(label for _, label in stack)
        entries.add((path, line))
        if line.startswith("bus: ") or line.startswith("dev: "):
            stack.append((indent, line))
    return entries


def pci_functions(text):
    """{header line: set of its lines}"""
    out, current = {}, None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("Bus "):
            current = out.setdefault(line, set())
        elif current is not None and line:
            current.add(line)
    return out


def io_regions(text):
    section = text.split("address-space: I/O", 1)[1].split("address-space:", 1)[0]
    return {line.strip() for line in section.splitlines() if "(prio" in line}


def missing_lines(mine, theirs):
    return sorted(str(x) for x in mine - theirs)


def compare_case(name, args, kestrel, qemu, work):
    img = os.path.join(work, "disk.img")
    with open(img, "wb") as f:
        f.truncate(1 << 20)
    args = [a.replace("{img}", img) for a in args]
    k = hmp_answers(kestrel, args, work)
    q = hmp_answers(qemu, args, work)
    lost = missing_lines(qtree_entries(k["info qtree"]), qtree_entries(q["info qtree"]))
    report(not lost, name + ": info qtree", "\n".join(lost))
    kp, qp = pci_functions(k["info pci"]), pci_functions(q["info pci"])
    lost = ["%s: %s" % (f, sorted(lines - qp.get(f, set()))) for f, lines in kp.items() if lines - qp.get(f, set())]
    report(kp and not lost, name + ": info pci", "\n".join(lost))
    mine = {r for r in io_regions(k["info mtree"]) if not r.endswith(": piix4-pm")}
    lost = missing_lines(mine, io_regions(q["info mtree"]))
    report(len(mine) > 5 and not lost, name + ": info mtree (I/O)", "\n".join(lost))


def help_sections(text):
    """{category header: set of lines}"""
    out, current = {}, None
    for line in text.splitlines():
        if line.endswith(":"):
            current = out.setdefault(line, set())
        elif line and current is not None:
            current.add(line)
    return out


def run(binary, args):
    return subprocess.run([binary] + args, capture_output=True, text=True, timeout=60).stdout


def compare_help(kestrel, qemu):
    k, q = help_sections(run(kestrel, ["-device", "help"])), help_sections(run(qemu, ["-device", "help"]))
    lost = ["%s %s" % (c, sorted(lines - q.get(c, set()))) for c, lines in k.items() if lines - q.get(c, set())]
    report(k and not lost, "-device help", "\n".join(lost))
    types = [m.group(1) for m in re.finditer(r'^name "([^"]+)"', run(kestrel, ["-device", "help"]), re.M)]
    for t in types:
        mine = set(run(kestrel, ["-device", t + ",help"]).splitlines())
        lost = sorted(mine - set(run(qemu, ["-device", t + ",help"]).splitlines()))
        report(len(mine) > 0 and not lost, "-device %s,help" % t, "\n".join(lost))


def main():
    kestrel = os.path.abspath(sys.argv[1])
    qemu = sys.argv[2] if len(sys.argv) > 2 else "qemu-system-x86_64"
    compare_help(kestrel, qemu)
    with tempfile.TemporaryDirectory(prefix="kestrel-compare-") as work:
        for name, args in CASES.items():
            try:
                compare_case(name, args, kestrel, qemu, work)
            except Exception as e:  # a VMM that did not start or answer
                report(False, name, repr(e))
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
