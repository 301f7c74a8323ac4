"""`virsh console` on a pseudo-terminal of the test's own: the test reads
what the guest prints on its serial console and types lines into it,
as a user at `virsh console` would."""

import os
import re
import select
import signal
import subprocess
import termios
import time


class VirshConsole:
    def __init__(self, name):
        master, slave = os.openpty()
        self.master = master
        # virsh console insists on a terminal on stdin; --force takes the
        # console over from a session a restarted libvirtd left behind.
        self.proc = subprocess.Popen(["virsh", "-c", "qemu:///system", "console", "--force", name],
                                     stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
        os.close(slave)
        self.text = ""
        self.seen = 0   # how far expect() has consumed self.text
        self.commands = 0

    def connected(self, timeout):
        """Waits for virsh's banner and then for virsh to set the terminal
        raw: it does so with TCSAFLUSH after the banner, so a line typed in
        between is lost."""
        deadline = time.monotonic() + timeout
        if self.expect(r"^Escape character is", timeout) is None:
            return False
        while self._echoes():
            if time.monotonic() >= deadline or self.proc.poll() is not None:
                return False
            self._read(0.05)
        return True

    def _echoes(self):
        """Whether the terminal is still cooked (on Linux the master reports
        the slave side's modes)."""
        try:
            return bool(termios.tcgetattr(self.master)[3] & termios.ECHO)
        except termios.error:
            return False

    def _read(self, timeout):
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return False
        try:
            data = os.read(self.master, 65536)
        except OSError:   # virsh exited: the pty's other side is closed
            time.sleep(min(timeout, 0.5))
            return False
        self.text += data.decode(errors="replace").replace("\r", "")
        return True

    def expect(self, pattern, timeout):
        """Waits until `pattern` (a regex, multiline) appears in what came
        after the last match; returns the match or None."""
        regex = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        while True:
            m = regex.search(self.text, self.seen)
            if m:
                self.seen = m.end()
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self._read(min(left, 1.0))

    def expect_all(self, patterns, timeout):
        """Waits until every pattern appeared after the last match, in any
        order (the guest prints some from a background job)."""
        start = self.seen
        deadline = time.monotonic() + timeout
        ends = []
        for pattern in patterns:
            self.seen = start
            m = self.expect(pattern, max(deadline - time.monotonic(), 0))
            if not m:
                return False
            ends.append(m.end())
        self.seen = max(ends)
        return True

    def type_line(self, line):
        os.write(self.master, (line + "\n").encode())

    def run(self, command, timeout):
        """Types `command` for the guest's read loop; returns what it printed
        (None when its end marker did not come within `timeout`). The end
        marker is computed by the guest's shell, so the echoed input line
        never matches it."""
        self.commands += 1
        n = 7000 + self.commands
        start = len(self.text)
        self.type_line("%s; echo KTEST-DONE-$((%d+1))" % (command, n - 1))
        m = self.expect(r"^KTEST-DONE-%d$" % n, timeout)
        return self.text[start:m.start()] if m else None

    def tail(self, chars=1500):
        return self.text[-chars:]

    def close(self):
        """Leaves as a user does, with the escape character (Ctrl-]); virsh
        console ignores SIGTERM (it waited out a 30 s kill timeout at every
        libvirtd restart), so a virsh that is still there is killed."""
        if self.proc.poll() is None:
            try:
                os.write(self.master, b"\x1d")
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        os.close(self.master)
