"""The runner's sign of life for the outer side of the nested test host.

kvmhost stops a test host whose command goes silent for too long (L1 can
hang with both CPUs stuck and no lockup report). A scenario may print
nothing for many minutes, so the runner appends a line to
$KVMHOST_HEARTBEAT every few seconds instead, but only while every
scenario it runs is within its own deadline: a runner stuck past one (a
VMM in uninterruptible sleep, say) goes quiet and is stopped too.
"""

import os
import threading
import time

PERIOD_S = 15


class Heartbeat:
    def __init__(self, path=None, period=PERIOD_S, on_overdue=None):
        self.path = path if path is not None else os.environ.get("KVMHOST_HEARTBEAT")
        self.period = period
        self.on_overdue = on_overdue  # called once with the keys newly overdue
        self.reported = set()
        self.deadlines = {}
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = None

    def start(self):
        if self.path:
            self.thread = threading.Thread(target=self._beat, daemon=True)
            self.thread.start()
        return self

    def stop(self):
        self.stopped.set()
        if self.thread:
            self.thread.join()

    def watch(self, key, seconds):
        with self.lock:
            self.deadlines[key] = time.monotonic() + seconds

    def done(self, key):
        with self.lock:
            self.deadlines.pop(key, None)

    def overdue(self):
        now = time.monotonic()
        with self.lock:
            return sorted(k for k, d in self.deadlines.items() if now > d)

    def _beat(self):
        while not self.stopped.wait(self.period):
            overdue = self.overdue()
            if overdue:
                self._report(overdue)
                continue
            try:
                with open(self.path, "a") as f:
                    f.write("%.0f\n" % time.time())
            except OSError:
                pass

    def _report(self, overdue):
        new = [k for k in overdue if k not in self.reported]
        self.reported.update(new)
        if new and self.on_overdue:
            self.on_overdue(new)
