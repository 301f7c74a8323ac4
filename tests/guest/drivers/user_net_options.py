#!/usr/bin/env python3
"""Host side of the net-user-options scenario:

  user_net_options.py SERIAL_LOG HTTP6_PORT GUESTFWD_PORT

Serves HTTP on [::]:HTTP6_PORT (/v6: "kestrel ipv6 ok") for the guest,
which fetches it over IPv6 through user networking's host address (slirp
connects to the host's ::1), and listens on 127.0.0.1:GUESTFWD_PORT for the
chardev of a guestfwd= rule (tcp:127.0.0.1:GUESTFWD_PORT,reconnect=1):
through it it answers the guest's "hello N" lines with "welcome N", and an
"upload SIZE MD5" followed by SIZE bytes with "down SIZE MD5 up-ok|up-bad"
followed by SIZE bytes of its own. Waits until the guest has printed its
last line. Exits 0 when the server was reached over IPv6 and the guest's
upload arrived whole.
"""

import hashlib
import http.server
import os
import socket
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp import check, main, wait_log  # noqa: E402

BODY = b"kestrel ipv6 ok\n"
peers = []


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        peers.append(self.client_address[0])
        if self.path != "/v6":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args):
        pass


class Server6(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6


DOWNLOAD = bytes((i * 7 + (i >> 9)) & 0xff for i in range(512 * 1024))
guestfwd = {"connections": 0, "hellos": 0, "uploads": []}


def serve_guestfwd(listener):
    """The guestfwd chardev's peer: one connection at a time, lines in."""
    while True:
        conn, _ = listener.accept()
        guestfwd["connections"] += 1
        with conn, conn.makefile("rb") as stream:
            for line in stream:
                words = line.split()
                if words[:1] == [b"hello"] and len(words) == 2:
                    guestfwd["hellos"] += 1
                    conn.sendall(b"welcome " + words[1] + b"\n")
                elif words[:1] == [b"upload"] and len(words) == 3:
                    data = stream.read(int(words[1]))
                    ok = len(data) == int(words[1]) and hashlib.md5(data).hexdigest() == words[2].decode()
                    guestfwd["uploads"].append((len(data), ok))
                    header = "down %d %s %s\n" % (len(DOWNLOAD), hashlib.md5(DOWNLOAD).hexdigest(),
                                                  "up-ok" if ok else "up-bad")
                    conn.sendall(header.encode() + DOWNLOAD)


def steps():
    log, port, fwd_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    listener = socket.create_server(("127.0.0.1", fwd_port))
    threading.Thread(target=serve_guestfwd, args=(listener,), daemon=True).start()
    server = Server6(("::", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    wait_log(log, r"^OPTIONS-DONE$", timeout=600)
    check(peers and all(":" in p for p in peers), "the guest's request reached the host over IPv6 (%s)" % peers)
    check(guestfwd["uploads"] == [(512 * 1024, True)],
          "the guest's 512 KiB came through the guestfwd chardev whole (%s; %d connection(s), %d hello(s))"
          % (guestfwd["uploads"], guestfwd["connections"], guestfwd["hellos"]))


if __name__ == "__main__":
    sys.exit(main(steps))
