#!/usr/bin/env python3
"""The host side of a network scenario, beside the VMM (a driver).

Serves, on every address:
  HTTP PORT        GET /blob (16 MiB of random bytes), /blob.sha256,
                   /upload.sha256 (of the last upload), /verdict (below)
  TCP PORT+1       upload: reads everything a client sends, keeps its sha256
  iperf3 PORT+2    iperf3 -s
  TCP PORT+3       tcp_pingpong server (1-byte echo)

/verdict looks at the VMM process (found by --vmm-match in its command
line) and answers one line per finding, which the guest prints:
  VERDICT vhost-thread=yes|no      a vhost-net worker serves the VMM
  VERDICT net-thread-cpu-ms=N      CPU of kestrel's "IO net-*" threads
  VERDICT tso-frames=N             frames longer than the MTU the guest sent
                                   (tcpdump on --tcpdump IFNAME)
  VERDICT set-link=ok|failed       with --set-link NIC --qmp SOCKET --serial LOG:
                                   when the guest prints LINK-TEST-READY, QMP
                                   set_link NIC off, the guest's CARRIER=0, on,
                                   its CARRIER=1
and PASS or FAIL against --expect-vhost (yes/no), --max-net-cpu-ms,
--min-tso-frames and the set_link test.
The driver exits 0 once the VMM is gone if /verdict was asked and passed.
"""

import argparse
import hashlib
import http.server
import os
import re
import socket
import subprocess
import sys
import threading
import time
from qmp import deadline_after  # noqa: E402

BLOB = os.urandom(16 << 20)
BLOB_SHA = hashlib.sha256(BLOB).hexdigest()
state = {"upload_sha": "", "verdict": None, "link": None}


def log(msg):
    print("net_peer: " + msg, flush=True)


def find_vmm(match):
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if match in cmd and ("kestrel" in cmd or "qemu-system" in cmd) and "net_peer" not in cmd:
            return int(pid)
    return None


def thread_names(pid):
    names = []
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                names.append((tid, f.read().strip()))
        except OSError:
            pass
    return names


def vhost_thread_exists(pid):
    """A vhost worker is named after the task that made the device its own
    (VHOST_SET_OWNER): "vhost-<tid>" of one of the VMM's threads; a kernel
    thread before Linux 6.4, a thread of the VMM after."""
    wanted = {"vhost-%s" % tid for tid, _ in thread_names(pid)}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % p) as f:
                if f.read().strip() in wanted:
                    return True
        except OSError:
            continue
    return any(name in wanted for _, name in thread_names(pid))


def net_thread_cpu_ms(pid):
    total = 0
    ticks = os.sysconf("SC_CLK_TCK")
    for tid, name in thread_names(pid):
        if not name.startswith("IO net-"):
            continue
        with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total * 1000 // ticks


class Tso:
    """Counts frames longer than a plain Ethernet frame leaving the guest
    (tcpdump sees the tap's GSO frames before segmentation)."""

    def __init__(self, ifname):
        self.count = 0
        self.proc = subprocess.Popen(["tcpdump", "-l", "-n", "-i", ifname, "-Q", "in", "tcp"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        for line in self.proc.stdout:
            m = re.search(r"length (\d+)", line)
            if m and int(m.group(1)) > 1500:
                self.count += 1


def verdict(args, tso):
    pid = find_vmm(args.vmm_match)
    if pid is None:
        return ["VERDICT FAIL no VMM process matching %r" % args.vmm_match]
    lines, ok = [], True
    vhost = vhost_thread_exists(pid)
    lines.append("VERDICT vhost-thread=%s" % ("yes" if vhost else "no"))
    cpu = net_thread_cpu_ms(pid)
    lines.append("VERDICT net-thread-cpu-ms=%d" % cpu)
    if args.expect_vhost != "any":
        ok &= vhost == (args.expect_vhost == "yes")
    if args.max_net_cpu_ms is not None:
        ok &= cpu <= args.max_net_cpu_ms
    if tso:
        lines.append("VERDICT tso-frames=%d" % tso.count)
        ok &= tso.count >= args.min_tso_frames
    if args.set_link:
        lines.append("VERDICT set-link=%s" % ("ok" if state["link"] else "failed"))
        ok &= bool(state["link"])
    lines.append("VERDICT " + ("PASS" if ok else "FAIL"))
    state["verdict"] = ok
    return lines


def http_handler(args, tso):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = {"/blob": BLOB, "/blob.sha256": (BLOB_SHA + "  blob\n").encode(),
                    "/upload.sha256": (state["upload_sha"] + "  up\n").encode()}.get(self.path)
            if self.path == "/verdict":
                body = ("\n".join(verdict(args, tso)) + "\n").encode()
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *a):
            log("http " + (fmt % a))
    return Handler


def upload_server(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(4)
    while True:
        c, peer = s.accept()
        h, n = hashlib.sha256(), 0
        while True:
            data = c.recv(1 << 16)
            if not data:
                break
            h.update(data)
            n += len(data)
        c.close()
        state["upload_sha"] = h.hexdigest()
        log("upload from %s: %d bytes, sha256 %s" % (peer[0], n, state["upload_sha"]))


def link_test(args):
    """set_link off/on through QMP, each seen by the guest's driver as carrier."""
    from qmp import Failure, Qmp, wait_log
    try:
        q = Qmp(args.qmp)
        q.ok("qmp_capabilities")
        wait_log(args.serial, r"^LINK-TEST-READY$", timeout=args.timeout)
        for up, carrier in ((False, 0), (True, 1)):
            q.ok("set_link", {"name": args.set_link, "up": up})
            log("set_link %s %s" % (args.set_link, "on" if up else "off"))
            wait_log(args.serial, r"^CARRIER=%d$" % carrier, timeout=args.timeout)
        state["link"] = True
    except (Failure, OSError) as e:
        log("set_link test: %s" % e)
        state["link"] = False


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--vmm-match", required=True)
    p.add_argument("--expect-vhost", choices=["yes", "no", "any"], default="any")
    p.add_argument("--tcpdump", help="interface whose incoming TSO frames to count")
    p.add_argument("--min-tso-frames", type=int, default=1)
    p.add_argument("--max-net-cpu-ms", type=int, help="kestrel's own network threads may use at most this")
    p.add_argument("--pingpong", required=True, help="tcp_pingpong binary")
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--set-link", metavar="NIC", help="the NIC's name for QMP set_link (with --qmp, --serial)")
    p.add_argument("--qmp", help="the VMM's QMP socket")
    p.add_argument("--serial", help="the guest's serial log")
    args = p.parse_args()
    if args.set_link:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        threading.Thread(target=link_test, args=(args,), daemon=True).start()
    http.server.ThreadingHTTPServer.allow_reuse_address = True
    tso = None
    server = http.server.ThreadingHTTPServer(("0.0.0.0", args.port), None)
    threading.Thread(target=upload_server, args=(args.port + 1,), daemon=True).start()
    helpers = [subprocess.Popen(["iperf3", "-s", "-p", str(args.port + 2)], stdout=subprocess.DEVNULL),
               subprocess.Popen([args.pingpong, "server", str(args.port + 3)])]
    pid, deadline = None, deadline_after(args.timeout)
    while pid is None and time.monotonic() < deadline:
        pid = find_vmm(args.vmm_match)
        time.sleep(0.2)
    if args.tcpdump:
        for _ in range(100):  # the VMM's ifup script brings the tap up
            if os.path.exists("/sys/class/net/%s" % args.tcpdump):
                break
            time.sleep(0.2)
        tso = Tso(args.tcpdump)
    server.RequestHandlerClass = http_handler(args, tso)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    log("serving on port %d; VMM pid %s" % (args.port, pid))
    while pid and os.path.exists("/proc/%d" % pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    for h in helpers + ([tso.proc] if tso else []):
        h.kill()
    if state["verdict"] is None:
        log("the guest never asked for /verdict")
        return 1
    return 0 if state["verdict"] else 1


if __name__ == "__main__":
    sys.exit(main())
