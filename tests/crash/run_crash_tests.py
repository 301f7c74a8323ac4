#!/usr/bin/env python3
"""Crash safety of kestrel's qcow2 driver, judged by qemu-img.

Usage: run_crash_tests.py PATH/TO/qcow2_crash_writer [--kills N] [--kestrel PATH/TO/kestrel]

qcow2_crash_writer writes through the BlockBackend a -drive gets (many
requests in flight, growing the image, write zeroes, flushes) and is
SIGKILLed at a random moment, N times (default 20) per image, on images of
several geometries (64 KiB and 512 B clusters, refcount widths 1 and 16,
v2, over a backing file). With --kestrel the same images are written a
second time by a guest: kestrel runs the tiny test kernel's blkcrash test
(tests/tiny/kernel/blkcrash.c) on this machine's /dev/kvm, which writes
the same sector format through a virtio-blk disk (cache=writeback,
discard=unmap) and logs its operations and completed flushes on COM1, and
kestrel is SIGKILLed with the guest's requests in flight. After every kill:
  - qemu-img check must find no corruption (leaked clusters are allowed, as
    QEMU allows them after a crash): exit status 0 or 3;
  - every sector must hold what the latest write that completed before a
    flush put there, or what a later (unflushed) write put there: the
    writer's log says which operations a completed flush covers, and every
    sector's data names the operation that wrote it.
Then the next run goes on with the same image (recovering from the last
crash). Needs no KVM; ends with one line "N passed, N failed".
"""
import os
import random
import signal
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
QEMU_IMG = "/usr/bin/qemu-img"
MAGIC = 0x4b45535452454c21
SECTOR = 512
SIZE = 48 << 20


class Failure(Exception):
    pass


# A sector's filler depends on (index * 31 + sector * 7) mod 256 only.
FILLERS = [bytes((c + i) & 0xff for i in range(24, SECTOR)) for c in range(256)]


def qemu_img(*args, cwd):
    return subprocess.run([QEMU_IMG] + list(args), cwd=cwd, capture_output=True, text=True)


def parse_log(path):
    """Operations (index, kind, offset, length) and, per run, the index up
    to which a completed flush covers them."""
    ops, durable_below = [], {}
    with open(path) as f:
        for line in f:
            if not line.endswith("\n"):
                break  # cut short by the kill
            parts = line.split()
            if not parts:
                continue
            if parts[0] == "F" and len(parts) == 2:
                idx = int(parts[1])
                run = idx // 1000000
                durable_below[run] = max(durable_below.get(run, 0), idx)
            elif parts[0] in ("W", "Z") and len(parts) == 4:
                ops.append((int(parts[1]), parts[0], int(parts[2]), int(parts[3])))
    return ops, durable_below


def expected_versions(ops, durable_below, sectors, base):
    """Per sector: the durable version (index, or -1 for the original
    content) and the later ones that may have landed."""
    latest = [-1] * sectors
    maybe = [None] * sectors
    kinds = {}
    for idx, kind, off, length in ops:
        kinds[idx] = kind
        durable = idx < durable_below.get(idx // 1000000, 0)
        for s in range(off // SECTOR, (off + length) // SECTOR):
            if durable:
                latest[s] = idx
                maybe[s] = None
            else:
                if maybe[s] is None:
                    maybe[s] = set()
                maybe[s].add(idx)
    return latest, maybe, kinds


def sector_ok(data, s, latest, maybe, kinds, base):
    allowed = {latest[s]} | (maybe[s] or set())
    if data[0:8] == struct.pack("<Q", MAGIC):
        idx, sector = struct.unpack("<QQ", data[8:24])
        if sector != s * SECTOR or idx not in allowed or kinds.get(idx) != "W":
            return False
        return data[24:] == FILLERS[(idx * 31 + s * 7) & 0xff]
    if data == bytes(SECTOR):
        return any(a == -1 and base is None or kinds.get(a) == "Z" for a in allowed)
    if base is not None and data == base[s * SECTOR:(s + 1) * SECTOR]:
        return -1 in allowed
    return False


def describe_sector(data):
    if data[0:8] == struct.pack("<Q", MAGIC):
        idx, sector = struct.unpack("<QQ", data[8:24])
        return "op %d's data for sector %d" % (idx, sector // SECTOR)
    return "zeroes" if data == bytes(SECTOR) else "other bytes: " + data[:32].hex()


def check_when_released(image, work):
    """qemu-img check once the killed writer's file is closed: io_uring
    requests in flight keep it (and its locks) open a moment after the
    process is gone."""
    deadline = time.monotonic() + 30
    while True:
        r = qemu_img("check", image, cwd=work)
        if "lock" not in r.stderr or time.monotonic() > deadline:
            return r
        time.sleep(0.1)


def verify(image, log, work, base):
    r = check_when_released(image, work)
    if r.returncode not in (0, 3):
        raise Failure("qemu-img check %s: exit %d\n%s%s" % (image, r.returncode, r.stdout, r.stderr))
    raw = os.path.join(work, "now.raw")
    r = qemu_img("convert", "-O", "raw", image, raw, cwd=work)
    if r.returncode != 0:
        raise Failure("qemu-img convert: %s" % r.stderr)
    ops, durable = parse_log(log)
    sectors = SIZE // SECTOR
    latest, maybe, kinds = expected_versions(ops, durable, sectors, base)
    with open(raw, "rb") as f:
        data = f.read()
    os.unlink(raw)
    for s in range(sectors):
        chunk = data[s * SECTOR:(s + 1) * SECTOR]
        if chunk == bytes(SECTOR) and latest[s] == -1 and not maybe[s] and base is None:
            continue
        if not sector_ok(chunk, s, latest, maybe, kinds, base):
            raise Failure("sector %d holds data no flushed or later write put there (durable op %d, maybe %s): %s"
                          % (s, latest[s], sorted(maybe[s] or [])[:5], describe_sector(chunk)))
    return r.returncode, len([1 for o in ops]), max(durable.values(), default=0)


class WriterProcess:
    """qcow2_crash_writer: it appends its log itself."""
    name = "writer"

    def __init__(self, writer):
        self.writer = writer

    def start(self, image, run, log, work):
        return subprocess.Popen([self.writer, image, str(run), log], stderr=subprocess.PIPE)

    def wait_started(self, p, work, name):
        if p.poll() is not None:
            raise Failure("%s: the writer ended by itself: %s" % (name, p.stderr.read().decode()))

    def collect(self, log, work):
        pass


class GuestInKestrel:
    """kestrel running the tiny kernel's blkcrash test: its serial output
    (a file, written by the vCPU as the guest writes each byte) is the run's
    log, appended to the image's log after the kill."""
    name = "kestrel guest"

    def __init__(self, kestrel, kernel):
        self.kestrel, self.kernel = kestrel, kernel

    def serial(self, work):
        return os.path.join(work, "serial.log")

    def start(self, image, run, log, work):
        return subprocess.Popen(
            [self.kestrel, "-m", "64", "-nodefaults", "-display", "none", "-serial", "file:" + self.serial(work),
             "-kernel", self.kernel, "-append", "tests=blkcrash run=%d" % run,
             "-drive", "file=%s,if=virtio,format=qcow2,cache=writeback,discard=unmap" % image],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def wait_started(self, p, work, name):
        deadline = time.monotonic() + 120  # a tiny kernel starts in well under a second; the machine may be busy
        while time.monotonic() < deadline:
            path = self.serial(work)
            text = open(path).read() if os.path.exists(path) else ""
            if "BLK error" in text:
                raise Failure("%s: the guest failed: %s" % (name, text[text.index("BLK error"):].splitlines()[0]))
            if "BLK start" in text:
                return
            if p.poll() is not None:
                raise Failure("%s: kestrel ended by itself: %s" % (name, p.stderr.read().decode()))
            time.sleep(0.02)
        raise Failure("%s: the guest never started writing" % name)

    def collect(self, log, work):
        with open(self.serial(work)) as f, open(log, "a") as out:
            for line in f.read().replace("\r", "").splitlines(keepends=True):
                if line[:2] in ("W ", "Z ", "F ") and line.endswith("\n"):  # the kill may cut the last one
                    out.write(line)


def one_image(writer, work, name, create_args, kills, rnd, base=None):
    image = os.path.join(work, name)
    r = qemu_img("create", "-q", "-f", "qcow2", *create_args, image, str(SIZE), cwd=work)
    if r.returncode:
        raise Failure("qemu-img create: " + r.stderr)
    log = os.path.join(work, name + ".log")
    leaks = 0
    for run in range(1, kills + 1):
        p = writer.start(image, run, log, work)
        writer.wait_started(p, work, name)
        # Let it get going: at least one flush most of the time, then a random moment.
        time.sleep(rnd.uniform(0.05, 0.6))
        writer.wait_started(p, work, name)  # still running, no failed request
        p.send_signal(signal.SIGKILL)
        p.wait()
        writer.collect(log, work)
        status, _, _ = verify(image, log, work, base)
        leaks += status == 3
    return leaks


def build_tiny_kernel(work):
    out = os.path.join(work, "tiny")
    subprocess.run(["bash", os.path.join(HERE, "..", "tiny", "kernel", "build.sh"), out], check=True)
    return os.path.join(out, "tiny-mb.elf")


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    kills = int(sys.argv[sys.argv.index("--kills") + 1]) if "--kills" in sys.argv else 20
    rnd = random.Random(int(time.time()))
    cases = [
        ("default.qcow2", [], None),
        ("small-clusters.qcow2", ["-o", "cluster_size=512,refcount_bits=1"], None),
        ("v2.qcow2", ["-o", "compat=0.10,cluster_size=4k"], None),
        ("overlay.qcow2", ["-b", "base.raw", "-F", "raw"], "base.raw"),
    ]
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="kestrel-crash-") as work:
        writers = [("", WriterProcess(os.path.abspath(sys.argv[1])))]
        if "--kestrel" in sys.argv:
            kestrel = os.path.abspath(sys.argv[sys.argv.index("--kestrel") + 1])
            writers.append(("guest-", GuestInKestrel(kestrel, build_tiny_kernel(work))))
        base_bytes = bytes(rnd.getrandbits(8) for _ in range(256)) * (SIZE // 256)
        with open(os.path.join(work, "base.raw"), "wb") as f:
            f.write(base_bytes)
        for prefix, writer in writers:
            for name, args, base in cases:
                start = time.time()
                try:
                    leaks = one_image(writer, work, prefix + name, args, kills, rnd, base_bytes if base else None)
                    print("PASS %s (%s): %d kills, %d left leaked clusters %.1fs"
                          % (name, writer.name, kills, leaks, time.time() - start), flush=True)
                    passed += 1
                except Failure as e:
                    print("FAIL %s (%s): %s" % (name, writer.name, e), flush=True)
                    failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
