"""Drives the cpu-hotplug scenario: query-hotpluggable-cpus, QEMU 7.2's
device_add errors, then device_add of a vCPU in the free slot (as libvirt's
setvcpus --live); the guest finds and onlines it; query-cpus-fast,
query-hotpluggable-cpus and HMP info cpus show it. device_del: the guest
ejects it, DEVICE_DELETED; device_add of the slot again. A line on the control
socket lets the guest go on.

usage: cpu_hotplug.py QMP_SOCKET CONTROL_SOCKET SERIAL_LOG"""

import re
import sys

from qmp import Qmp, check, connect_unix, main, wait_log

CPU = "qemu64-x86_64-cpu"


def expect_error(q, args, desc):
    r = q.execute("device_add", args)
    e = r.get("error", {})
    check(e.get("desc") == desc and e.get("class") == "GenericError", "device_add %s: %s" % (args, r))


def free_slot(q):
    slots = q.ok("query-hotpluggable-cpus")
    check([s["props"] for s in slots] == [{"socket-id": 0, "core-id": 1, "thread-id": 0},
                                           {"socket-id": 0, "core-id": 0, "thread-id": 0}],
          "query-hotpluggable-cpus slots: %s" % slots)
    check(all(s["type"] == CPU and s["vcpus-count"] == 1 for s in slots), "types: %s" % slots)
    check("qom-path" not in slots[0] and slots[1].get("qom-path") == "/machine/unattached/device[0]",
          "qom-path only for the present vCPU: %s" % slots)
    return slots[0]["props"]


def refused_adds(q):
    base = {"driver": CPU, "id": "bad"}
    expect_error(q, dict(base, **{"socket-id": 0, "core-id": 0, "thread-id": 0}), "CPU[0] with APIC ID 0 exists")
    expect_error(q, dict(base, **{"socket-id": 0, "core-id": 2, "thread-id": 0}),
                 "Invalid CPU core-id: 2 must be in range 0:1")
    expect_error(q, dict(base, **{"core-id": 1, "thread-id": 0}), "CPU socket-id is not set")
    expect_error(q, dict(base, driver="host-x86_64-cpu", **{"socket-id": 0, "core-id": 1, "thread-id": 0}),
                 "Invalid CPU type, expected cpu type: '%s'" % CPU)


def added_cpu_listed(q):
    cpus = q.ok("query-cpus-fast")
    check([(c["cpu-index"], c["qom-path"]) for c in cpus] ==
          [(0, "/machine/unattached/device[0]"), (1, "/machine/peripheral/cpu1")], "query-cpus-fast: %s" % cpus)
    check(cpus[1]["props"] == {"socket-id": 0, "core-id": 1, "thread-id": 0} and cpus[1]["thread-id"] > 0,
          "the new vCPU's props and thread: %s" % cpus[1])
    slots = q.ok("query-hotpluggable-cpus")
    check(slots[0].get("qom-path") == "/machine/peripheral/cpu1", "query-hotpluggable-cpus: %s" % slots)
    text = q.ok("human-monitor-command", {"command-line": "info cpus"})
    check(re.fullmatch(r"\* CPU #0: thread_id=\d+\r\n  CPU #1: thread_id=\d+\r\n", text), "info cpus: %r" % text)
    expect_error(q, {"driver": CPU, "id": "cpu1b", "socket-id": 0, "core-id": 1, "thread-id": 0},
                 "CPU[1] with APIC ID 1 exists")


def unplug(q):
    """device_del: the guest ejects the vCPU, then DEVICE_DELETED of its
    local APIC and of the vCPU, as QEMU sends them."""
    r = q.execute("device_del", {"id": "/machine/unattached/device[0]"})
    check(r.get("error", {}).get("desc") == "Boot CPU is unpluggable", "device_del of the boot CPU: %s" % r)
    check(q.ok("device_del", {"id": "cpu1"}) == {}, "device_del cpu1")
    lapic = q.wait_event("DEVICE_DELETED", 120)["data"]
    check(lapic == {"path": "/machine/peripheral/cpu1/lapic"}, "DEVICE_DELETED of its local APIC: %s" % lapic)
    event = q.wait_event("DEVICE_DELETED", 120)["data"]
    check(event == {"device": "cpu1", "path": "/machine/peripheral/cpu1"}, "DEVICE_DELETED: %s" % event)
    cpus = q.ok("query-cpus-fast")
    check([c["cpu-index"] for c in cpus] == [0], "query-cpus-fast after the unplug: %s" % cpus)
    slots = q.ok("query-hotpluggable-cpus")
    check("qom-path" not in slots[0], "the slot is free again: %s" % slots)


def steps():
    qmp_path, ctl_path, log = sys.argv[1:4]
    q = Qmp(qmp_path)
    q.ok("qmp_capabilities")
    wait_log(log, "KTEST-CPUHP-READY")
    ctl = connect_unix(ctl_path)
    props = free_slot(q)
    refused_adds(q)
    check(q.ok("device_add", dict({"driver": CPU, "id": "cpu1"}, **props)) == {}, "device_add %s" % props)
    added_cpu_listed(q)
    ctl.sendall(b"go\n")
    wait_log(log, "KTEST-CPUHP-ADDED")
    unplug(q)
    ctl.sendall(b"go\n")
    wait_log(log, "KTEST-CPUHP-REMOVED")
    check(q.ok("device_add", dict({"driver": CPU, "id": "cpu1"}, **props)) == {}, "device_add %s again" % props)
    ctl.sendall(b"go\n")
    wait_log(log, "KTEST-CPUHP-DONE")
    check(len(q.ok("query-cpus-fast")) == 2, "two vCPUs again")
    check(q.ok("query-status")["status"] == "running", "still running")
    ctl.sendall(b"go\n")
    wait_log(log, "^REBOOTED NPROC=")  # a reset with the vCPU plugged back in


if __name__ == "__main__":
    sys.exit(main(steps))
