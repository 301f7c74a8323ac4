"""Helpers for the virtio-balloon drivers: the VMM's memory as /proc shows
it, the balloon's size as the guest reports it (BALLOON_CHANGE and
query-balloon), and the guest's statistics through qom-get."""

import os
import time

from qmp import deadline_after, Failure, check

MiB = 1 << 20
UNSET = (1 << 64) - 1


def rss_mib(pid):
    """Resident memory of process `pid` (VmRSS), MiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise Failure("no VmRSS for pid %d" % pid)


def allocated_mib(path):
    return os.stat(path).st_blocks * 512 / MiB


def wait_actual(q, target, timeout=240):
    """Waits until the guest reports `target` bytes outside its balloon:
    BALLOON_CHANGE events (rate-limited, the last one wins) and
    query-balloon must both say so."""
    deadline = deadline_after(timeout)
    last = None
    while time.monotonic() < deadline:
        try:
            last = q.wait_event("BALLOON_CHANGE", max(1, deadline - time.monotonic()))["data"]["actual"]
        except (Failure, TimeoutError):  # no change for the socket's timeout: stuck
            break
        if last == target:
            break
    actual = q.ok("query-balloon")["actual"]
    check(last == target and actual == target,
          "the guest reached %d MiB (last BALLOON_CHANGE %s, query-balloon %d)" %
          (target // MiB, last if last is None else last // MiB, actual // MiB))


def wait_value(what, fn, done, timeout, interval=0.5):
    """Polls fn() until done(value) holds; returns (value, seconds)."""
    start = time.monotonic()
    value = fn()
    while not done(value):
        if time.monotonic() - start > timeout:
            raise Failure("%s: still %s after %d s" % (what, value, timeout))
        time.sleep(interval)
        value = fn()
    return value, time.monotonic() - start


def guest_stats(q, path):
    return q.ok("qom-get", {"path": path, "property": "guest-stats"})
