"""Drives the hotplug-rng-balloon-serial scenario: device_add and device_del
of virtio-rng-pci, virtio-balloon-pci (balloon 128 while it is in), and a
virtio-serial-pci with a virtserialport on its bus whose socket chardev
this driver connects to. Each removal waits for the guest's eject and its
DEVICE_DELETED events; a line on the control socket lets the guest go on.

For kestrel each device that came and went leaves its open files and
threads as they were before it (its thread, eventfds, ioeventfds, irqfds,
a chardev connection all closed).

usage: hotplug_misc.py QMP_SOCKET CONTROL_SOCKET SERIAL_LOG PORT_SOCKET PIDFILE"""

import os
import sys
import time
from collections import Counter

from qmp import deadline_after, Failure, Qmp, check, connect_unix, main, read_pid, recv_line, wait_log

MIB = 1 << 20


def pci_ids(q):
    return [d.get("qdev_id", "") for bus in q.ok("query-pci") for d in bus["devices"]]


def deleted(q, expected):
    """DEVICE_DELETED for each of `expected` (ids; "ID/virtio-backend" for a
    backend), in that order."""
    for name in expected:
        data = q.wait_event("DEVICE_DELETED", 120)["data"]
        if name.endswith("/virtio-backend"):
            want = {"path": "/machine/peripheral/" + name}
        else:
            want = {"device": name, "path": "/machine/peripheral/" + name}
        check(data == want, "DEVICE_DELETED %s: %s" % (name, data))


def plug(q, ctl, log, args, seen):
    check(q.ok("device_add", args) == {}, "device_add %s" % args)
    check(args["id"] in pci_ids(q), "query-pci lists " + args["id"])
    ctl.sendall(b"go\n")
    wait_log(log, seen)


def unplug(q, ctl, log, dev_id, events, gone):
    check(q.ok("device_del", {"id": dev_id}) == {}, "device_del %s (the guest is asked)" % dev_id)
    deleted(q, events)
    check(dev_id not in pci_ids(q), "query-pci: %s gone" % dev_id)
    ctl.sendall(b"go\n")
    wait_log(log, gone)


def rng_steps(q, ctl, log):
    plug(q, ctl, log, {"driver": "virtio-rng-pci", "id": "hrng"}, "KTEST-HM-RNG-SEEN")
    unplug(q, ctl, log, "hrng", ["hrng/virtio-backend", "hrng"], "KTEST-HM-RNG-GONE")


def wait_actual(q, target, timeout=120):
    deadline = deadline_after(timeout)
    while time.monotonic() < deadline:
        actual = q.ok("query-balloon")["actual"]
        if actual <= target:
            return actual
        time.sleep(0.5)
    raise Failure("the balloon did not reach %d bytes" % target)


def balloon_steps(q, ctl, log):
    plug(q, ctl, log, {"driver": "virtio-balloon-pci", "id": "hbal"}, "KTEST-HM-BALLOON-SEEN")
    check(q.ok("query-balloon") == {"actual": 256 * MIB}, "query-balloon: the whole guest")
    check(q.ok("balloon", {"value": 128 * MIB}) == {}, "balloon 128 MiB")
    actual = wait_actual(q, 128 * MIB)
    check(actual == 128 * MIB, "query-balloon: %d MiB" % (actual // MIB))
    change = q.wait_event("BALLOON_CHANGE", 60)["data"]
    check(change["actual"] <= 256 * MIB, "BALLOON_CHANGE: %s" % change)
    q.events = [e for e in q.events if e["event"] != "BALLOON_CHANGE"]
    ctl.sendall(b"go\n")
    wait_log(log, "KTEST-HM-BALLOON-SHRUNK")
    unplug(q, ctl, log, "hbal", ["hbal/virtio-backend", "hbal"], "KTEST-HM-BALLOON-GONE")
    r = q.execute("query-balloon")
    check(r.get("error", {}).get("desc") == "No balloon device has been activated",
          "query-balloon once it is gone: %s" % r)


def serial_steps(q, ctl, log, port_path):
    check(q.ok("device_add", {"driver": "virtio-serial-pci", "id": "hvs"}) == {}, "device_add virtio-serial-pci")
    check(q.ok("device_add", {"driver": "virtserialport", "bus": "hvs.0", "chardev": "hotport", "id": "hport",
                              "name": "org.kestrel.hot.0"}) == {}, "device_add virtserialport on hvs.0")
    port = connect_unix(port_path)
    port.settimeout(300)  # bounds a VMM that never passes the line; the guest's pace is the runner's
    ctl.sendall(b"go\n")
    line = recv_line(port)
    check(line == b"HELLO-FROM-GUEST\n", "the guest's line through the hot-added port: %r" % line)
    port.sendall(b"HELLO-FROM-HOST\n")
    wait_log(log, "KTEST-HM-SERIAL-SEEN")
    unplug(q, ctl, log, "hvs", ["hport", "hvs/virtio-backend", "hvs"], "KTEST-HM-SERIAL-GONE")
    port.close()


def resources(pid):
    """Open files by kind ("anon_inode:[eventfd]", "socket", a path) and
    the thread count."""
    kinds = Counter()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        kinds["socket" if target.startswith("socket:") else target] += 1
    return kinds, len(os.listdir("/proc/%d/task" % pid))


def leaves_nothing(pid, what, step, kept=None):
    """Runs `step`; for kestrel, its open files and threads are as before
    once the device is gone, but for `kept` (kinds it leaves for good on
    purpose). QEMU may keep pools: judged for kestrel only."""
    before = resources(pid)
    step()
    if "qemu" in os.path.basename(os.readlink("/proc/%d/exe" % pid)):
        return
    expected = (before[0] + Counter(kept or {}), before[1])
    deadline = deadline_after(30)  # a closed connection is noticed by the loop
    while resources(pid) != expected and time.monotonic() < deadline:
        time.sleep(0.2)
    now = resources(pid)
    check(now == expected, "%s came and went: open files and threads as before (+ %s): extra %s, missing %s, "
          "threads %d, before %d" % (what, kept or {}, dict(now[0] - expected[0]), dict(expected[0] - now[0]),
                                     now[1], before[1]))


def steps():
    qmp_path, ctl_path, log, port_path, pidfile = sys.argv[1:6]
    q = Qmp(qmp_path)
    q.ok("qmp_capabilities")
    wait_log(log, "KTEST-HM-READY")
    pid = read_pid(pidfile)
    sockets = resources(pid)[0]["socket"]
    ctl = connect_unix(ctl_path)
    # The VMM accepts the connection on its loop, later: the counts taken
    # before the first device must include it.
    deadline = deadline_after(30)
    while resources(pid)[0]["socket"] <= sockets and time.monotonic() < deadline:
        time.sleep(0.05)
    leaves_nothing(pid, "virtio-rng-pci", lambda: rng_steps(q, ctl, log))
    # The first BALLOON_CHANGE gives the QMP monitor its rate limit timer for
    # that event name, kept for the machine's life (QEMU's monitor keeps its
    # per-event state too).
    leaves_nothing(pid, "virtio-balloon-pci", lambda: balloon_steps(q, ctl, log),
                   kept={"anon_inode:[timerfd]": 1})
    leaves_nothing(pid, "virtio-serial-pci and its port", lambda: serial_steps(q, ctl, log, port_path))
    ctl.sendall(b"go\n")  # the guest powers off
    wait_log(log, "KTEST-HM-DONE")


if __name__ == "__main__":
    sys.exit(main(steps))
