#!/usr/bin/env python3
"""Host side of the e1000-user scenario (an e1000 on -nic user):

  e1000_user.py QMP_SOCKET SERIAL_LOG PORT FWD_PORT [RESTRICTED_FWD_PORT [TFTP_DIR]]

- serves HTTP on every address at PORT: /blob (8 MiB random), /blob.sha256
  (the guest fetches them through slirp from 10.0.2.2);
- when the guest prints GUEST-HTTPD-READY, fetches the guest's /blob and
  /blob.sha256 through the command line's hostfwd (127.0.0.1:FWD_PORT ->
  guest port 7621) and compares; adds a second rule at run time with HMP
  hostfwd_add (FWD_PORT+1 -> guest port 7622: a guest port of its own, so
  that a host port reused toward the other rule cannot meet a connection
  the guest still holds in TIME_WAIT), fetches through it, checks info usernet and
  removes it with hostfwd_remove (then nothing listens there);
- with TFTP_DIR, puts hello.txt there ("kestrel tftp ok") for the guest's
  TFTP client (user networking's tftp=);
- with RESTRICTED_FWD_PORT, fetches the guest's blob through that rule of
  a restrict=on network too;
- set_link e1000.0 off, waits for the guest's CARRIER=0, on, CARRIER=1.
Exits 0 when every check held.
"""

import fcntl
import hashlib
import http.server
import struct
import os
import socket
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp import deadline_after, Failure, Qmp, check, main, wait_log  # noqa: E402

BLOB = os.urandom(8 << 20)
BLOB_SHA = hashlib.sha256(BLOB).hexdigest()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = {"/blob": BLOB, "/blob.sha256": ("%s  blob\n" % BLOB_SHA).encode()}.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def serve(port):
    server = http.server.ThreadingHTTPServer(("", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()


def fetch(port, path, timeout=60):
    deadline = deadline_after(timeout)
    while True:
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=30) as r:
                return r.read()
        except OSError as e:
            if time.monotonic() > deadline:
                raise Failure("fetching %s through port %d: %s" % (path, port, e))
            time.sleep(0.5)


def fetch_checked(port):
    blob = fetch(port, "/blob")
    sha = fetch(port, "/blob.sha256").decode().split()[0]
    check(len(blob) == 8 << 20 and hashlib.sha256(blob).hexdigest() == sha,
          "8 MiB from the guest through hostfwd port %d, sha256 %s" % (port, sha[:16]))


def hmp(q, line):
    out = q.ok("human-monitor-command", {"command-line": line})
    print("hmp %r -> %r" % (line, out), flush=True)
    return out


def loopback_up():
    """The test host (L1) leaves lo down; slirp reaches the host's servers
    (10.0.2.2) and its hostfwd listeners live on 127.0.0.1."""
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        flags = struct.unpack("16sH", fcntl.ioctl(s, siocgifflags, struct.pack("16sH", b"lo", 0))[:18])[1]
        fcntl.ioctl(s, siocsifflags, struct.pack("16sH", b"lo", flags | iff_up))


def steps(qmp_path, serial, port, fwd, restricted_fwd=None):
    loopback_up()
    serve(port)
    q = Qmp(qmp_path)
    q.ok("qmp_capabilities")
    wait_log(serial, r"^GUEST-HTTPD-READY$", timeout=240)
    fetch_checked(fwd)
    if restricted_fwd:
        fetch_checked(restricted_fwd)
    check(hmp(q, "hostfwd_add tcp:127.0.0.1:%d-:7622" % (fwd + 1)) == "", "hostfwd_add at run time")
    fetch_checked(fwd + 1)
    usernet = hmp(q, "info usernet")
    check(usernet.startswith("Hub -1 (") and usernet.count("HOST_FORWARD") >= 2,
          "info usernet lists both forwarding listeners")
    check(hmp(q, "hostfwd_remove tcp:127.0.0.1:%d" % (fwd + 1)) ==
          "host forwarding rule for tcp:127.0.0.1:%d removed\r\n" % (fwd + 1), "hostfwd_remove")
    s = socket.socket()
    refused = s.connect_ex(("127.0.0.1", fwd + 1)) != 0
    s.close()
    check(refused, "nothing listens on the removed rule's port")
    check(hmp(q, "hostfwd_add tcp::bad") == "Invalid host forwarding rule 'tcp::bad' (Bad host port separator)\r\n",
          "a bad rule is refused with QEMU's text")
    q.ok("set_link", {"name": "e1000.0", "up": False})
    wait_log(serial, r"^CARRIER=0$", timeout=60)
    q.ok("set_link", {"name": "e1000.0", "up": True})
    wait_log(serial, r"^CARRIER=1$", timeout=60)


if __name__ == "__main__":
    qmp_path, serial, port, fwd = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    restricted_fwd = int(sys.argv[5]) if len(sys.argv) > 5 else None
    if len(sys.argv) > 6:
        os.makedirs(sys.argv[6], exist_ok=True)
        with open(os.path.join(sys.argv[6], "hello.txt"), "w") as f:
            f.write("kestrel tftp ok\n")
    sys.exit(main(lambda: steps(qmp_path, serial, port, fwd, restricted_fwd)))
