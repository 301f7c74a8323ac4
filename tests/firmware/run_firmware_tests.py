#!/usr/bin/env python3
"""Firmware boot through SeaBIOS, directly on this machine's /dev/kvm.

Usage: run_firmware_tests.py PATH/TO/kestrel [--qemu qemu-system-x86_64]

SeaBIOS (Debian's bios-256k.bin) runs its POST in kestrel; its debug
output (isa-debugcon at 0x402) is compared with QEMU 7.2's on the same
command line. Firmware-sized guests run fast even on a paravirtual KVM;
every wait is for a marker or an exit status, with generous timeouts.
Ends with "N passed, N failed".
"""
import argparse
import os
import re
import struct
import subprocess
import sys
import tempfile
import time
import traceback

TIMEOUT = 180  # SeaBIOS's POST takes seconds; the machine may be busy
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tiny"))
import run_tiny_tests as tiny  # noqa: E402  (report(), run_with_qmp() and the counts)
sys.path.insert(0, HERE)
import disk_geometry  # noqa: E402
from qmp import wait_log  # noqa: E402

report = tiny.report


def debugcon(path):
    return ["-chardev", "file,id=dbg,path=" + path, "-device", "isa-debugcon,iobase=0x402,chardev=dbg"]


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode(errors="replace").replace("\r", "")
    except FileNotFoundError:
        return ""


def run_until_marker(cmd, log, marker, timeout=TIMEOUT):
    """Starts cmd, waits until `log` has a line matching `marker` or the
    VMM ends; stops it. Returns (log text, exit status or None if stopped)."""
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    status = None
    try:
        while time.monotonic() < deadline:
            if re.search(marker, read(log), re.M):
                break
            status = p.poll()
            if status is not None:
                break
            time.sleep(0.1)
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()
        p.stderr.close()
    return read(log), status


# SeaBIOS's lines that depend only on the machine, not on the VMM's
# addresses: what it found in fw_cfg and on the board.
POST_LINES = [
    r"^Running on QEMU \(i440fx\)$",
    r"^Found QEMU fw_cfg$",
    r"^QEMU fw_cfg DMA interface supported$",
    r"^qemu/e820: addr 0x0+ len 0x0*8000000 \[RAM\]$",
    r"^Moving pm_base to 0x600$",
    r"^PCI: init bdf=00:00.0 id=8086:1237$",
    r"^PCI: init bdf=00:01.0 id=8086:7000$",
    r"^PCI: init bdf=00:01.1 id=8086:7010$",
    r"^PCI: init bdf=00:01.3 id=8086:7113$",
    r"^ATA controller 1 at 1f0/3f4/0 \(irq 14 dev 9\)$",
    r"^ATA controller 2 at 170/374/0 \(irq 15 dev 9\)$",
    r"^Found 2 cpu\(s\) max supported 2 cpu\(s\)$",
    r"^table\(50434146\)=0x[0-9a-f]+ \(via [rx]sdt\)$",
    r"^ACPI: parse DSDT at 0x[0-9a-f]+ \(len \d+\)$",
    r"^Copying SMBIOS",
    r"^No bootable device\.",
]
NO_BOOT = r"^No bootable device\."


def test_post(k, qemu, work):
    logs = {}
    for name, vmm in (("kestrel", k), ("qemu", qemu)):
        log = os.path.join(work, "post-%s.log" % name)
        cmd = [vmm, "-m", "128", "-smp", "2", "-display", "none", "-nodefaults", "-no-reboot"] + debugcon(log)
        if name == "qemu":
            cmd[1:1] = ["-enable-kvm", "-cpu", "qemu64"]
        logs[name], status = run_until_marker(cmd, log, NO_BOOT)
    problems = []
    for regex in POST_LINES:
        for name in ("qemu", "kestrel"):
            if not re.search(regex, logs[name], re.M):
                problems.append("%s: no line matching %r" % (name, regex))
    # kestrel's ACPI tables reached the guest through the table loader:
    # the DSDT SeaBIOS parsed is kestrel's (its length), found via the RSDP.
    report("seabios-post-vs-qemu", problems, logs["kestrel"])


def test_boot_menu_and_retry(k, qemu, work):
    """-boot menu=on,splash-time=,reboot-timeout=: SeaBIOS offers its boot
    menu and, with nothing to boot, says when it retries, as under QEMU."""
    lines = (r"^Press ESC for boot menu\.", r"^No bootable device\.  Retrying in 1 seconds\.")
    problems = []
    for name, vmm in (("kestrel", k), ("qemu", qemu)):
        log = os.path.join(work, "menu-%s.log" % name)
        cmd = [vmm, "-m", "128", "-display", "none", "-nodefaults",
               "-boot", "menu=on,splash-time=200,reboot-timeout=1000"] + debugcon(log)
        if name == "qemu":
            cmd[1:1] = ["-enable-kvm", "-cpu", "qemu64"]
        text, _ = run_until_marker(cmd, log, lines[1])
        problems += ["%s: no line matching %r" % (name, l) for l in lines if not re.search(l, text, re.M)]
    report("boot menu offered, reboot-timeout retries (as QEMU 7.2)", problems)


def test_reset_reruns_bios(k, work):
    """system_reset: the vCPU back at the reset vector, the PAM registers
    back at the ROM view; SeaBIOS's whole POST runs again."""
    log = os.path.join(work, "reset.log")

    def steps(q):
        wait_log(log, NO_BOOT, timeout=TIMEOUT)
        q.ok("system_reset")
        wait_log(log, NO_BOOT, timeout=TIMEOUT, count=2)
        q.execute("quit")

    status, out, events = tiny.run_with_qmp(k, ["-m", "128", "-display", "none", "-nodefaults"] + debugcon(log),
                                            work, steps)
    text = read(log)
    problems = []
    for line in ("Relocating init from", "Moving pm_base to 0x600", "ACPI: parse DSDT at"):
        if text.count(line) != 2:
            problems.append("%r %d times, want 2" % (line, text.count(line)))
    report("system_reset reruns SeaBIOS", problems, text)


def madt_enabled_apic_ids(mem):
    """The APIC IDs the MADT enables, in a RAM image from physical 0 (the
    RSDP in the BIOS area, then the RSDT SeaBIOS wrote)."""
    at = mem.find(b"RSD PTR ", 0xe0000, 0x100000)
    while at >= 0 and at % 16:
        at = mem.find(b"RSD PTR ", at + 1, 0x100000)
    if at < 0:
        return None
    rsdt = struct.unpack_from("<I", mem, at + 16)[0]
    count = (struct.unpack_from("<I", mem, rsdt + 4)[0] - 36) // 4
    for table in struct.unpack_from("<%dI" % count, mem, rsdt + 36):
        if mem[table:table + 4] != b"APIC":
            continue
        end, entry, ids = table + struct.unpack_from("<I", mem, table + 4)[0], table + 44, []
        while entry < end and mem[entry + 1]:
            if mem[entry] == 0 and struct.unpack_from("<I", mem, entry + 4)[0] & 1:  # local APIC, enabled
                ids.append(mem[entry + 3])
            entry += mem[entry + 1]
        return ids
    return None


def test_hotplugged_cpu_after_reset(k, qemu, work):
    """device_add of a vCPU, then system_reset: SeaBIOS counts 2 CPUs (the
    CMOS count and fw_cfg's NB_CPUS follow the plug) and the MADT it loads
    through fw_cfg enables both (the tables are rebuilt at the reset), as in
    QEMU 7.2."""
    problems, logs = [], {}
    for name, vmm, extra in (("kestrel", k, []), ("qemu", qemu, ["-enable-kvm", "-cpu", "qemu64"])):
        log, mem = (os.path.join(work, "cpuhp-%s.%s" % (name, ext)) for ext in ("log", "mem"))

        def steps(q):
            wait_log(log, NO_BOOT, timeout=TIMEOUT)
            free = [c for c in q.ok("query-hotpluggable-cpus") if "qom-path" not in c]
            q.ok("device_add", dict(free[0]["props"], driver=free[0]["type"], id="cpu1"))
            q.ok("system_reset")
            wait_log(log, NO_BOOT, timeout=TIMEOUT, count=2)
            q.ok("pmemsave", {"val": 0, "size": 128 << 20, "filename": mem})
            q.execute("quit")

        tiny.run_with_qmp(vmm, extra + ["-m", "128", "-smp", "1,maxcpus=2", "-display", "none", "-nodefaults"] +
                          debugcon(log), work, steps)
        logs[name] = read(log)
        found = re.findall(r"^Found (\d+) cpu\(s\) max supported (\d+) cpu\(s\)$", logs[name], re.M)
        if found != [("1", "2"), ("2", "2")]:
            problems.append("%s: SeaBIOS found %s, want 1 then 2 of 2" % (name, found))
        with open(mem, "rb") as f:
            ids = madt_enabled_apic_ids(f.read())
        os.unlink(mem)
        if ids != [0, 1]:
            problems.append("%s: the MADT after the reset enables APIC IDs %s, want [0, 1]" % (name, ids))
    report("a hot-added vCPU is a boot vCPU after system_reset: SeaBIOS counts it, its MADT enables it "
           "(as QEMU 7.2)", problems, logs.get("kestrel", ""))


def test_bios_errors(k, work):
    small = os.path.join(work, "small.bin")
    with open(small, "wb") as f:
        f.write(b"\x90" * 1000)
    problems = []
    for args, text in ((["-bios", "/nonexistent/bios.bin"], "could not load PC BIOS '/nonexistent/bios.bin'"),
                       (["-bios", small], "could not load PC BIOS '%s'" % small),
                       (["-L", work, "-bios", "missing.bin"], "could not load PC BIOS 'missing.bin'")):
        p = subprocess.run([k, "-display", "none", "-nodefaults"] + args, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=60)
        err = p.stderr.decode(errors="replace")
        if p.returncode != 1 or text not in err:
            problems.append("%s: status %d, stderr %r" % (" ".join(args), p.returncode, err))
    report("bios-errors", problems)


def test_bios_search_dir(k, work):
    """-L DIR finds -bios NAME there (a copy of SeaBIOS under another name)."""
    d = os.path.join(work, "fwdir")
    os.makedirs(d, exist_ok=True)
    with open("/usr/share/seabios/bios-256k.bin", "rb") as src, open(os.path.join(d, "my-bios.bin"), "wb") as dst:
        dst.write(src.read())
    log = os.path.join(work, "search.log")
    text, _ = run_until_marker([k, "-L", d, "-bios", "my-bios.bin", "-display", "none", "-nodefaults",
                                "-no-reboot"] + debugcon(log), log, NO_BOOT)
    problems = [] if re.search(NO_BOOT, text, re.M) and "SeaBIOS (version" in text else ["SeaBIOS did not run"]
    report("bios-search-dir", problems, text)


LBA48_SECTOR = 0x10000010  # past 128 GiB: the BIOS must use LBA48 commands


def build_boot_disk(work, name="disk.img", lba1=b"LBA1: hello from sector 1"):
    """The boot sector (tests/firmware/bootsector/disk_test.S, built with
    binutils) on a sparse 130 GiB raw image with its two marker lines (the
    sector 1 line, which the boot sector prints first, may be another)."""
    obj, bin_ = os.path.join(work, "disk_test.o"), os.path.join(work, "disk_test.bin")
    subprocess.run(["as", "--32", "-I", os.path.join(HERE, "bootsector"), "-o", obj,
                    os.path.join(HERE, "bootsector", "disk_test.S")], check=True)
    subprocess.run(["ld", "-m", "elf_i386", "-Ttext", "0x7c00", "--oformat", "binary", "-o", bin_, obj], check=True)
    img = os.path.join(work, name)
    with open(img, "wb") as f:
        f.truncate(130 << 30)
        f.write(open(bin_, "rb").read())
        f.seek(512)
        f.write(lba1 + b"\r\n\0")
        f.seek(LBA48_SECTOR * 512)
        f.write(b"LBA48: hello from past 128 GiB\r\n\0")
    return img


def written_pattern():
    return bytes(((i * 7 + 3) & 0xff) for i in range(1024))


def raw_bytes(img, fmt, work, offset, length):
    if fmt == "qcow2":
        raw = os.path.join(work, "check.raw")
        subprocess.run(["qemu-img", "convert", "-f", "qcow2", "-O", "raw", img, raw], check=True)
        img = raw
    with open(img, "rb") as f:
        f.seek(offset)
        data = f.read(length)
    if fmt == "qcow2":
        os.unlink(img)
    return data


def build_boot_cd(work):
    """An ISO 9660 image with an El Torito no-emulation boot entry (built
    here: a primary volume descriptor, the boot record, the terminator, the
    boot catalog and tests/firmware/bootsector/cd_boot.S)."""
    obj, bin_ = os.path.join(work, "cd_boot.o"), os.path.join(work, "cd_boot.bin")
    subprocess.run(["as", "--32", "-I", os.path.join(HERE, "bootsector"), "-o", obj,
                    os.path.join(HERE, "bootsector", "cd_boot.S")], check=True)
    subprocess.run(["ld", "-m", "elf_i386", "-Ttext", "0x7c00", "--oformat", "binary", "-o", bin_, obj], check=True)
    sector = 2048
    iso = bytearray(sector * 32)

    def put(lba, offset, data):
        iso[lba * sector + offset:lba * sector + offset + len(data)] = data

    put(16, 0, b"\x01CD001\x01")                      # primary volume descriptor
    put(16, 40, b"KESTREL_TEST_CD".ljust(32))
    put(16, 80, (32).to_bytes(4, "little") + (32).to_bytes(4, "big"))
    put(17, 0, b"\x00CD001\x01" + b"EL TORITO SPECIFICATION")  # boot record
    put(17, 0x47, (19).to_bytes(4, "little"))           # the catalog's sector
    put(18, 0, b"\xffCD001\x01")                      # terminator
    validation = bytearray(32)
    validation[0] = 1                                     # header, platform 0 (x86)
    validation[0x1e:0x20] = b"\x55\xaa"
    words = sum(int.from_bytes(validation[i:i + 2], "little") for i in range(0, 32, 2))
    validation[0x1c:0x1e] = ((-words) & 0xffff).to_bytes(2, "little")
    entry = bytearray(32)
    entry[0] = 0x88                                       # bootable, no emulation
    entry[6:8] = (1).to_bytes(2, "little")                # one 512-byte sector
    entry[8:12] = (20).to_bytes(4, "little")              # at sector 20
    put(19, 0, bytes(validation) + bytes(entry))
    put(20, 0, open(bin_, "rb").read())
    path = os.path.join(work, "boot.iso")
    with open(path, "wb") as f:
        f.write(iso)
    return path


CD_LINES = ["CD: booted from El Torito", "CD: sector 16 says CD001"]
DISK_LINES = ["BOOT: kestrel IDE disk test", "LBA1: hello from sector 1", "INT13: LBA write and read back ok",
              "LBA48: hello from past 128 GiB", "INT13: all ok"]


def serial_run(vmm, args):
    cmd = [vmm, "-m", "128", "-display", "none", "-nodefaults", "-serial", "stdio",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"] + args
    if "qemu" in os.path.basename(vmm):
        cmd[1:1] = ["-enable-kvm", "-cpu", "qemu64"]
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT)
    lines = [l for l in p.stdout.decode(errors="replace").replace("\r", "").splitlines() if l]
    return p.returncode, lines, p.stderr.decode(errors="replace")


def test_cd_boot(k, qemu, work):
    """-cdrom with -boot d: SeaBIOS boots the CD's El Torito image (ATAPI
    PACKET commands: TEST UNIT READY, READ CAPACITY, READ(10)), which reads
    through int 13h and resets; with -no-reboot that ends the VMM."""
    iso, disk = build_boot_cd(work), build_boot_disk(work)
    problems = []
    for vmm in (k, qemu):
        status, lines, err = serial_run(vmm, ["-no-reboot", "-hda", disk, "-cdrom", iso, "-boot", "d"])
        if status != 0 or lines != CD_LINES:
            problems.append("%s: status %d, lines %r, stderr %r" % (os.path.basename(vmm), status, lines, err))
    os.unlink(disk)
    report("cd-boot -cdrom -boot d (as QEMU 7.2)", problems)


def test_boot_once(k, qemu, work):
    """-boot order=c,once=d: the first boot from the CD, whose reset makes
    the BIOS boot the hard disk next, which exits 33."""
    iso = build_boot_cd(work)
    problems = []
    for vmm in (k, qemu):
        disk = build_boot_disk(work)
        status, lines, err = serial_run(vmm, ["-drive", "file=%s,format=raw,if=ide" % disk, "-drive",
                                              "file=%s,format=raw,media=cdrom" % iso, "-boot", "order=c,once=d"])
        if status != 33 or lines != CD_LINES + DISK_LINES:
            problems.append("%s: status %d, lines %r, stderr %r" % (os.path.basename(vmm), status, lines, err))
        os.unlink(disk)
    report("boot once=d then order=c after the reset (as QEMU 7.2)", problems)


def test_bootindex(k, qemu, work):
    """bootindex= decides which of two bootable disks SeaBIOS boots (through
    fw_cfg's bootorder), on IDE and virtio-blk; swapping the indexes swaps
    the disk. Without bootorder SeaBIOS would boot ide.0's master, A."""
    a = build_boot_disk(work, "a.img", b"LBA1: disk A")
    b = build_boot_disk(work, "b.img", b"LBA1: disk B")
    drives = ["-drive", "file=%s,format=raw,if=none,id=a" % a, "-drive", "file=%s,format=raw,if=none,id=b" % b]
    runs = [  # (devices, the disk that must boot)
        (["ide-hd,drive=a,bus=ide.0,unit=0,bootindex=2", "ide-hd,drive=b,bus=ide.1,unit=1,bootindex=1"], "B"),
        (["ide-hd,drive=a,bus=ide.0,unit=0,bootindex=1", "ide-hd,drive=b,bus=ide.1,unit=1,bootindex=2"], "A"),
        (["ide-hd,drive=a,bus=ide.0,unit=0,bootindex=5", "virtio-blk-pci,drive=b,addr=4,bootindex=4"], "B"),
    ]
    problems = []
    for devices, disk in runs:
        args = drives + [x for d in devices for x in ("-device", d)]
        for vmm in (k, qemu):
            status, lines, err = serial_run(vmm, ["-no-reboot"] + args)
            want = ["BOOT: kestrel IDE disk test", "LBA1: disk " + disk]
            if status != 33 or lines[:2] != want:
                problems.append("%s %s: status %d, lines %r, stderr %r" % (os.path.basename(vmm), devices, status,
                                                                          lines, err))
    os.unlink(a)
    os.unlink(b)
    report("bootindex picks the boot disk (as QEMU 7.2)", problems)


def test_second_ide_controller(k, qemu, work):
    """-device piix4-ide takes the legacy IDE ports over from the board's
    function, as in QEMU 7.2: SeaBIOS reaches the disk on its bus ide.2
    there and boots it, not the board's ide.0 master."""
    a = build_boot_disk(work, "a.img", b"LBA1: disk A")
    b = build_boot_disk(work, "b.img", b"LBA1: disk B")
    args = ["-no-reboot", "-drive", "file=%s,format=raw,if=none,id=a" % a,
            "-drive", "file=%s,format=raw,if=none,id=b" % b, "-device", "ide-hd,drive=a,bus=ide.0,unit=0",
            "-device", "piix4-ide", "-device", "ide-hd,drive=b,bus=ide.2,unit=0"]
    problems = []
    for vmm in (k, qemu):
        status, lines, err = serial_run(vmm, args)
        want = ["BOOT: kestrel IDE disk test", "LBA1: disk B", "INT13: LBA write and read back ok"]
        if status != 33 or lines[:3] != want:
            problems.append("%s: status %d, lines %r, stderr %r" % (os.path.basename(vmm), status, lines, err))
    os.unlink(a)
    os.unlink(b)
    report("a disk on a -device piix4-ide boots (as QEMU 7.2)", problems)


def test_ide_boot(k, work, fmt, how):
    """SeaBIOS boots the boot sector from an IDE disk; it prints over the
    serial port, reads and writes through int 13h, exits 33."""
    raw = build_boot_disk(work)
    img = raw
    if fmt == "qcow2":
        img = os.path.join(work, "disk.qcow2")
        subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, img], check=True)
        os.unlink(raw)
    drive = {"drive": ["-drive", "file=%s,format=%s,if=ide" % (img, fmt)],
             "hda": ["-hda", img], "positional": [img],
             "device": ["-drive", "file=%s,format=%s,if=none,id=d0" % (img, fmt),
                        "-device", "ide-hd,drive=d0,bus=ide.1,unit=1,serial=KESTREL1"]}[how]
    cmd = [k, "-m", "128", "-display", "none", "-nodefaults", "-serial", "stdio", "-no-reboot",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"] + drive
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT)
    out = p.stdout.decode(errors="replace").replace("\r", "")
    problems = []
    if p.returncode != 33:
        problems.append("exit status %d, want 33 (stderr %r)" % (p.returncode, p.stderr.decode(errors="replace")))
    for line in ("BOOT: kestrel IDE disk test", "LBA1: hello from sector 1", "INT13: LBA write and read back ok",
                 "LBA48: hello from past 128 GiB", "INT13: all ok"):
        if line not in out.splitlines():
            problems.append("no line %r" % line)
    if raw_bytes(img, fmt, work, 5 * 512, 1024) != written_pattern():
        problems.append("the image does not hold what the guest wrote at LBA 5")
    os.unlink(img)
    report("ide-boot-%s-%s" % (fmt, how), problems, out)


# --- Option ROMs (the PCI expansion ROM BAR, fw_cfg genroms/) ---

VGA_ROM_LINES = [r"^Scan for VGA option rom$", r"^Running option rom at c000:0003$",
                 r"^Start SeaVGABIOS \(version", r"^set VGA mode 3$"]


def text_screen(q, work, name):
    """The 80x25 text screen at 0xb8000 (QMP pmemsave), as 25 strings."""
    path = os.path.join(work, "text-%s.bin" % name)
    q.ok("pmemsave", {"val": 0xb8000, "size": 80 * 25 * 2, "filename": path})
    data = open(path, "rb").read()
    return ["".join(chr(c) if 32 <= c < 127 else " " for c in data[r * 160:(r + 1) * 160:2]).rstrip()
            for r in range(25)]


def rom_run(vmm, args, work, name, marker):
    """Runs `vmm` with SeaBIOS and `args` until debugcon shows `marker`;
    returns (debugcon text, text screen, screendump bytes)."""
    log = os.path.join(work, "rom-%s.log" % name)
    dump = os.path.join(work, "rom-%s.ppm" % name)
    extra = ["-enable-kvm", "-cpu", "qemu64"] if "qemu" in os.path.basename(vmm) else []
    got = {}

    def steps(q):
        wait_log(log, marker, timeout=TIMEOUT)
        q.ok("stop")
        got["screen"] = text_screen(q, work, name)
        q.ok("screendump", {"filename": dump})
        q.execute("quit")

    tiny.run_with_qmp(vmm, extra + ["-m", "128", "-display", "none", "-nodefaults", "-no-reboot"] + args +
                      debugcon(log), work, steps)
    return read(log), got.get("screen", []), open(dump, "rb").read() if os.path.exists(dump) else b""


def ppm_text_row(data, row, columns=None):
    """The pixels of text row `row` (16 pixel lines) of a binary P6
    screendump; with `columns`, only the first ones (9 pixels each)."""
    parts = data.split(b"\n", 3)
    w, h = (int(x) for x in parts[1].split())
    lines = [parts[3][(row * 16 + y) * w * 3:(row * 16 + y + 1) * w * 3] for y in range(16)]
    return b"".join(l[:columns * 9 * 3] if columns else l for l in lines)


def compare_text_rows(results, want, problems, upto=None):
    """QEMU's text screen (its pmemsave reads VGA memory) names the rows
    holding `want`; kestrel's screendump must show them pixel for pixel as
    QEMU's does (same VGA BIOS, same font), up to the end of `upto` in the
    row where given (the rest may hold addresses that differ)."""
    qemu_screen, qemu_dump, k_dump = results["qemu"][1], results["qemu"][2], results["kestrel"][2]
    # Rows still being written (iPXE's later lines) depend on timing: with
    # `upto`, only the rows that hold it count.
    rows = [i for i, line in enumerate(qemu_screen) if want in line and (not upto or upto in line)]
    if not rows:
        problems.append("qemu: %r not on its text screen %r" % (want, [l for l in qemu_screen if l]))
    if not k_dump.startswith(b"P6") or k_dump.split(b"\n", 2)[1] != qemu_dump.split(b"\n", 2)[1]:
        problems.append("kestrel's screendump %r is not QEMU's size" % k_dump[:20])
        return
    for row in rows:
        columns = qemu_screen[row].index(upto) + len(upto) if upto and upto in qemu_screen[row] else None
        pixels = ppm_text_row(k_dump, row, columns)
        if len({pixels[i:i + 3] for i in range(0, len(pixels), 3)}) < 2:
            problems.append("kestrel: text row %d (%r under QEMU) is blank" % (row, qemu_screen[row]))
        elif pixels != ppm_text_row(qemu_dump, row, columns):
            problems.append("kestrel: text row %d differs from QEMU's %r" % (row, qemu_screen[row]))


def test_vga_option_rom(k, qemu, work, vga):
    """-vga std / -vga cirrus: SeaBIOS finds the card's VGA BIOS in its ROM
    BAR (vgabios-stdvga.bin, vgabios-cirrus.bin), runs it at c000:0003, and
    the VGA BIOS shows SeaBIOS's banner in text mode, as under QEMU 7.2.
    Without the ROM BAR SeaBIOS finds no VGA ROM and the screen stays blank."""
    problems, results = [], {}
    for name, vmm in (("kestrel", k), ("qemu", qemu)):
        results[name] = rom_run(vmm, ["-vga", vga], work, "%s-%s" % (vga, name), NO_BOOT)
        for regex in VGA_ROM_LINES:
            if not re.search(regex, results[name][0], re.M):
                problems.append("%s: no debugcon line matching %r" % (name, regex))
    compare_text_rows(results, "SeaBIOS (version", problems)
    report("vga option ROM -vga %s: SeaVGABIOS runs and prints (as QEMU 7.2)" % vga, problems, results["kestrel"][0])


def test_nic_option_rom(k, qemu, work, model, rom, boot="-boot n"):
    """-device e1000 / virtio-net-pci with -boot n (or bootindex=): SeaBIOS
    runs the NIC's iPXE ROM from its ROM BAR and boots from it ("Booting
    from ROM..."), iPXE prints its banner on the screen, as under QEMU 7.2."""
    problems, results = [], {}
    for name, vmm in (("kestrel", k), ("qemu", qemu)):
        device = "%s,netdev=n0,addr=3" % model + (",bootindex=1" if boot == "bootindex" else "")
        args = ["-vga", "std", "-netdev", "user,id=n0,restrict=on", "-device", device]
        args += ["-boot", "n"] if boot == "-boot n" else []
        results[name] = rom_run(vmm, args, work, "%s-%s" % (model, name), r"^Booting from ca00:")
        for regex in (r"^Scan for option roms$", r"^Running option rom at ca00:0003$",
                      r"^Searching bootorder for: /pci@i0cf8/\*@3$", r"^Booting from ROM\.\.\.$"):
            if not re.search(regex, results[name][0], re.M):
                problems.append("%s: no debugcon line matching %r" % (name, regex))
    compare_text_rows(results, "iPXE", problems, upto="PnP PMM")
    report("%s option ROM (%s) runs with %s (as QEMU 7.2)" % (model, rom, boot), problems)


def test_rombar_off_and_option_rom(k, qemu, work):
    """rombar=0 hands the VGA BIOS to SeaBIOS as fw_cfg vgaroms/NAME (it
    still runs at c000); -option-rom FILE adds genroms/NAME, which SeaBIOS
    runs: a copy of QEMU's sgabios, which then mirrors the screen on the
    serial port. romfile= empty means no VGA BIOS at all."""
    problems = []
    rom = os.path.join(work, "my-rom.bin")
    with open("/usr/share/qemu/sgabios.bin", "rb") as src, open(rom, "wb") as dst:
        dst.write(src.read())
    for name, vmm in (("kestrel", k), ("qemu", qemu)):
        serial = os.path.join(work, "sga-%s.txt" % name)
        args = ["-vga", "none", "-device", "VGA,rombar=0", "-option-rom", rom, "-serial", "file:" + serial]
        text, _, _ = rom_run(vmm, args, work, "rombar0-%s" % name, NO_BOOT)
        for regex in (r"^Running option rom at c000:0003$", r"^Start SeaVGABIOS"):
            if not re.search(regex, text, re.M):
                problems.append("%s: no debugcon line matching %r" % (name, regex))
        if "Serial Graphics Adapter" not in read(serial):
            problems.append("%s: -option-rom's sgabios did not run (serial %r)" % (name, read(serial)[:200]))
        text, _, _ = rom_run(vmm, ["-vga", "none", "-device", "VGA,romfile="], work, "norom-%s" % name, NO_BOOT)
        if "Start SeaVGABIOS" in text:
            problems.append("%s: romfile= still ran a VGA BIOS" % name)
    report("rombar=0 (vgaroms/), -option-rom (genroms/), romfile= (as QEMU 7.2)", problems)


def test_rom_errors(k, qemu, work):
    """A missing or empty romfile=, a bad romsize=: QEMU 7.2's message, exit 1."""
    empty = os.path.join(work, "empty.rom")
    open(empty, "wb").close()
    problems = []
    cases = [(["-device", "e1000,romfile=nope.rom"], 'failed to find romfile "nope.rom"'),
             (["-device", "e1000,romfile=" + empty], 'romfile "%s" is empty' % empty),
             (["-device", "e1000,romsize=3"], "ROM size 3 is not a power of two"),
             (["-device", "VGA,romsize=4096"],
              'romfile "vgabios-stdvga.bin" (39936 bytes) is too large for ROM size 4096'),
             (["-L", work, "-device", "virtio-net-pci,romfile=missing.rom"], 'failed to find romfile "missing.rom"')]
    for args, text in cases:
        for vmm in (k, qemu):
            cmd = [vmm, "-display", "none", "-nodefaults"] + args
            if vmm == qemu:
                cmd[1:1] = ["-enable-kvm", "-cpu", "qemu64"]
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
            err = p.stderr.decode(errors="replace")
            want = "-device %s: %s" % (args[-1], text)
            if p.returncode != 1 or want not in err:
                problems.append("%s %s: status %d, stderr %r" % (os.path.basename(vmm), args, p.returncode, err))
    report("romfile errors (as QEMU 7.2)", problems)


SMBIOS_CASES = [  # (name, arguments): every table must be the same bytes as with QEMU 7.2
    ("defaults", ["-m", "128", "-smp", "2"]),
    ("fields of every type, 5G split at 3G, 2 sockets", [
        "-m", "5G", "-smp", "8,sockets=2,cores=2,threads=2", "-uuid", "12345678-9abc-def0-1122-334455667788",
        "-smbios", "type=0,vendor=Acme BIOS,version=9.9,date=01/02/2003,release=4.5,uefi=on",
        "-smbios", "type=1,manufacturer=Acme,product=Roadrunner,,Mk2,version=2,serial=SN-1,sku=K,family=F",
        "-smbios", "type=2,manufacturer=BoardCo,product=B1,serial=BS,asset=BA,location=L",
        "-smbios", "type=3,manufacturer=CaseCo,version=3,serial=CS,asset=CA,sku=CK",
        "-smbios", "type=4,sock_pfx=Socket,manufacturer=ChipCo,version=V4,serial=PS,asset=PA,part=PP,"
                   "max-speed=3000,current-speed=2500",
        "-smbios", "type=8,internal_reference=J1,external_reference=USB,connector_type=18,port_type=16",
        "-smbios", "type=11,value=oem one,value=oem two", "-smbios", "type=11,value=three",
        "-smbios", "type=17,loc_pfx=Slot,bank=B0,manufacturer=RamCo,serial=RS,asset=RA,part=RP,speed=2133",
        "-device", "pci-testdev,id=lan0,addr=5", "-smbios",
        "type=41,designation=Onboard LAN,kind=ethernet,instance=3,pcidev=lan0", "-smbios", "type=41,kind=sata"]),
    ("SMBIOS 3.0 entry point", ["-m", "256", "-machine", "smbios-entry-point-type=64"]),
]


def guest_smbios(vmm, args, work, direct_kernel=None):
    """The entry point and the structures the guest finds in the F segment:
    after SeaBIOS's POST, or (direct_kernel) as kestrel leaves them before
    the kernel's first instruction. Returns (entry point, tables, debug log)."""
    log, sock = os.path.join(work, "smbios-dbg.log"), os.path.join(work, "smbios-qmp.sock")
    for f in (log, sock):
        if os.path.exists(f):
            os.unlink(f)
    cmd = [vmm, "-display", "none", "-nodefaults", "-no-reboot", "-qmp", "unix:%s,server=on,wait=off" % sock]
    cmd += ["-kernel", direct_kernel, "-S"] if direct_kernel else debugcon(log)
    if "qemu" in os.path.basename(vmm):
        cmd += ["-enable-kvm", "-cpu", "qemu64"]
    p = subprocess.Popen(cmd + args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + TIMEOUT
        while not os.path.exists(sock):
            if p.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("%s ended: %s" % (vmm, p.stderr.read().decode(errors="replace")))
            time.sleep(0.05)
        q = tiny.Qmp(sock, timeout=TIMEOUT)
        q.ok("qmp_capabilities")
        if not direct_kernel:
            wait_log(log, NO_BOOT, timeout=TIMEOUT)

        def memory(addr, size):
            path = os.path.join(work, "smbios-mem")
            q.ok("pmemsave", {"val": addr, "size": size, "filename": path})
            with open(path, "rb") as f:
                return f.read()

        fseg = memory(0xf0000, 0x10000)
        for at in range(0, len(fseg), 16):
            if fseg[at:at + 4] == b"_SM_":
                ep = fseg[at:at + 31]
                size, addr = struct.unpack_from("<HI", ep, 22)
                break
            if fseg[at:at + 5] == b"_SM3_":
                ep = fseg[at:at + 24]
                size, addr = struct.unpack_from("<IQ", ep, 12)
                break
        else:
            raise RuntimeError("%s: no SMBIOS entry point in the F segment" % vmm)
        return ep, memory(addr, size), read(log)
    finally:
        p.kill()
        p.wait()
        p.stderr.close()


def ep_problems(name, ep):
    problems = []
    if sum(ep) & 0xff:
        problems.append("%s: entry point checksum" % name)
    if ep[:4] == b"_SM_" and sum(ep[16:31]) & 0xff:
        problems.append("%s: intermediate checksum" % name)
    return problems


def ep_fields(ep):
    """The entry point without its checksums and table address."""
    if ep[:4] == b"_SM_":
        return ep[5:16] + ep[16:21] + ep[22:24] + ep[28:31]
    return ep[6:16]


def multiboot_stub(work):
    """A multiboot kernel (a.out kludge) that only halts: kestrel loads it
    and is stopped (-S) before it runs."""
    path = os.path.join(work, "halt-mb.bin")
    magic, flags = 0x1BADB002, 0x00010000
    header = struct.pack("<8I", magic, flags, (-(magic + flags)) & 0xffffffff, 0x100000, 0x100000, 0, 0, 0x100020)
    with open(path, "wb") as f:
        f.write(header + b"\xf4\xeb\xfd")
    return path


def test_smbios_vs_qemu(k, qemu, work, name, args):
    """SeaBIOS installs kestrel's fw_cfg SMBIOS tables as QEMU's: the same
    structures byte for byte, the same entry point fields."""
    problems = []
    kep, ktables, klog = guest_smbios(k, args, work)
    qep, qtables, _ = guest_smbios(qemu, args, work)
    problems += ep_problems("kestrel", kep) + ep_problems("qemu", qep)
    if ep_fields(kep) != ep_fields(qep):
        problems.append("entry points differ: kestrel %s, qemu %s" % (kep.hex(), qep.hex()))
    if ktables != qtables:
        problems.append("tables differ:\nkestrel %s\nqemu    %s" % (ktables.hex(), qtables.hex()))
    report("smbios via SeaBIOS as QEMU 7.2: " + name, problems, klog)
    return qep, qtables


def test_smbios_direct_boot(k, work, name, args, qep, qtables):
    """-kernel: no BIOS runs; kestrel puts the same tables (SeaBIOS's type 0
    included) in the F segment itself, for Linux's dmi_scan."""
    kep, ktables, _ = guest_smbios(k, args, work, direct_kernel=multiboot_stub(work))
    problems = ep_problems("kestrel", kep)
    if ep_fields(kep) != ep_fields(qep):
        problems.append("entry points differ: kestrel %s, qemu %s" % (kep.hex(), qep.hex()))
    if ktables != qtables:
        problems.append("tables differ:\nkestrel %s\nqemu    %s" % (ktables.hex(), qtables.hex()))
    report("smbios with -kernel as QEMU 7.2 (SeaBIOS) gives: " + name, problems)


def test_smbios(k, qemu, work):
    for name, args in SMBIOS_CASES:
        qep, qtables = test_smbios_vs_qemu(k, qemu, work, name, args)
        test_smbios_direct_boot(k, work, name, args, qep, qtables)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kestrel")
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    args = ap.parse_args()
    k = os.path.abspath(args.kestrel)
    with tempfile.TemporaryDirectory(prefix="kestrel-firmware-") as work:
        tests = [
            lambda: test_post(k, args.qemu, work),
            lambda: test_reset_reruns_bios(k, work),
            lambda: test_hotplugged_cpu_after_reset(k, args.qemu, work),
            lambda: test_boot_menu_and_retry(k, args.qemu, work),
            lambda: test_bios_errors(k, work),
            lambda: test_bios_search_dir(k, work),
            lambda: test_ide_boot(k, work, "raw", "drive"),
            lambda: test_ide_boot(k, work, "qcow2", "drive"),
            lambda: test_ide_boot(k, work, "raw", "hda"),
            lambda: test_ide_boot(k, work, "raw", "positional"),
            lambda: test_ide_boot(k, work, "qcow2", "device"),
            lambda: test_cd_boot(k, args.qemu, work),
            lambda: test_boot_once(k, args.qemu, work),
            lambda: test_bootindex(k, args.qemu, work),
            lambda: test_second_ide_controller(k, args.qemu, work),
            lambda: test_vga_option_rom(k, args.qemu, work, "std"),
            lambda: test_vga_option_rom(k, args.qemu, work, "cirrus"),
            lambda: test_nic_option_rom(k, args.qemu, work, "e1000", "efi-e1000.rom"),
            lambda: test_nic_option_rom(k, args.qemu, work, "virtio-net-pci", "efi-virtio.rom"),
            lambda: test_nic_option_rom(k, args.qemu, work, "e1000", "efi-e1000.rom", boot="bootindex"),
            lambda: test_rombar_off_and_option_rom(k, args.qemu, work),
            lambda: test_rom_errors(k, args.qemu, work),
            lambda: test_smbios(k, args.qemu, work),
            lambda: disk_geometry.test_disk_geometry(k, args.qemu, work, run_until_marker, debugcon, report),
        ]
        for i, t in enumerate(tests):
            try:
                t()
            except Exception as e:
                report("scenario %d of %d" % (i + 1, len(tests)),
                       ["%s: %s" % (type(e).__name__, e), traceback.format_exc()])
    print("%d passed, %d failed" % (tiny.passed, tiny.failed))
    return 0 if tiny.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
