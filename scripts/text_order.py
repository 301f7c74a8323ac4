#!/usr/bin/env python3
"""Writes src/text_order.txt: the functions kestrel runs at start-up, in the
order they first run, for the linker to place side by side.

Why: the kernel maps 64 KiB of an executable around every page fault
("fault-around"). Start-up code is scattered over the 4 MB of text, so a
start-up that runs a few hundred KiB of code made ~3 MiB of the binary
resident (peak RSS of a tiny CI kernel's whole run: 5.8 MiB). lld's
--symbol-ordering-file puts these functions first, and the run stays near
3.3 MiB (meson.build links with it when lld is installed).

The list comes from valgrind's callgrind on start-ups that CI runners and
scripts pay for: a tiny multiboot kernel booted to its exit through
isa-debug-exit, a paused machine that a QMP client quits, and a libvirt
domain's start-up (the command line libvirt 9.0 writes for
tests/libvirt's direct-boot domain: virtio disk and NIC, VGA + VNC, USB
tablet, balloon; without its tap fds, pty and sandbox) through libvirt's
first QMP queries to `quit` (bench/RESULTS.md, "libvirt: where the
memory goes"), and libvirt's firmware-boot domain (virtio disk, UHCI,
balloon, no display) running SeaBIOS and tests/firmware's boot sector to
its exit, which also covers the vCPU loop and the devices the firmware
drives. Symbols that
later disappear are ignored by the linker, so a stale list only costs
memory; run this again after large changes:

    scripts/text_order.py [--kestrel build/kestrel]   (needs valgrind)
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "src", "text_order.txt")
NAMED = re.compile(r"^c?fn=\(\d+\) (\S+?)(?:'\d+)?$")


def callgrind(kestrel, args, work, name, stdin=b""):
    out = os.path.join(work, name + ".callgrind")
    cmd = ["valgrind", "--tool=callgrind", "--demangle=no", "--callgrind-out-file=" + out, kestrel] + args
    run = subprocess.run(cmd, input=stdin, capture_output=True, timeout=300)
    return out, run.returncode


LIBVIRT_QMP = b"".join(b'{"execute": "%s"}\n' % c for c in (
    b"qmp_capabilities", b"query-chardev", b"query-named-block-nodes", b"query-block", b"query-cpus-fast",
    b"query-iothreads", b"query-migrate-capabilities", b"query-balloon", b"query-status", b"query-blockstats",
    b"quit"))


# libvirt's start of a domain, then `cont`: the guest runs until its exit.
FIRMWARE_QMP = b"".join(b'{"execute": "%s"}\n' % c for c in (
    b"qmp_capabilities", b"query-chardev", b"query-block", b"query-cpus-fast", b"query-status", b"cont"))


def libvirt_common(extra_machine=()):
    """What libvirt 9.0 writes for every tests/libvirt domain: pc-i440fx-7.2,
    512 MiB from a memory backend, one vCPU, QMP on stdio, UHCI, a null
    serial, a balloon."""
    dev = lambda **d: ["-device", json.dumps(d)]  # noqa: E731
    return (["-name", "guest=text-order,debug-threads=on", "-S",
             "-machine", "pc-i440fx-7.2,usb=off,dump-guest-core=off,memory-backend=pc.ram", "-accel", "kvm",
             "-m", "512", "-object", '{"qom-type":"memory-backend-ram","id":"pc.ram","size":536870912}',
             "-overcommit", "mem-lock=off", "-smp", "1,sockets=1,cores=1,threads=1", "-no-user-config", "-nodefaults",
             "-chardev", "stdio,id=charmonitor", "-mon", "chardev=charmonitor,id=monitor,mode=control",
             "-rtc", "base=utc,driftfix=slew", "-global", "kvm-pit.lost_tick_policy=delay", "-no-hpet",
             "-no-shutdown", "-global", "PIIX4_PM.disable_s3=1", "-global", "PIIX4_PM.disable_s4=1",
             "-boot", "strict=on"]
            + dev(driver="piix3-usb-uhci", id="usb", bus="pci.0", addr="0x1.0x2")
            + ["-chardev", "null,id=charserial0"]
            + dev(driver="isa-serial", chardev="charserial0", id="serial0", index=0)
            + dev(driver="virtio-balloon-pci", id="balloon0", bus="pci.0", addr="0x5")
            + ["-msg", "timestamp=on"])


def virtio_disk(image):
    return (["-blockdev", json.dumps({"driver": "file", "filename": image, "node-name": "libvirt-1-storage",
                                      "auto-read-only": True, "discard": "unmap"}),
             "-blockdev", '{"node-name":"libvirt-1-format","read-only":false,"driver":"raw",'
                          '"file":"libvirt-1-storage"}',
             "-device", json.dumps({"driver": "virtio-blk-pci", "bus": "pci.0", "addr": "0x4",
                                    "drive": "libvirt-1-format", "id": "virtio-disk0", "bootindex": 1})])


def libvirt_domain(work):
    """libvirt's command line for the direct-boot domain, paused, QMP on stdio."""
    sys.path.insert(0, os.path.join(REPO, "tests", "guest"))
    import assets
    kernel = assets.load_assets(os.path.join(assets.cache_dir(), "assets.json"))["kernel"]
    disk = os.path.join(work, "vda.raw")
    with open(disk, "wb") as f:
        f.truncate(64 << 20)
    dev = lambda **d: ["-device", json.dumps(d)]  # noqa: E731
    return (libvirt_common() + ["-cpu", "host,migratable=on", "-kernel", kernel, "-append", "console=ttyS0 panic=-1"]
            + virtio_disk(disk)
            + ["-netdev", '{"type":"user","id":"hostnet0"}']
            + dev(driver="virtio-net-pci", netdev="hostnet0", id="net0", mac="52:54:00:77:d5:a8", bus="pci.0",
                  addr="0x3")
            + dev(driver="usb-tablet", id="input0", bus="usb.0", port="1")
            + ["-audiodev", '{"id":"audio1","driver":"none"}', "-vnc",
               "unix:%s,audiodev=audio1" % os.path.join(work, "vnc.sock")]
            + dev(driver="VGA", id="video0", vgamem_mb=16, bus="pci.0", addr="0x2"))


def firmware_domain(work):
    """libvirt's command line for tests/libvirt's firmware domain (SeaBIOS
    boots the virtio disk), with tests/firmware's boot sector on that disk:
    it reads and writes through int 13h and ends through isa-debug-exit."""
    sys.path.insert(0, os.path.join(REPO, "tests", "firmware"))
    import run_firmware_tests
    disk = run_firmware_tests.build_boot_disk(work, "firmware.img")
    return (libvirt_common() + virtio_disk(disk)
            + ["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-display", "none"])


def functions_in_order(profile):
    """Mangled names in the order callgrind first names them."""
    names = []
    with open(profile, errors="replace") as f:
        for line in f:
            m = NAMED.match(line.rstrip("\n"))
            if m and not m.group(1).startswith("0x") and "@" not in m.group(1):
                names.append(m.group(1))
    return names


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kestrel", default=os.path.join(REPO, "build", "kestrel"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="kestrel-text-order-") as work:
        subprocess.run(["bash", os.path.join(REPO, "tests", "tiny", "kernel", "build.sh"), work],
                       check=True, capture_output=True)
        tiny = ["-m", "128", "-nodefaults", "-display", "none",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
                "-kernel", os.path.join(work, "tiny-mb.elf"), "-append", "quiet=1 exit=21"]
        paused = ["-S", "-m", "128", "-nodefaults", "-display", "none", "-qmp", "stdio"]
        qmp = b'{"execute": "qmp_capabilities"}\n{"execute": "query-status"}\n{"execute": "quit"}\n'
        runs = [callgrind(args.kestrel, tiny, work, "tiny"),
                callgrind(args.kestrel, paused, work, "paused", qmp),
                callgrind(args.kestrel, libvirt_domain(work), work, "libvirt", LIBVIRT_QMP),
                callgrind(args.kestrel, firmware_domain(work), work, "firmware", FIRMWARE_QMP)]
        if [status for _, status in runs] != [43, 0, 0, 33]:
            sys.exit("text_order: unexpected exit statuses %s" % [status for _, status in runs])
        seen, order = set(), []
        for profile, _ in runs:
            for name in functions_in_order(profile):
                if name not in seen:
                    seen.add(name)
                    order.append(name)
    with open(OUT, "w") as f:
        f.write("\n".join(order) + "\n")
    print("text_order: %d functions -> %s" % (len(order), os.path.relpath(OUT, REPO)))


if __name__ == "__main__":
    main()
