#!/usr/bin/env python3
"""virtio-balloon measurements, run on a KVM host (inside the nested test
host, started by bench/balloon_run.py). kestrel against
qemu-system-x86_64 -enable-kvm, interleaved A B A B, one VMM at a time.

1. idle: a 2 GiB guest with -device virtio-balloon-pci,free-page-reporting=on
   boots, loads virtio_balloon and idles; once the VMM's RSS has settled
   its /proc/PID/smaps is split into the guest RAM mapping and the rest
   (the VMM's own memory: its overhead).
2. inflate: a 2 GiB guest with -device virtio-balloon-pci touches 1.5 GiB
   and frees it; then QMP "balloon" to 1 GiB: the time until query-balloon
   (polled every 10 ms) reports 1 GiB, the RSS returned, and the CPU time of
   the thread that serves the balloon (kestrel: "IO balloon", QEMU: its main
   thread) and of the whole process.

usage: balloon_measure.py --kestrel BIN --kernel K --idle-initrd I
                          --fill-initrd I --out JSON [--runs N]
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "guest", "drivers"))
from qmp import Failure, Qmp  # noqa: E402

QEMU = ["qemu-system-x86_64", "-enable-kvm"]
APPEND = "console=ttyS0 quiet panic=-1"
MiB = 1 << 20
RAM_MIB = 2048
WORK = "/tmp/bench-balloon"
START = time.monotonic()


def log(msg):
    print("[%6.1f] %s" % (time.monotonic() - START, msg), flush=True)


def wait_serial(path, marker, proc, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(path, errors="replace") as f:
            text = f.read()
        if marker in text:
            return text
        if proc.poll() is not None:
            raise Failure("VMM exited (%s) before %r" % (proc.returncode, marker))
        time.sleep(0.2)
    raise Failure("no %r within %d s" % (marker, timeout))


def smaps_split(pid):
    """(RSS of guest RAM, RSS of everything else, size of guest RAM's
    mappings), MiB. Guest RAM is what both VMMs madvise MADV_MERGEABLE
    (VmFlags "mg"): kestrel its RAM (split in two mappings by the small
    pages of its first 2 MiB), QEMU its RAM blocks (pc.ram, and the few
    hundred KiB of BIOS and option ROM blocks)."""
    vmas = []  # [size, rss_kib, mergeable]
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            m = re.match(r"^([0-9a-f]+)-([0-9a-f]+) ", line)
            if m:
                vmas.append([int(m.group(2), 16) - int(m.group(1), 16), 0, False])
            elif line.startswith("Rss:"):
                vmas[-1][1] = int(line.split()[1])
            elif line.startswith("VmFlags:"):
                vmas[-1][2] = "mg" in line.split()[1:]
    ram = sum(rss for _, rss, mg in vmas if mg)
    rest = sum(rss for _, rss, mg in vmas if not mg)
    mapped = sum(size for size, _, mg in vmas if mg)
    return ram / 1024, rest / 1024, mapped / MiB


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(path):
    """utime + stime of a /proc/.../stat file, seconds."""
    with open(path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def balloon_thread_stat(pid):
    """/proc stat of the thread that serves the balloon: kestrel's
    "IO balloon" thread, QEMU's main thread (its main loop)."""
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
            if f.read().strip() == "IO balloon":
                return "/proc/%d/task/%s/stat" % (pid, tid)
    return "/proc/%d/task/%d/stat" % (pid, pid)


def settle(pid, timeout=90, window=6, tolerance=1.0):
    """Samples RSS once a second until the last `window` samples differ by
    less than `tolerance` MiB; returns the seconds it took."""
    samples = []
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        samples.append(rss_mib(pid))
        if len(samples) >= window and max(samples[-window:]) - min(samples[-window:]) < tolerance:
            break
        time.sleep(1)
    return time.monotonic() - start


class Vm:
    def __init__(self, vmm, kernel, initrd, device, tag):
        os.makedirs(WORK, exist_ok=True)
        self.serial = os.path.join(WORK, tag + ".log")
        self.sock = os.path.join(WORK, "qmp.sock")
        for p in (self.serial, self.sock):
            if os.path.exists(p):
                os.unlink(p)
        argv = vmm + ["-m", str(RAM_MIB), "-smp", "1", "-nodefaults", "-display", "none",
                      "-no-reboot", "-serial", "file:" + self.serial, "-kernel", kernel,
                      "-initrd", initrd, "-append", APPEND, "-device", device,
                      "-qmp", "unix:%s,server=on,wait=off" % self.sock]
        with open(os.path.join(WORK, tag + ".stderr"), "w") as err:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        self.qmp = Qmp(self.sock, timeout=120)
        self.qmp.ok("qmp_capabilities")

    def guest_value(self, key):
        with open(self.serial, errors="replace") as f:
            found = re.findall(r"^%s=(\d+)" % key, f.read(), re.M)
        return int(found[-1]) if found else None

    def finish(self):
        """Power button; the guest powers off. Returns the exit status."""
        try:
            self.qmp.ok("system_powerdown")
            return self.proc.wait(timeout=120)
        except (Failure, OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
            return "killed"
        finally:
            self.qmp.close()


def measured(vm, steps):
    """Runs steps(d) on a booted VM, then powers it off; d["ok"] when both
    went well."""
    d = {"ok": False}
    try:
        steps(d)
        d["ok"] = True
    except (Failure, OSError) as e:
        d["error"] = str(e)
    d["status"] = vm.finish()
    d["ok"] = d["ok"] and d["status"] == 0
    return d


def idle_run(vmm, a):
    vm = Vm(vmm, a.kernel, a.idle_initrd, "virtio-balloon-pci,free-page-reporting=on", "idle")

    def steps(d):
        wait_serial(vm.serial, "KTEST-IDLE", vm.proc, 300)
        d["settle_s"] = settle(vm.proc.pid)
        d["rss_mib"] = rss_mib(vm.proc.pid)
        d["guest_ram_rss_mib"], d["vmm_own_rss_mib"], d["guest_ram_mapped_mib"] = smaps_split(vm.proc.pid)
        total, free = vm.guest_value("MEMTOTAL"), vm.guest_value("MEMFREE")
        d["guest_used_mib"] = (total - free) / 1024 if total and free else None
    return measured(vm, steps)


def inflate_run(vmm, a):
    vm = Vm(vmm, a.kernel, a.fill_initrd, "virtio-balloon-pci", "inflate")
    main_stat = balloon_thread_stat(vm.proc.pid)
    proc_stat = "/proc/%d/stat" % vm.proc.pid

    def steps(d):
        wait_serial(vm.serial, "KTEST-POWER-BUTTON-READY", vm.proc, 600)
        target = 1024 * MiB
        d["rss_before_mib"] = rss_mib(vm.proc.pid)
        main0, all0 = cpu_seconds(main_stat), cpu_seconds(proc_stat)
        t0 = time.perf_counter()
        vm.qmp.ok("balloon", {"value": target})
        while vm.qmp.ok("query-balloon")["actual"] != target:
            if time.perf_counter() - t0 > 300:
                raise Failure("the guest did not reach 1 GiB within 300 s")
            time.sleep(0.01)
        d["seconds"] = time.perf_counter() - t0
        d["balloon_thread_cpu_s"] = cpu_seconds(main_stat) - main0
        d["process_cpu_s"] = cpu_seconds(proc_stat) - all0
        d["rss_after_mib"] = rss_mib(vm.proc.pid)
        d["returned_mib"] = d["rss_before_mib"] - d["rss_after_mib"]
    return measured(vm, steps)


def phase(name, fn, vmms, a, out):
    out[name] = {v: [] for v in vmms}
    for i in range(a.runs):
        for v, argv in vmms.items():
            d = fn(argv, a)
            out[name][v].append(d)
            log("%s %d/%d %-7s %s" % (name, i + 1, a.runs, v, json.dumps(d)))
            with open(a.out, "w") as f:
                json.dump(out, f, indent=1)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    for name in ("--kestrel", "--kernel", "--idle-initrd", "--fill-initrd", "--out"):
        p.add_argument(name, required=True)
    p.add_argument("--runs", type=int, default=3)
    a = p.parse_args(argv)
    vmms = {"kestrel": [a.kestrel], "qemu": QEMU}
    out = {"versions": {v: subprocess.run(argv + ["--version"], capture_output=True, text=True).stdout
                        .splitlines()[0] for v, argv in vmms.items()},
           "l1_kernel": os.uname().release, "l1_cpus": os.cpu_count()}
    phase("idle", idle_run, vmms, a, out)
    phase("inflate", inflate_run, vmms, a, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
