"""Starting a VMM (kestrel or QEMU) for the display tests: a tiny guest,
its COM1 in a file, QMP on a unix socket; stopped with quit or a kill."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "guest", "drivers"))
from qmp import Failure, Qmp, wait_log  # noqa: E402,F401


class Vmm:
    def __init__(self, binary, work, name, args):
        self.work = work
        self.serial = os.path.join(work, name + ".serial")
        self.qmp_path = os.path.join(work, name + ".qmp")
        self.stderr_path = os.path.join(work, name + ".stderr")
        cmd = [binary]
        if "qemu" in os.path.basename(binary):
            cmd += ["-enable-kvm"]
        cmd += ["-serial", "file:" + self.serial, "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path] + args
        self.cmd = cmd
        self.stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.stderr, stderr=self.stderr)
        self.qmp = Qmp(self.qmp_path, timeout=120)
        self.qmp.ok("qmp_capabilities")

    def stderr_text(self):
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    def close(self):
        try:
            if self.proc.poll() is None:
                self.qmp.execute("quit")
                self.proc.wait(timeout=30)
        except Exception:
            pass
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.stderr.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def qemu_binary():
    return os.environ.get("QEMU", "qemu-system-x86_64")


def timeout_scale():
    return float(os.environ.get("KESTREL_TIMEOUT_SCALE", "1"))


class Results:
    def __init__(self):
        self.passed = self.failed = 0

    def run(self, name, fn):
        start = time.monotonic()
        try:
            fn()
            self.passed += 1
            print("PASS %s %.1fs" % (name, time.monotonic() - start), flush=True)
        except (Failure, OSError, ValueError, KeyError, subprocess.SubprocessError) as e:
            self.failed += 1
            print("FAIL %s %.1fs: %s: %s" % (name, time.monotonic() - start, type(e).__name__, e), flush=True)

    def finish(self):
        print("%d passed, %d failed" % (self.passed, self.failed), flush=True)
        return 0 if self.failed == 0 else 1
