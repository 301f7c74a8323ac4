#!/usr/bin/env python3
"""Network back ends at run time and from inherited descriptors, each case
on kestrel and on QEMU 7.2 (which must behave the same): netdev_add (QMP
and HMP) creates a tap the host can see and netdev_del removes it, with
QEMU's replies and errors; `-netdev tap,fd=N` takes a tap the caller opened (as
libvirt does) and refuses a descriptor that is not a tap; script= and
downscript= run with the interface's name while it exists (at start,
netdev_add, netdev_del and exit), and a failing script stops the start
with QEMU's message. Needs root (tap devices) and /dev/kvm.

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
        hmp_if = "ktnh" + tag
        reply = q.hmp("netdev_add tap,id=hh,ifname=%s,script=no,downscript=no" % hmp_if)
        assert reply == "" and exists(hmp_if), "HMP netdev_add: %r, %s there: %s" % (reply, hmp_if, exists(hmp_if))
        reply = q.hmp("netdev_del hh")
        assert reply == "" and not exists(hmp_if), "HMP netdev_del: %r, %s gone: %s" % (reply, hmp_if,
                                                                                     not exists(hmp_if))
        reply = q.hmp("netdev_del hh")
        assert reply == "Error: Device 'hh' not found\r\n", "HMP netdev_del of a gone netdev: %r" % reply
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


def tap_from_getfd(vmm, tag, work):
    """libvirt's attach-interface: a tap sent with getfd (SCM_RIGHTS), then
    netdev_add with fd=NAME. Returns the error for a name never sent."""
    fd = open_tap("ktgf" + tag)
    q = Qmp(vmm, work)
    try:
        assert q.cmd("getfd", {"fdname": "tapfd0"}, fds=[fd]) == {"return": {}}, "getfd failed"
        reply = q.run("netdev_add", type="tap", id="hn0", fd="tapfd0")
        assert reply == {"return": {}}, "netdev_add fd=tapfd0: %s" % reply
        info = q.hmp("info network")
        assert "hn0: index=0,type=tap,fd=" in info, info
        assert q.run("netdev_del", id="hn0") == {"return": {}}, "netdev_del failed"
        missing = error_of(q.run("netdev_add", type="tap", id="hn1", fd="nosuchfd"))
    finally:
        os.close(fd)
        status = q.quit()
    assert status == 0, "exit status %d" % status
    return missing


def fd_not_a_tap(vmm, tag, work):
    with tempfile.TemporaryFile() as f:
        run = subprocess.run([vmm, "-S", "-nodefaults", "-display", "none", "-netdev",
                              "tap,id=n0,fd=%d" % f.fileno()], pass_fds=[f.fileno()],
                             capture_output=True, text=True, timeout=60)
    assert run.returncode == 1, "exit status %d" % run.returncode
    return run.stderr.strip().split(": ", 1)[-1]


def write_script(work, name, log, status=0):
    """A network script that logs its name, its argument and whether that
    interface exists while it runs."""
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n[ -e /sys/class/net/$1 ] && there=present || there=absent\n"
                "echo \"%s $1 $there\" >> %s\nexit %d\n" % (name, log, status))
    os.chmod(path, 0o755)
    return path


def log_lines(log):
    try:
        with open(log) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


def tap_scripts(vmm, tag, work):
    """script= runs with the interface's name once it exists; downscript=
    at netdev_del and at exit, while the interface is still there."""
    log = os.path.join(work, "scripts-%s.log" % tag)
    up, down = write_script(work, "ifup-" + tag, log), write_script(work, "ifdown-" + tag, log)
    first, second = "ktsa" + tag, "ktsb" + tag
    q = Qmp(vmm, work, ["-netdev", "tap,id=n0,ifname=%s,script=%s,downscript=%s" % (first, up, down),
                        "-device", "virtio-net-pci,netdev=n0"])
    try:
        assert log_lines(log) == ["ifup-%s %s present" % (tag, first)], log_lines(log)
        add = dict(type="tap", id="n1", ifname=second, script=up, downscript=down)
        assert q.run("netdev_add", **add) == {"return": {}}, "netdev_add failed"
        assert q.run("netdev_del", id="n1") == {"return": {}}, "netdev_del failed"
        assert log_lines(log)[1:] == ["ifup-%s %s present" % (tag, second), "ifdown-%s %s present" % (tag, second)], \
            log_lines(log)
    finally:
        status = q.quit()
    assert status == 0, "exit status %d" % status
    assert log_lines(log)[3:] == ["ifdown-%s %s present" % (tag, first)], log_lines(log)
    assert not exists(first), "%s still there after exit" % first


def failing_script(vmm, tag, work):
    log = os.path.join(work, "failing-%s.log" % tag)
    bad = write_script(work, "ifup-bad", log, status=3)
    run = subprocess.run([vmm, "-S", "-nodefaults", "-display", "none", "-netdev",
                          "tap,id=n0,ifname=ktsfail,script=%s,downscript=no" % bad],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1, "exit status %d" % run.returncode
    assert log_lines(log) == ["ifup-bad ktsfail present"], log_lines(log)
    assert not exists("ktsfail"), "ktsfail left behind"
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
    for case in (netdev_add_del, tap_from_fd, tap_from_getfd, fd_not_a_tap, tap_scripts, failing_script):
        for name, vmm, tag in vmms:
            try:
                errors[(case.__name__, name)] = case(vmm, tag, work)
                passed += 1
                print("PASS %s (%s)" % (case.__name__, name), flush=True)
            except (AssertionError, RuntimeError, OSError, subprocess.TimeoutExpired) as e:
                failed += 1
                print("FAIL %s (%s): %s" % (case.__name__, name, e), flush=True)
    work_dir.cleanup()
    for case in ("tap_from_getfd", "fd_not_a_tap", "failing_script"):
        k, q = errors.get((case, "kestrel")), errors.get((case, "qemu"))
        if k == q:
            passed += 1
            print("PASS %s: the same error as QEMU (%s)" % (case, k))
        else:
            failed += 1
            print("FAIL %s: kestrel says %r, QEMU %r" % (case, k, q))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
