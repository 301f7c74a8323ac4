"""Headless Chromium driven through its DevTools protocol: open a page,
evaluate JavaScript, take a screenshot (Debian's chromium package)."""
import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request

from websocket import WebSocket


class Chromium:
    def __init__(self, url, width=900, height=600, timeout=120):
        binary = shutil.which("chromium") or shutil.which("chromium-browser")
        if not binary:
            raise RuntimeError("no chromium (Debian package chromium)")
        self.profile = tempfile.mkdtemp(prefix="kestrel-chromium-")
        self.proc = subprocess.Popen(
            [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--force-color-profile=srgb",
             "--hide-scrollbars", "--remote-debugging-port=0", "--user-data-dir=" + self.profile,
             "--window-size=%d,%d" % (width, height), url],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port = self._devtools_port(timeout)
        deadline = time.monotonic() + timeout
        target = None
        while not target and time.monotonic() < deadline:
            with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=10) as r:
                pages = [t for t in json.load(r) if t.get("type") == "page"]
            target = pages[0]["webSocketDebuggerUrl"] if pages else None
            time.sleep(0.2)
        self.ws = WebSocket.connect(target, timeout=timeout)
        self.next_id = 0

    def _devtools_port(self, timeout):
        path = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with open(path) as f:
                    return int(f.readline())
            except (OSError, ValueError):
                time.sleep(0.1)
        raise RuntimeError("chromium did not start its DevTools server")

    def call(self, method, params=None):
        self.next_id += 1
        self.ws.send_frame(json.dumps({"id": self.next_id, "method": method, "params": params or {}}).encode(), 0x1)
        while True:
            msg = json.loads(self.ws.recv_message())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"]))
                return msg["result"]

    def evaluate(self, expression):
        return self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})["result"].get("value")

    def screenshot_png(self):
        return base64.b64decode(self.call("Page.captureScreenshot", {"format": "png"})["data"])

    def close(self):
        try:
            self.ws.close()
        except OSError:
            pass
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)
