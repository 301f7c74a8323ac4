#!/usr/bin/env python3
"""virtio-net userspace datapath benchmark on this machine's /dev/kvm: a
tiny guest (tests/tiny/kernel/netbench.c, a polling virtio-net driver,
legacy I/O BAR) moves raw Ethernet frames through
`-netdev tap,...,vhost=off -device virtio-net-pci`, kestrel against
qemu-system-x86_64 -enable-kvm, runs interleaved (kestrel, QEMU, QEMU,
kestrel, ...), medians and ratios. No guest TCP stack is involved, so the
VMM's datapath is what is measured.

Tests (NAME = tx|rx + frame size):
  txS  the guest sends `frames` frames of S bytes as fast as the TX ring
       allows; the tap's rx_packets must grow by exactly that count (the
       host kernel drops them: unknown EtherType, other host's MAC).
  rxS  bench/net_blast.c keeps the tap's queue towards the VMM filled with
       S-byte frames (it sleeps while 512 are waiting, so it needs little
       CPU); the guest counts `frames` frames and checks each one's length,
       EtherType, pattern and num_buffers ("bad" must be 0).
Timing: from the guest's "NET start" line to "NET done" on its serial
port (host clock). CPU: every thread of the VMM process from
/proc/PID/task/*/schedstat (on-CPU ns) over the same window. The guest
busy-polls, so its vCPU thread is always on a CPU; the datapath's cost is
the VMM's other threads ("I/O CPU": QEMU's main loop, kestrel's device
loop), reported as CPU seconds per GB moved; the vCPU threads' time is
reported too. The machine has 2 CPUs, shared: the vCPU takes one, the
datapath thread and the host kernel's tap work share the other.

usage: tiny_netbench.py [--rounds 5] [--tests tx1514,tx64,rx1514,rx64]
                        [--frames 600000] [--kestrel build/kestrel]
                        [--qemu qemu-system-x86_64] [--no-results-md]
Results: bench/results/tiny-net-DATE.json and a section in RESULTS.md.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
IFNAME = "ktnb0"
GUEST_MAC = "52:54:00:12:34:56"
TIMEOUT = 300


def sh(*cmd, check=True):
    return subprocess.run(list(cmd), check=check, capture_output=True, text=True)


def tap_stat(name):
    with open("/sys/class/net/%s/statistics/%s" % (IFNAME, name)) as f:
        return int(f.read())


def thread_cpu(pid):
    """{thread name: on-CPU seconds} summed over threads of one name."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                name = f.read().strip()
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                ns = int(f.read().split()[0])
        except OSError:
            continue
        out[name] = out.get(name, 0.0) + ns / 1e9
    return out


def cpu_split(before, after):
    vcpu = io = 0.0
    for name, t in after.items():
        d = t - before.get(name, 0.0)
        if name.startswith("CPU ") and name.endswith("/KVM"):
            vcpu += d
        else:
            io += d
    return vcpu, io


def vmm_command(vmm, binary, kernel, mode, frames, size):
    cmd = [binary]
    if vmm == "qemu":  # QEMU names its threads (the vCPU's "CPU 0/KVM") only when asked
        cmd += ["-enable-kvm", "-name", "nb,debug-threads=on"]
    return cmd + ["-m", "128", "-display", "none", "-nodefaults", "-serial", "stdio",
                  "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
                  "-netdev", "tap,id=n,ifname=%s,script=no,downscript=no,vhost=off" % IFNAME,
                  "-device", "virtio-net-pci,netdev=n", "-kernel", kernel,
                  "-append", "tests=netbench mode=%s frames=%d size=%d" % (mode, frames, size)]


def run_one(vmm, binary, kernel, blast, test, frames):
    mode, size = test[:2], int(test[2:])
    proc = subprocess.Popen(vmm_command(vmm, binary, kernel, mode, frames, size), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    blaster = None
    start = done = None
    log = []
    deadline = time.monotonic() + TIMEOUT
    try:
        for line in proc.stdout:
            line = line.strip()
            log.append(line)
            if line == "NET ready" and mode == "rx":
                blaster = subprocess.Popen([blast, IFNAME, str(size), GUEST_MAC], stdout=subprocess.PIPE, text=True)
                blaster.stdout.readline()
            elif line == "NET start":
                start = (time.monotonic(), thread_cpu(proc.pid), tap_stat("rx_packets"), tap_stat("tx_dropped"))
            elif line.startswith("NET done"):
                done = (time.monotonic(), thread_cpu(proc.pid), tap_stat("rx_packets"), tap_stat("tx_dropped"))
                fields = dict(w.split("=", 1) for w in line.split()[2:])
                break
            if time.monotonic() > deadline:
                break
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if blaster:
            blaster.terminate()
            blaster.wait()
    if not start or not done:
        raise RuntimeError("%s %s: no result; output:\n%s" % (vmm, test, "\n".join(log[-20:])))
    seconds = done[0] - start[0]
    count, nbytes, bad = int(fields["frames"]), int(fields["bytes"], 16), int(fields["bad"])
    vcpu, io = cpu_split(start[1], done[1])
    result = {"vmm": vmm, "test": test, "seconds": seconds, "frames": count, "bytes": nbytes, "bad": bad,
              "fps": count / seconds, "gbit": nbytes * 8 / seconds / 1e9, "io_cpu": io, "vcpu_cpu": vcpu,
              "io_cpu_per_gb": io / (nbytes / 1e9), "tap_dropped": done[3] - start[3]}
    if mode == "tx":
        result["tap_delivered"] = done[2] - start[2]
        if result["tap_delivered"] != count:
            raise RuntimeError("%s %s: guest sent %d frames, the tap got %d" % (vmm, test, count,
                                                                              result["tap_delivered"]))
    if int(fields["disorder"]):
        raise RuntimeError("%s %s: buffers used out of order" % (vmm, test))
    if bad:
        raise RuntimeError("%s %s: %d bad frames: %s" % (vmm, test, bad, [l for l in log if l.startswith("NET bad")]))
    return result


def median(runs, vmm, test, key):
    values = [r[key] for r in runs if r["vmm"] == vmm and r["test"] == test]
    return statistics.median(values), min(values), max(values)


def table(runs, tests):
    rows = ["| test | VMM | frames/s | Gbit/s | I/O CPU s/GB | vCPU s/GB | runs |", "|---|---|---|---|---|---|---|"]
    for test in tests:
        for vmm in ("kestrel", "qemu"):
            fps, lo, hi = median(runs, vmm, test, "fps")
            gbit = median(runs, vmm, test, "gbit")[0]
            cpu, clo, chi = median(runs, vmm, test, "io_cpu_per_gb")
            vcpu = statistics.median(r["vcpu_cpu"] / (r["bytes"] / 1e9) for r in runs
                                     if r["vmm"] == vmm and r["test"] == test)
            n = sum(1 for r in runs if r["vmm"] == vmm and r["test"] == test)
            rows.append("| %s | %s | %.0f (%.0f–%.0f) | %.3f | %.2f (%.2f–%.2f) | %.2f | %d |" %
                        (test, vmm, fps, lo, hi, gbit, cpu, clo, chi, vcpu, n))
        k, q = median(runs, "kestrel", test, "fps")[0], median(runs, "qemu", test, "fps")[0]
        kc, qc = median(runs, "kestrel", test, "io_cpu_per_gb")[0], median(runs, "qemu", test, "io_cpu_per_gb")[0]
        rows.append("| %s | **kestrel/QEMU** | **%.2f×** | | **%.2f×** | | |" % (test, k / q, kc / qc))
    return "\n".join(rows)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--tests", default="tx1514,tx64,rx1514,rx64")
    ap.add_argument("--frames", type=int, default=600000, help="per run; 64-byte tests send twice as many")
    ap.add_argument("--kestrel", default=os.path.join(REPO, "build", "kestrel"))
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--no-results-md", action="store_true")
    args = ap.parse_args()
    tests = args.tests.split(",")
    work = tempfile.mkdtemp(prefix="tiny-netbench-")
    kestrel = os.path.join(work, "kestrel")
    shutil.copy(args.kestrel, kestrel)  # a rebuild during the run changes nothing
    sh("bash", os.path.join(REPO, "tests", "tiny", "kernel", "build.sh"), work)
    kernel = os.path.join(work, "tiny-mb.elf")
    blast = os.path.join(work, "net_blast")
    sh("gcc", "-O2", "-o", blast, os.path.join(BENCH, "net_blast.c"))
    sh("ip", "link", "del", IFNAME, check=False)
    sh("ip", "tuntap", "add", "dev", IFNAME, "mode", "tap")
    sh("sysctl", "-q", "net.ipv6.conf.%s.disable_ipv6=1" % IFNAME)  # no router solicitations to the guest
    sh("ip", "link", "set", IFNAME, "up")
    runs = []
    try:
        for rnd in range(args.rounds):
            order = ["kestrel", "qemu"] if rnd % 2 == 0 else ["qemu", "kestrel"]
            for test in tests:
                for vmm in order:
                    frames = args.frames * (2 if int(test[2:]) < 512 else 1)
                    r = run_one(vmm, kestrel if vmm == "kestrel" else args.qemu, kernel, blast, test, frames)
                    r["round"] = rnd
                    runs.append(r)
                    print("round %d %-7s %-6s %9.0f frames/s %6.3f Gbit/s  I/O CPU %.2f s/GB  vCPU %.2f s" %
                          (rnd, vmm, test, r["fps"], r["gbit"], r["io_cpu_per_gb"], r["vcpu_cpu"]), flush=True)
    finally:
        sh("ip", "link", "del", IFNAME, check=False)
    text = table(runs, tests)
    print(text)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d-%H%M")
    os.makedirs(os.path.join(BENCH, "results"), exist_ok=True)
    with open(os.path.join(BENCH, "results", "tiny-net-%s.json" % stamp), "w") as f:
        json.dump({"tests": tests, "frames": args.frames, "runs": runs}, f, indent=1)
    if not args.no_results_md:
        qemu_version = sh(args.qemu, "--version").stdout.splitlines()[0]
        with open(os.path.join(BENCH, "RESULTS.md"), "a") as f:
            f.write("\n## %s: virtio-net userspace datapath, tiny guest on /dev/kvm (tiny_netbench.py)\n\n"
                    "Machine: %s, %d CPUs (paravirtual KVM), shared. %s. %d rounds, %d frames per run "
                    "(twice as many of 64 bytes), "
                    "interleaved. Medians (min–max).\n\n%s\n" %
                    (stamp[:10], platform.node(), os.cpu_count(), qemu_version, args.rounds, args.frames, text))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
