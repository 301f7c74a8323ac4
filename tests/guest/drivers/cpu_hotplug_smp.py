"""Drives the cpu-hotplug-smp scenario: device_add of vcpu2 while the machine
is stopped under -S (as libvirt starts a domain with an enabled hotpluggable
vCPU), cont; device_del of the boot CPU (refused) and of -smp's vCPU 1 by QOM
path: the guest ejects it, DEVICE_DELETED without "device"; device_add of its
slot again; device_del vcpu2. A line on the control socket lets the guest go on.

usage: cpu_hotplug_smp.py QMP_SOCKET CONTROL_SOCKET SERIAL_LOG"""

import sys

from qmp import Qmp, check, connect_unix, main, wait_log

CPU = "qemu64-x86_64-cpu"
SMP1 = "/machine/unattached/device[2]"  # -smp's vCPU 1: QEMU 7.2 numbers it after one other unattached device


def slot(core):
    return {"socket-id": 0, "core-id": core, "thread-id": 0}


def qom_paths(q):
    """query-hotpluggable-cpus' qom-path per core-id (None for a free slot)."""
    return {s["props"]["core-id"]: s.get("qom-path") for s in q.ok("query-hotpluggable-cpus")}


def cpus(q):
    return [(c["cpu-index"], c["qom-path"]) for c in q.ok("query-cpus-fast")]


def deleted(q, device, path):
    lapic = q.wait_event("DEVICE_DELETED", 120)["data"]
    check(lapic == {"path": path + "/lapic"}, "DEVICE_DELETED of %s's local APIC: %s" % (path, lapic))
    event = q.wait_event("DEVICE_DELETED", 120)["data"]
    want = dict({"device": device} if device else {}, path=path)
    check(event == want, "DEVICE_DELETED of %s: %s" % (path, event))


def plug_before_start(q):
    """libvirt's qemuProcessSetupHotpluggableVcpus: device_add under -S."""
    check(q.ok("query-status")["status"] == "prelaunch", "prelaunch")
    check(qom_paths(q) == {3: None, 2: None, 1: SMP1, 0: "/machine/unattached/device[0]"},
          "query-hotpluggable-cpus: %s" % qom_paths(q))
    check(q.ok("device_add", dict({"driver": CPU, "id": "vcpu2"}, **slot(2))) == {}, "device_add vcpu2 under -S")
    check(cpus(q) == [(0, "/machine/unattached/device[0]"), (1, SMP1), (2, "/machine/peripheral/vcpu2")],
          "query-cpus-fast: %s" % cpus(q))
    q.ok("cont")


def unplug_smp_vcpu(q):
    r = q.execute("device_del", {"id": "/machine/unattached/device[0]"})
    check(r.get("error", {}).get("desc") == "Boot CPU is unpluggable", "device_del of the boot CPU: %s" % r)
    check(q.ok("device_del", {"id": SMP1}) == {}, "device_del " + SMP1)
    deleted(q, None, SMP1)
    check(cpus(q) == [(0, "/machine/unattached/device[0]"), (2, "/machine/peripheral/vcpu2")],
          "query-cpus-fast after the unplug: %s" % cpus(q))
    check(qom_paths(q)[1] is None, "slot 1 is free: %s" % qom_paths(q))
    r = q.execute("device_del", {"id": SMP1})
    check(r.get("error", {}).get("class") == "DeviceNotFound", "device_del of the gone vCPU: %s" % r)


def steps():
    qmp_path, ctl_path, log = sys.argv[1:4]
    q = Qmp(qmp_path)
    q.ok("qmp_capabilities")
    plug_before_start(q)
    wait_log(log, "KTEST-SMPHP-READY")
    ctl = connect_unix(ctl_path)
    unplug_smp_vcpu(q)
    ctl.sendall(b"go\n")
    wait_log(log, "KTEST-SMPHP-REMOVED")
    check(q.ok("device_add", dict({"driver": CPU, "id": "cpu1"}, **slot(1))) == {}, "device_add of slot 1 again")
    check(qom_paths(q)[1] == "/machine/peripheral/cpu1", "slot 1 taken again: %s" % qom_paths(q))
    ctl.sendall(b"go\n")
    wait_log(log, "KTEST-SMPHP-AGAIN")
    check(q.ok("device_del", {"id": "vcpu2"}) == {}, "device_del vcpu2")
    deleted(q, "vcpu2", "/machine/peripheral/vcpu2")
    check(q.ok("query-status")["status"] == "running", "still running")
    ctl.sendall(b"go\n")


if __name__ == "__main__":
    sys.exit(main(steps))
