"""Drives the cpu-hotplug-ost scenario: the guest's _OST of a vCPU as QEMU
7.2 reports it. query-acpi-ospm-status once the guest booted; device_add of
a vCPU: the guest's device check ends in _OST(1, 0), ACPI_DEVICE_OST with
the vCPU's id; device_del while the guest has disabled processor hotplug:
Linux refuses the eject with _OST(3, 0x80) (ACPI_OST_SC_EJECT_NOT_SUPPORTED),
ACPI_DEVICE_OST says so, the vCPU stays; device_del once the guest allows
it: _OST(3, 0x84) (eject in progress), the eject (DEVICE_DELETED), then
_OST(3, 0) without a device. Every ACPI_DEVICE_OST and
query-acpi-ospm-status reply is written to RESULTS/ost.json (without
timestamps) to hold beside QEMU's run of the same scenario.

usage: cpu_hotplug_ost.py QMP_SOCKET CONTROL_SOCKET SERIAL_LOG RESULTS_DIR"""

import json
import os
import sys
import time

from qmp import deadline_after, Failure, Qmp, check, connect_unix, main, wait_log

CPU = "qemu64-x86_64-cpu"
PROPS = {"socket-id": 0, "core-id": 1, "thread-id": 0}


def slot(index, source=0, status=0, device=None):
    info = {"slot": str(index), "slot-type": "CPU", "source": source, "status": status}
    if device:
        info["device"] = device
    return info


class Recorder:
    def __init__(self, q, path):
        self.q, self.path, self.seen = q, path, []

    def next_events(self, names, count, timeout=120):
        """The next `count` events among `names`, in the order they came."""
        deadline = deadline_after(timeout)
        got = []
        while len(got) < count:
            for e in list(self.q.events):
                if e["event"] in names and len(got) < count:
                    self.q.events.remove(e)
                    got.append(e)
            if len(got) == count:
                break
            if time.monotonic() > deadline:
                raise Failure("only %s of %d %s events within %d s" % (got, count, names, timeout))
            self.q.sock.settimeout(max(0.1, deadline - time.monotonic()))
            msg = self.q.read_message()
            if "event" not in msg:
                raise Failure("unexpected reply while waiting for events: %s" % msg)
            self.q.events.append(msg)
        for e in got:
            self.seen.append({"event": e["event"], "data": e.get("data")})
        self.save()
        return got

    def ospm(self, expected, what):
        r = self.q.ok("query-acpi-ospm-status")
        self.seen.append({"query-acpi-ospm-status": r})
        self.save()
        check(r == expected, "query-acpi-ospm-status %s: %s" % (what, r))

    def save(self):
        with open(self.path, "w") as f:
            json.dump(self.seen, f, indent=1, sort_keys=True)


def ost_event(rec, info, what):
    e = rec.next_events({"ACPI_DEVICE_OST"}, 1)[0]
    check(e["data"] == {"info": info}, "ACPI_DEVICE_OST %s: %s" % (what, e["data"]))


def refused_unplug(q, rec):
    """Linux refuses: _OST(3, 0x80) at once, the vCPU stays."""
    check(q.ok("device_del", {"id": "cpu1"}) == {}, "device_del cpu1 (refused)")
    ost_event(rec, slot(1, 3, 0x80, "cpu1"), "of the refused eject")
    rec.ospm([slot(0), slot(1, 3, 0x80, "cpu1")], "after the refused eject")
    check(not [e for e in q.events if e["event"] == "DEVICE_DELETED"], "no DEVICE_DELETED: %s" % q.events)
    check([c["cpu-index"] for c in q.ok("query-cpus-fast")] == [0, 1], "the vCPU stays")


def allowed_unplug(q, rec):
    """_OST(3, 0x84), the eject, then _OST(3, 0) of a slot now empty."""
    check(q.ok("device_del", {"id": "cpu1"}) == {}, "device_del cpu1")
    got = rec.next_events({"ACPI_DEVICE_OST", "DEVICE_DELETED"}, 4)
    check([(e["event"], e["data"]) for e in got] == [
        ("ACPI_DEVICE_OST", {"info": slot(1, 3, 0x84, "cpu1")}),
        ("DEVICE_DELETED", {"path": "/machine/peripheral/cpu1/lapic"}),
        ("DEVICE_DELETED", {"device": "cpu1", "path": "/machine/peripheral/cpu1"}),
        ("ACPI_DEVICE_OST", {"info": slot(1, 3, 0)})], "the eject's events: %s" % got)
    rec.ospm([slot(0), slot(1, 3, 0)], "after the eject")


def steps():
    qmp_path, ctl_path, log, results = sys.argv[1:5]
    q = Qmp(qmp_path)
    q.ok("qmp_capabilities")
    rec = Recorder(q, os.path.join(results, "ost.json"))
    wait_log(log, "KTEST-OST-READY")
    ctl = connect_unix(ctl_path)
    q.execute("query-status")  # takes in what came before
    check(not [e for e in q.events if e["event"] == "ACPI_DEVICE_OST"], "no _OST at boot: %s" % q.events)
    rec.ospm([slot(0), slot(1)], "once booted")
    check(q.ok("device_add", dict({"driver": CPU, "id": "cpu1"}, **PROPS)) == {}, "device_add cpu1")
    ost_event(rec, slot(1, 1, 0, "cpu1"), "of the device check")
    rec.ospm([slot(0), slot(1, 1, 0, "cpu1")], "after the device check")
    ctl.sendall(b"go\n")
    wait_log(log, "KTEST-OST-REFUSING")
    refused_unplug(q, rec)
    ctl.sendall(b"go\n")
    wait_log(log, "KTEST-OST-ALLOWING")
    allowed_unplug(q, rec)
    ctl.sendall(b"go\n")
    wait_log(log, "KTEST-OST-DONE")
    check(q.ok("query-status")["status"] == "running", "still running")
    ctl.sendall(b"go\n")


if __name__ == "__main__":
    sys.exit(main(steps))
