"""Runs a VMM command with -nographic on a pseudo-terminal, as a user at a
terminal would, relays everything it prints to stdout, and types QEMU's
Ctrl-A keys once the guest is up: C-a h (help), C-a c (to the monitor),
"info status", C-a c (back to the serial port), C-a x (exit). Prints
KTEST-CTRLA-* markers for the scenario and exits with the VMM's status.

usage: nographic_ctrl_a.py VMM-ARGV..."""

import os
import pty
import re
import select
import sys
import time
from qmp import deadline_after  # noqa: E402

TIMEOUT = 240


class Terminal:
    def __init__(self, argv):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execvp(argv[0], argv)
        self.seen = ""

    def pump(self, seconds):
        end = deadline_after(seconds)
        while time.monotonic() < end:
            r, _, _ = select.select([self.fd], [], [], 0.1)
            if not r:
                continue
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                return False
            if not data:
                return False
            text = data.decode(errors="replace")
            self.seen += text
            sys.stdout.write(text.replace("\r", ""))
            sys.stdout.flush()
        return True

    def expect(self, regex, seconds=60):
        end = deadline_after(seconds)
        start = len(self.seen)
        while time.monotonic() < end:
            if re.search(regex, self.seen[start:]):
                return True
            if not self.pump(0.2):
                return bool(re.search(regex, self.seen[start:]))
        return False

    def type(self, data):
        os.write(self.fd, data)


def marker(name):
    print("\nKTEST-CTRLA-" + name, flush=True)


def main(argv):
    t = Terminal(argv)
    if not t.expect("KTEST-NOGRAPHIC-READY", TIMEOUT):
        marker("NO-GUEST")
        return 3
    t.type(b"\x01h")
    if t.expect(r"C-a x\s+exit emulator", 10):
        marker("HELP")
    t.type(b"\x01c")
    t.pump(1)
    t.type(b"info status\r")
    if t.expect("VM status: running", 10):
        marker("MONITOR")
    t.type(b"\x01c")
    t.pump(1)
    t.type(b"echo KTEST-SERIAL-$((40+2))\r")
    if t.expect("KTEST-SERIAL-42", 10):
        marker("SERIAL")
    t.type(b"\x01x")
    if t.expect("QEMU: Terminated", 10):
        marker("EXIT")
    _, status = os.waitpid(t.pid, 0)
    t.pump(0.5)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
