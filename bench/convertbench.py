#!/usr/bin/env python3
"""kestrel-img convert against qemu-img convert, interleaved.

usage: bench/convertbench.py [--kestrel-img build/kestrel-img] [--runs 5]
                             [--size-gib 4] [--dir /var/tmp] [--json OUT]

A sparse raw image of SIZE GiB (a quarter of it data, in random extents
of 64 KiB to 2 MiB) and its qcow2 copy (made by qemu-img) are converted
both ways, qcow2 -> raw and raw -> qcow2, by qemu-img 7.2 and kestrel-img
in turn (qemu, kestrel, qemu, kestrel, ...), each writing a new target with
the tools' defaults (qemu-img: cache=unsafe for the target, 8 coroutines).
Wall time per run (fork to exit), medians, and the ratio kestrel/qemu.
`sync` before each run (untimed), so that no run pays for the write-back
of the one before it. Every kestrel-img output is checked with `qemu-img compare` against the
source once. No KVM needed: this runs on the host itself.
"""
import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_source(path, size, seed=42):
    rnd = random.Random(seed)
    with open(path, "wb") as f:
        f.truncate(size)
        written = 0
        while written < size // 4:
            length = rnd.choice([64, 128, 256, 512, 1024, 2048]) << 10
            off = rnd.randrange(0, (size - length) >> 16) << 16
            f.seek(off)
            f.write(rnd.randbytes(length))
            written += length


def timed(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--kestrel-img", default=os.path.join(REPO, "build", "kestrel-img"))
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--size-gib", type=int, default=4)
    p.add_argument("--dir", default="/var/tmp")
    p.add_argument("--json")
    a = p.parse_args()
    kimg = os.path.abspath(a.kestrel_img)
    qimg = shutil.which("qemu-img")
    results = {}
    with tempfile.TemporaryDirectory(dir=a.dir, prefix="kestrel-convertbench-") as d:
        src_raw, src_qcow2 = os.path.join(d, "src.raw"), os.path.join(d, "src.qcow2")
        make_source(src_raw, a.size_gib << 30)
        subprocess.run([qimg, "convert", "-O", "qcow2", src_raw, src_qcow2], check=True)
        cases = {"qcow2->raw": (src_qcow2, "raw"), "raw->qcow2": (src_raw, "qcow2")}
        for name, (src, fmt) in cases.items():
            times = {"qemu": [], "kestrel": []}
            out = os.path.join(d, "out." + fmt)
            for i in range(a.runs):
                for tool, exe in (("qemu", qimg), ("kestrel", kimg)):
                    if os.path.exists(out):
                        os.unlink(out)
                    # Each run starts with no dirty page cache: otherwise the
                    # write-back of the previous run's output lands in this one.
                    os.sync()
                    times[tool].append(timed([exe, "convert", "-O", fmt, src, out]))
                    if tool == "kestrel" and i == 0:
                        subprocess.run([qimg, "compare", src, out], check=True, stdout=subprocess.DEVNULL)
                    print("%s run %d %-7s %.3f s" % (name, i + 1, tool, times[tool][-1]), flush=True)
            med = {t: statistics.median(v) for t, v in times.items()}
            results[name] = {"runs": times, "median_s": med, "ratio": med["kestrel"] / med["qemu"]}
            print("%s: qemu-img %.3f s, kestrel-img %.3f s (median of %d), ratio %.2f"
                  % (name, med["qemu"], med["kestrel"], a.runs, results[name]["ratio"]), flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"date": time.strftime("%Y-%m-%d"), "size_gib": a.size_gib, "results": results}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
