#!/usr/bin/env python3
"""The VNC server with real clients, on the tiny text guest
(vga_text_guest.py, run on this machine's /dev/kvm):

- a raw RFB client (rfb.py) and Debian's vncsnapshot (raw, hextile,
  zlib and tight encodings) capture the picture screendump writes (the raw one
  exactly, vncsnapshot's JPEG within a few levels);
- VNC_CONNECTED, VNC_INITIALIZED, VNC_DISCONNECTED, query-vnc, info vnc;
- password=on: no password set refuses everyone, a wrong one is refused, the
  right one accepted, expire_password now refuses again;
- websocket= (RFB over WebSocket, as noVNC speaks it) and unix: sockets;
- with no display option kestrel serves VNC on 127.0.0.1 and says so as QEMU;
- a client that asks for updates and never reads them holds nothing up: a
  guest that keeps changing its screen goes on, the monitor answers.

usage: vnc_test.py build/kestrel     Ends with "N passed, N failed".
"""
import argparse
import os
import random
import re
import socket
import struct
import subprocess
import tempfile
import time

import images
import vga_text_guest
from rfb import RfbClient, RfbError, vnc_des
from vmm import Failure, Results, Vmm, timeout_scale, wait_log

BASE = random.randint(30, 80)  # VNC display numbers: 5900 + N, away from other users


def guest_args(kernel, vnc):
    return ["-m", "64", "-nodefaults", "-vga", "std", "-kernel", kernel] + (["-vnc", vnc] if vnc else [])


def start(binary, work, name, kernel, vnc):
    vm = Vmm(binary, work, name, guest_args(kernel, vnc))
    wait_log(vm.serial, "VGA-READY", timeout=int(120 * timeout_scale()))
    return vm


def port_of(vm):
    info = vm.qmp.ok("query-vnc")
    if not info.get("enabled"):
        raise Failure("query-vnc: not enabled: %s" % info)
    return int(info["service"])


def screendump(vm, work, name):
    path = os.path.join(work, name + ".ppm")
    vm.qmp.ok("screendump", {"filename": path})
    return images.read_ppm(path)


def raw_client_sees_screendump(binary, work, kernel):
    with start(binary, work, "raw", kernel, "127.0.0.1:%d,to=%d" % (BASE, BASE + 15)) as vm:
        port = port_of(vm)
        client = RfbClient(("127.0.0.1", port))
        try:
            seen = client.snapshot()
        finally:
            client.close()
        dumped = screendump(vm, work, "raw")
        if (seen.width, seen.height) != (720, 400) or seen.rgb != dumped.rgb:
            raise Failure("the RFB client's %dx%d picture differs from screendump's" % (seen.width, seen.height))
        connected = vm.qmp.wait_event("VNC_CONNECTED", timeout=30)
        vm.qmp.wait_event("VNC_INITIALIZED", timeout=30)
        gone = vm.qmp.wait_event("VNC_DISCONNECTED", timeout=30)
        if connected["data"]["server"]["service"] != str(port) or gone["data"]["client"]["family"] != "ipv4":
            raise Failure("event data: %s / %s" % (connected, gone))


def vncsnapshot_sees_screendump(binary, work, kernel):
    with start(binary, work, "snap", kernel, "127.0.0.1:%d,to=%d" % (BASE, BASE + 15)) as vm:
        port = port_of(vm)
        dumped = screendump(vm, work, "snap")
        for encoding in ("raw", "hextile", "zlib", "tight"):  # libvncserver's encoders
            out = os.path.join(work, "snap-%s.jpg" % encoding)
            subprocess.run(["vncsnapshot", "-quiet", "-quality", "100", "-nojpeg", "-encodings", encoding,
                            "127.0.0.1::%d" % port, out], check=True, timeout=60 * timeout_scale(),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            diff = images.mean_abs_difference(images.read_jpeg(out), dumped)
            if diff > 4.0:
                raise Failure("vncsnapshot's picture (%s) is %.2f levels from screendump's on average"
                              % (encoding, diff))
        text = vm.qmp.ok("human-monitor-command", {"command-line": "info vnc"})
        if "Server: 127.0.0.1:%d (ipv4)" % port not in text:
            raise Failure("info vnc: %r" % text)


def passwords(binary, work, kernel):
    with start(binary, work, "pw", kernel, "127.0.0.1:%d,to=%d,password=on" % (BASE, BASE + 15)) as vm:
        port = port_of(vm)

        def login(password):
            try:
                RfbClient(("127.0.0.1", port), password=password, timeout=30).close()
                return True
            except RfbError:
                return False
        if login("anything"):
            raise Failure("a client got in before any password was set")
        vm.qmp.ok("set_password", {"protocol": "vnc", "password": "s3cret"})
        if login("wrong"):
            raise Failure("a wrong password was accepted")
        if not login("s3cret"):
            raise Failure("the right password was refused")
        vm.qmp.ok("expire_password", {"protocol": "vnc", "time": "now"})
        if login("s3cret"):
            raise Failure("an expired password was accepted")
        r = vm.qmp.execute("set_password", {"protocol": "vnc", "password": "x", "connected": "fail"})
        if r.get("error", {}).get("desc") != "Invalid parameter 'connected'":
            raise Failure("set_password connected=fail: %s" % r)


def websocket_and_unix(binary, work, kernel):
    sock = os.path.join(work, "vnc.sock")
    ws_port = 5700 + BASE + 40
    with start(binary, work, "ws", kernel, "unix:%s,websocket=%d" % (sock, ws_port)) as vm:
        servers = vm.qmp.ok("query-vnc-servers")[0]["server"]
        if not any(s["websocket"] and s["service"] == str(ws_port) for s in servers):
            raise Failure("query-vnc-servers has no websocket listener: %s" % servers)
        dumped = screendump(vm, work, "ws")
        for label, client in (("websocket", lambda: RfbClient(("127.0.0.1", ws_port), websocket=True)),
                              ("unix socket", lambda: RfbClient(sock))):
            c = client()
            try:
                if c.snapshot().rgb != dumped.rgb:
                    raise Failure("the %s client's picture differs from screendump's" % label)
            finally:
                c.close()


def default_display(binary, work, kernel):
    args = ["-m", "64", "-nodefaults", "-kernel", kernel]  # no -display, no -vnc: QEMU's default VNC
    with Vmm(binary, work, "default", args) as vm:
        wait_log(vm.serial, "VGA-READY", timeout=int(120 * timeout_scale()))
        deadline = time.monotonic() + 30
        match = None
        while not match and time.monotonic() < deadline:
            match = re.search(r"^VNC server running on 127\.0\.0\.1:(59\d\d)$", vm.stderr_text(), re.M)
            time.sleep(0.1)
        if not match:
            raise Failure("no announcement; stderr: %r" % vm.stderr_text())
        if port_of(vm) != int(match.group(1)):
            raise Failure("query-vnc and the announcement disagree")
        RfbClient(("127.0.0.1", int(match.group(1)))).close()


def stalled_client(binary, work, kernel):
    churn = vga_text_guest.write_image(work, churn=True)
    with start(binary, work, "stall", churn, "127.0.0.1:%d,to=%d" % (BASE, BASE + 15)) as vm:
        port = port_of(vm)
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.recv(12)
        sock.sendall(b"RFB 003.008\n")
        sock.recv(2)
        sock.sendall(b"\x01")
        sock.recv(4)
        sock.sendall(b"\x01")  # shared; the server's init message stays unread from here on
        sock.sendall(struct.pack(">BxHi", 2, 1, 0))  # raw encoding only
        for _ in range(50):  # full-screen raw updates nobody reads
            sock.sendall(struct.pack(">BBHHHH", 3, 0, 0, 0, 720, 400))
        before = dots(vm)
        wait_until(lambda: dots(vm) >= before + 20, 60 * timeout_scale(),
                   "the guest stopped making progress while a client stalled")
        screendump(vm, work, "stall")
        if not vm.qmp.ok("query-status")["running"]:
            raise Failure("not running")
        vm.qmp.ok("human-monitor-command", {"command-line": "info vnc"})
        sock.close()


def dots(vm):
    with open(vm.serial, "rb") as f:
        return f.read().count(b".")


def wait_until(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise Failure(what)
        time.sleep(0.1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kestrel")
    args = ap.parse_args()
    results = Results()
    with tempfile.TemporaryDirectory(prefix="kestrel-vnc-") as work:
        kernel = vga_text_guest.write_image(work)
        for name, fn in (("raw RFB client = screendump; VNC events", raw_client_sees_screendump),
                         ("vncsnapshot (raw, hextile, zlib, tight) = screendump; info vnc", vncsnapshot_sees_screendump),
                         ("password=on, set_password, expire_password", passwords),
                         ("websocket= and unix: clients = screendump", websocket_and_unix),
                         ("default display: VNC on 127.0.0.1, announced", default_display),
                         ("a stalled client holds neither guest nor monitor", stalled_client)):
            results.run(name, lambda fn=fn: fn(args.kestrel, work, kernel))
    return results.finish()


if __name__ == "__main__":
    raise SystemExit(main())
