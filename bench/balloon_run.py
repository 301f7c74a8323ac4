#!/usr/bin/env python3
"""virtio-balloon benchmark: kestrel against qemu-system-x86_64 -enable-kvm
(see bench/README.md, "virtio-balloon"). Builds the guest assets and two
initramfs images (idle; touch 1.5 GiB and free it), runs
bench/balloon_measure.py in ONE test-host boot (tests/kvmhost), prints the
tables and, unless --no-results-md, adds or replaces today's balloon
section of bench/RESULTS.md. Raw runs: bench/results/DATE-balloon.json.

usage: balloon_run.py [--runs 3] [--kestrel BIN] [--no-results-md]
"""

import argparse
import importlib.util
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, os.path.join(REPO, "tests", "guest"))
sys.path.insert(0, os.path.join(REPO, "tests", "kvmhost"))
sys.path.insert(0, BENCH)
import assets  # noqa: E402
import cpio  # noqa: E402
import kvmhost  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_run", os.path.join(BENCH, "run.py"))
bench_run = importlib.util.module_from_spec(_spec)  # bench/run.py (tests/guest has a run.py too)
_spec.loader.exec_module(bench_run)

LOAD_DRIVER = """modprobe virtio_pci
modprobe virtio_balloon
for i in $(seq 100); do ls /sys/bus/virtio/drivers/virtio_balloon/ | grep -q virtio && break; sleep 0.2; done
"""
IDLE_SCRIPT = LOAD_DRIVER + """echo "MEMTOTAL=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)"
echo "MEMFREE=$(awk '/^MemFree:/ {print $2}' /proc/meminfo)"
echo KTEST-IDLE
wait-power-button
poweroff -f
"""
FILL_SCRIPT = LOAD_DRIVER + """mkdir -p /mnt/t && mount -t tmpfs -o size=1800m tmpfs /mnt/t
dd if=/dev/zero of=/mnt/t/fill bs=1M count=1536 2>/dev/null
rm /mnt/t/fill
wait-power-button --ready
poweroff -f
"""


def initrd(out, base, script):
    archive = cpio.CpioWriter()
    archive.add_file("scenario.sh", script.encode(), 0o755)
    with open(out, "wb") as f, open(base, "rb") as b:
        shutil.copyfileobj(b, f)
        f.write(archive.gzip_bytes())
    return out


def cell(values, fmt="%.1f"):
    values = [v for v in values if v is not None]
    if not values:
        return "-", None
    med = statistics.median(values)
    return ("%s (%s–%s)" % (fmt % med, fmt % min(values), fmt % max(values))), med


def row(name, runs, key, fmt="%.1f", goal=""):
    k, km = cell([r.get(key) for r in runs["kestrel"] if r["ok"]], fmt)
    q, qm = cell([r.get(key) for r in runs["qemu"] if r["ok"]], fmt)
    ratio = "%.3f" % (km / qm) if km is not None and qm else "-"
    return "| %s | %s | %s | %s | %s |" % (name, k, q, ratio, goal)


def counts(runs):
    return ", ".join("%s %d/%d ok" % (v, sum(r["ok"] for r in runs[v]), len(runs[v])) for v in ("kestrel", "qemu"))


def report(m, ctx, date):
    idle, inflate = m["idle"], m["inflate"]
    head = "| | kestrel | QEMU 7.2 | kestrel/QEMU | goal |\n|---|---|---|---|---|"
    return "\n".join([
        "## %s: virtio-balloon" % date, "",
        "- Machine: %s" % ctx["machine"],
        "- kestrel: %s" % ctx["kestrel"],
        "- QEMU: %s, `qemu-system-x86_64 -enable-kvm`" % m["versions"]["qemu"],
        "- `bench/balloon_run.py --runs %d`; runs interleaved kestrel, QEMU, … one VMM at a time in one "
        "test-host boot; cells are median (min–max) over successful runs." % ctx["runs"], "",
        "### Idle 2 GiB guest with free page reporting", "",
        "`-m 2048 -smp 1 -nodefaults -device virtio-balloon-pci,free-page-reporting=on`, Debian kernel + "
        "l2 initramfs, virtio_balloon loaded, then idle; RSS read once it has settled (6 samples a second "
        "apart within 1 MiB); /proc/PID/smaps split into guest RAM (the mappings both VMMs madvise "
        "MADV_MERGEABLE: kestrel's RAM; QEMU's RAM blocks, pc.ram plus its BIOS and ROM blocks) and the "
        "rest (the VMM's own memory); %s." % counts(idle), "", head,
        row("VMM RSS (MiB)", idle, "rss_mib"),
        row("guest RAM resident (MiB)", idle, "guest_ram_rss_mib"),
        row("guest RAM mapped (MiB)", idle, "guest_ram_mapped_mib"),
        row("VMM's own memory: RSS outside guest RAM (MiB)", idle, "vmm_own_rss_mib", goal="ratio ≤ 0.25"),
        row("guest's MemTotal − MemFree (MiB)", idle, "guest_used_mib"),
        row("seconds until RSS settled", idle, "settle_s"), "",
        "### Balloon of 1 GiB", "",
        "`-m 2048 -smp 1 -nodefaults -device virtio-balloon-pci`; the guest touches 1.5 GiB (tmpfs) and "
        "frees it; then QMP `balloon` 1073741824: time until `query-balloon` (polled every 10 ms) says "
        "1 GiB; RSS before and after; CPU time over that span of the thread serving the balloon "
        "(kestrel: its \"IO balloon\" thread, QEMU: its main thread) and of the whole process (vCPU "
        "included); %s." % counts(inflate), "", head,
        row("`balloon` 1 GiB → guest reports 1 GiB (s)", inflate, "seconds", "%.2f", "ratio ≤ 1"),
        row("RSS returned to the host (MiB)", inflate, "returned_mib"),
        row("balloon thread CPU (s)", inflate, "balloon_thread_cpu_s", "%.3f"),
        row("process CPU (s)", inflate, "process_cpu_s", "%.2f"),
        row("RSS before (MiB)", inflate, "rss_before_mib"),
        row("RSS after (MiB)", inflate, "rss_after_mib"),
        "", "Total: %.0f s." % ctx["total_s"], ""])


def replace_section(path, date, text):
    with open(path) as f:
        md = f.read()
    title = "## %s: virtio-balloon" % date
    start = md.find(title + "\n")
    if start < 0:
        md = md.rstrip("\n") + "\n\n" + text
    else:
        end = md.find("\n## ", start + len(title))
        notes = md.find("\n### Notes", start)
        keep = md[notes:end if end >= 0 else len(md)] if 0 <= notes < (end if end >= 0 else len(md)) else ""
        md = md[:start] + text.rstrip("\n") + keep + ("\n" + md[end:] if end >= 0 else "\n")
    with open(path, "w") as f:
        f.write(md)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--kestrel", default=os.environ.get("KESTREL_BIN", os.path.join(REPO, "build", "kestrel")))
    p.add_argument("--no-results-md", action="store_true")
    a = p.parse_args(argv)
    a_assets = assets.build_all()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    root = os.path.join(a_assets["cache"], "bench")
    work = os.path.join(root, "bin", "balloon-" + stamp)
    os.makedirs(work, exist_ok=True)
    kestrel, digest, mtime = bench_run.kestrel_binary(os.path.abspath(a.kestrel), work)
    idle = initrd(os.path.join(work, "idle.img"), a_assets["l2_initrd"], IDLE_SCRIPT)
    fill = initrd(os.path.join(work, "fill.img"), a_assets["l2_initrd"], FILL_SCRIPT)
    results = os.path.join(root, "results", "balloon-" + stamp)
    os.makedirs(results, exist_ok=True)
    out = os.path.join(results, "measure.json")
    cmd = [sys.executable, os.path.join(BENCH, "balloon_measure.py"), "--kestrel", kestrel,
           "--kernel", a_assets["kernel"], "--idle-initrd", idle, "--fill-initrd", fill,
           "--out", out, "--runs", str(a.runs)]
    started = time.monotonic()
    status = kvmhost.run(cmd, results, timeout=600 + a.runs * 2 * 400)
    print("balloon_run.py: test host finished with status %d after %.0f s; results in %s"
          % (status, time.monotonic() - started, results))
    if not os.path.exists(out):
        return 1
    with open(out) as f:
        m = json.load(f)
    outer = bench_run.outer_context(os.path.abspath(a.kestrel), digest, mtime)
    machine = "%d cores (outer machine: %s, kernel %s); nested test host: QEMU %s TCG L1 with kvm_amd, " \
              "L1 kernel %s, %d L1 vCPUs" % (outer["outer_cpus"], outer["outer_cpu"], outer["outer_kernel"],
                                             outer["l1_qemu"], m["l1_kernel"], m["l1_cpus"])
    ctx = {"machine": machine, "kestrel": outer["kestrel"], "runs": a.runs,
           "total_s": time.monotonic() - started}
    date = time.strftime("%Y-%m-%d")
    text = report(m, ctx, date)
    print(text)
    if not a.no_results_md:
        replace_section(os.path.join(BENCH, "RESULTS.md"), date, text)
        os.makedirs(os.path.join(BENCH, "results"), exist_ok=True)
        with open(os.path.join(BENCH, "results", date + "-balloon.json"), "w") as f:
            json.dump({"context": ctx, "measure": m}, f, indent=1)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
