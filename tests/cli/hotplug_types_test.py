#!/usr/bin/env python3
"""device_add / device_del of every hot-pluggable type kestrel has, beside
QEMU 7.2: virtio-rng-pci, virtio-balloon-pci, virtio-serial-pci with
virtserialport/virtconsole on its bus (libvirt's channels), piix3-usb-uhci
with a usb-tablet on it, pci-testdev.

Both VMMs start stopped (-S, no guest code runs): device_add's replies and
errors, query-pci / info pci / info qtree / query-balloon with the devices
in, device_del (ports and USB devices go at once; PCI functions wait for the
guest's eject, which a system_reset completes, as QEMU's ACPI hotplug
does), the DEVICE_DELETED events in order (a controller's children first),
and the same types added again afterwards. The whole transcript must be
QEMU's, and kestrel's must show what the steps expect even without QEMU.
Each type added and removed twice leaves kestrel's open files and threads
as they were.

usage: hotplug_types_test.py PATH/TO/kestrel [PATH/TO/qemu-system-x86_64]
Prints one PASS/FAIL line per check, then "N passed, N failed"."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "guest", "drivers"))
from qmp import Qmp  # noqa: E402


def hmp(line):
    return ("human-monitor-command", {"command-line": line})


def add(driver, **props):
    return ("device_add", dict({"driver": driver}, **props))


def delete(dev_id):
    return ("device_del", {"id": dev_id})


# (command, arguments); the reply and the events read before the next reply
# form the transcript.
STEPS = [
    add("virtio-rng-pci", id="rng0"),
    add("virtio-balloon-pci", id="bal0"),
    add("virtio-balloon-pci", id="bal1"),
    ("query-balloon", None),
    add("virtio-serial-pci", id="vs0"),
    add("virtserialport", bus="vs0.0", chardev="ch0", id="port0", name="org.test.0"),
    add("virtconsole", bus="vs0.0", chardev="ch0", id="con0"),
    add("virtconsole", bus="vs0.0", chardev="ch1", id="con0"),
    add("virtserialport", bus="nope.0", chardev="ch2", id="port9"),
    add("piix3-usb-uhci", id="uhci0"),
    add("usb-tablet", id="tab0"),
    add("pci-testdev", id="td0"),
    ("query-pci", None), hmp("info pci"), hmp("info qtree"), hmp("info usb"),
    delete("port0"),
    add("virtserialport", bus="vs0.0", chardev="ch0", id="port0", name="org.test.0"),
    delete("tab0"), hmp("info usb"),
    add("usb-tablet", id="tab0"),
    delete("rng0"), delete("rng0"), delete("bal0"), delete("vs0"), delete("uhci0"), delete("td0"),
    add("virtio-balloon-pci", id="bal1"),
    ("system_reset", None),
    ("query-pci", None), ("query-balloon", None), hmp("info qtree"),
    add("virtio-balloon-pci", id="bal1"), ("query-balloon", None),
    add("virtio-rng-pci", id="rng0"),
    add("virtio-serial-pci", id="vs1"),
    add("virtserialport", bus="vs1.0", chardev="ch0", id="port1", name="org.test.0"),
    add("piix3-usb-uhci", id="uhci1"), add("usb-tablet", id="tab1"),
    ("query-pci", None), hmp("info usb"),
]


# Ports and USB devices: their buses unplug without the guest.
REMOVED_AT_ONCE = {"port0", "tab0"}


def run(binary, work):
    name = os.path.basename(binary)
    sock = os.path.join(work, name + ".qmp")
    argv = [binary, "-S", "-m", "64", "-display", "none", "-nodefaults", "-machine", "pc",
            "-qmp", "unix:%s,server=on,wait=off" % sock]
    for i in range(3):
        argv += ["-chardev", "socket,id=ch%d,path=%s/%s-ch%d.sock,server=on,wait=off" % (i, work, name, i)]
    if name.startswith("qemu"):
        argv.insert(1, "-enable-kvm")
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        q = Qmp(sock)
        q.ok("qmp_capabilities")
        transcript = []
        for command, args in STEPS:
            reply = q.execute(command, args)
            reply.pop("id", None)
            if command == "system_reset":  # the removals it completes arrive after its reply
                wait_for_events(q, "DEVICE_DELETED", 11)
            elif command == "device_del" and args["id"] in REMOVED_AT_ONCE and "return" in reply:
                wait_for_events(q, "DEVICE_DELETED", 1)  # after the reply in QEMU (at finalize)
            if args == {"command-line": "info qtree"}:
                reply = peripherals_in_qtree(reply)
            events = [(e["event"], e.get("data")) for e in q.events if e["event"] != "RESET"]
            q.events.clear()
            transcript.append((command, args, reply, events))
        return transcript
    finally:
        proc.kill()
        proc.wait()


def peripherals_in_qtree(reply):
    """The devices with ids, in QEMU's order (QEMU prints properties kestrel
    does not have, which compare_with_qemu.py checks; kestrel nests a
    virtio-serial-pci's ports one level higher, below the proxy instead of
    below its virtio-serial-device)."""
    lines = reply.get("return", "").replace("\r", "").split("\n")
    return [line.strip() for line in lines if line.strip().startswith("dev:") and 'id ""' not in line]


def wait_for_events(q, name, count, quiet=5):
    """Until `count` such events are in, or none came for `quiet` seconds."""
    q.sock.settimeout(quiet)
    try:
        while sum(e["event"] == name for e in q.events) < count:
            msg = q.read_message()
            if "event" in msg:
                q.events.append(msg)
    except OSError:  # socket.timeout: the count is checked by the caller
        pass
    finally:
        q.sock.settimeout(60)


def dev(path_id):
    return {"device": path_id, "path": "/machine/peripheral/" + path_id}


def backend(path_id):
    return {"path": "/machine/peripheral/%s/virtio-backend" % path_id}


class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def expect(self, cond, what, detail=""):
        if cond:
            self.passed += 1
            print("PASS " + what, flush=True)
        else:
            self.failed += 1
            print("FAIL " + what + ("\n  " + str(detail) if detail else ""), flush=True)


def step(transcript, command, args):
    for c, a, reply, events in transcript:
        if c == command and a == args:
            return reply, events
    raise KeyError((command, args))


def reply_of(transcript, index):
    return transcript[index][2]


def check_kestrel(t, checks):
    """What the steps must show, whatever QEMU prints."""
    def ok(i):
        return reply_of(t, i) == {"return": {}}

    def error(i):
        return reply_of(t, i).get("error", {}).get("desc", "")

    checks.expect(all(ok(i) for i in (0, 1, 4, 5, 9, 10, 11)), "device_add of every type returns {}",
                  [reply_of(t, i) for i in (0, 1, 4, 5, 9, 10, 11)])
    checks.expect(error(2) == "Only one balloon device is supported", "a second balloon is refused", error(2))
    checks.expect(reply_of(t, 3).get("return") == {"actual": 64 << 20}, "query-balloon of the hot-added balloon",
                  reply_of(t, 3))
    checks.expect("in use" in error(6), "a claimed chardev is refused", error(6))
    checks.expect(ok(7), "a virtconsole on the hot-added bus", reply_of(t, 7))
    pci = [d.get("qdev_id") for b in reply_of(t, 12)["return"] for d in b["devices"]]
    checks.expect(all(i in pci for i in ("rng0", "bal0", "vs0", "uhci0", "td0")), "query-pci lists them", pci)
    qtree = "\n".join(reply_of(t, 14))
    checks.expect(all('id "%s"' % i in qtree for i in ("port0", "con0", "tab0", "td0")),
                  "info qtree lists the children and the functions")
    checks.expect(ok(16) and t[16][3] == [("DEVICE_DELETED", dev("port0"))], "device_del of a port: at once",
                  t[16])
    checks.expect(ok(17), "the port again on its released chardev", reply_of(t, 17))
    checks.expect(ok(18) and t[18][3] == [("DEVICE_DELETED", dev("tab0"))], "device_del of a USB device: at once",
                  t[18])
    checks.expect(error(22) == "Device rng0 is already in the process of unplug", "a second device_del", error(22))
    checks.expect(error(27) == "Only one balloon device is supported", "no second balloon while one is leaving",
                  error(27))
    events = [data for _, data in t[28][3]]
    expected = [backend("rng0"), dev("rng0"), backend("bal0"), dev("bal0"), dev("port0"), dev("con0"),
                backend("vs0"), dev("vs0"), dev("tab0"), dev("uhci0"), dev("td0")]
    checks.expect(events == expected,
                  "system_reset completes the removals: DEVICE_DELETED of each, children too", events)
    pci = [d.get("qdev_id") for b in reply_of(t, 29)["return"] for d in b["devices"]]
    checks.expect(not any(i in pci for i in ("rng0", "bal0", "vs0", "uhci0", "td0")), "query-pci: all gone", pci)
    checks.expect(error(30) == "No balloon device has been activated", "query-balloon without a balloon", error(30))
    checks.expect(all(ok(i) for i in (20, 32, 34, 35, 36, 37, 38)), "each type added again",
                  [reply_of(t, i) for i in (20, 32, 34, 35, 36, 37, 38)])


# Each type with what hangs on it: (device_add arguments, ...), removed by
# device_del of the first and the reset that completes the eject.
RELEASE_CASES = [
    [{"driver": "virtio-rng-pci", "id": "r"}],
    [{"driver": "virtio-balloon-pci", "id": "r"}],
    [{"driver": "virtio-serial-pci", "id": "r"},
     {"driver": "virtserialport", "id": "rp", "bus": "r.0", "chardev": "ch0", "name": "org.test.r"}],
    [{"driver": "piix3-usb-uhci", "id": "r"}, {"driver": "usb-tablet", "id": "rt"}],
    [{"driver": "pci-testdev", "id": "r"}],
]


def check_releases(binary, work, checks):
    """kestrel's open files and threads are as many after each device came
    and went as before it (its thread, eventfds, a chardev's claim), twice."""
    sock = os.path.join(work, "release.qmp")
    argv = [binary, "-S", "-m", "64", "-display", "none", "-nodefaults", "-machine", "pc",
            "-qmp", "unix:%s,server=on,wait=off" % sock,
            "-chardev", "socket,id=ch0,path=%s/release-ch0.sock,server=on,wait=off" % work]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        q = Qmp(sock)
        q.ok("qmp_capabilities")

        def resources():
            return (len(os.listdir("/proc/%d/fd" % proc.pid)), len(os.listdir("/proc/%d/task" % proc.pid)))

        for case in RELEASE_CASES:
            for attempt in (1, 2):
                before = resources()
                replies = [q.execute("device_add", args) for args in case]
                replies.append(q.execute("device_del", {"id": "r"}))
                replies.append(q.execute("system_reset"))
                deadline = time.monotonic() + 10
                while resources() != before and time.monotonic() < deadline:
                    time.sleep(0.1)
                checks.expect(all("return" in r for r in replies) and resources() == before,
                              "%s (time %d): fds and threads %s after, %s before" %
                              (case[0]["driver"], attempt, resources(), before), replies)
    finally:
        proc.kill()
        proc.wait()


def main():
    kestrel = sys.argv[1]
    qemu = sys.argv[2] if len(sys.argv) > 2 else shutil.which("qemu-system-x86_64")
    checks = Checks()
    with tempfile.TemporaryDirectory() as work:
        mine = run(kestrel, work)
        check_kestrel(mine, checks)
        check_releases(kestrel, work, checks)
        if qemu:
            theirs = run(qemu, work)
            for a, b in zip(mine, theirs):
                checks.expect(a == b, "as QEMU 7.2: %s %s" % (a[0], a[1]), "kestrel: %s\n  QEMU:    %s" % (a, b))
        else:
            print("SKIP the comparison: no qemu-system-x86_64", flush=True)
    print("%d passed, %d failed" % (checks.passed, checks.failed))
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
