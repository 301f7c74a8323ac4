#!/usr/bin/env python3
"""Where kestrel's display memory goes, on this machine's KVM (no Linux):
tests/display's VBE guest shows 640x480, then 1280x800x32 (a key through
QMP send-key changes the mode); a VNC client (tests/display/rfb.py) on a
unix socket fetches the whole 1280x800 picture. Then the resident set of
the running VMM is read from /proc/PID/smaps and summed per mapping (a
library by its file, anonymous memory by its size), against the same
guest with -vga none -display none. Prints both and the biggest
differences, and VmHWM/VmRSS.

usage: display_smaps.py [--kestrel build/kestrel] [--top 15]
"""
import argparse
import collections
import os
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(BENCH), "tests", "display"))
import vga_vbe_guest  # noqa: E402
from rfb import RfbClient  # noqa: E402
from vmm import Vmm, wait_log  # noqa: E402

BIG = (1280, 800)


def smaps(pid):
    """{mapping name: resident kB}; anonymous mappings as 'anon SIZE' with
    their count, so that equal buffers group."""
    out = collections.Counter()
    name = None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            fields = line.split()
            if "-" in fields[0] and len(fields) >= 5 and not fields[0].endswith(":"):
                start, end = (int(v, 16) for v in fields[0].split("-"))
                name = fields[5] if len(fields) > 5 else "anon %d kB" % ((end - start) // 1024)
            elif fields[0] == "Rss:":
                out[name] += int(fields[1])
    return out


def status(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def run(binary, work, display):
    kernel = vga_vbe_guest.write_image(work)
    sock = os.path.join(work, "vnc.sock")
    args = ["-m", "128", "-nodefaults", "-kernel", kernel]
    args += ["-vga", "std", "-vnc", "unix:" + sock] if display else ["-vga", "none", "-display", "none"]
    with Vmm(binary, work, "display" if display else "none", args) as vm:
        wait_log(vm.serial, "VBE-640x480", timeout=120)
        client = RfbClient(sock) if display else None
        if client:
            client.snapshot()
        vm.qmp.ok("send-key", {"keys": [{"type": "qcode", "data": "a"}]})
        wait_log(vm.serial, "VBE-%dx%d" % BIG, timeout=120)
        if client:
            deadline = time.monotonic() + 60
            while (client.width, client.height) != BIG and time.monotonic() < deadline:
                client.snapshot()
            shot = client.snapshot()
            if shot.rgb != vga_vbe_guest.rgb(*BIG):
                raise SystemExit("the client did not get the 1280x800 picture")
        time.sleep(1)
        pid = vm.proc.pid
        result = smaps(pid), status(pid, "VmHWM"), status(pid, "VmRSS")
        if client:
            client.close()
        return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kestrel", default="build/kestrel")
    ap.add_argument("--top", type=int, default=15)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="kestrel-smaps-") as work:
        with_display = run(os.path.abspath(a.kestrel), work, True)
        without = run(os.path.abspath(a.kestrel), work, False)
    (maps_d, hwm_d, rss_d), (maps_n, hwm_n, rss_n) = with_display, without
    print("VmHWM with display %d kB, without %d kB: +%.1f MiB" % (hwm_d, hwm_n, (hwm_d - hwm_n) / 1024))
    print("VmRSS with display %d kB, without %d kB: +%.1f MiB" % (rss_d, rss_n, (rss_d - rss_n) / 1024))
    diff = {k: maps_d.get(k, 0) - maps_n.get(k, 0) for k in set(maps_d) | set(maps_n)}
    print("%-60s %9s %9s %9s" % ("mapping (Rss kB)", "display", "none", "diff"))
    for k in sorted(diff, key=lambda k: -abs(diff[k]))[:a.top]:
        print("%-60s %9d %9d %+9d" % (k[-60:], maps_d.get(k, 0), maps_n.get(k, 0), diff[k]))


if __name__ == "__main__":
    main()
