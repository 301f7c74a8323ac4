#!/usr/bin/env python3
"""Network back ends at run time and from inherited descriptors, each case
on kestrel and on QEMU 7.2 (which must behave the same): netdev_add (QMP
and HMP) creates a tap the host can see and netdev_del removes it, with
QEMU's replies and errors; `-netdev tap,fd=N` takes a tap the caller opened (as
libvirt does) and refuses a descriptor that is not a tap; script= and
downscript= run with the interface's name while it exists (at start,
netdev_add, netdev_del and exit), and a failing script stops the start
with QEMU's message. Multiqueue from fds= (two IFF_MULTI_QUEUE opens of
one tap, as libvirt passes them) with mq=on,vectors=6; the fd=, fds=,
vhostfd(s)= errors; vnet_hdr=on beside fd=/fds= of taps opened without
IFF_VNET_HDR (command line and netdev_add); sndbuf= read back with TUNGETSNDBUF; vnet_hdr=off
(the tap has no IFF_VNET_HDR); vhost=on and vhostforce=on without
/dev/vhost-net; -netdev bridge refused by /etc/qemu/bridge.conf (Debian's
qemu-bridge-helper; the machine's file is restored). Needs root (tap
devices) and /dev/kvm.

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
TUNGETSNDBUF, TUNSETSNDBUF = 0x800454d3, 0x400454d4
IFF_TAP, IFF_NO_PI, IFF_MULTI_QUEUE, IFF_VNET_HDR = 0x0002, 0x1000, 0x0100, 0x4000


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


def open_tap(name, flags=IFF_VNET_HDR):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI | flags))
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


def start_fails(vmm, args, pass_fds=()):
    """Runs a VMM that must refuse its command line: (exit status, its
    error lines without the program's name)."""
    run = subprocess.run([vmm, "-S", "-nodefaults", "-display", "none"] + args, pass_fds=pass_fds,
                         capture_output=True, text=True, timeout=60)
    lines = [line.split(": ", 1)[-1] for line in run.stderr.strip().splitlines()]
    return run.returncode, lines


def tap_multiqueue_fds(vmm, tag, work):
    """libvirt's multiqueue: one tap opened twice with IFF_MULTI_QUEUE,
    both descriptors passed. Returns "info network" to compare."""
    name = "ktmq" + tag
    fds = [open_tap(name, IFF_VNET_HDR | IFF_MULTI_QUEUE) for _ in range(2)]
    try:
        q = Qmp(vmm, work, ["-netdev", "tap,id=n0,fds=%d:%d" % tuple(fds),
                            "-device", "virtio-net-pci,netdev=n0,id=nic0,mq=on,vectors=6"], pass_fds=fds)
        info = q.hmp("info network")
        qtree = q.hmp("info qtree")
        assert q.quit() == 0
    finally:
        for fd in fds:
            os.close(fd)
    for fd in fds:
        assert "type=tap,fd=%d" % fd in info, info
    assert "vectors = 6 (0x6)" in qtree, "no vectors = 6 in info qtree"
    return info


def fd_errors(vmm, tag, work):
    """fd=, fds= and vhostfd(s)= that QEMU refuses, before anything runs."""
    taps = [open_tap("ktfe%s%d" % (tag, i), IFF_VNET_HDR | IFF_MULTI_QUEUE) for i in range(2)]
    plain = open_tap("ktfp" + tag, IFF_MULTI_QUEUE)   # no vnet header
    null = os.open("/dev/null", os.O_RDWR)
    a, b = taps
    cases = ["tap,id=n0,fds=%d:%d,vhostfds=%d" % (a, b, null),        # counts differ
             "tap,id=n0,fd=%d,fds=%d:%d" % (a, a, b),
             "tap,id=n0,fds=%d:%d,vhostfd=%d" % (a, b, null),
             "tap,id=n0,fd=%d,vhostfds=%d" % (a, null),
             "tap,id=n0,fd=%d,queues=2" % a,
             "tap,id=n0,fd=%d,vhost=off,vhostfd=%d" % (a, null),
             "tap,id=n0,fd=999", "tap,id=n0,fd=abc", "tap,id=n0,fds=%d:999" % a, "tap,id=n0,fds=%d::%d" % (a, b),
             "tap,id=n0,fd=%d" % null, "tap,id=n0,fds=%d:%d" % (a, plain), "tap,id=n0,fds=%d:%d" % (a, null),
             "tap,id=n0,fd=%d,sndbuf=abc" % a]
    try:
        return [start_fails(vmm, ["-netdev", case], pass_fds=taps + [plain, null]) for case in cases]
    finally:
        for fd in taps + [plain, null]:
            os.close(fd)


def vnet_hdr_with_fd(vmm, tag, work):
    """vnet_hdr=on for a tap the caller opened without IFF_VNET_HDR: QEMU
    refuses vnet_hdr= beside fd= (and fds=) before it looks at the tap, on
    the command line and in netdev_add (the tap sent with getfd)."""
    plain = open_tap("ktvf" + tag, 0)
    queues = [open_tap("ktvq" + tag, IFF_MULTI_QUEUE) for _ in range(2)]
    try:
        errors = [start_fails(vmm, ["-netdev", "tap,id=n0,fd=%d,vnet_hdr=on" % plain], pass_fds=[plain]),
                  start_fails(vmm, ["-netdev", "tap,id=n0,fds=%d:%d,vnet_hdr=on" % tuple(queues)], pass_fds=queues)]
        q = Qmp(vmm, work)
        try:
            assert q.cmd("getfd", {"fdname": "plain"}, fds=[plain]) == {"return": {}}, "getfd failed"
            errors.append(error_of(q.run("netdev_add", type="tap", id="hn0", fd="plain", vnet_hdr=True)))
            errors.append(q.hmp("info network"))
        finally:
            assert q.quit() == 0
    finally:
        for fd in [plain] + queues:
            os.close(fd)
    assert errors[-1] == "", "netdev_add left a netdev: %r" % errors[-1]
    return errors


def sndbuf(vmm, tag, work):
    """sndbuf= reaches the tap (TUNSETSNDBUF, read back on the caller's own
    descriptor); without it the limit goes, as in QEMU (INT_MAX)."""
    got = []
    for option in (",sndbuf=1M", ""):
        fd = open_tap("ktsb" + tag)
        try:
            fcntl.ioctl(fd, TUNSETSNDBUF, struct.pack("i", 4096))
            q = Qmp(vmm, work, ["-netdev", "tap,id=n0,fd=%d%s" % (fd, option), "-device", "virtio-net-pci,netdev=n0"],
                    pass_fds=[fd])
            got.append(struct.unpack("i", fcntl.ioctl(fd, TUNGETSNDBUF, struct.pack("i", 0)))[0])
            assert q.quit() == 0
        finally:
            os.close(fd)
    assert got == [1 << 20, 2**31 - 1], "TUNGETSNDBUF: %s" % got
    return got


def tun_flags(ifname):
    with open("/sys/class/net/%s/tun_flags" % ifname) as f:
        return int(f.read(), 16)


def vnet_hdr_off(vmm, tag, work):
    """vnet_hdr=off: the tap kestrel opens has no IFF_VNET_HDR (default: it has)."""
    flags = {}
    for option in ("vnet_hdr=off", "vnet_hdr=on"):
        name = "ktvh" + tag
        q = Qmp(vmm, work, ["-netdev", "tap,id=n0,ifname=%s,script=no,downscript=no,%s" % (name, option),
                            "-device", "virtio-net-pci,netdev=n0"])
        try:
            flags[option] = tun_flags(name) & IFF_VNET_HDR
        finally:
            assert q.quit() == 0
    assert flags == {"vnet_hdr=off": 0, "vnet_hdr=on": IFF_VNET_HDR}, flags


def vhost_errors(vmm, tag, work):
    """Without /dev/vhost-net (this machine has none): vhostforce=on fails
    with QEMU's error; vhost=on fails at start with the same text (QEMU 7.2
    prints it as a warning and then aborts on an assertion); a vhostfd=
    that is not vhost-net ends with QEMU's last line."""
    if os.path.exists("/dev/vhost-net"):
        raise RuntimeError("skipped: this case wants a machine without /dev/vhost-net")
    tap, null = open_tap("ktvo" + tag), os.open("/dev/null", os.O_RDWR)
    try:
        return [start_fails(vmm, ["-netdev", "tap,id=n0,ifname=ktvf,script=no,downscript=no,%s" % o])
                for o in ("vhostforce=on", "vhost=on")] + \
               [start_fails(vmm, ["-netdev", "tap,id=n0,fd=%d,vhostfd=%d,vhostforce=on" % (tap, null)],
                            pass_fds=[tap, null])]
    finally:
        os.close(tap)
        os.close(null)


def bridge_acl(vmm, tag, work):
    """-netdev bridge through Debian's qemu-bridge-helper: a bridge its
    /etc/qemu/bridge.conf allows gets the tap, another is refused with the
    helper's message. The machine's bridge.conf comes back afterwards."""
    conf, allowed, denied = "/etc/qemu/bridge.conf", "ktbra", "ktbrd"  # the names are in the messages compared
    saved = open(conf).read() if os.path.exists(conf) else None
    made_dir = not os.path.isdir("/etc/qemu")
    os.makedirs("/etc/qemu", exist_ok=True)
    subprocess.run(["ip", "link", "add", allowed, "type", "bridge"], check=True)
    subprocess.run(["ip", "link", "add", denied, "type", "bridge"], check=True)
    try:
        with open(conf, "w") as f:
            f.write("allow %s\n" % allowed)
        refused = start_fails(vmm, ["-netdev", "bridge,id=n0,br=" + denied])
        q = Qmp(vmm, work, ["-netdev", "bridge,id=n0,br=" + allowed, "-device", "virtio-net-pci,netdev=n0"])
        ports = os.listdir("/sys/class/net/%s/brif" % allowed)
        assert q.quit() == 0
        assert len(ports) == 1, "ports of %s: %s" % (allowed, ports)
        assert refused[0] == 1, refused
        return refused
    finally:
        subprocess.run(["ip", "link", "del", allowed])
        subprocess.run(["ip", "link", "del", denied])
        if saved is not None:
            with open(conf, "w") as f:
                f.write(saved)
        else:
            os.remove(conf)
            if made_dir:
                os.rmdir("/etc/qemu")


def same_as_qemu(case, k, q):
    """What the referee's answer must be for each compared case."""
    if case == "vhost_errors" and k and q:
        # vhost=on: kestrel ends with exit 1 where QEMU 7.2 asserts; the text is QEMU's.
        (kf, kn), (kv, kvl), (kh, khl) = k
        (qf, qn), (qv, qvl), (qh, qhl) = q
        location, text = kvl[-1].split(": ", 1) if kvl else ("", "")
        text_ok = "%s: warning: %s" % (location, text) in qvl
        return kf == qf and kn == qn and kv == 1 and text_ok and kh == qh == 1 and khl[-1] == qhl[-1]
    return k == q


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    vmms = [("kestrel", os.path.abspath(sys.argv[1]), "k"), ("qemu", "qemu-system-x86_64", "q")]
    passed = failed = 0
    errors = {}
    work_dir = tempfile.TemporaryDirectory(prefix="kestrel-netdev-")
    work = work_dir.name
    for case in (netdev_add_del, tap_from_fd, tap_from_getfd, fd_not_a_tap, tap_scripts, failing_script,
                 tap_multiqueue_fds, fd_errors, vnet_hdr_with_fd, sndbuf, vnet_hdr_off, vhost_errors, bridge_acl):
        for name, vmm, tag in vmms:
            try:
                errors[(case.__name__, name)] = case(vmm, tag, work)
                passed += 1
                print("PASS %s (%s)" % (case.__name__, name), flush=True)
            except (AssertionError, RuntimeError, OSError, subprocess.TimeoutExpired) as e:
                failed += 1
                print("FAIL %s (%s): %s" % (case.__name__, name, e), flush=True)
    work_dir.cleanup()
    for case in ("tap_from_getfd", "fd_not_a_tap", "failing_script", "tap_multiqueue_fds", "fd_errors",
                 "vnet_hdr_with_fd", "sndbuf", "vhost_errors", "bridge_acl"):
        k, q = errors.get((case, "kestrel")), errors.get((case, "qemu"))
        if same_as_qemu(case, k, q):
            passed += 1
            print("PASS %s: the same as QEMU (%s)" % (case, k))
        else:
            failed += 1
            print("FAIL %s: kestrel says %r, QEMU %r" % (case, k, q))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
