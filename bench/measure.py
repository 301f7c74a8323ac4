#!/usr/bin/env python3
"""Measurements, run on a KVM host (inside the nested test host L1, started
by bench/run.py). Compares kestrel with qemu-system-x86_64 -enable-kvm,
runs interleaved A B A B ... (boots: A B B A ..., each after a settle), one VMM
process at a time, and writes every
run to a JSON file (rewritten after each phase, so a cut-short run still
leaves data). bench/report.py turns that file into tables.

usage: measure.py --kestrel BIN --tiny IMG --tiny-marker IMG --kernel K
                  --initrd I --out JSON [--startup-runs N] [--boot-runs N]
                  [--smp2-runs N] [--cold-runs N]
                  [--attr-initrd I --attr-runs N --attr-smp 1,2]
                  [--disk-initrd I --disk-runs N ...]
--startup-runs 0 skips the start-up phases (tiny image, floors, QMP).
"""

import argparse
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bootattr  # noqa: E402
import diskbench  # noqa: E402
import fio_initrd  # noqa: E402
import vmrun  # noqa: E402

QEMU = ["qemu-system-x86_64", "-enable-kvm"]
TINY_ARGS = ["-m", "512", "-nodefaults", "-display", "none"]
BOOT_APPEND = "console=ttyS0 quiet panic=-1"
BOOT_MARKERS = ["KTEST-GUEST-START", "KTEST-POWEROFF", "reboot: Power down"]
BOOT_FORBID = ["Kernel panic", "Oops", "BUG:"]
ENTRY_NAMES = {"R": "16-bit real-mode setup (0x200 of the setup code)",
               "3": "32-bit entry (protected-mode part + 0)",
               "6": "64-bit entry (protected-mode part + 0x200)"}


START = time.monotonic()


def log(msg):
    print("[%6.1f] %s" % (time.monotonic() - START, msg), flush=True)


WATCHDOG = {"after_s": 45.0}   # a run longer than this is reported (disk runs: more)


def watchdog(period=30.0):
    """Reports a run that takes far longer than any run should, with what
    its processes are doing (a frozen test host shows nothing at all)."""
    while True:
        time.sleep(period)
        cur = dict(vmrun.CURRENT)
        if cur and time.perf_counter() - cur["t0"] > WATCHDOG["after_s"]:
            log("watchdog: %s running for %.0f s\n%s" % (
                " ".join(cur["argv"][:3]), time.perf_counter() - cur["t0"],
                vmrun.describe_tree(cur["pid"])))


def version_of(argv):
    try:
        out = subprocess.run(argv + ["--version"], capture_output=True, text=True,
                             timeout=30).stdout
        return out.splitlines()[0] if out else "?"
    except (OSError, subprocess.SubprocessError) as e:
        return "? (%s)" % e


def host_info(vmms):
    info = {"kernel": platform.release(), "cpus": os.cpu_count(),
            "mode": os.environ.get("KVMHOST_MODE", "?"),
            "kvm_module": [m for m in ("kvm_amd", "kvm_intel", "kvm_pvm")
                           if os.path.isdir("/sys/module/" + m)],
            "versions": {name: version_of(argv[:1]) for name, argv in vmms.items()}}
    with open("/proc/cpuinfo") as f:
        info["cpu_model"] = next((l.split(":", 1)[1].strip() for l in f
                                  if l.startswith("model name")), "?")
    return info


# --- 1. start-up: exec -> first guest instruction (triple fault) -> exit ---

def verify_tiny(name, vmm, marker_img):
    """Marker image: proves the VMM ran our entry code and that the run ends
    because the triple fault resets the machine (with -no-reboot) — without
    -no-reboot the same guest must keep resetting and re-entering."""
    common = vmm + TINY_ARGS + ["-serial", "stdio", "-kernel", marker_img]
    once = vmrun.run(common + ["-no-reboot"], timeout=60)
    text = once.stdout.decode(errors="replace")
    entry = text.strip() if text.strip() in ENTRY_NAMES else None
    loop = vmrun.run(common, timeout=None, stop_after=4.0)
    repeats = loop.stdout.decode(errors="replace").count(entry) if entry else 0
    ok = once.status == 0 and entry is not None and loop.status == "stopped" \
        and repeats >= 2
    v = {"ok": ok, "entry": entry, "entry_name": ENTRY_NAMES.get(entry),
         "no_reboot_run": once.to_json(keep_stdout=True),
         "reset_loop_4s": {"status": loop.status, "entries_seen": repeats,
                           "stdout": loop.stdout.decode(errors="replace")[:200],
                           "stderr": loop.stderr[-500:]}}
    log("verify  %-7s entry=%s exit=%s; without -no-reboot: %s after 4 s, "
        "entered %d times -> %s" % (name, entry, once.status, loop.status,
                                    repeats, "OK" if ok else "FAILED"))
    return v


def tiny_run(vmm, img):
    r = vmrun.run(vmm + TINY_ARGS + ["-no-reboot", "-kernel", img], timeout=60)
    d = r.to_json()
    d["ok"] = r.status == 0
    return d


def startup(vmms, img, runs, warmups=2):
    data = {name: [] for name in vmms}
    for i in range(warmups):   # page cache (9p), dynamic loader, BIOS files
        for name, vmm in vmms.items():
            d = tiny_run(vmm, img)
            log("warm-up %d/%d %-7s wall %7.1f ms  status %s"
                % (i + 1, warmups, name, d["wall_s"] * 1e3, d["status"]))
    for i in range(runs):
        for name, vmm in vmms.items():
            d = tiny_run(vmm, img)
            data[name].append(d)
            log("startup %2d/%d %-7s wall %7.1f ms  cpu %7.1f ms  rss %6.1f MiB  %s"
                % (i + 1, runs, name, d["wall_s"] * 1e3, d["cpu_s"] * 1e3,
                   d["maxrss_kib"] / 1024, "ok" if d["ok"] else "FAILED %s %s"
                   % (d["status"], d.get("stderr", "")[-200:])))
    return data


def floors(vmms, runs):
    """What a process costs here before any VM exists: exec, dynamic
    loading, exit. Puts the start-up numbers in proportion."""
    cmds = {"/bin/true": ["/bin/true"]}
    cmds.update(("%s --version" % n, v[:1] + ["--version"]) for n, v in vmms.items())
    data = {label: [] for label in cmds}
    for _ in range(runs):
        for label, argv in cmds.items():
            r = vmrun.run(argv, timeout=30)
            d = r.to_json()
            d["ok"] = r.status == 0
            data[label].append(d)
    for label, runs_ in data.items():
        walls = sorted(d["wall_s"] for d in runs_)
        log("floor   %-20s median wall %.1f ms" % (label, walls[len(walls) // 2] * 1e3))
    return data


# --- 1b. QMP start-up: exec -> QMP greeting -> quit -> exit (libvirt's path) ---

QMP_SOCKET = "/tmp/bench-qmp.sock"


def qmp_client(times, t0):
    """Connects as soon as the socket exists, times the greeting, then
    negotiates and quits (the VMM then exits)."""
    deadline = time.perf_counter() + 30
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(QMP_SOCKET)
            break
        except OSError:
            s.close()
            if time.perf_counter() > deadline:
                return
            time.sleep(0.0005)
    s.settimeout(30)
    f = s.makefile("rb")
    try:
        greeting = json.loads(f.readline())
        times["greeting_s"] = time.perf_counter() - t0
        times["greeting_ok"] = "QMP" in greeting
        for cmd in ("qmp_capabilities", "quit"):
            s.sendall(json.dumps({"execute": cmd}).encode() + b"\n")
            while "return" not in json.loads(f.readline()):
                pass
        times["quit_ok"] = True
    except (OSError, ValueError):
        pass
    finally:
        s.close()


def qmp_run(vmm):
    if os.path.exists(QMP_SOCKET):
        os.unlink(QMP_SOCKET)
    argv = vmm + ["-S", "-nodefaults", "-display", "none", "-m", "512",
                  "-qmp", "unix:%s,server=on,wait=off" % QMP_SOCKET]
    times = {}
    client = threading.Thread(target=qmp_client, args=(times, time.perf_counter()))
    client.start()
    r = vmrun.run(argv, timeout=60)
    client.join()
    d = r.to_json()
    d.update(times)
    d["ok"] = r.status == 0 and times.get("greeting_ok") and times.get("quit_ok")
    return d


def qmp_startup(vmms, runs, warmups=2):
    data = {name: [] for name in vmms}
    for i in range(warmups + runs):
        for name, vmm in vmms.items():
            d = qmp_run(vmm)
            if i >= warmups:
                data[name].append(d)
            log("qmp %2d/%d %-7s greeting %7.1f ms  exit %7.1f ms  cpu %7.1f ms  rss %6.1f MiB  %s"
                % (i + 1 - warmups, runs, name, d.get("greeting_s", 0) * 1e3, d["wall_s"] * 1e3,
                   d["cpu_s"] * 1e3, d["maxrss_kib"] / 1024, "ok" if d["ok"] else
                   "FAILED %s %s" % (d["status"], d.get("stderr", "")[-200:])))
    return data


# --- 2. Linux boot to init and poweroff ---

def boot_run(vmm, smp, kernel, initrd, timeout, logfile):
    argv = vmm + ["-m", "512", "-smp", str(smp), "-nodefaults", "-display", "none",
                  "-serial", "stdio", "-no-reboot", "-kernel", kernel,
                  "-initrd", initrd, "-append", BOOT_APPEND]
    r = vmrun.run(argv, timeout=timeout, markers=BOOT_MARKERS)
    with open(logfile, "wb") as f:
        f.write(r.stdout + b"\n--- stderr\n" + r.stderr.encode())
    text = r.stdout.decode(errors="replace")
    problems = ["missing %r" % m for m in BOOT_MARKERS if m not in r.markers]
    problems += ["saw %r" % f for f in BOOT_FORBID if f in text]
    if r.status != 0:
        problems.append("exit status %s" % r.status)
    d = r.to_json(keep_stdout=bool(problems))
    off = re.search(r"\[\s*([0-9.]+)\] reboot: Power down", text)
    d.update(ok=not problems, problems=problems,
             init_s=r.markers.get("KTEST-GUEST-START"), log=logfile,
             guest_poweroff_s=float(off.group(1)) if off else None)
    return d


# kestrel's decompressed-kernel cache (src/machine/boot/kernel_cache.h) in
# L1: the default under ~ is on the read-only 9p root there.
KERNEL_CACHE = "/tmp/bench-kernel-cache"


def kernel_cache_entries():
    try:
        return [f for f in os.listdir(KERNEL_CACHE) if f.endswith(".kernel")]
    except OSError:
        return []


def warm_kernel_cache(kestrel, kernel, initrd, logdir, timeout):
    """Untimed kestrel boots until the cache holds the kernel (a boot that
    misses fills it at start-up)."""
    for i in range(3):
        if kernel_cache_entries():
            break
        boot_run(kestrel, 1, kernel, initrd, timeout,
                 os.path.join(logdir, "warm-kernel-cache-%d.log" % (i + 1)))
    log("kernel cache: %s" % (", ".join(kernel_cache_entries()) or "EMPTY after 3 boots"))


def cpu_times():
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return sum(fields), fields[3] + fields[4]  # total, idle + iowait


def settle(window=0.5, idle_share=0.9, limit=15.0):
    """Waits until the host's CPUs were idle for a whole window (what the
    previous VMM left running in the kernel, e.g. freeing its memory, does
    not land on the next run); returns the seconds waited."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        total0, idle0 = cpu_times()
        time.sleep(window)
        total1, idle1 = cpu_times()
        if total1 > total0 and (idle1 - idle0) / (total1 - total0) >= idle_share:
            break
    return time.monotonic() - t0


def round_order(names, i):
    """A B, B A, A B, ...: each VMM follows the other as often as itself."""
    return names if i % 2 == 0 else names[::-1]


def boot(vmms, smp, runs, kernel, initrd, logdir, timeout, cold=False):
    """cold: kestrel's kernel cache is emptied before each of its runs."""
    data = {name: [] for name in vmms}
    tag = "smp%d%s" % (smp, "-cold" if cold else "")
    previous = None   # the first run follows the previous phase's (or none)
    for i in range(runs):
        for name in round_order(list(vmms), i):
            vmm = vmms[name]
            logfile = os.path.join(logdir, "boot-%s-%s-%d.log" % (tag, name, i + 1))
            if cold and name == "kestrel":
                shutil.rmtree(KERNEL_CACHE, ignore_errors=True)
            settled = settle()
            d = boot_run(vmm, smp, kernel, initrd, timeout, logfile)
            d.update(after=previous, settle_s=settled)
            previous = name
            data[name].append(d)
            init = "%6.2f s" % d["init_s"] if d["init_s"] is not None else "   -    "
            log("boot %s %d/%d %-7s init %s  exit %6.2f s  cpu %6.2f s  rss %5.0f MiB  "
                "(settled %.1f s) %s"
                % (tag, i + 1, runs, name, init, d["wall_s"], d["cpu_s"],
                   d["maxrss_kib"] / 1024, settled, "ok" if d["ok"] else
                   "FAILED: " + "; ".join(d["problems"])))
    return data


def copy_inputs(paths, folder):
    """Local copies (L1's /tmp is an ext4 disk; the outer root is 9p)."""
    os.makedirs(folder, exist_ok=True)
    out = []
    for p in paths:
        dst = os.path.join(folder, os.path.basename(p))
        shutil.copyfile(p, dst)
        out.append(dst)
    return out


def mount_debugfs():
    """KVM's exit counters (diskbench.KVM_STATS) live in debugfs."""
    if not diskbench.mount_kvm_debugfs():
        log("disk: no %s; KVM exit counts not recorded" % diskbench.KVM_DEBUGFS)


def disk_phase(a, vmms, kernel, logdir):
    """fio in the guest (bench/diskbench.py); settings kept with the runs."""
    [initrd] = copy_inputs([a.disk_initrd], "/tmp/bench-inputs")
    chosen = {n: vmms[n] for n in a.disk_vmms.split(",")}
    selected = fio_initrd.select_jobs(a.disk_jobs)
    jobs = len(selected)
    cfg = {"kernel": kernel, "initrd": initrd, "aio": a.disk_aio, "mem": 512, "format": a.disk_format,
           "interface": a.disk_if,
           "image": os.path.join(a.disk_dir, "bench-disk.img"),
           "timeout": 120 + jobs * (a.disk_seconds + 20), "jobs": selected,
           "trace_job": a.disk_trace}
    mount_debugfs()
    WATCHDOG["after_s"] = 90 + jobs * (a.disk_seconds + 10)
    data = diskbench.disk(chosen, a.disk_runs, cfg, logdir, log)
    WATCHDOG["after_s"] = 45.0
    data["settings"] = dict(cfg, seconds=a.disk_seconds, engine=a.disk_engine,
                            image_mib=diskbench.IMAGE_SIZE >> 20,
                            jobs=selected)
    return data


def main(argv):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    for name in ("--kestrel", "--tiny", "--tiny-marker", "--kernel", "--initrd", "--out"):
        p.add_argument(name, required=True)
    p.add_argument("--startup-runs", type=int, default=15)
    p.add_argument("--boot-runs", type=int, default=5)
    p.add_argument("--smp2-runs", type=int, default=0)
    p.add_argument("--cold-runs", type=int, default=0,
                   help="-smp 1 boots with kestrel's kernel cache emptied before each")
    p.add_argument("--boot-timeout", type=float, default=180)
    p.add_argument("--attr-initrd", help="from bootattr.build_initrd")
    p.add_argument("--attr-runs", type=int, default=0, help="traced attribution boots")
    p.add_argument("--attr-smp", default="1", help="comma-separated -smp values")
    p.add_argument("--disk-initrd", help="from bench/fio_initrd.py")
    p.add_argument("--disk-runs", type=int, default=0)
    p.add_argument("--disk-seconds", type=int, default=10,
                   help="fio runtime per job (sets the run time limit)")
    p.add_argument("--disk-engine", default="libaio", help="(recorded; set in the initrd)")
    p.add_argument("--disk-vmms", default="kestrel,qemu")
    p.add_argument("--disk-jobs", default="all", help="(set in the initrd too)")
    p.add_argument("--disk-trace", help="a job whose L1 exits are traced (bench/exit_trace.py)")
    p.add_argument("--disk-aio", default="io_uring")
    p.add_argument("--disk-dir", default="/tmp", help="where the raw image goes")
    p.add_argument("--disk-format", default="raw", choices=["raw", "qcow2", "qcow2-empty"])
    p.add_argument("--kestrel-b", help="a second kestrel binary (an A/B): VMM 'kestrel-b'")
    p.add_argument("--disk-if", default="virtio", choices=["virtio", "ide", "cd"])
    a = p.parse_args(argv)
    vmms = {"kestrel": [a.kestrel, "-enable-kvm"], "qemu": QEMU}
    if a.kestrel_b:
        vmms["kestrel-b"] = [a.kestrel_b, "-enable-kvm"]
    tiny, marker, kernel, initrd = copy_inputs(
        [a.tiny, a.tiny_marker, a.kernel, a.initrd], "/tmp/bench-inputs")
    logdir = os.path.join(os.path.dirname(os.path.abspath(a.out)), "logs")
    os.makedirs(logdir, exist_ok=True)
    result = {"host": host_info(vmms), "commands": {n: v for n, v in vmms.items()},
              "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "phases": {}}

    def save():
        with open(a.out, "w") as f:
            json.dump(result, f, indent=1)

    threading.Thread(target=watchdog, daemon=True).start()
    log("host: %s" % json.dumps(result["host"]))
    if a.startup_runs > 0:
        result["verify_tiny"] = {n: verify_tiny(n, v, marker) for n, v in vmms.items()}
        save()
        t = time.monotonic()
        result["startup"] = startup(vmms, tiny, a.startup_runs)
        result["floors"] = floors(vmms, 5)
        result["qmp_startup"] = qmp_startup(vmms, a.startup_runs)
        result["phases"]["startup_s"] = time.monotonic() - t
        save()
    os.environ["KESTREL_KERNEL_CACHE"] = KERNEL_CACHE
    if a.cold_runs > 0:
        t = time.monotonic()
        result["boot_smp1_cold"] = boot(vmms, 1, a.cold_runs, kernel, initrd, logdir,
                                        a.boot_timeout, cold=True)
        result["phases"]["boot_smp1_cold_s"] = time.monotonic() - t
        save()
    if a.boot_runs > 0 or a.smp2_runs > 0 or a.attr_runs > 0:
        warm_kernel_cache(vmms["kestrel"], kernel, initrd, logdir, a.boot_timeout)
    for smp, runs in ((1, a.boot_runs), (2, a.smp2_runs)):
        if runs > 0:
            t = time.monotonic()
            result["boot_smp%d" % smp] = boot(vmms, smp, runs, kernel, initrd, logdir,
                                              a.boot_timeout * smp)
            result["phases"]["boot_smp%d_s" % smp] = time.monotonic() - t
            save()
    if a.attr_runs > 0:
        t = time.monotonic()
        [attr_initrd] = copy_inputs([a.attr_initrd], "/tmp/bench-inputs")
        mount_debugfs()
        for smp in (int(x) for x in a.attr_smp.split(",")):
            result["attr_smp%d" % smp] = bootattr.attribution(
                vmms, smp, a.attr_runs, kernel, attr_initrd, logdir, a.boot_timeout * smp, log)
            save()
        result["phases"]["attribution_s"] = time.monotonic() - t
        save()
    if a.disk_runs > 0:
        t = time.monotonic()
        result["disk"] = disk_phase(a, vmms, kernel, logdir)
        result["phases"]["disk_s"] = time.monotonic() - t
        save()
    result["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    save()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
