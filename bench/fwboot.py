#!/usr/bin/env python3
"""Firmware boot of a real disk image: exec -> SeaBIOS -> EXTLINUX -> the
Debian kernel -> the initramfs marker, kestrel against QEMU 7.2, no -kernel
(see bench/README.md, "Firmware boot").

The disk is tests/guest/bootmedia.py's raw 10 GiB image (MBR, ext4 with
EXTLINUX, vmlinuz, the l2 initramfs with the medium check). Every run:
`VMM -enable-kvm -m 512 -nodefaults -display none -serial stdio -no-reboot
 -drive file=IMG,format=raw,if=ide|virtio`; wall times from exec until
EXTLINUX's banner on COM1 (SeaBIOS's POST and its reads of the MBR and
EXTLINUX's boot sector), until KTEST-GUEST-START (EXTLINUX read the kernel
and initramfs through int 13h, the kernel booted to init) and until the VMM
exits after the guest's poweroff. A run counts only when the guest then
mounted the disk with its own driver and found every file intact
(MEDIUM_MD5=0). Runs interleave kestrel, QEMU, … in ONE test-host boot.

usage: fwboot.py [--runs 5] [--warmups 1] [--configs ide,virtio]
                 [--kestrel BIN] [--json OUT]
       fwboot.py --measure ...   (inside the test host; run by the above)
Prints a markdown section for bench/RESULTS.md.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
sys.path.insert(0, os.path.join(REPO, "tests", "guest"))
sys.path.insert(0, os.path.join(REPO, "tests", "kvmhost"))
import bootmedia  # noqa: E402
import vmrun  # noqa: E402

# Syslinux 6's loaders all print "SYSLINUX <version>", EXTLINUX too.
MARKERS = ["SYSLINUX ", "KTEST-GUEST-START", "MEDIUM_MD5=0", "reboot: Power down"]
FORBID = ["Kernel panic", "Oops", "BUG:", "Boot failed"]
COMMON = ["-m", "512", "-nodefaults", "-display", "none", "-serial", "stdio", "-no-reboot"]
PHASES = [("exec → EXTLINUX banner (SeaBIOS POST, MBR, boot sector)", "SYSLINUX "),
          ("exec → initramfs marker (int 13h reads of kernel + initrd, kernel boot)", "KTEST-GUEST-START"),
          ("exec → exit after poweroff", None)]


def log(msg):
    print("[fwboot %s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def argv_of(vmm, disk, config):
    return vmm + COMMON + ["-drive", "file=%s,format=raw,if=%s" % (disk, config)]


def one_run(vmm, disk, config, logfile):
    r = vmrun.run(argv_of(vmm, disk, config), timeout=300, markers=MARKERS)
    text = r.stdout.decode(errors="replace")
    with open(logfile, "w") as f:
        f.write(text + "\n--- stderr\n" + r.stderr)
    problems = ["missing %r" % m for m in MARKERS if m not in r.markers]
    problems += ["saw %r" % s for s in FORBID if s in text]
    if r.status != 0:
        problems.append("exit status %s" % r.status)
    d = r.to_json(keep_stdout=bool(problems))
    d.update(ok=not problems, problems=problems, config=config)
    return d


def measure(a):
    vmrun.HELPER = a.helper
    work = "/tmp/fwboot-bench"
    os.makedirs(work, exist_ok=True)
    disk = os.path.join(work, "disk.img")
    bootmedia.copy_raw_disk(a.disk, disk, a.data_bytes)   # L1's /tmp: ext4, not 9p
    logs = os.path.join(os.path.dirname(os.path.abspath(a.out)), "logs")
    os.makedirs(logs, exist_ok=True)
    vmms = {"kestrel": [a.kestrel, "-enable-kvm"], "qemu": ["qemu-system-x86_64", "-enable-kvm"]}
    result = {"l1_kernel": os.uname().release, "l1_cpus": os.cpu_count(), "runs": {}}
    for config in a.configs.split(","):
        runs = result["runs"][config] = {n: [] for n in vmms}
        for i in range(a.warmups + a.runs):
            for name, vmm in vmms.items():
                tag = "warm" if i < a.warmups else "run"
                d = one_run(vmm, disk, config, os.path.join(logs, "%s-%s-%s%d.log" % (config, name, tag, i)))
                if i >= a.warmups:
                    runs[name].append(d)
                m = d["markers"]
                log("%s %-7s %s %d: loader %s  init %s  exit %.2f s  %s" % (
                    config, name, tag, i, "%.2f" % m["SYSLINUX "] if "SYSLINUX " in m else "-",
                    "%.2f" % m["KTEST-GUEST-START"] if "KTEST-GUEST-START" in m else "-",
                    d["wall_s"], "ok" if d["ok"] else "FAILED: " + "; ".join(d["problems"])))
                with open(a.out, "w") as f:
                    json.dump(result, f, indent=1)
    return 0


def cell(values):
    if not values:
        return "-", None
    med = statistics.median(values)
    return "%.2f (%.2f–%.2f)" % (med, min(values), max(values)), med


def value(run, marker):
    return run["wall_s"] if marker is None else run["markers"].get(marker)


def report(m, ctx):
    lines = ["### Firmware boot of a disk image (bench/fwboot.py)", "",
             "- Machine: %s" % ctx["machine"], "- kestrel: %s" % ctx["kestrel"],
             "- QEMU: %s, `qemu-system-x86_64 -enable-kvm`" % ctx["qemu"],
             "- `VMM -enable-kvm %s -drive file=disk.img,format=raw,if=ide|virtio`: the raw 10 GiB image "
             "of tests/guest/bootmedia.py (MBR, ext4, EXTLINUX 6.04, Debian's kernel %s and the l2 "
             "initramfs), no -kernel; %d warm-up(s) and %d runs per VMM, interleaved, in one test-host "
             "boot; a run counts when the guest then mounted the disk and every file matched "
             "(MEDIUM_MD5=0). Cells: seconds, median (min–max)."
             % (" ".join(COMMON), ctx["kernel_version"], ctx["warmups"], ctx["runs"]), ""]
    for config, runs in m["runs"].items():
        ok = {n: [r for r in rs if r["ok"]] for n, rs in runs.items()}
        lines += ["#### if=%s (kestrel %d/%d ok, QEMU %d/%d ok)" % (
            config, len(ok["kestrel"]), len(runs["kestrel"]), len(ok["qemu"]), len(runs["qemu"])), "",
            "| | kestrel | QEMU 7.2 | kestrel/QEMU | goal |", "|---|---|---|---|---|"]
        for label, marker in PHASES:
            k, km = cell([value(r, marker) for r in ok["kestrel"]])
            q, qm = cell([value(r, marker) for r in ok["qemu"]])
            ratio = "%.3f" % (km / qm) if km is not None and qm else "-"
            goal = "ratio ≤ 0.7" if marker == "SYSLINUX " else ""
            lines.append("| %s | %s | %s | %s | %s |" % (label, k, q, ratio, goal))
        k, km = cell([r["cpu_s"] for r in ok["kestrel"]])
        q, qm = cell([r["cpu_s"] for r in ok["qemu"]])
        lines += ["| CPU user+sys of the VMM process | %s | %s | %s | |"
                  % (k, q, "%.3f" % (km / qm) if km and qm else "-"), ""]
    return "\n".join(lines)


def host_side(a):
    import assets
    import kvmhost
    import importlib.util
    spec = importlib.util.spec_from_file_location("bench_run", os.path.join(BENCH, "run.py"))
    bench_run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_run)
    a_assets = assets.build_all()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    root = os.path.join(a_assets["cache"], "bench")
    work = os.path.join(root, "bin", "fwboot-" + stamp)
    os.makedirs(work, exist_ok=True)
    kestrel, digest, mtime = bench_run.kestrel_binary(os.path.abspath(a.kestrel), work)
    helper = os.path.join(work, "rusage_exec")
    subprocess.run(["gcc", "-static", "-O2", "-Wall", "-o", helper, os.path.join(BENCH, "rusage_exec.c")],
                   check=True)
    results = os.path.join(root, "results", "fwboot-" + stamp)
    os.makedirs(results, exist_ok=True)
    out = os.path.join(results, "measure.json")
    cmd = [sys.executable, os.path.abspath(__file__), "--measure", "--kestrel", kestrel, "--helper", helper,
           "--disk", a_assets["boot_disk"], "--data-bytes", str(a_assets["boot_disk_data_bytes"]),
           "--out", out, "--runs", str(a.runs), "--warmups", str(a.warmups), "--configs", a.configs]
    started = time.monotonic()
    boots = len(a.configs.split(",")) * 2 * (a.runs + a.warmups)
    status = kvmhost.run(cmd, results, timeout=300 + boots * 120)
    log("test host finished with status %d after %.0f s; results in %s"
        % (status, time.monotonic() - started, results))
    if not os.path.exists(out):
        return 1
    with open(out) as f:
        m = json.load(f)
    outer = bench_run.outer_context(os.path.abspath(a.kestrel), digest, mtime)
    ctx = {"machine": "%d cores (%s, kernel %s), load average before the run %s; nested test host: "
                      "QEMU %s TCG L1 with kvm_amd, L1 kernel %s, %d L1 vCPUs"
                      % (outer["outer_cpus"], outer["outer_cpu"], outer["outer_kernel"], a.load,
                         outer["l1_qemu"], m["l1_kernel"], m["l1_cpus"]),
           "kestrel": outer["kestrel"], "qemu": outer["l1_qemu"], "runs": a.runs, "warmups": a.warmups,
           "kernel_version": a_assets["kernel_version"], "total_s": round(time.monotonic() - started)}
    print(report(m, ctx))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"context": ctx, "measure": m}, f, indent=1)
    return status


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--warmups", type=int, default=1)
    p.add_argument("--configs", default="ide,virtio", help="-drive if= values, comma-separated")
    p.add_argument("--kestrel", default=os.environ.get("KESTREL_BIN", os.path.join(REPO, "build", "kestrel")))
    p.add_argument("--json", help="raw runs and context (e.g. bench/results/fwboot-DATE.json)")
    p.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    for hidden in ("--helper", "--disk", "--out"):
        p.add_argument(hidden, help=argparse.SUPPRESS)
    p.add_argument("--data-bytes", type=int, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.measure:
        return measure(a)
    a.load = " ".join(open("/proc/loadavg").read().split()[:3])
    return host_side(a)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
