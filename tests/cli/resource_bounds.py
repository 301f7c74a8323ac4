#!/usr/bin/env python3
"""kestrel's memory and file descriptors stay flat under client abuse of
its monitors (-S: no guest code runs, every thread is there). Needs
/dev/kvm.

- 50 000 QMP commands as fast as a client can send them (replies read);
- a client that sends 20 000 commands and never reads a reply: the
  replies queue up to the chardev's bound (16 MiB), the rest is dropped,
  and the queue's memory goes when the client does;
- an 80 MiB JSON string: QEMU's 64 MiB token limit ends it with an error
  and the monitor serves the next command; what malloc keeps of it is
  bounded by that limit, and a second and third such string add nothing;
- 10 000 clients connect to the QMP socket and go (half of them in the
  middle of a command), then 1000 to the HMP socket;
after each, VmRSS may have grown by at most the stated bound over the
start and the fd count must be back where it was.

usage: resource_bounds.py PATH/TO/kestrel
Prints one PASS/FAIL line per case with the numbers, then "N passed, N failed"."""
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

MiB = 1 << 20


def rss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def connect(path, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class Client:
    def __init__(self, path):
        self.sock = connect(path)
        self.f = self.sock.makefile("rwb")
        self.f.readline()
        self.cmd("qmp_capabilities")

    def cmd(self, name):
        self.f.write(b'{"execute": "%s"}\n' % name.encode())
        self.f.flush()
        return json.loads(self.f.readline())

    def close(self):
        self.f.close()
        self.sock.close()


def settle(pid, client_path):
    """Waits until kestrel has handled what was sent (a round trip)."""
    c = Client(client_path)
    assert "return" in c.cmd("query-status")
    c.close()
    time.sleep(0.3)


def flood_with_reads(path):
    c = Client(path)
    n = 50000
    done = threading.Event()
    got = [0]

    def reader():
        for _ in range(n):
            if not c.f.readline():
                break
            got[0] += 1
        done.set()

    t = threading.Thread(target=reader)
    t.start()
    chunk = b'{"execute": "query-status"}\n' * 100
    for _ in range(n // 100):
        c.sock.sendall(chunk)
    done.wait(120)
    t.join(1)
    c.close()
    assert got[0] == n, "%d of %d replies" % (got[0], n)


def flood_without_reads(path):
    c = Client(path)
    c.sock.setblocking(False)
    chunk = b'{"execute": "query-commands"}\n' * 50
    sent = 0
    deadline = time.monotonic() + 60
    while sent < 20000 and time.monotonic() < deadline:
        try:
            c.sock.send(chunk)
            sent += 50
        except BlockingIOError:
            time.sleep(0.01)  # kestrel reads more slowly than we write: fine
    time.sleep(1)
    c.close()


def giant_token(path):
    c = Client(path)
    c.sock.sendall(b'{"execute": "query-status", "id": "')
    block = b"x" * MiB
    for _ in range(80):
        c.sock.sendall(block)
    c.sock.sendall(b'"}\n{"execute": "query-status", "id": "after"}\n')
    first = json.loads(c.f.readline())
    assert first.get("error", {}).get("desc") == "JSON token size limit exceeded", str(first)[:200]
    while True:  # the rest of the string makes more errors, then the next command is served
        reply = json.loads(c.f.readline())
        if reply.get("id") == "after":
            break
        assert "error" in reply, str(reply)[:200]
    assert "return" in reply, str(reply)[:200]
    c.close()


def churn(path, n, mid_command):
    for i in range(n):
        s = connect(path)
        if mid_command and i % 2:
            s.sendall(b'{"execute": "qmp_capab')
        s.close()


CASES = [
    ("50 000 QMP commands, replies read", lambda w: flood_with_reads(w["qmp"]), 4 * MiB),
    ("20 000 QMP commands, no reply read", lambda w: flood_without_reads(w["qmp"]), 4 * MiB),
    ("an 80 MiB JSON token", lambda w: giant_token(w["qmp"]), 72 * MiB),
    ("two more 80 MiB JSON tokens", lambda w: giant_token(w["qmp"]) or giant_token(w["qmp"]), 8 * MiB),
    ("10 000 QMP clients come and go", lambda w: churn(w["qmp"], 10000, True), 4 * MiB),
    ("1000 HMP clients come and go", lambda w: churn(w["hmp"], 1000, False), 4 * MiB),
]


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    kestrel = os.path.abspath(sys.argv[1])
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="kestrel-bounds-") as work:
        paths = {"qmp": os.path.join(work, "qmp.sock"), "hmp": os.path.join(work, "hmp.sock")}
        proc = subprocess.Popen([kestrel, "-S", "-m", "64", "-display", "none", "-nodefaults",
                                 "-qmp", "unix:%s,server=on,wait=off" % paths["qmp"],
                                 "-monitor", "unix:%s,server=on,wait=off" % paths["hmp"]],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            settle(proc.pid, paths["qmp"])
            for name, run, bound in CASES:
                rss0, fds0 = rss(proc.pid), fds(proc.pid)
                started = time.monotonic()
                try:
                    run(paths)
                    settle(proc.pid, paths["qmp"])
                    grew, fds1 = rss(proc.pid) - rss0, fds(proc.pid)
                    detail = "RSS %+.1f MiB (bound %d), fds %d -> %d, %.1f s" % (
                        grew / MiB, bound // MiB, fds0, fds1, time.monotonic() - started)
                    assert proc.poll() is None, "kestrel exited: %s" % proc.stderr.read()
                    assert grew <= bound, detail
                    assert fds1 == fds0, detail
                    passed += 1
                    print("PASS %s: %s" % (name, detail), flush=True)
                except Exception as e:  # noqa: BLE001 - every failure is reported
                    failed += 1
                    print("FAIL %s: %s" % (name, e), flush=True)
        finally:
            proc.kill()
            proc.wait()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
