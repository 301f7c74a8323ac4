#!/usr/bin/env python3
"""-netdev user's guestfwd= rules to a character device: bad rules on kestrel
and on QEMU 7.2 with the same command lines must give the same messages
(program name aside) and exit status 1: rule syntax, a device spec that is
no chardev, one that cannot be opened (a refused connection, a missing
file or socket), chardev:ID of an unknown or taken chardev, two rules on
one port, a label a -chardev holds, and slirp refusing the address (the
host's, DNS, outside the network). Then a good rule: a tcp: spec connects
to a server at start-up, and the machine runs. At run time (netdev_add in
QMP and HMP), the same script on both: a tcp: spec connects and becomes
the chardev guestfwd.tcp.PORT, chardev:ID takes that chardev, netdev_del
deletes both and the server sees its connection close; the errors (no
char driver, a refused connection, an unknown or taken chardev, slirp
refusing, a later rule failing) with QEMU's replies, HMP lines and stderr
reasons, and the chardevs left afterwards (query-chardev).

usage: guestfwd_test.py PATH/TO/kestrel
Prints one PASS/FAIL line per case, then "N passed, N failed"."""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "libvirt"))
from results import report, summary  # noqa: E402
from sandbox_test import Vm  # noqa: E402

QEMU = "qemu-system-x86_64"
BASE = ["-nodefaults", "-display", "none", "-S", "-accel", "kvm", "-m", "64"]

NIC = ["-device", "virtio-net-pci,netdev=n"]

# (name, extra arguments); "{work}" is a scratch directory.
CASES = [
    ("not a rule", ["-netdev", "user,id=n,guestfwd=tcp:10.0.2.100"]),
    ("udp rule", ["-netdev", "user,id=n,guestfwd=udp:10.0.2.100:80-null"]),
    ("port 0", ["-netdev", "user,id=n,guestfwd=tcp:10.0.2.100:0-null"]),
    ("bad server", ["-netdev", "user,id=n,guestfwd=tcp:10.0.2.x:80-null"]),
    ("not a char driver", ["-netdev", "user,id=n,guestfwd=tcp:10.0.2.100:1234-bogus"]),
    ("empty device", ["-nic", "user,guestfwd=tcp:10.0.2.100:1234-"]),
    ("tcp spec without a port", ["-netdev", "user,id=n,guestfwd=tcp:10.0.2.100:7-tcp:nohost"]),
    # (with a NIC: kestrel prints "netdev n has no peer" before opening chardevs, QEMU after)
    ("refused connection", ["-netdev", "user,id=n,guestfwd=tcp:10.0.2.100:1234-tcp:127.0.0.1:1"] + NIC),
    ("missing unix socket", ["-netdev", "user,id=n,guestfwd=tcp:10.0.2.100:1234-unix:{work}/none"] + NIC),
    ("file in a missing directory", ["-netdev", "user,id=n,guestfwd=tcp:10.0.2.100:1234-file:{work}/no/f"] + NIC),
    ("unknown chardev", ["-netdev", "user,id=n,guestfwd=tcp:10.0.2.100:1234-chardev:nope"]),
    ("chardev named twice", ["-chardev", "null,id=c0", "-netdev",
                             "user,id=n,guestfwd=tcp:10.0.2.100:1-chardev:c0,guestfwd=tcp:10.0.2.101:1-chardev:c0"]),
    ("two rules on one port", ["-netdev",
                               "user,id=n,guestfwd=tcp:10.0.2.100:1234-null,guestfwd=tcp:10.0.2.101:1234-null"]),
    ("a -chardev holds the label", ["-netdev", "user,id=n,guestfwd=tcp:10.0.2.100:1234-null",
                                    "-chardev", "null,id=guestfwd.tcp.1234"]),
    ("the host's address", ["-netdev", "user,id=n,guestfwd=tcp:10.0.2.2:1234-null"]),
    ("the DNS address", ["-nic", "user,guestfwd=tcp:10.0.2.3:1234-null"]),
    ("outside the network", ["-netdev", "user,id=n,guestfwd=tcp:192.168.1.1:1234-null"]),
]


def run(vmm, args, timeout=30):
    proc = subprocess.run([vmm] + BASE + args, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    prefix = os.path.basename(vmm) + ": "
    lines = [line[len(prefix):] if line.startswith(prefix) else line
             for line in proc.stderr.decode(errors="replace").splitlines()]
    return proc.returncode, lines


def compare(kestrel, name, args, work):
    args = [a.replace("{work}", work) for a in args]
    want = run(QEMU, args)
    got = run(kestrel, args)
    if want[0] != 1:
        return ["QEMU exited %s (%s): not a bad rule" % (want[0], want[1])]
    return [] if got == want else ["kestrel %r, QEMU %r" % (got, want)]


def good_rule(kestrel, work):
    """A tcp: spec connects at start-up; the machine then runs until killed."""
    failures = []
    for vmm in (kestrel, QEMU):
        server = socket.create_server(("127.0.0.1", 0))
        port = server.getsockname()[1]
        proc = subprocess.Popen([vmm] + BASE + ["-netdev", "user,id=n,guestfwd=tcp:10.0.2.100:80-tcp:127.0.0.1:%d" % port],
                                stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
        server.settimeout(30)
        try:
            conn, _ = server.accept()
            conn.close()
        except OSError as e:
            failures.append("%s did not connect: %s" % (vmm, e))
        if proc.poll() is not None:
            failures.append("%s exited %s" % (vmm, proc.returncode))
        proc.kill()
        proc.wait()
        server.close()
    return failures


def fwd(*rules):
    return [{"str": r} for r in rules]


class Transcript(Vm):
    """A VMM under QMP whose replies, HMP output and chardev lists are
    written down, ports of this run's server replaced by PORT."""

    def __init__(self, vmm, work, port, extra):
        super().__init__(vmm, work, extra, name="gf")
        self.connect()
        self.port = port
        self.lines = []

    def note(self, what):
        text = json.dumps(what, sort_keys=True).replace(str(self.port), "PORT")
        self.lines.append(re.sub(r"127\.0\.0\.1:\d+ <->", "127.0.0.1:LOCAL <->", text))

    def add(self, netdev_id, *rules):
        self.note(self.cmd("netdev_add", {"type": "user", "id": netdev_id, "guestfwd": fwd(*rules)}))

    def hmp(self, line):
        self.note(self.cmd("human-monitor-command", {"command-line": line}))

    def chardevs(self):
        self.note(sorted("%s %s %s" % (c["label"], c["filename"], c["frontend-open"])
                         for c in self.cmd("query-chardev")["return"]))


def runtime_script(vmm, work, server, port):
    """netdev_add and netdev_del with guestfwd= rules; returns the transcript,
    the reasons on stderr and whether the server saw a connection come and go."""
    v = Transcript(vmm, work, port, ["-chardev", "null,id=c0", "-chardev", "null,id=c1", "-chardev", "null,id=c2"])
    try:
        v.add("u1", "tcp:10.0.2.100:80-tcp:127.0.0.1:%d" % port)
        conn, _ = server.accept()
        v.add("u2", "tcp:10.0.2.100:81-chardev:c0")
        v.chardevs()
        v.note(v.cmd("netdev_del", {"id": "u1"}))
        closed = conn.recv(1) == b""
        conn.close()
        v.hmp("netdev_del u2")
        v.chardevs()
        # HMP keeps the last of a repeated key: c1 stays free.
        v.hmp("netdev_add user,id=h1,guestfwd=tcp:10.0.2.100:82-chardev:c1,guestfwd=tcp:10.0.2.100:83-null")
        v.chardevs()
        v.add("e1", "tcp:10.0.2.100:84-bogus")
        v.hmp("netdev_add user,id=e2,guestfwd=tcp:10.0.2.100:85-tcp:127.0.0.1:1")
        v.add("e3", "tcp:10.0.2.100:86-chardev:nope")
        v.add("e4", "tcp:10.0.2.2:87-null")                                  # slirp refuses: the chardev goes
        v.add("e5", "tcp:10.0.2.100:88-null", "tcp:10.0.2.100:89-file:%s/no/f" % work)
        v.add("e6", "tcp:10.0.2.100:90-null", "tcp:10.0.2.2:91-null")          # the later rule fails first
        v.add("e7", "tcp:10.0.2.100:92-null", "tcp:10.0.2.100:93-cmd:cat", "tcp:10.0.2.2:94-chardev:c1")  # c1 goes
        v.add("e8", "tcp:10.0.2.100:95-null")
        v.add("e9", "tcp:10.0.2.100:95-null")                                # the label an earlier rule made
        v.chardevs()
        v.hmp("info network")
        v.hmp("netdev_add user,id=u3,guestfwd=tcp:10.0.2.100:96-chardev:c2")
        # Last: QEMU then deletes c2 although u3 holds it (kestrel keeps it).
        v.hmp("netdev_add user,id=e10,guestfwd=tcp:10.0.2.100:97-chardev:c2")
        v.note(v.cmd("quit"))
        v.wait(30)
        reasons = [line for line in v.proc.stderr.read().decode(errors="replace").splitlines() if "warning:" not in line]
        return v.lines, reasons, closed
    finally:
        if v.proc.poll() is None:
            v.proc.kill()
            v.proc.wait()


def runtime_rules(kestrel, work):
    """The run-time script on QEMU and kestrel: the same transcripts."""
    runs = {}
    for vmm in (QEMU, kestrel):
        server = socket.create_server(("127.0.0.1", 0))
        server.settimeout(30)
        try:
            runs[vmm] = runtime_script(vmm, work, server, server.getsockname()[1])
        except Exception as e:  # noqa: BLE001 (a hang or a missing connection fails the case)
            runs[vmm] = ([], [], "%s: %s" % (type(e).__name__, e))
        finally:
            server.close()
    failures = []
    (q_lines, q_reasons, q_closed), (k_lines, k_reasons, k_closed) = runs[QEMU], runs[kestrel]
    if q_closed is not True:
        failures.append("QEMU: the forwarded connection did not close at netdev_del (%s)" % q_closed)
    if k_closed is not True:
        failures.append("kestrel: the forwarded connection did not close at netdev_del (%s)" % k_closed)
    for i in range(max(len(q_lines), len(k_lines))):
        q = q_lines[i] if i < len(q_lines) else None
        k = k_lines[i] if i < len(k_lines) else None
        if q != k:
            failures.append("step %d: kestrel %s, QEMU %s" % (i, k, q))
    if k_reasons != q_reasons:
        failures.append("stderr: kestrel %r, QEMU %r" % (k_reasons, q_reasons))
    return failures


def main():
    if len(sys.argv) != 2 or not os.access(sys.argv[1], os.X_OK):
        print("usage: %s PATH/TO/kestrel" % sys.argv[0], file=sys.stderr)
        return 2
    kestrel = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory(prefix="kestrel-guestfwd-") as work:
        outcomes = [(name, compare(kestrel, name, args, work)) for name, args in CASES]
        outcomes.append(("a tcp: device connects at start-up", good_rule(kestrel, work)))
        outcomes.append(("netdev_add and netdev_del with guestfwd= chardevs", runtime_rules(kestrel, work)))
    for name, failures in outcomes:
        report(not failures, name, "\n".join(failures))
    return summary()


if __name__ == "__main__":
    sys.exit(main())
