#!/usr/bin/env python3
"""Start-up of a tiny multiboot kernel: exec -> the kernel's exit through
isa-debug-exit, kestrel against QEMU 7.2 (which goes through SeaBIOS and its
multiboot option ROM), interleaved, on this machine's own /dev/kvm (tiny
guests need no nested test host).

Usage: bench/tinyboot.py [--kestrel build/kestrel] [--runs 15] [--warmups 2]
                         [--json bench/results/tinyboot-DATE.json]

The kernel is tests/tiny/kernel's multiboot ELF with "quiet=1 exit=21": it
prints nothing and writes 21 to isa-debug-exit, so every timed run must end
with status 43 ((21 << 1) | 1) — proof that the guest ran to its last
instruction. Before timing, one run of each VMM with -serial stdio and
without quiet=1 must print the kernel's multiboot lines. Prints a markdown
section for bench/RESULTS.md: median (min–max), kestrel/QEMU.
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
import vmrun  # noqa: E402

STATUS = 43
COMMON = ["-m", "128", "-nodefaults", "-display", "none", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]


def sh(cmd):
    return subprocess.run(cmd, capture_output=True, text=True).stdout.strip()


def prepare(work, kestrel_src):
    helper = os.path.join(work, "rusage_exec")
    subprocess.run(["gcc", "-static", "-O2", "-Wall", "-o", helper, os.path.join(BENCH, "rusage_exec.c")],
                   check=True)
    vmrun.HELPER = helper
    kestrel = os.path.join(work, "kestrel")
    shutil.copy2(kestrel_src, kestrel)  # a rebuild during the run changes nothing
    subprocess.run(["bash", os.path.join(REPO, "tests", "tiny", "kernel", "build.sh"), work], check=True,
                   capture_output=True)
    return kestrel, os.path.join(work, "tiny-mb.elf")


def commands(kestrel, kernel, append, serial=False):
    out = ["-serial", "stdio"] if serial else []
    tail = COMMON + out + ["-kernel", kernel, "-append", append]
    return {"kestrel": [kestrel, "-enable-kvm"] + tail, "qemu": ["qemu-system-x86_64", "-enable-kvm"] + tail}


def verify(cmds):
    facts = {}
    for vmm, argv in cmds.items():
        r = vmrun.run(argv, timeout=300, markers=["MB magic=2badb002", "TINY exit=21"])
        ok = r.status == STATUS and len(r.markers) == 2
        facts[vmm] = "verified: printed its multiboot info and 'TINY exit=21', exit status %s" % r.status if ok \
            else "NOT verified: status %s, markers %s" % (r.status, sorted(r.markers))
        if not ok:
            sys.exit("%s: the kernel did not run to its exit: %s\n%s" % (vmm, facts[vmm], r.stderr))
    return facts


def cell(values, scale=1.0, digits=1):
    if not values:
        return "-"
    v = [x * scale for x in values]
    return "%.*f (%.*f–%.*f)" % (digits, statistics.median(v), digits, min(v), digits, max(v))


def ratio(a, b):
    return "%.3f" % (statistics.median(a) / statistics.median(b)) if a and b else "-"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kestrel", default=os.path.join(REPO, "build", "kestrel"))
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--warmups", type=int, default=2)
    ap.add_argument("--json")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="kestrel-tinyboot-") as work:
        kestrel, kernel = prepare(work, os.path.abspath(args.kestrel))
        facts = verify(commands(kestrel, kernel, "exit=21", serial=True))
        cmds = commands(kestrel, kernel, "quiet=1 exit=21")
        for _ in range(args.warmups):
            for argv in cmds.values():
                vmrun.run(argv, timeout=300)
        runs = {vmm: [] for vmm in cmds}
        for _ in range(args.runs):
            for vmm, argv in cmds.items():
                runs[vmm].append(vmrun.run(argv, timeout=300))
    ok = {vmm: [r for r in rs if r.status == STATUS] for vmm, rs in runs.items()}
    k, q = ok["kestrel"], ok["qemu"]
    wall = lambda rs: [r.wall_s for r in rs]
    cpu = lambda rs: [r.cpu_s for r in rs]
    rss = lambda rs: [r.maxrss_kib / 1024 for r in rs]
    digest = hashlib.sha256(open(args.kestrel, "rb").read()).hexdigest()[:12]
    print("### Tiny multiboot kernel: exec → exit through isa-debug-exit (this machine's KVM)\n")
    print("- Machine: %d cores, %s, kernel %s%s; run directly on its /dev/kvm" % (
        os.cpu_count(), sh(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"]).strip(),
        platform.release(), ", paravirtual KVM (PVM)" if os.path.isdir("/sys/module/kvm_pvm") else ""))
    print("- kestrel: %s (sha256 %s) at commit %s" % (sh([args.kestrel, "--version"]).splitlines()[0], digest,
                                                     sh(["git", "-C", REPO, "log", "-1", "--format=%h %s"])))
    print("- QEMU: %s" % sh(["qemu-system-x86_64", "--version"]).splitlines()[0])
    print("- `VMM -enable-kvm %s -kernel tiny-mb.elf -append \"quiet=1 exit=21\"`; QEMU boots it through "
          "SeaBIOS and multiboot_dma.bin, kestrel loads it directly. Interleaved, %d warm-ups each; kestrel "
          "%d/%d, QEMU %d/%d runs ended with status %d." % (" ".join(COMMON), args.warmups, len(k), args.runs,
                                                          len(q), args.runs, STATUS))
    for vmm, fact in facts.items():
        print("- %s: %s" % (vmm, fact))
    print("\n| | kestrel | QEMU 7.2 | kestrel/QEMU | goal |\n|---|---|---|---|---|")
    print("| wall: exec → guest's isa-debug-exit → exit (ms) | %s | %s | %s | ratio ≤ 0.10 |" % (
        cell(wall(k), 1000), cell(wall(q), 1000), ratio(wall(k), wall(q))))
    print("| CPU: user+sys (ms) | %s | %s | %s | |" % (cell(cpu(k), 1000), cell(cpu(q), 1000), ratio(cpu(k), cpu(q))))
    print("| peak RSS (MiB) | %s | %s | %s | kestrel ≤ 4 MiB |" % (cell(rss(k), 1, 2), cell(rss(q), 1, 2),
                                                                ratio(rss(k), rss(q))))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"date": datetime.date.today().isoformat(), "facts": facts,
                       "runs": {vmm: [r.to_json() for r in rs] for vmm, rs in runs.items()}}, f, indent=1)
    return 0 if k and q else 1


if __name__ == "__main__":
    sys.exit(main())
