#!/usr/bin/env python3
"""libvirt 9.0's capability probe, replayed on kestrel and QEMU 7.2: the
command line libvirt runs (-machine none,accel=kvm:tcg, -daemonize,
-pidfile, -no-user-config), then the QMP commands it sends, in its order.
Every answer must have QEMU's shape: a return where QEMU returns (or
DeviceNotFound for a type kestrel lacks), the same JSON types and no
member QEMU's answer does not have. The host CPU's static expansion
(query-cpu-model-expansion, libvirt's host-model) must also have QEMU's
values on this same KVM. Then the TCG probe (accel=tcg): kestrel starts
(nothing runs on the none machine) but offers no machine type and no CPU
to expand, since its machines need KVM.

Usage: probe_qmp_test.py build/kestrel [qemu-system-x86_64]"""

import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "guest", "drivers"))
from qmp import Qmp  # noqa: E402
from results import report, summary  # noqa: E402

# The device types libvirt 9.0 asks device-list-properties about (x86_64).
DEVICE_TYPES = [
    "virtio-blk-pci", "virtio-net-pci", "virtio-scsi-pci", "virtio-net-ccw", "virtio-scsi-ccw", "vfio-pci",
    "scsi-hd", "ide-hd", "PIIX4_PM", "usb-redir", "usb-storage", "kvm-pit", "VGA", "vmware-svga", "qxl",
    "virtio-gpu-pci", "virtio-gpu-device", "ICH9-LPC", "virtio-balloon-pci", "virtio-balloon-ccw",
    "virtio-balloon-device", "intel-iommu", "mch", "nvdimm", "pcie-root-port", "usb-host",
    "vhost-user-fs-device", "virtio-mem-pci", "virtio-iommu-pci",
]
# virQEMUCapsProbeQMPHostCPU: "host" (KVM) or "max" (TCG), migratable, then not.
HOST_CPU = [{"name": "host"}, {"name": "host", "props": {"migratable": False}}]
TCG_HOST_CPU = [{"name": "max"}, {"name": "max", "props": {"migratable": False}}]
KVM_PROBE = (
    [("query-version", None), ("query-target", None), ("query-qmp-schema", None), ("query-commands", None),
     ("query-kvm", None), ("qom-list-types", None)] +
    [("device-list-properties", {"typename": t}) for t in DEVICE_TYPES] +
    [("qom-list-properties", {"typename": t}) for t in ("max-x86_64-cpu", "none-machine")] +
    [("query-machines", None), ("query-cpu-definitions", None), ("query-tpm-models", None),
     ("query-tpm-types", None), ("query-command-line-options", None), ("query-migrate-capabilities", None),
     ("query-command-line-options", {"option": "sandbox"})] +
    [("query-cpu-model-expansion", {"type": "static", "model": model}) for model in HOST_CPU]
)
# The none machine's run states, compared whole with QEMU's answers.
RUN_STATES = [("query-status", None), ("cont", None), ("query-status", None), ("stop", None),
              ("query-status", None), ("query-cpus-fast", None), ("query-pci", None),
              ("query-hotpluggable-cpus", None), ("device_add", {"driver": "qemu64-x86_64-cpu", "id": "c1"})]
# Schema queries of libvirt 9.0 (virQEMUCapsQMPSchemaQueries) this test
# checks: COMMAND/$FEATURE, or a path of members through a command's types.
SCHEMA_QUERIES = {
    "device_add/$json-cli-hotplug": "QEMU_CAPS_DEVICE_JSON: -device and device_add in JSON",
    "query-hotpluggable-cpus/ret-type/props/die-id": "QEMU_CAPS_SMP_DIES",
}
TCG_PROBE = ([("query-kvm", None), ("query-cpu-definitions", None), ("query-machines", None)] +
             [("query-cpu-model-expansion", {"type": "static", "model": model}) for model in TCG_HOST_CPU])



# Runs a command where /dev/kvm does not exist: a private mount namespace
# with a fresh /dev (root only).
WITHOUT_KVM = ["unshare", "-m", "--propagation", "private", "sh", "-c",
               "mount -t tmpfs none /dev && mknod -m 666 /dev/null c 1 3 && "
               "mknod -m 666 /dev/urandom c 1 9 && exec \"$@\"", "sh"]


def probe(binary, accel, commands, work, without_kvm=False):
    """libvirt's way: start daemonized, talk, kill. Returns the replies."""
    tag = "%s-%d" % (os.path.basename(binary), time.monotonic_ns())
    sock, pidfile = os.path.join(work, tag + ".sock"), os.path.join(work, tag + ".pid")
    start = subprocess.run((WITHOUT_KVM if without_kvm else []) + [binary, "-S", "-no-user-config", "-nodefaults", "-nographic", "-machine",
                            "none,accel=" + accel, "-qmp", "unix:%s,server=on,wait=off" % sock,
                            "-pidfile", pidfile, "-daemonize"],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    if start.returncode != 0:
        raise RuntimeError("%s did not start: %s" % (binary, start.stderr.strip()))
    with open(pidfile) as f:
        pid = int(f.read())
    try:
        qmp = Qmp(sock, timeout=60)
        qmp.ok("qmp_capabilities")
        return [qmp.execute(name, args) for name, args in commands]
    finally:
        os.kill(pid, signal.SIGKILL)


def shape_errors(mine, theirs, where):
    """Where `mine` is not shaped as `theirs` (types; members theirs lacks)."""
    if isinstance(theirs, bool) or isinstance(mine, bool):
        return [] if type(mine) is type(theirs) else ["%s: %r vs %r" % (where, mine, theirs)]
    if isinstance(theirs, (int, float)) and isinstance(mine, (int, float)):
        return []
    if type(mine) is not type(theirs):
        return ["%s: %s where QEMU has %s" % (where, type(mine).__name__, type(theirs).__name__)]
    if isinstance(theirs, dict):
        errors = []
        for key, value in mine.items():
            if key not in theirs:
                errors.append("%s: member %r QEMU does not have" % (where, key))
            else:
                errors += shape_errors(value, theirs[key], where + "." + key)
        return errors
    if isinstance(theirs, list) and mine and theirs:
        return list_shape_errors(mine, theirs, where)[:5]
    return []


def list_shape_errors(mine, theirs, where):
    """Named elements (properties, schema entries, members) are compared
    with QEMU's of the same name; others with QEMU's members together."""
    named = {e["name"]: e for e in theirs if isinstance(e, dict) and "name" in e}
    union = {}
    for element in theirs:
        if isinstance(element, dict):
            for key, value in element.items():
                union.setdefault(key, value)
    errors = []
    for element in mine:
        if isinstance(element, dict) and element.get("name") in named:
            errors += shape_errors(element, named[element["name"]], "%s[%s]" % (where, element["name"]))
        elif isinstance(element, dict) and union:
            extra = [key for key in element if key not in union]
            errors += ["%s[%s]: member %r QEMU does not have" % (where, element.get("name", "?"), key)
                       for key in extra]
        else:
            errors += shape_errors(element, theirs[0], where + "[]")
    return errors


def compare(name, commands, k, q):
    for (command, args), kr, qr in zip(commands, k, q):
        what = "%s %s" % (command, args or "")
        if "error" in qr:
            report("error" in kr and kr["error"]["class"] == qr["error"]["class"], name + ": " + what +
                   " fails as in QEMU", "kestrel %s, QEMU %s" % (kr, qr["error"]))
        elif "error" in kr and command == "query-cpu-model-expansion":
            # Without KVM kestrel has no CPU to expand; libvirt takes a
            # GenericError here for "no host CPU information".
            report(kr["error"]["class"] == "GenericError" and name == "tcg probe",
                   name + ": " + what + " (no CPU without KVM)", str(kr["error"]))
        elif "error" in kr:
            report(kr["error"]["class"] == "DeviceNotFound" and command in ("device-list-properties",
                                                                               "qom-list-properties"),
                   name + ": " + what + " (a type kestrel lacks)", str(kr["error"]))
        else:
            errors = shape_errors(kr["return"], qr["return"], command)
            report(not errors, name + ": " + what + " has QEMU's shape", "\n".join(errors))


def compare_host_cpu(commands, k, q):
    """The host CPU libvirt builds host-model from: on the same KVM,
    every property kestrel reports has QEMU's value (kestrel names fewer
    flags: those whose CPUID bit it knows)."""
    for (command, args), kr, qr in zip(commands, k, q):
        if command != "query-cpu-model-expansion" or "return" not in kr:
            continue
        mine, theirs = kr["return"]["model"]["props"], qr["return"]["model"]["props"]
        wrong = ["%s: kestrel %r, QEMU %r" % (p, v, theirs.get(p)) for p, v in sorted(mine.items()) if theirs.get(p) != v]
        enabled = sorted(p for p, v in mine.items() if v is True)
        report(not wrong and len(mine) > 100 and len(enabled) > 20,
               "host CPU %s: %d properties as QEMU's (%d flags on)" % (args["model"], len(mine), len(enabled)),
               "\n".join(wrong))


def schema_query(schema, query):
    """True when libvirt's query holds in the query-qmp-schema answer."""
    entries = {e["name"]: e for e in schema}
    name, *path = query.split("/")
    entry = entries.get(name)
    for step in path:
        if entry is None:
            return False
        if step.startswith("$"):
            return step[1:] in entry.get("features", [])
        if step in ("arg-type", "ret-type"):
            entry = entries.get(entry.get(step))
        else:
            member = next((m for m in entry.get("members", []) if m["name"] == step), None)
            entry = entries.get(member["type"]) if member else None
            if member and entry is None:
                return True  # a builtin: the member exists
        while entry is not None and entry.get("meta-type") == "array":
            entry = entries.get(entry["element-type"])
    return entry is not None


def compare_schema_queries(k, q):
    schema = lambda replies: replies[[c for c, _ in KVM_PROBE].index("query-qmp-schema")]["return"]
    for query, meaning in SCHEMA_QUERIES.items():
        mine, theirs = schema_query(schema(k), query), schema_query(schema(q), query)
        report(mine == theirs and theirs, "schema %s (%s) as QEMU's" % (query, meaning), "kestrel %s, QEMU %s" % (mine, theirs))


def compare_without_kvm(kestrel, qemu, work):
    """No /dev/kvm: accel=kvm:tcg falls back to tcg as in QEMU."""
    commands = [("query-kvm", None), ("query-machines", None)]
    try:
        k = probe(kestrel, "kvm:tcg", commands, work, without_kvm=True)
        q = probe(qemu, "kvm:tcg", commands, work, without_kvm=True)
        report(k[0] == q[0] and k[0]["return"]["enabled"] is False and k[1]["return"] == [],
               "without /dev/kvm: falls back to tcg as QEMU, no machine types", "%s %s" % (k, q[0]))
    except Exception as e:
        report(False, "without /dev/kvm", repr(e))


def main():
    kestrel = os.path.abspath(sys.argv[1])
    qemu = sys.argv[2] if len(sys.argv) > 2 else "qemu-system-x86_64"
    with tempfile.TemporaryDirectory(prefix="kestrel-probe-") as work:
        for name, accel, commands in (("kvm probe", "kvm:tcg", KVM_PROBE), ("tcg probe", "tcg", TCG_PROBE)):
            try:
                k, q = probe(kestrel, accel, commands, work), probe(qemu, accel, commands, work)
                compare(name, commands, k, q)
                if accel != "tcg":
                    compare_host_cpu(commands, k, q)
                    compare_schema_queries(k, q)
                kvm = k[[c for c, _ in commands].index("query-kvm")]["return"]
                report(kvm == {"enabled": accel != "tcg", "present": True}, name + ": query-kvm", str(kvm))
                machines = k[[c for c, _ in commands].index("query-machines")]["return"]
                names = {m["name"] for m in machines}
                if accel == "tcg":  # kestrel's machines need KVM
                    report(machines == [], name + ": no machine types without KVM", str(names))
                else:
                    report("pc-i440fx-7.2" in names and not any("q35" in n for n in names),
                           name + ": kestrel's machine types (pc-i440fx-*)", str(sorted(names)))
            except Exception as e:
                report(False, name, repr(e))
        try:
            k, q = probe(kestrel, "kvm", RUN_STATES, work), probe(qemu, "kvm", RUN_STATES, work)
            diff = ["%s: kestrel %s, QEMU %s" % (c, kr, qr) for (c, _), kr, qr in zip(RUN_STATES, k, q) if kr != qr]
            report(not diff, "none machine: run states, no vCPU, no PCI bus as in QEMU", "\n".join(diff))
        except Exception as e:
            report(False, "none machine run states", repr(e))
        if os.geteuid() == 0:
            compare_without_kvm(kestrel, qemu, work)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
