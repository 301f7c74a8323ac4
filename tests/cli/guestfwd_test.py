#!/usr/bin/env python3
"""-netdev user's guestfwd= rules to a character device: bad rules on kestrel
and on QEMU 7.2 with the same command lines must give the same messages
(program name aside) and exit status 1: rule syntax, a device spec that is
no chardev, one that cannot be opened (a refused connection, a missing
file or socket), chardev:ID of an unknown or taken chardev, two rules on
one port, a label a -chardev holds, and slirp refusing the address (the
host's, DNS, outside the network). Then a good rule: a tcp: spec connects
to a server at start-up, and the machine runs.

usage: guestfwd_test.py PATH/TO/kestrel
Prints one PASS/FAIL line per case, then "N passed, N failed"."""
import os
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "libvirt"))
from results import report, summary  # noqa: E402

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


def main():
    if len(sys.argv) != 2 or not os.access(sys.argv[1], os.X_OK):
        print("usage: %s PATH/TO/kestrel" % sys.argv[0], file=sys.stderr)
        return 2
    kestrel = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory(prefix="kestrel-guestfwd-") as work:
        outcomes = [(name, compare(kestrel, name, args, work)) for name, args in CASES]
        outcomes.append(("a tcp: device connects at start-up", good_rule(kestrel, work)))
    for name, failures in outcomes:
        report(not failures, name, "\n".join(failures))
    return summary()


if __name__ == "__main__":
    sys.exit(main())
