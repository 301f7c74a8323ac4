#!/usr/bin/env python3
"""Benchmark kestrel against qemu-system-x86_64 -enable-kvm (see README.md).

Builds what it needs (kestrel if missing, guest assets, the tiny bzImages,
the rusage_exec helper), runs bench/measure.py inside ONE test-host boot
(tests/kvmhost/kvmhost.py: nested L1 here, directly on hardware KVM), prints
the tables and replaces today's section in bench/RESULTS.md. The raw runs
are kept in bench/results/DATE.json.

usage: run.py [--startup-runs 15] [--boot-runs 6] [--smp2-runs 5] [--cold-runs 5]
              [--attr-runs 3] [--attr-smp 1,2]
              [--disk-runs 3] [--disk-seconds 10] [--disk-vmms kestrel,qemu]
              [--disk-jobs randwrite-4k-qd32,...]
              [--kestrel BIN] [--no-results-md]
"""

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, os.path.join(REPO, "tests", "guest"))
sys.path.insert(0, os.path.join(REPO, "tests", "kvmhost"))
import assets  # noqa: E402
import bootattr  # noqa: E402
import fio_initrd  # noqa: E402
import kvmhost  # noqa: E402


def sh(argv, **kw):
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kw).stdout.strip()


def kestrel_binary(path, workdir):
    """A private copy, so a rebuild of build/ during the run cannot change it."""
    if not os.path.exists(path):
        if os.path.abspath(path) != os.path.join(REPO, "build", "kestrel"):
            raise SystemExit("run.py: %s does not exist" % path)
        subprocess.run(["bash", os.path.join(REPO, "scripts", "build.sh")], check=True)
    copy = os.path.join(workdir, "kestrel")
    shutil.copy2(path, copy)
    with open(copy, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:12]
    return copy, digest, time.strftime("%Y-%m-%d %H:%M", time.localtime(os.path.getmtime(path)))


def git_state():
    head = sh(["git", "-C", REPO, "log", "-1", "--format=%h %s"])
    dirty = sh(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"])
    return head + (" (working tree had uncommitted changes)" if dirty else "")


def outer_context(kestrel_src, digest, mtime):
    with open("/proc/cpuinfo") as f:
        cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
    return {"outer_cpus": os.cpu_count(), "outer_cpu": cpu,
            "outer_kernel": platform.release(),
            "l1_qemu": sh(["qemu-system-x86_64", "--version"]).splitlines()[0].replace(
                "QEMU emulator version ", ""),
            "kestrel": "%s, binary %s (sha256 %s, built %s) at commit %s"
                       % (sh([kestrel_src, "--version"]).splitlines()[0],
                          os.path.relpath(kestrel_src, REPO), digest, mtime, git_state())}


def prepare(workdir, kestrel_src):
    os.makedirs(workdir, exist_ok=True)
    kestrel, digest, mtime = kestrel_binary(kestrel_src, workdir)
    helper = os.path.join(workdir, "rusage_exec")
    subprocess.run(["gcc", "-static", "-O2", "-Wall", "-o", helper,
                    os.path.join(BENCH, "rusage_exec.c")], check=True)
    tiny, marker = os.path.join(workdir, "tiny.bzImage"), os.path.join(workdir, "tiny-marker.bzImage")
    subprocess.run([sys.executable, os.path.join(BENCH, "mktiny.py"), tiny], check=True)
    subprocess.run([sys.executable, os.path.join(BENCH, "mktiny.py"), marker, "--marker"],
                   check=True)
    return {"kestrel": kestrel, "helper": helper, "tiny": tiny, "marker": marker,
            "context": outer_context(kestrel_src, digest, mtime)}


# measure.py logs every run; its longest (a boot) is limited to 180 s per
# vCPU, after which its watchdog prints. Silence beyond this: L1 hung.
SILENT_LIMIT_S = 420

# measure.py's result keys of each phase (run.py's --*-runs names).
PHASE_KEYS = {"startup": ["startup", "qmp_startup"], "cold": ["boot_smp1_cold"],
              "boot": ["boot_smp1"], "smp2": ["boot_smp2"], "attr": ["attr_smp"],
              "disk": ["disk"]}


def phase_done(result, phase, attr_smp_keys):
    keys = attr_smp_keys if phase == "attr" else PHASE_KEYS[phase]
    return all(k in result for k in keys) and (phase != "attr" or "attribution_s" in result["phases"])


def run_phases(base, extra, runs, results, timeout, attempts):
    """Runs measure.py in a test host; when the host dies (the nested host's
    soft lockups), the phases it did not finish run again in a fresh host.
    Each phase is still measured whole within one host boot. Returns the
    merged result (None if no host produced any) and the last status."""
    attr_keys = ["attr_smp%s" % n for n in extra[extra.index("--attr-smp") + 1].split(",")] \
        if "--attr-smp" in extra else []
    merged, status = None, 0
    for attempt in range(1, attempts + 1):
        todo = {ph: n for ph, n in runs.items() if n > 0}
        if not todo:
            break
        out = os.path.join(results, "measure-%d.json" % attempt)
        cmd = base + extra + ["--out", out] + sum(
            (["--%s-runs" % ph, str(todo.get(ph, 0))] for ph in runs), [])
        t = time.monotonic()
        status = kvmhost.run(cmd, results, timeout=timeout, silent_limit=SILENT_LIMIT_S)
        print("run.py: test host %d finished with status %d after %.0f s; phases %s"
              % (attempt, status, time.monotonic() - t, ", ".join(todo)))
        if not os.path.exists(out):
            continue
        with open(out) as f:
            r = json.load(f)
        if merged is None:
            merged = dict(r, phases={}, hosts=[])
        merged["hosts"].append({"status": status, "phases": [ph for ph in todo if phase_done(r, ph, attr_keys)]})
        for ph in todo:
            if phase_done(r, ph, attr_keys):
                for k in (attr_keys if ph == "attr" else PHASE_KEYS[ph]):
                    merged[k] = r[k]
                merged.setdefault("verify_tiny", r.get("verify_tiny"))
                merged["floors"] = r.get("floors", merged.get("floors"))
                runs[ph] = 0
        merged["phases"].update(r.get("phases", {}))
        merged["finished"] = r.get("finished", merged.get("finished"))
    return merged, status


def main(argv):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--startup-runs", type=int, default=15)
    p.add_argument("--boot-runs", type=int, default=6)
    p.add_argument("--smp2-runs", type=int, default=5)
    p.add_argument("--cold-runs", type=int, default=5,
                   help="-smp 1 boots with kestrel's kernel cache emptied before each")
    p.add_argument("--attr-runs", type=int, default=3,
                   help="traced boot-time attribution boots per VMM (0: skip)")
    p.add_argument("--attr-smp", default="1", help="-smp values of the attribution, e.g. 1,2")
    p.add_argument("--kestrel", default=os.environ.get(
        "KESTREL_BIN", os.path.join(REPO, "build", "kestrel")))
    p.add_argument("--no-results-md", action="store_true",
                   help="print the tables only (for trial runs)")
    p.add_argument("--disk-runs", type=int, default=3,
                   help="rounds of fio in the guest (0: skip the disk phase)")
    p.add_argument("--disk-seconds", type=int, default=10, help="fio runtime per job")
    p.add_argument("--disk-engine", default="libaio", choices=["libaio", "io_uring"],
                   help="fio's ioengine in the guest")
    p.add_argument("--disk-aio", default="io_uring", help="-drive aio= for both VMMs")
    p.add_argument("--disk-format", default="raw", choices=["raw", "qcow2", "qcow2-empty"],
                   help="the disk: raw; qcow2 with every cluster allocated; an empty qcow2 per run")
    p.add_argument("--disk-dir", default="/tmp", help="folder of the raw image on the "
                   "KVM host (O_DIRECT must work there: not tmpfs)")
    p.add_argument("--disk-jobs", default="all",
                   help="fio jobs, comma-separated (bench/fio_initrd.py JOBS)")
    p.add_argument("--disk-if", default="virtio", choices=["virtio", "ide", "cd"],
                   help="the disk's interface: virtio-blk, the PIIX3's IDE, or an IDE CD-ROM "
                   "holding the image (read jobs only)")
    p.add_argument("--disk-trace", metavar="JOB", help="trace L1 KVM's exits during this fio job: "
                   "exits by reason and device register, time per exit, in each run's log "
                   "(slows the job: for where time goes, not for IOPS)")
    p.add_argument("--kestrel-b", help="a second kestrel binary, 'kestrel-b' in --disk-vmms (an A/B in one boot)")
    p.add_argument("--disk-vmms", default="kestrel,qemu",
                   help="VMMs of the disk phase (e.g. qemu for a trial)")
    p.add_argument("--timeout", type=float, help="test-host time limit (s; default "
                   "900 plus an estimate for the disk phase)")
    p.add_argument("--host-attempts", type=int, default=3,
                   help="test-host boots to try when one dies before its phases finish")
    a = p.parse_args(argv)
    disk_vmms = len(a.disk_vmms.split(","))
    disk_jobs = fio_initrd.select_jobs(a.disk_jobs)
    if a.disk_trace and a.disk_trace not in disk_jobs:
        p.error("--disk-trace %s: not among the jobs (%s)" % (a.disk_trace, ",".join(disk_jobs)))
    if a.timeout is None:
        a.timeout = 900 + a.disk_runs * disk_vmms * (
            90 + len(disk_jobs) * (a.disk_seconds + 8)) + a.attr_runs * 2 * 60 * len(
            a.attr_smp.split(","))
    a_assets = assets.build_all()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    root = os.path.join(a_assets["cache"], "bench")
    shutil.rmtree(os.path.join(root, "bin"), ignore_errors=True)
    w = prepare(os.path.join(root, "bin", stamp), os.path.abspath(a.kestrel))
    results = os.path.join(root, "results", stamp)
    os.makedirs(results, exist_ok=True)
    out = os.path.join(results, "measure.json")
    os.environ["BENCH_RUSAGE_EXEC"] = w["helper"]
    base = [sys.executable, os.path.join(BENCH, "measure.py"), "--kestrel", w["kestrel"],
            "--tiny", w["tiny"], "--tiny-marker", w["marker"], "--kernel", a_assets["kernel"],
            "--initrd", a_assets["l2_initrd"]]
    extra = []
    if a.attr_runs > 0:
        extra += ["--attr-initrd", bootattr.build_initrd(
                      os.path.join(root, "bin", stamp, "attr-initrd.img"), a_assets["l2_initrd"]),
                  "--attr-smp", a.attr_smp]
    if a.kestrel_b:
        copy = os.path.join(root, "bin", stamp, "kestrel-b")
        shutil.copy2(os.path.abspath(a.kestrel_b), copy)
        extra += ["--kestrel-b", copy]
    if a.disk_runs > 0:
        assets.ensure_host_packages(["fio"])
        extra += ["--disk-initrd", fio_initrd.build(
                      os.path.join(root, "bin", stamp, "fio-initrd.img"), a_assets["l2_initrd"],
                      a.disk_seconds, a.disk_engine, disk_jobs),
                  "--disk-seconds", str(a.disk_seconds),
                  "--disk-engine", a.disk_engine, "--disk-aio", a.disk_aio,
                  "--disk-vmms", a.disk_vmms, "--disk-dir", a.disk_dir, "--disk-format", a.disk_format,
                  "--disk-if", a.disk_if,
                  "--disk-jobs", a.disk_jobs]
        if a.disk_trace:
            extra += ["--disk-trace", a.disk_trace]
    runs = {"startup": a.startup_runs, "cold": a.cold_runs, "boot": a.boot_runs,
            "smp2": a.smp2_runs, "attr": a.attr_runs, "disk": a.disk_runs}
    started = time.monotonic()
    merged, status = run_phases(base, extra, runs, results, a.timeout, a.host_attempts)
    if merged is None:
        return 1
    with open(out, "w") as f:
        json.dump(merged, f, indent=1)
    ctx = dict(w["context"], total_s=time.monotonic() - started)
    with open(os.path.join(results, "context.json"), "w") as f:
        json.dump(ctx, f, indent=1)
    date = time.strftime("%Y-%m-%d")
    report = [sys.executable, os.path.join(BENCH, "report.py"), out, "--date", date,
              "--context", os.path.join(results, "context.json")]
    if not a.no_results_md:
        report += ["--results-md", os.path.join(BENCH, "RESULTS.md")]
        os.makedirs(os.path.join(BENCH, "results"), exist_ok=True)
        with open(out) as f:
            m = json.load(f)
        with open(os.path.join(BENCH, "results", date + ".json"), "w") as f:
            json.dump({"context": ctx, "measure": m}, f, indent=1)
    subprocess.run(report, check=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
