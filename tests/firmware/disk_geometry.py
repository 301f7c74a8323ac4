"""SeaBIOS's int 13h geometry of real-size disks, kestrel beside QEMU 7.2.

SeaBIOS builds each hard disk's logical (int 13h) geometry from what the
board says: an IDE disk's physical geometry (IDENTIFY) and the BIOS
translation in CMOS byte 0x39, a virtio-blk disk's geometry in its config
space. QEMU guesses both from the disk's MBR or its size; a disk
partitioned under one VMM must address the same sectors under the other.
Sparse images of real sizes (10 GiB, 2 GiB with fdisk's 255-head table,
256 MiB with a 16-head table, 1 GiB) on the four IDE units and on
virtio-blk; SeaBIOS's debug lines "drive …: PCHS=… translation=…
LCHS=…" and "ataN-N: … (N MiBytes)" must be the same in both VMMs.
"""
import os
import re
import struct

GIB, MIB = 1 << 30, 1 << 20
# (name, size, MBR partition end (head, sector) or None, interface)
DISKS = [("ide-10g", 10 * GIB, None, "ide"), ("ide-2g-255h", 2 * GIB, (254, 63), "ide"),
         ("ide-256m-16h", 256 * MIB, (15, 63), "ide"), ("ide-1g", 1 * GIB, None, "ide"),
         ("vd-1g", 1 * GIB, None, "virtio"), ("vd-2g-255h", 2 * GIB, (254, 63), "virtio")]
DRIVE_LINE = re.compile(r"^drive 0x[0-9a-f]+: (PCHS=.*)$", re.M)
ATA_LINE = re.compile(r"^(ata\d-\d: .*)$", re.M)
DONE = r"^(Booting from|No bootable device)"


def make_disk(path, size, end):
    with open(path, "wb") as f:
        if end:
            head, sector = end
            entry = struct.pack("<B3sB3sII", 0x00, b"\x20\x21\x00", 0x83, bytes([head, sector | 0xc0, 0xff]),
                                2048, size // 512 - 2048)
            f.write(b"\0" * 446 + entry + b"\0" * 48 + b"\x55\xaa")
        f.truncate(size)


def command(vmm, work, log, debugcon):
    cmd = [vmm, "-m", "128", "-display", "none", "-nodefaults", "-no-reboot"] + debugcon(log)
    ide = 0
    for name, size, end, iface in DISKS:
        path = os.path.join(work, name + ".img")
        make_disk(path, size, end)
        drive = "file=%s,format=raw,if=%s" % (path, iface)
        if iface == "ide":
            drive += ",index=%d" % ide
            ide += 1
        cmd += ["-drive", drive]
    return cmd


def test_disk_geometry(k, qemu, work, run_until_marker, debugcon, report):
    lines, logs = {}, {}
    for name, vmm in (("kestrel", k), ("qemu", qemu)):
        log = os.path.join(work, "geometry-%s.log" % name)
        cmd = command(vmm, work, log, debugcon)
        if name == "qemu":
            cmd[1:1] = ["-enable-kvm", "-cpu", "qemu64"]
        logs[name], _ = run_until_marker(cmd, log, DONE)
        lines[name] = sorted(DRIVE_LINE.findall(logs[name])) + sorted(ATA_LINE.findall(logs[name]))
    problems = []
    if len(DRIVE_LINE.findall(logs["qemu"])) != len(DISKS):
        problems.append("QEMU's SeaBIOS set up %d drives, want %d" % (len(DRIVE_LINE.findall(logs["qemu"])),
                                                                     len(DISKS)))
    if lines["kestrel"] != lines["qemu"]:
        problems.append("drive lines differ:\nkestrel %s\nqemu    %s" % ("\n        ".join(lines["kestrel"]),
                                                                        "\n        ".join(lines["qemu"])))
    report("int 13h geometry of real-size IDE and virtio-blk disks as QEMU 7.2's", problems, logs["kestrel"])
