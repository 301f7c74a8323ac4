#!/usr/bin/env python3
"""Network benchmark: a NIC on a tap (virtio-net, or e1000 with
--model e1000), kestrel against qemu-system-x86_64 -enable-kvm, userspace
datapath (vhost=off) and vhost-net (vhost=on; virtio-net only), in ONE
test-host boot, runs interleaved (kestrel, QEMU, kestrel, QEMU, ...).

Each run boots the Debian guest (-smp 2 -m 512, the network tools
archive of tests/guest/assets.py) with -netdev tap (10.76.0.0/24, the host
side at 10.76.0.1) and -device virtio-net-pci (or e1000), and the guest runs, against
an iperf3 server and tcp_pingpong server on the host side:
  tx1 / tx4   iperf3 guest -> host, 1 and 4 streams      (Mbit/s)
  rx1 / rx4   iperf3 host -> guest (-R), 1 and 4 streams (Mbit/s)
  rr          1-byte TCP ping-pong, guest is the client (transactions/s)
Each test is framed by markers on the serial console; a sampler reads the
VMM process's CPU (user + system, and guest_time, which Linux counts in
user time for vCPU threads) and the CPU of its vhost-<pid> kernel workers
every 0.1 s, so "host CPU per GB" = (VMM + vhost workers) CPU seconds in the
test's window / GB moved, and "without guest" leaves the vCPUs' guest time
out: the VMM's and the host kernel's own work per byte.

--modes: user (tap, vhost=off), vhost (tap, vhost=on), slirp (-netdev user:
the guest reaches the same servers as 10.0.2.2, i.e. the test host's
loopback through libslirp).

usage: netbench.py [--rounds 3] [--seconds 5] [--modes user,vhost,slirp] [--model virtio|e1000]
                   [--vmms kestrel,qemu] [--kestrel BIN] [--no-results-md]
Results: bench/results/net-DATE.json, a section in bench/RESULTS.md.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time

import net_kvm

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, os.path.join(REPO, "tests", "guest"))
sys.path.insert(0, os.path.join(REPO, "tests", "kvmhost"))

TESTS = ["tx1", "tx4", "rx1", "rx4", "rr"]
IFNAME, HOST, GUEST, PORT = "kt76", "10.76.0.1", "10.76.0.2", 7600
SLIRP_HOST, SLIRP_GUEST = "10.0.2.2", "10.0.2.15"
IFUP = os.path.join(REPO, "tests", "guest", "drivers", "net_ifup.sh")


def guest_script(seconds):
    iperf = "iperf3 -c $SERVER -p %d -t %d -J" % (PORT, seconds)
    lines = [
        ". /opt/net/env.sh",
        "modprobe virtio_pci; modprobe virtio_net; modprobe e1000",
        "i=0; while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done",
        "ip link set eth0 up",
        # knet=slirp on the kernel command line: -netdev user's addresses
        # (the host's loopback is 10.0.2.2 to the guest)
        "if grep -q knet=slirp /proc/cmdline; then SERVER=%s; ip addr add %s/24 dev eth0; "
        "ip route add default via %s; else SERVER=%s; ip addr add %s/24 dev eth0; fi"
        % (SLIRP_HOST, SLIRP_GUEST, SLIRP_HOST, HOST, GUEST),
        "i=0; until ping -c1 -W1 $SERVER >/dev/null 2>&1; do i=$((i+1)); [ $i -gt 60 ] && break; done",
        "run() { name=$1; shift; echo KNET-START $name .; \"$@\" > /tmp/$name.out 2>&1; "
        "echo KNET-END $name .; }",
        "bytes() { awk '/\"sum_received\"/ {f=1} f && /\"bytes\"/ {gsub(/[^0-9]/, \"\", $2); print $2; exit}' $1; }",
        "bps() { awk '/\"sum_received\"/ {f=1} f && /\"bits_per_second\"/ {gsub(/[^0-9.e+]/, \"\", $2); print $2; exit}' $1; }",
    ]
    for name, extra in (("tx1", ""), ("tx4", "-P 4"), ("rx1", "-R"), ("rx4", "-R -P 4")):
        lines.append("run %s %s %s" % (name, iperf, extra))
        lines.append("echo KNET-RESULT %s $(bps /tmp/%s.out) $(bytes /tmp/%s.out)" % (name, name, name))
    lines.append("run rr tcp_pingpong client $SERVER %d %d" % (PORT + 1, seconds))
    lines.append("echo KNET-RESULT rr $(sed -n 's/.*rate=\\([0-9.]*\\).*/\\1/p' /tmp/rr.out) "
                 "$(sed -n 's/.*transactions=\\([0-9]*\\).*/\\1/p' /tmp/rr.out)")
    lines.append("echo KNET-DONE")
    return "\n".join(lines) + "\n"


def build_initrd(a, out, seconds):
    import cpio
    overlay = cpio.CpioWriter()
    overlay.add_file("scenario.sh", guest_script(seconds).encode(), 0o755)
    with open(out, "wb") as f:
        for part in (a["l2_initrd"], a["l2_tools"]):
            with open(part, "rb") as p:
                shutil.copyfileobj(p, f)
            f.write(b"\0" * (-f.tell() % 512))
        f.write(overlay.gzip_bytes())
    return out


# ---- inside the test host ----

def proc_cpu(pid):
    """(user+system, guest) seconds of a process or thread, or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick, int(fields[40]) / tick


def vhost_workers(pid):
    """The vhost-net workers of a VMM: named "vhost-<tid>" after the VMM
    thread that owns the device (kernel threads before Linux 6.4)."""
    try:
        wanted = {"vhost-%s" % tid for tid in os.listdir("/proc/%d/task" % pid)}
    except OSError:
        return []
    found = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open("/proc/%s/comm" % p) as f:
                    if f.read().strip() in wanted:
                        found.append(int(p))
            except OSError:
                pass
    return found


class Sampler:
    def __init__(self, pid):
        self.pid, self.samples, self.stop = pid, [], False
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while not self.stop:
            cpu = proc_cpu(self.pid)
            if cpu is None:
                return
            vhost = sum((proc_cpu(w) or (0, 0))[0] for w in vhost_workers(self.pid))
            self.samples.append((time.monotonic(), cpu[0] + vhost, cpu[1], vhost))
            time.sleep(0.1)

    def at(self, t):
        """(cpu, guest, vhost) interpolated at time t."""
        s = self.samples
        if not s:
            return (0, 0, 0)
        for i in range(1, len(s)):
            if s[i][0] >= t:
                a, b = s[i - 1], s[i]
                k = (t - a[0]) / (b[0] - a[0]) if b[0] > a[0] else 0
                return tuple(a[j] + k * (b[j] - a[j]) for j in (1, 2, 3))
        return s[-1][1:]


def one_run(a, vmm_name, mode, log):
    vmm = {"kestrel": [a.kestrel], "kestrel-b": [a.kestrel_b]}.get(
        vmm_name, ["qemu-system-x86_64", "-enable-kvm"])
    if mode == "slirp":
        netdev, append = "user,id=n0", " knet=slirp"
    else:
        netdev, append = ("tap,id=n0,ifname=%s,script=%s,downscript=no,vhost=%s"
                          % (IFNAME, IFUP, "on" if mode == "vhost" else "off")), ""
    argv = vmm + ["-nodefaults", "-smp", "2", "-m", "512", "-kernel", a.kernel, "-initrd", a.initrd,
                  "-append", "console=ttyS0 panic=-1 quiet" + append, "-display", "none", "-serial", "stdio",
                  "-netdev", netdev,
                  "-device", "%s,netdev=n0" % ("e1000" if a.model == "e1000" else "virtio-net-pci")]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    sampler = Sampler(proc.pid)
    windows = net_kvm.TestWindows(a.trace)
    marks, results = {}, {}
    deadline = time.monotonic() + a.timeout
    with open(log, "w") as out:
        for raw in proc.stdout:
            line = raw.decode(errors="replace").rstrip("\r\n")
            out.write(line + "\n")
            m = re.match(r"KNET-(START|END) (\w+) \.", line)
            if m:
                marks[(m.group(2), m.group(1))] = time.monotonic()
                windows.mark(m.group(2), m.group(1))
            m = re.match(r"KNET-RESULT (\w+) ([0-9.e+]+) (\d+)", line)
            if m:
                results[m.group(1)] = (float(m.group(2)), int(m.group(3)))
            if time.monotonic() > deadline:
                proc.kill()
    proc.wait()
    sampler.stop = True
    run = {"vmm": vmm_name, "mode": mode, "model": a.model, "status": proc.returncode, "tests": {}}
    for t in TESTS:
        if t not in results or (t, "START") not in marks or (t, "END") not in marks:
            continue
        c0, c1 = sampler.at(marks[(t, "START")]), sampler.at(marks[(t, "END")])
        value, amount = results[t]
        entry = {"value": value / 1e6 if t != "rr" else value, "amount": amount,
                 "cpu_s": c1[0] - c0[0], "guest_s": c1[1] - c0[1], "vhost_s": c1[2] - c0[2],
                 "seconds": marks[(t, "END")] - marks[(t, "START")], "kvm": windows.deltas(t)}
        if t in windows.traces:
            entry["trace"] = windows.traces[t]
        run["tests"][t] = entry
    return run


def inner(a):
    os.makedirs(a.logdir, exist_ok=True)
    servers = [subprocess.Popen(["iperf3", "-s", "-p", str(PORT)], stdout=subprocess.DEVNULL),
               subprocess.Popen([a.pingpong, "server", str(PORT + 1)])]
    runs = []
    try:
        for r in range(a.rounds):
            for mode in a.modes.split(","):
                for vmm in a.vmms.split(","):
                    log = os.path.join(a.logdir, "%s-%s-%d.log" % (vmm, mode, r))
                    run = one_run(a, vmm, mode, log)
                    run["round"] = r
                    print("netbench: round %d %s %s: %s" % (r, mode, vmm, {
                        t: round(v["value"], 1) for t, v in run["tests"].items()}), flush=True)
                    runs.append(run)
                    with open(a.out, "w") as f:
                        json.dump(runs, f, indent=1)
    finally:
        for s in servers:
            s.kill()
    return 0


# ---- the tables ----

MODE_TITLES = {"user": "tap, userspace datapath (vhost=off)", "vhost": "tap, vhost-net (vhost=on)",
               "slirp": "-netdev user (libslirp), the host's server reached as 10.0.2.2"}

def med(values):
    return statistics.median(values) if values else float("nan")


def table(runs):
    lines = []
    for mode in sorted({r["mode"] for r in runs}, key=lambda m: m != "user"):
        lines.append("\n**%s** (%s)\n" % (MODE_TITLES[mode], mode))
        lines.append("| test | kestrel | QEMU | kestrel/QEMU | host CPU s/GB kestrel | QEMU | "
                     "without guest kestrel | QEMU |")
        lines.append("|---|---|---|---|---|---|---|---|")
        for t in TESTS:
            row = {}
            for vmm in ("kestrel", "qemu"):
                e = [r["tests"][t] for r in runs if r["mode"] == mode and r["vmm"] == vmm and t in r["tests"]]
                vals = [x["value"] for x in e]
                if t == "rr":
                    per = [x["cpu_s"] / x["amount"] * 1e6 for x in e if x["amount"]]   # us per transaction
                    per_ng = [(x["cpu_s"] - x["guest_s"]) / x["amount"] * 1e6 for x in e if x["amount"]]
                else:
                    per = [x["cpu_s"] / (x["amount"] / 1e9) for x in e if x["amount"]]
                    per_ng = [(x["cpu_s"] - x["guest_s"]) / (x["amount"] / 1e9) for x in e if x["amount"]]
                row[vmm] = (vals, med(per), med(per_ng))
            k, q = row["kestrel"], row["qemu"]

            def cell(vals):
                if not vals:
                    return "—"
                return "%.1f (%.1f–%.1f)" % (med(vals), min(vals), max(vals))
            ratio = med(k[0]) / med(q[0]) if k[0] and q[0] and med(q[0]) else float("nan")
            unit = " tr/s" if t == "rr" else " Mbit/s"
            lines.append("| %s%s | %s | %s | %.2f | %.2f | %.2f | %.2f | %.2f |" % (
                t, unit, cell(k[0]), cell(q[0]), ratio, k[1], q[1], k[2], q[2]))
        lines.append("\n(rr: the CPU columns are µs of host CPU per transaction.)")
    lines.append(net_kvm.counters_table(runs, TESTS, med))
    lines.append(net_kvm.trace_table(runs))
    return "\n".join(lines)


def outer(a):
    import assets
    import kvmhost
    a_assets = assets.build_all()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    root = os.path.join(a_assets["cache"], "bench", "net-" + stamp)
    os.makedirs(root, exist_ok=True)
    kestrel = os.path.join(root, "kestrel")
    shutil.copy2(a.kestrel, kestrel)
    kestrel_b = []
    if a.kestrel_b:
        kestrel_b = ["--kestrel-b", os.path.join(root, "kestrel-b")]
        shutil.copy2(a.kestrel_b, kestrel_b[1])
    initrd = build_initrd(a_assets, os.path.join(root, "initrd.img"), a.seconds)
    out = os.path.join(root, "net.json")
    cmd = [sys.executable, os.path.abspath(__file__), "--inner", "--kestrel", kestrel,
           "--kernel", a_assets["kernel"], "--initrd", initrd, "--pingpong", a_assets["tcp_pingpong"],
           "--out", out, "--logdir", os.path.join(root, "logs"), "--rounds", str(a.rounds),
           "--seconds", str(a.seconds), "--modes", a.modes, "--vmms", a.vmms, "--model", a.model] + kestrel_b
    if a.trace:
        cmd += ["--trace", a.trace]
    budget = a.rounds * len(a.modes.split(",")) * len(a.vmms.split(",")) * (120 + 6 * (a.seconds + 6))
    # One line per VMM run (a boot and five tests: ~90 s in the test host
    # with 5 s tests); a host silent for much longer has hung
    # (tests/README.md) and is not waited for.
    silent = 420 + 6 * a.seconds
    status = kvmhost.run(cmd, root, timeout=600 + budget, silent_limit=silent)
    if not os.path.exists(out):
        print("netbench: no results (test host status %d); see %s" % (status, root))
        return 1
    with open(out) as f:
        runs = json.load(f)
    text = table(runs)
    print(text)
    if not a.no_results_md:
        date = time.strftime("%Y-%m-%d")
        os.makedirs(os.path.join(BENCH, "results"), exist_ok=True)
        name = "net-%s%s%s.json" % ("e1000-" if a.model == "e1000" else "",
                                   "slirp-" if a.modes == "slirp" else "", date)
        shutil.copy(out, os.path.join(BENCH, "results", name))
        print("netbench: raw runs in bench/results/%s; add the table to bench/RESULTS.md" % name)
    return status


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=int, default=5)
    p.add_argument("--modes", default="user,vhost")
    p.add_argument("--vmms", default="kestrel,qemu")
    p.add_argument("--model", choices=["virtio", "e1000"], default="virtio", help="the NIC (e1000: --modes user,slirp)")
    p.add_argument("--kestrel", default=os.environ.get("KESTREL_BIN", os.path.join(REPO, "build", "kestrel")))
    p.add_argument("--kestrel-b", help="a second kestrel binary, run as VMM \"kestrel-b\" "
                   "(--vmms kestrel,kestrel-b,qemu): an A/B in the same test-host boot")
    p.add_argument("--no-results-md", action="store_true")
    p.add_argument("--trace", choices=TESTS, help="trace L1 KVM's exits during this test "
                   "(slows it: for where exits go, not for throughput)")
    p.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--kernel")
    p.add_argument("--initrd")
    p.add_argument("--pingpong")
    p.add_argument("--out")
    p.add_argument("--logdir")
    p.add_argument("--timeout", type=float, default=400)
    a = p.parse_args(argv)
    if a.model == "e1000" and "vhost" in a.modes.split(","):
        p.error("vhost-net serves virtio-net only: --model e1000 takes --modes user and slirp")
    return inner(a) if a.inner else outer(a)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
