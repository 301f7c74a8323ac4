#!/usr/bin/env python3
"""noVNC (npm package @novnc/novnc) in headless Chromium (Debian's
chromium) connects to kestrel's websocket= port and shows the guest's text
screen: a screenshot of the page holds screendump's picture.

The noVNC package is fetched once with `npm pack` into
${KESTREL_CACHE:-~/.cache/kestrel}/novnc (the tests' asset step; no
download while a test runs once it is there).

usage: novnc_test.py build/kestrel     Ends with "N passed, N failed".
"""
import argparse
import functools
import http.server
import os
import random
import shutil
import subprocess
import tarfile
import tempfile
import threading
import time

import images
import vga_text_guest
from chromium import Chromium
from vmm import Failure, Results, Vmm, timeout_scale, wait_log

NOVNC_VERSION = "1.4.0"


def novnc_package():
    cache = os.path.join(os.environ.get("KESTREL_CACHE", os.path.expanduser("~/.cache/kestrel")), "novnc")
    tarball = os.path.join(cache, "novnc-novnc-%s.tgz" % NOVNC_VERSION)
    if not os.path.exists(tarball):
        os.makedirs(cache, exist_ok=True)
        subprocess.run(["npm", "pack", "@novnc/novnc@" + NOVNC_VERSION, "--pack-destination", cache], check=True,
                       stdout=subprocess.DEVNULL)
    return tarball


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(directory):
    handler = functools.partial(QuietHandler, directory=directory)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def find_subimage(big, small):
    """(x, y) where `small` lies pixel for pixel in `big`, or None."""
    first = small.rgb[:small.width * 3]
    for y in range(big.height - small.height + 1):
        row = big.rgb[y * big.width * 3:(y + 1) * big.width * 3]
        x = row.find(first)
        while x >= 0 and x % 3:
            x = row.find(first, x + 1)
        if x >= 0:
            x //= 3
            if all(big.rgb[((y + r) * big.width + x) * 3:((y + r) * big.width + x + small.width) * 3] ==
                   small.rgb[r * small.width * 3:(r + 1) * small.width * 3] for r in range(small.height)):
                return x, y
    return None


def novnc_shows_guest(binary, work, kernel, site):
    ws_port = random.randint(15700, 15999)
    args = ["-m", "64", "-nodefaults", "-vga", "std", "-kernel", kernel,
            "-vnc", "127.0.0.1:%d,to=99,websocket=%d" % (random.randint(30, 80), ws_port)]
    with Vmm(binary, work, "novnc", args) as vm:
        wait_log(vm.serial, "VGA-READY", timeout=int(120 * timeout_scale()))
        dump = os.path.join(work, "novnc.ppm")
        vm.qmp.ok("screendump", {"filename": dump})
        expected = images.read_ppm(dump)
        server = serve(site)
        browser = Chromium("http://127.0.0.1:%d/novnc_page.html?port=%d" % (server.server_address[1], ws_port))
        try:
            deadline = time.monotonic() + 60 * timeout_scale()
            while browser.evaluate("document.title") != "connected":
                if time.monotonic() > deadline:
                    raise Failure("noVNC did not connect: title %r" % browser.evaluate("document.title"))
                time.sleep(0.2)
            vm.qmp.wait_event("VNC_INITIALIZED", timeout=30)
            found = None
            while not found and time.monotonic() < deadline:
                time.sleep(0.5)
                shot = images.read_png_bytes(browser.screenshot_png())
                found = find_subimage(shot, expected)
            if not found:
                with open(os.path.join(work, "novnc-screenshot.png"), "wb") as f:
                    f.write(browser.screenshot_png())
                raise Failure("the page's screenshot does not hold the guest's screen")
        finally:
            browser.close()
            server.shutdown()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kestrel")
    args = ap.parse_args()
    results = Results()
    with tempfile.TemporaryDirectory(prefix="kestrel-novnc-") as work:
        kernel = vga_text_guest.write_image(work)
        site = os.path.join(work, "site")
        with tarfile.open(novnc_package()) as tar:
            tar.extractall(work)
        shutil.move(os.path.join(work, "package"), site)
        shutil.copy(os.path.join(os.path.dirname(os.path.abspath(__file__)), "novnc_page.html"), site)
        results.run("noVNC in headless Chromium shows the guest's screen",
                    lambda: novnc_shows_guest(args.kestrel, work, kernel, site))
    return results.finish()


if __name__ == "__main__":
    raise SystemExit(main())
