#!/usr/bin/env python3
"""The guest side of the disk benchmark: an initrd that runs fio on /dev/vda
(or /dev/sda, the first IDE disk, with kbench_disk=ide on the kernel command line).

It is the L2 base initramfs (tests/guest) with two more archives appended
(the kernel unpacks concatenated archives in order):
  1. /usr/bin/fio of this machine (Debian package `fio`), every shared library
     `ldd` lists for it at its own path, and the dynamic loader
     (tests/guest/assets.py add_programs);
  2. /scenario.sh (run by the base /init): loads virtio_pci and virtio_blk,
     runs each job of JOBS with fio on /dev/vda and prints, per job,
       KBENCH-FIO-START <job> .        fio's exec_prerun: set up, I/O next
       KBENCH-FIO-END <job> .          fio's exec_postrun: I/O done
       KBENCH-FIO-JSON <job> <status>  then fio's --output-format=json
       <gzip | base64 lines>           output, compressed (less serial time)
       KBENCH-FIO-JSON-END <job>
     and KBENCH-FIO-DONE at the end; the base /init then powers off.
     The markers come from fio itself (written to /dev/console; fio sends
     exec_* output to a file, hence the { } group) because
     starting fio costs far more than a short job here: it maps ~60 shared
     libraries (ceph, gluster, ...), seconds of guest CPU in the nested host.
The host side (bench/diskbench.py) reads the markers and the JSON.

usage: fio_initrd.py OUT --base L2_INITRD [--seconds 10] [--engine libaio]
"""

import argparse
import os
import shutil
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "guest"))
import assets  # noqa: E402
import cpio  # noqa: E402

FIO = "/usr/bin/fio"
DEVICE = "/dev/vda"
# name -> fio options; names must not be prefixes of each other's markers
# (the markers end in " .").
JOBS = {
    "randread-4k-qd1": "--rw=randread --bs=4k --iodepth=1",
    "randread-4k-qd32": "--rw=randread --bs=4k --iodepth=32",
    "randwrite-4k-qd1": "--rw=randwrite --bs=4k --iodepth=1",
    "randwrite-4k-qd32": "--rw=randwrite --bs=4k --iodepth=32",
    "read-1m-qd1": "--rw=read --bs=1m --iodepth=1",
    "read-1m-qd32": "--rw=read --bs=1m --iodepth=32",
    "write-1m-qd1": "--rw=write --bs=1m --iodepth=1",
    "write-1m-qd32": "--rw=write --bs=1m --iodepth=32",
}
# Interrupts the guest took from the disk's driver ($IRQ: virtio, or
# ata_piix for IDE), all CPUs (the header line has one column per CPU).
DISK_IRQS = ("awk -v p=\"$IRQ\" 'NR == 1 {n = NF} $0 ~ p {for (i = 2; i <= n + 1; i++) s += $i} "
             "END {print s + 0}' /proc/interrupts")
COMMON = ("--filename=$DEV --direct=1 --time_based --norandommap --randrepeat=0 "
          "--output-format=json --eta=never")
# kbench_disk=ide on the kernel command line: the disk is the first IDE
# disk, kbench_disk=cd the first IDE CD-ROM (read jobs only), else the
# virtio disk.
PICK_DISK = ("if grep -q kbench_disk=ide /proc/cmdline; then DEV=/dev/sda; IRQ=ata_piix; "
             "modprobe ata_piix; modprobe sd_mod; "
             "elif grep -q kbench_disk=cd /proc/cmdline; then DEV=/dev/sr0; IRQ=ata_piix; "
             "modprobe ata_piix; modprobe sr_mod; else DEV=%s; IRQ=virtio; "
             "modprobe virtio_pci; modprobe virtio_blk; fi" % DEVICE)


def fio_archive(binary=FIO):
    if not os.path.exists(binary):
        raise SystemExit("fio_initrd: %s missing: apt-get install fio" % binary)
    archive = cpio.CpioWriter()
    assets.add_programs(archive, [binary])
    # uncompressed (the kernel takes plain newc archives too): ~90 MB, but
    # gunzip in the nested guest took longer than copying it in
    return archive.raw_bytes()


def guest_script(seconds, engine, jobs=JOBS):
    lib_dirs = sorted({os.path.dirname(p) for p in assets.shared_libraries(FIO)})
    lines = [
        "# fio jobs of the disk benchmark (bench/fio_initrd.py)",
        "export LD_LIBRARY_PATH=%s" % ":".join(lib_dirs),
        PICK_DISK,
        "i=0",
        "while [ ! -b $DEV ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done",
        "[ -b $DEV ] || { echo 'KBENCH-FIO-NO-DISK'; exit 1; }",
        "echo \"KBENCH-FIO-DISK $DEV $(blockdev --getsize64 $DEV) bytes, "
        "fio $(fio --version)\"",
        "job() {",
        "    name=$1; shift",
        "    irqs=$(%s)" % DISK_IRQS,
        "    fio --name=$name %s --ioengine=%s --runtime=%d --output=/tmp/$name.json \\"
        % (COMMON, engine, seconds),
        "        --exec_prerun=\"{ echo KBENCH-FIO-START $name . >/dev/console; }\" \\",
        "        --exec_postrun=\"{ echo KBENCH-FIO-END $name . >/dev/console; }\" \"$@\"",
        "    st=$?",
        "    echo \"KBENCH-FIO-IRQS $name $(($(%s) - irqs))\"" % DISK_IRQS,
        "    echo \"KBENCH-FIO-JSON $name $st\"",
        "    gzip -c /tmp/$name.json | base64",
        "    echo \"KBENCH-FIO-JSON-END $name\"",
        "}",
    ]
    lines += ["job %s %s" % (name, opts) for name, opts in jobs.items()]
    # idle a moment, so the host's CPU sampler sees the VMM after the last job
    lines += ["sleep 1", "echo KBENCH-FIO-DONE"]
    return "\n".join(lines) + "\n"


def select_jobs(spec):
    """JOBS named in a comma-separated list ("all": every job)."""
    if spec == "all":
        return dict(JOBS)
    names = [n for n in spec.split(",") if n]
    unknown = [n for n in names if n not in JOBS]
    if unknown or not names:
        raise SystemExit("fio_initrd: unknown job(s) %s; jobs: %s"
                         % (",".join(unknown) or "(none)", ",".join(JOBS)))
    return {n: JOBS[n] for n in names}


def script_archive(seconds, engine, jobs):
    archive = cpio.CpioWriter()
    archive.add_file("scenario.sh", guest_script(seconds, engine, jobs).encode(), 0o755)
    return archive.gzip_bytes()


def build(out, base, seconds, engine, jobs=JOBS):
    with open(out, "wb") as f, open(base, "rb") as b:
        shutil.copyfileobj(b, f)
        # the kernel takes a plain archive only at a 4-byte aligned offset
        # (zeros in between are skipped)
        f.write(b"\0" * (-f.tell() % 4))
        f.write(fio_archive())
        f.write(script_archive(seconds, engine, jobs))
    return out


def main(argv):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("out")
    p.add_argument("--base", required=True, help="the L2 base initramfs")
    p.add_argument("--seconds", type=int, default=10, help="fio runtime per job")
    p.add_argument("--engine", default="libaio", choices=["libaio", "io_uring"])
    p.add_argument("--jobs", default="all", help="comma-separated job names")
    a = p.parse_args(argv)
    build(a.out, a.base, a.seconds, a.engine, select_jobs(a.jobs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
