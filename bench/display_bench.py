#!/usr/bin/env python3
"""Display benchmarks: kestrel against qemu-system-x86_64 -enable-kvm with
a VGA, a VNC server and a VNC client that keeps asking for updates (as a
viewer does). Runs interleaved kestrel, QEMU, kestrel, QEMU, ...

1. Idle screen (this machine's KVM; no Linux needed): the tiny guest of
   tests/display draws a text screen and halts with interrupts off; with a
   client attached, the VMM's CPU time and its threads' context switches
   over --idle-seconds show whether anything polls while nothing changes.
2. Linux (one nested test-host boot; tests/kvmhost), -smp 1, std VGA in
   text mode, VNC on a unix socket with the client attached:
   - print: the guest writes --lines lines to /dev/tty0 (vgacon: every
     character a VGA memory write the VMM handles); its own clock and the
     host's time between serial markers;
   - idle: CPU time of the VMM while the guest sleeps --linux-idle-seconds;
   - memory: then bochs-drm sets a graphics mode (fbdev takes the EDID's
     preferred one), the guest fills 3 MiB of /dev/fb0 and
     the client fetches it; VmHWM (peak RSS) read then. The same guest with
     -vga none -display none (--baseline-runs) gives the machine's RSS
     without a display: the difference is the display's cost.

usage: display_bench.py [--runs 5] [--baseline-runs 3] [--lines 1000]
                        [--local-runs 3] [--idle-seconds 10]
                        [--kestrel BIN] [--no-results-md] [--skip-linux]
Run it under the nested-host lock (it boots the test host).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, os.path.join(REPO, "tests", "guest"))
sys.path.insert(0, os.path.join(REPO, "tests", "kvmhost"))
sys.path.insert(0, os.path.join(REPO, "tests", "display"))
import assets  # noqa: E402
import cpio  # noqa: E402
import vga_text_guest  # noqa: E402
from rfb import RfbClient  # noqa: E402

QEMU = ["qemu-system-x86_64", "-enable-kvm"]
APPEND = "console=ttyS0 quiet panic=-1"
GUEST_SCRIPT = r'''
echo "KTEST-PRINT-BEGIN"
t0=$(cut -d' ' -f1 /proc/uptime)
awk -v n=%(lines)d 'BEGIN { for (i = 1; i <= n; i++)
  printf "line %%d the quick brown fox jumps over the lazy dog 0123456789\n", i }' > /dev/tty0
t1=$(cut -d' ' -f1 /proc/uptime)
echo "KTEST-PRINT-S $t0 $t1"
echo "KTEST-IDLE-START"
sleep %(idle)d
echo "KTEST-IDLE-END"
modprobe bochs 2>/dev/null
for i in $(seq 1 50); do [ -e /dev/fb0 ] && break; sleep 0.1; done
[ -e /dev/fb0 ] && dd if=/dev/zero bs=4096 count=768 2>/dev/null | tr '\000' '\125' > /dev/fb0
sleep 3
echo "KTEST-RSS-POINT"
sleep 2
poweroff -f
'''


def log(msg):
    print("[display-bench %s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


# --- Process numbers from /proc ---

def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def context_switches(pid):
    total = 0
    for task in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/status" % (pid, task)) as f:
            for line in f:
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    total += int(line.split()[1])
    return total


def vm_hwm_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")


class Sampler:
    """CPU time and context switches of a process between two moments."""

    def __init__(self, pid):
        self.pid = pid
        self.t, self.ticks, self.switches = time.monotonic(), cpu_ticks(pid), context_switches(pid)

    def done(self):
        dt = time.monotonic() - self.t
        return {"seconds": dt, "cpu_ms": (cpu_ticks(self.pid) - self.ticks) * TICK_S * 1000,
                "switches_per_s": (context_switches(self.pid) - self.switches) / dt}


class Viewer(threading.Thread):
    """A VNC client that asks for incremental updates again as soon as one
    arrives, from the moment the socket exists until the VMM ends."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path, self.updates, self.size, self.error = path, 0, None, None
        self.stopping = False

    def run(self):
        deadline = time.monotonic() + 120
        client = None
        while client is None and not self.stopping:
            try:
                client = RfbClient(self.path, timeout=600)
            except OSError:
                if time.monotonic() > deadline:
                    self.error = "no VNC server"
                    return
                time.sleep(0.05)
        try:
            client.request(False)
            while not self.stopping:
                client.read_update()
                self.updates += 1
                self.size = (client.width, client.height)
                client.request(True)
        except Exception as e:  # the VMM went away: the run is over
            self.error = self.error or ("%s" % e if not self.stopping else None)


# --- 1. Idle screen on this machine's KVM ---

def idle_local(vmms, runs, seconds, work):
    image = vga_text_guest.write_image(work)
    data = {name: [] for name in vmms}
    for i in range(runs):
        for name, vmm in vmms.items():
            sock = os.path.join(work, "%s-%d.vnc" % (name, i))
            serial = os.path.join(work, "%s-%d.serial" % (name, i))
            argv = vmm + ["-m", "128", "-nodefaults", "-vga", "std", "-vnc", "unix:" + sock,
                          "-serial", "file:" + serial, "-kernel", image]
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            viewer = Viewer(sock)
            viewer.start()
            try:
                wait_file_text(serial, "VGA-READY", 120)
                time.sleep(2)  # the first updates go out
                s = Sampler(proc.pid)
                time.sleep(seconds)
                d = s.done()
                d.update(ok=viewer.error is None and viewer.updates > 0, updates=viewer.updates)
            finally:
                viewer.stopping = True
                proc.kill()
                proc.wait()
            data[name].append(d)
            log("idle %d/%d %-7s cpu %.0f ms in %.1f s, %.1f switches/s" % (
                i + 1, runs, name, d["cpu_ms"], d["seconds"], d["switches_per_s"]))
    return data


def wait_file_text(path, text, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path, errors="replace") as f:
                if text in f.read():
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("no %r in %s" % (text, path))


# --- 2. Linux in the test host ---

def run_ok(d, viewer_size, display):
    """The run reached every marker, and with a display the client saw the
    guest in a graphics mode (bochs-drm picks the EDID's preferred size:
    1280x800 with QEMU 7.2's defaults), not the 720x400 text screen."""
    graphics = viewer_size is not None and tuple(viewer_size) != (720, 400) and viewer_size[0] >= 640
    return d["status"] == 0 and "vm_hwm_kib" in d and (not display or (graphics and "print_guest_s" in d))


def linux_run(vmm, kernel, initrd, work, tag, display, timeout=600):
    sock = os.path.join(work, tag + ".vnc")
    args = ["-vga", "std", "-vnc", "unix:" + sock] if display else ["-vga", "none", "-display", "none"]
    argv = vmm + ["-m", "512", "-smp", "1", "-nodefaults", "-serial", "stdio", "-no-reboot",
                  "-kernel", kernel, "-initrd", initrd, "-append", APPEND] + args
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    viewer = Viewer(sock) if display else None
    if viewer:
        viewer.start()
    d = {"markers": {}, "ok": False}
    sampler = None
    output = []
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    for raw in proc.stdout:
        line = raw.decode(errors="replace").rstrip()
        output.append(line)
        now = time.monotonic() - t0
        for marker in ("KTEST-GUEST-START", "KTEST-PRINT-BEGIN", "KTEST-PRINT-S", "KTEST-IDLE-START",
                       "KTEST-IDLE-END", "KTEST-RSS-POINT"):
            if line.startswith(marker) and marker not in d["markers"]:
                d["markers"][marker] = now
        if line.startswith("KTEST-PRINT-S "):
            a, b = map(float, line.split()[1:3])
            d["print_guest_s"] = b - a
        if line.startswith("KTEST-IDLE-START"):
            sampler = Sampler(proc.pid)
        if line.startswith("KTEST-IDLE-END") and sampler:
            d["idle"] = sampler.done()
        if line.startswith("KTEST-RSS-POINT"):
            d["vm_hwm_kib"] = vm_hwm_kib(proc.pid)
    proc.wait()
    timer.cancel()
    if viewer:
        viewer.stopping = True
        d["viewer"] = {"updates": viewer.updates, "size": viewer.size, "error": viewer.error}
    m = d["markers"]
    if "KTEST-PRINT-BEGIN" in m and "KTEST-PRINT-S" in m:
        d["print_host_s"] = m["KTEST-PRINT-S"] - m["KTEST-PRINT-BEGIN"]
    d["status"] = proc.returncode
    d["ok"] = run_ok(d, viewer.size if viewer else None, display)
    if not d["ok"]:
        d["tail"] = output[-30:]
    return d


def linux_phase(vmms, kernel, initrd, runs, baseline_runs, work):
    data = {name: {"display": [], "baseline": []} for name in vmms}
    for i in range(max(runs, baseline_runs)):
        for kind, count in (("display", runs), ("baseline", baseline_runs)):
            if i >= count:
                continue
            for name, vmm in vmms.items():
                d = linux_run(vmm, kernel, initrd, work, "%s-%s-%d" % (name, kind, i), kind == "display")
                data[name][kind].append(d)
                log("linux %s %d/%d %-7s %s print %s s (guest %s s), idle cpu %s ms, VmHWM %.1f MiB%s" % (
                    kind, i + 1, count, name, "ok" if d["ok"] else "FAILED",
                    fmt(d.get("print_host_s")), fmt(d.get("print_guest_s")),
                    fmt(d.get("idle", {}).get("cpu_ms"), "%.0f"), d.get("vm_hwm_kib", 0) / 1024,
                    "" if d["ok"] else "\n  " + "\n  ".join(d.get("tail", []))))
    return data


def fmt(v, f="%.2f"):
    return "-" if v is None else f % v


def inner(a):
    vmms = {"kestrel": [a.kestrel], "qemu": QEMU}
    work = tempfile.mkdtemp(prefix="display-bench-")
    kernel = shutil.copy(a.kernel, work)
    initrd = shutil.copy(a.initrd, work)
    data = linux_phase(vmms, kernel, initrd, a.runs, a.baseline_runs, work)
    with open(a.out, "w") as f:
        json.dump(data, f, indent=1)
    return 0


# --- Outer: assets, the test host, the report ---

def guest_initrd(base, out, lines, idle):
    overlay = cpio.CpioWriter()
    overlay.add_file("scenario.sh", (GUEST_SCRIPT % {"lines": lines, "idle": idle}).encode(), 0o755)
    with open(out, "wb") as f, open(base, "rb") as b:
        shutil.copyfileobj(b, f)
        f.write(overlay.gzip_bytes())
    return out


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--baseline-runs", type=int, default=3)
    p.add_argument("--lines", type=int, default=1000)
    p.add_argument("--linux-idle-seconds", type=int, default=15)
    p.add_argument("--local-runs", type=int, default=3)
    p.add_argument("--idle-seconds", type=float, default=10)
    p.add_argument("--kestrel", default=os.environ.get("KESTREL_BIN", os.path.join(REPO, "build", "kestrel")))
    p.add_argument("--no-results-md", action="store_true")
    p.add_argument("--skip-linux", action="store_true")
    p.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--kernel", help=argparse.SUPPRESS)
    p.add_argument("--initrd", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.inner:
        return inner(a)
    import display_report  # noqa: E402 (beside this file)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    cache = os.environ.get("KESTREL_CACHE", os.path.expanduser("~/.cache/kestrel"))
    root = os.path.join(cache, "bench-display", stamp)
    os.makedirs(root)
    kestrel = shutil.copy2(a.kestrel, os.path.join(root, "kestrel"))
    vmms = {"kestrel": [kestrel], "qemu": QEMU}
    results = {"context": display_report.context(a.kestrel, kestrel), "lines": a.lines,
               "idle_seconds": a.idle_seconds, "linux_idle_seconds": a.linux_idle_seconds}
    results["idle_local"] = idle_local(vmms, a.local_runs, a.idle_seconds, tempfile.mkdtemp(prefix="display-idle-"))
    if not a.skip_linux:
        sys.path.insert(0, os.path.join(REPO, "tests", "kvmhost"))
        import kvmhost  # noqa: E402
        a_assets = assets.build_all()
        initrd = guest_initrd(a_assets["l2_initrd"], os.path.join(root, "initrd.img"), a.lines,
                              a.linux_idle_seconds)
        host_results = os.path.join(root, "host")  # the folder the test host may write
        out = os.path.join(host_results, "linux.json")
        cmd = [sys.executable, os.path.abspath(__file__), "--inner", "--kestrel", kestrel,
               "--kernel", a_assets["kernel"], "--initrd", initrd, "--out", out,
               "--runs", str(a.runs), "--baseline-runs", str(a.baseline_runs)]
        started = time.monotonic()
        status = kvmhost.run(cmd, host_results, timeout=3600)
        log("test host finished with status %d after %.0f s" % (status, time.monotonic() - started))
        if os.path.exists(out):
            with open(out) as f:
                results["linux"] = json.load(f)
    with open(os.path.join(root, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    text = display_report.section(results, time.strftime("%Y-%m-%d"))
    print(text)
    if not a.no_results_md:
        display_report.update_results_md(os.path.join(BENCH, "RESULTS.md"), time.strftime("%Y-%m-%d"), text)
        os.makedirs(os.path.join(BENCH, "results"), exist_ok=True)
        with open(os.path.join(BENCH, "results", time.strftime("%Y-%m-%d") + "-display.json"), "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
