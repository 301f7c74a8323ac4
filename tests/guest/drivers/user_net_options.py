#!/usr/bin/env python3
"""Host side of the net-user-options scenario:

  user_net_options.py SERIAL_LOG HTTP6_PORT

Serves HTTP on [::]:HTTP6_PORT (/v6: "kestrel ipv6 ok") for the guest,
which fetches it over IPv6 through user networking's host address (slirp
connects to the host's ::1), and waits until the guest has printed its
last line. Exits 0 when the server was reached over IPv6.
"""

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


def steps():
    log, port = sys.argv[1], int(sys.argv[2])
    server = Server6(("::", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    wait_log(log, r"^OPTIONS-DONE$", timeout=600)
    check(peers and all(":" in p for p in peers), "the guest's request reached the host over IPv6 (%s)" % peers)


if __name__ == "__main__":
    sys.exit(main(steps))
