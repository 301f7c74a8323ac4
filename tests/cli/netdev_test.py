#!/usr/bin/env python3
"""Network back ends at run time and from inherited descriptors, each case
on kestrel and on QEMU 7.2 (which must behave the same): QMP netdev_add
creates a tap the host can see and netdev_del removes it, with QEMU's
replies and errors; `-netdev tap,fd=N` takes a tap the caller opened (as
libvirt does) and refuses a descriptor that is not a tap. Needs root
(tap devices) and /dev/kvm.

usage: netdev_test.py PATH/TO/kestrel
Prints one PASS/FAIL line per case and VMM, then "N passed, N failed"."""
import fcntl
import os
import struct
import subprocess
import sys
import tempfile

from sandbox_test import Vm

TUNSETIFF = 0x400454ca
IFF_TAP, IFF_NO_PI, IFF_VNET_HDR = 0x0002, 0x1000, 0x4000


class Qmp(Vm):
    """sandbox_test's VMM (-S, QMP socket), connected, with the monitor
    commands these cases use."""

    def __init__(self, vmm, work, extra=(), pass_fds=()):
        super().__init__(vmm, work, list(extra), name="nd", pass_fds=pass_fds)
        self.connect()

    def run(self, command, **args):
        return self.cmd(command, args or None)

    def hmp(self, line):
        return self.run("human-monitor-command", **{"command-line": line})["return"]

    def quit(self):
        self.run("quit")
        return self.wait(60)


def exists(ifname):
    return os.path.exists("/sys/class/net/" + ifname)


def error_of(reply):
    return reply.get("error", {}).get("class"), reply.get("error", {}).get("desc")


def netdev_add_del(vmm, tag, work):
    ifname = "ktnd" + tag
    q = Qmp(vmm, work)
    try:
        add = dict(type="tap", id="hnd", ifname=ifname, script="no", downscript="no")
        assert q.run("netdev_add", **add) == {"return": {}}, "netdev_add failed"
        assert exists(ifname), "no %s on the host after netdev_add" % ifname
        info = q.hmp("info network")
        assert "hnd: index=0,type=tap,ifname=%s,script=no,downscript=no" % ifname in info, info
        dup = error_of(q.run("netdev_add", **add))
        assert dup == ("GenericError", "Duplicate ID 'hnd'"), dup
        assert q.run("netdev_del", id="hnd") == {"return": {}}, "netdev_del failed"
        assert not exists(ifname), "%s still there after netdev_del" % ifname
        gone = error_of(q.run("netdev_del", id="hnd"))
        assert gone == ("DeviceNotFound", "Device 'hnd' not found"), gone
    finally:
        status = q.quit()
    assert status == 0, "exit status %d" % status


def open_tap(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI | IFF_VNET_HDR))
    return fd


def tap_from_fd(vmm, tag, work):
    fd = open_tap("ktfd" + tag)
    try:
        q = Qmp(vmm, work, ["-netdev", "tap,id=n0,fd=%d" % fd, "-device", "virtio-net-pci,netdev=n0"], pass_fds=[fd])
        info = q.hmp("info network")
        assert "n0: index=0,type=tap,fd=%d" % fd in info, info
        assert q.quit() == 0
    finally:
        os.close(fd)


def fd_not_a_tap(vmm, tag, work):
    with tempfile.TemporaryFile() as f:
        run = subprocess.run([vmm, "-S", "-nodefaults", "-display", "none", "-netdev",
                              "tap,id=n0,fd=%d" % f.fileno()], pass_fds=[f.fileno()],
                             capture_output=True, text=True, timeout=60)
    assert run.returncode == 1, "exit status %d" % run.returncode
    return run.stderr.strip().split(": ", 1)[-1]


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    vmms = [("kestrel", os.path.abspath(sys.argv[1]), "k"), ("qemu", "qemu-system-x86_64", "q")]
    passed = failed = 0
    errors = {}
    work_dir = tempfile.TemporaryDirectory(prefix="kestrel-netdev-")
    work = work_dir.name
    for case in (netdev_add_del, tap_from_fd, fd_not_a_tap):
        for name, vmm, tag in vmms:
            try:
                errors[(case.__name__, name)] = case(vmm, tag, work)
                passed += 1
                print("PASS %s (%s)" % (case.__name__, name), flush=True)
            except (AssertionError, RuntimeError, OSError, subprocess.TimeoutExpired) as e:
                failed += 1
                print("FAIL %s (%s): %s" % (case.__name__, name, e), flush=True)
    work_dir.cleanup()
    k, q = errors.get(("fd_not_a_tap", "kestrel")), errors.get(("fd_not_a_tap", "qemu"))
    if k == q:
        passed += 1
        print("PASS fd_not_a_tap: the same error as QEMU (%s)" % k)
    else:
        failed += 1
        print("FAIL fd_not_a_tap: kestrel says %r, QEMU %r" % (k, q))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
