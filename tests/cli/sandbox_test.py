#!/usr/bin/env python3
"""-sandbox, -runas and -chroot on a started machine (-S: no guest code
runs, but every thread is there), kestrel beside qemu-system-x86_64 7.2
where QEMU shows the expected behaviour. Needs /dev/kvm and root (ptrace,
-runas).

- the filter is on in every thread (/proc/PID/task/*/status "Seccomp: 2")
  and the monitor still works under it (queries, pmemsave, cont/stop,
  system_reset, quit with the pidfile removed);
- a forbidden call made inside the process (injected with ptrace) kills
  the process with SIGSYS, as QEMU's -sandbox does: execve with spawn=deny
  in both VMMs; and in kestrel only (its allow-list is stricter) socket()
  in a vCPU thread and openat() in an iothread, even with -sandbox on;
- -runas UID:GID and -chroot DIR take effect after start-up, before the
  sandbox, so with elevateprivileges=deny kestrel starts where QEMU 7.2
  kills itself (its filter goes on before it drops privileges);
- "-chroot /nonexistent": "chroot failed" and exit status 1, as QEMU;
- hotplug (blockdev-add, device_add, device_del completed by a reset,
  blockdev-del) works under the sandbox, in both VMMs; so does device_add
  of a vCPU, whose new thread has the boot vCPU's filters (in kestrel,
  socket() there kills the process);
- SeaBIOS runs a VGA card's option ROM under the sandbox and reaches "No
  bootable device." (kestrel reads the ROM's file on the vCPU that first
  touches it), in both VMMs.

usage: sandbox_test.py PATH/TO/kestrel
Prints one PASS/FAIL line per case, then "N passed, N failed"."""
import json
import os
import resource
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "guest", "drivers"))
import syscall_inject as inj  # noqa: E402

FULL_DENY = "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"
QEMU = shutil.which("qemu-system-x86_64")


def no_core():
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


class Vm:
    """A VMM started with -S and a QMP socket."""

    def __init__(self, binary, work, extra, name="sb", pass_fds=()):
        self.sock_path = os.path.join(work, name + ".sock")
        self.pidfile = os.path.join(work, name + ".pid")
        for p in (self.sock_path, self.pidfile):
            if os.path.exists(p):
                os.unlink(p)
        argv = [binary, "-S", "-m", "64", "-display", "none", "-nodefaults", "-name", "sb,debug-threads=on",
                "-qmp", "unix:%s,server=on,wait=off" % self.sock_path, "-pidfile", self.pidfile] + extra
        if os.path.basename(binary).startswith("qemu"):
            argv.insert(1, "-enable-kvm")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, preexec_fn=no_core, pass_fds=pass_fds)
        self.sock = None

    def connect(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("exited with %s: %s" % (self.proc.returncode, self.proc.stderr.read().decode()))
            try:
                s = socket.socket(socket.AF_UNIX)
                s.connect(self.sock_path)
                self.raw = s   # for descriptors sent with a command
                self.sock = s.makefile("rwb")
                self.sock.readline()
                self.cmd("qmp_capabilities")
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("no QMP socket")

    def cmd(self, name, args=None, fds=()):
        """A command, with descriptors attached (SCM_RIGHTS) if any, as libvirt sends getfd."""
        msg = {"execute": name}
        if args is not None:
            msg["arguments"] = args
        data = (json.dumps(msg) + "\n").encode()
        if fds:
            socket.send_fds(self.raw, [data], list(fds))
        else:
            self.sock.write(data)
            self.sock.flush()
        while True:
            reply = json.loads(self.sock.readline())
            if "event" not in reply:
                return reply
            self.on_event(reply)

    def on_event(self, event):
        """An event read while waiting for a reply (dropped here)."""

    def wait(self, timeout=30):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return "timeout"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def status_field(pid, field, task=None):
    path = "/proc/%d/task/%d/status" % (pid, task) if task else "/proc/%d/status" % pid
    with open(path) as f:
        for line in f:
            if line.startswith(field + ":"):
                return line.split(":", 1)[1].strip()
    return None


def killed_by_sigsys(vm, thread, number, args):
    try:
        inj.inject(vm.proc.pid, thread, number, args)
    except inj.Killed:
        pass
    return vm.wait() == -signal.SIGSYS


def halting_kernel(work):
    """A multiboot kernel (a.out kludge, loaded at 1 MiB) that halts with
    interrupts off. Without firmware a guest started bare runs into a KVM
    internal error at the reset vector, and `cont` would race with it."""
    magic, flags, load = 0x1BADB002, 0x00010000, 0x100000
    header = struct.pack("<8I", magic, flags, (-(magic + flags)) & 0xFFFFFFFF,
                         load, load, 0, 0, load + 32)
    path = os.path.join(work, "halt.bin")
    with open(path, "wb") as f:
        f.write(header + bytes([0xFA, 0xF4, 0xEB, 0xFD]))  # cli; hlt; jmp hlt
    return path


def case_filter_on_and_monitor_works(kestrel, work):
    vm = Vm(kestrel, work, ["-sandbox", FULL_DENY, "-object", "iothread,id=io1",
                            "-kernel", halting_kernel(work)])
    try:
        vm.connect()
        pid = vm.proc.pid
        tasks = [int(t) for t in os.listdir("/proc/%d/task" % pid)]
        modes = {status_field(pid, "Seccomp", t) for t in tasks}
        assert modes == {"2"}, "Seccomp per thread: %s" % modes
        assert status_field(pid, "NoNewPrivs") == "1"
        assert vm.cmd("query-status")["return"]["status"] == "prelaunch"
        dump = os.path.join(work, "low.bin")
        assert "return" in vm.cmd("pmemsave", {"val": 0, "size": 4096, "filename": dump})
        assert os.path.getsize(dump) == 4096
        hmp = vm.cmd("human-monitor-command", {"command-line": "info registers"})["return"]
        assert "EIP=" in hmp or "RIP=" in hmp, hmp[:80]
        for c in ("cont", "stop", "system_reset", "cont"):
            assert "return" in vm.cmd(c), c
        assert "return" in vm.cmd("quit")
        status = vm.wait()
        assert status == 0, "quit: exit status %s, stderr %r" % (status, vm.proc.stderr.read())
        assert not os.path.exists(vm.pidfile), "pidfile left behind"
    finally:
        vm.stop()


def case_vnc_client_under_sandbox(binary, work):
    """A VNC client is served under the filter (libvirt's domains run with
    -sandbox on and VNC; libvncserver's client thread selects on the socket)."""
    path = os.path.join(work, "rfb.sock")
    vm = Vm(binary, work, ["-sandbox", FULL_DENY, "-vga", "std", "-vnc", "unix:" + path], name="vnc")
    try:
        vm.connect()
        for _ in range(3):   # the server answers the handshake each time
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(30)
                s.connect(path)
                greeting = s.recv(12)
                assert greeting.startswith(b"RFB 003.00"), greeting
                s.sendall(greeting)
                assert len(s.recv(64)) > 0, "no security types"
        assert "return" in vm.cmd("query-status"), "kestrel died serving VNC"
    finally:
        vm.stop()


def case_firmware_reads_option_rom_under_sandbox(binary, work):
    """SeaBIOS runs the VGA card's option ROM under the filter (a libvirt
    domain booting from its disk: -sandbox on, a VGA card). kestrel reads a
    ROM's file at the guest's first access to its BAR, on that vCPU."""
    serial = os.path.join(work, "fw-debugcon.log")  # SeaBIOS's output
    vm = Vm(binary, work, ["-sandbox", FULL_DENY, "-vga", "std", "-chardev", "file,id=dbg,path=" + serial,
                           "-device", "isa-debugcon,iobase=0x402,chardev=dbg"], name="fw")
    try:
        vm.connect()
        assert "return" in vm.cmd("cont")
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and vm.proc.poll() is None:
            with open(serial, "rb") as f:
                if b"No bootable device." in f.read():
                    break
            time.sleep(0.2)
        assert vm.proc.poll() is None, "the VMM ended (status %s) while the firmware ran" % vm.proc.returncode
        with open(serial, "rb") as f:
            assert b"No bootable device." in f.read(), "the firmware never reached its boot menu's end"
    finally:
        vm.stop()


def case_tap_netdev_add_under_sandbox(binary, work):
    """netdev_add of a tap after the filter is on (root: a real tap): kestrel
    sets the tap's offloads then (tun ioctls), and must live on."""
    if os.geteuid() != 0:
        return
    vm = Vm(binary, work, ["-sandbox", FULL_DENY], name="tap")
    try:
        vm.connect()
        reply = vm.cmd("netdev_add", {"type": "tap", "id": "t0", "ifname": "ksbtap0", "script": "no",
                                      "downscript": "no"})
        assert "return" in reply, reply
        assert "return" in vm.cmd("netdev_del", {"id": "t0"})
        assert "return" in vm.cmd("query-status"), "kestrel died"
    finally:
        vm.stop()


def case_hotplug_under_sandbox(binary, work):
    """libvirt's attach-disk under -sandbox on: blockdev-add opens the image
    (and its io_uring), device_add starts the disk's thread, device_del and
    a reset (which completes the pending removal) tear it down."""
    image = os.path.join(work, "hp.img")
    with open(image, "wb") as f:
        f.truncate(1 << 20)
    vm = Vm(binary, work, ["-sandbox", FULL_DENY, "-machine", "pc"], name="hp")
    deleted = []
    vm.on_event = lambda e: deleted.append(e["data"]) if e["event"] == "DEVICE_DELETED" else None
    try:
        vm.connect()
        steps = [("blockdev-add", {"driver": "file", "filename": image, "node-name": "hs"}),
                 ("blockdev-add", {"driver": "raw", "node-name": "hf", "file": "hs"}),
                 ("device_add", {"driver": "virtio-blk-pci", "drive": "hf", "id": "hd"}),
                 ("device_del", {"id": "hd"}), ("system_reset", None)]
        for name, args in steps:
            r = vm.cmd(name, args)
            assert "return" in r, "%s: %s" % (name, r)
        deadline = time.monotonic() + 30
        while len(deleted) < 2 and time.monotonic() < deadline:
            assert "return" in vm.cmd("query-status")
            time.sleep(0.05)
        assert deleted[-1] == {"device": "hd", "path": "/machine/peripheral/hd"}, deleted
        for node in ("hf", "hs"):
            r = vm.cmd("blockdev-del", {"node-name": node})
            assert "return" in r, "blockdev-del %s: %s" % (node, r)
        assert "return" in vm.cmd("quit")
        assert vm.wait() == 0, vm.proc.stderr.read()
    finally:
        vm.stop()


def case_vcpu_hotplug_under_sandbox(binary, work):
    """libvirt's setvcpus --live under the full sandbox: device_add of a
    vCPU creates its KVM vCPU and thread after the filter is in place; the
    new thread runs under the same filters as the boot vCPU's."""
    vm = Vm(binary, work, ["-sandbox", FULL_DENY, "-smp", "1,maxcpus=2", "-cpu", "qemu64"], name="cpuhp")
    try:
        vm.connect()
        for c in ("cont", "query-status"):
            assert "return" in vm.cmd(c), c
        r = vm.cmd("device_add", {"driver": "qemu64-x86_64-cpu", "id": "c1", "socket-id": 0, "core-id": 1,
                                  "thread-id": 0})
        assert r == {"return": {}}, "device_add: %s" % r
        cpus = vm.cmd("query-cpus-fast")["return"]
        assert [c["qom-path"] for c in cpus] == ["/machine/unattached/device[0]", "/machine/peripheral/c1"], cpus
        pid = vm.proc.pid
        new, boot = (inj.thread_named(pid, "CPU %d/KVM" % i) for i in (1, 0))
        assert new == cpus[1]["thread-id"], "thread %s, query-cpus-fast %s" % (new, cpus[1])
        filters = [status_field(pid, "Seccomp_filters", t) for t in (new, boot)]
        assert status_field(pid, "Seccomp", new) == "2" and filters[0] == filters[1], filters
        for c in ("stop", "cont", "query-status"):
            assert "return" in vm.cmd(c), c
        if not os.path.basename(binary).startswith("qemu"):  # kestrel's vCPU filter has no socket()
            assert killed_by_sigsys(vm, "CPU 1/KVM", inj.SYS_SOCKET, (socket.AF_UNIX, socket.SOCK_STREAM, 0)), \
                "socket() in the hot-added vCPU thread: status %s" % vm.proc.returncode
            return
        assert "return" in vm.cmd("quit")
        assert vm.wait() == 0, vm.proc.stderr.read()
    finally:
        vm.stop()


def case_execve_kills(binary, work):
    vm = Vm(binary, work, ["-sandbox", FULL_DENY])
    try:
        vm.connect()
        assert killed_by_sigsys(vm, "CPU 0/KVM", inj.SYS_EXECVE, (0, 0, 0)), \
            "execve with spawn=deny: status %s" % vm.proc.returncode
    finally:
        vm.stop()


def case_vcpu_socket_kills(kestrel, work):
    vm = Vm(kestrel, work, ["-sandbox", "on"])
    try:
        vm.connect()
        assert killed_by_sigsys(vm, "CPU 0/KVM", inj.SYS_SOCKET, (socket.AF_UNIX, socket.SOCK_STREAM, 0)), \
            "socket() in a vCPU thread: status %s" % vm.proc.returncode
    finally:
        vm.stop()


def case_iothread_open_kills(kestrel, work):
    vm = Vm(kestrel, work, ["-sandbox", "on", "-object", "iothread,id=io1"])
    try:
        vm.connect()
        assert killed_by_sigsys(vm, "IO io1", inj.SYS_OPENAT, (inj.AT_FDCWD, 0, 0)), \
            "openat() in an iothread: status %s" % vm.proc.returncode
    finally:
        vm.stop()


def case_main_loop_socket_allowed(kestrel, work):
    vm = Vm(kestrel, work, ["-sandbox", FULL_DENY])
    try:
        vm.connect()
        fd = inj.inject(vm.proc.pid, vm.proc.pid, inj.SYS_SOCKET, (socket.AF_UNIX, socket.SOCK_STREAM, 0))
        assert fd >= 0, "socket() in the main loop (reconnecting chardevs need it): %d" % fd
        assert vm.cmd("query-status")["return"]["status"] == "prelaunch"
    finally:
        vm.stop()


def case_runas_chroot(binary, work):
    root = os.path.join(work, "jail")
    os.makedirs(root, exist_ok=True)
    os.chmod(work, 0o755)
    vm = Vm(binary, work, ["-runas", "65534:65534", "-chroot", root, "-sandbox", FULL_DENY])
    try:
        vm.connect()
        pid = vm.proc.pid
        assert status_field(pid, "Uid").split() == ["65534"] * 4, status_field(pid, "Uid")
        assert status_field(pid, "Gid").split() == ["65534"] * 4, status_field(pid, "Gid")
        assert os.readlink("/proc/%d/root" % pid) == root
        assert vm.cmd("query-status")["return"]["status"] == "prelaunch"
    finally:
        vm.stop()


def case_chroot_missing(binary, work):
    vm = Vm(binary, work, ["-chroot", "/nonexistent-kestrel-jail"])
    status = vm.wait()
    err = vm.proc.stderr.read().decode().strip().splitlines()
    name = os.path.basename(binary)
    assert status == 1, "exit status %s" % status
    assert err[-1:] == ["%s: chroot failed" % name], err


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    kestrel = os.path.abspath(sys.argv[1])
    cases = [("filter on in every thread; monitor works under it", case_filter_on_and_monitor_works, kestrel),
             ("execve with spawn=deny kills kestrel", case_execve_kills, kestrel),
             ("socket() in a vCPU thread kills kestrel", case_vcpu_socket_kills, kestrel),
             ("openat() in an iothread kills kestrel", case_iothread_open_kills, kestrel),
             ("socket() in the main loop is allowed", case_main_loop_socket_allowed, kestrel),
             ("blockdev-add, device_add, device_del under the sandbox", case_hotplug_under_sandbox, kestrel),
             ("device_add of a vCPU under the sandbox", case_vcpu_hotplug_under_sandbox, kestrel),
             ("a VNC client served under the sandbox", case_vnc_client_under_sandbox, kestrel),
             ("the firmware runs the VGA option ROM under the sandbox", case_firmware_reads_option_rom_under_sandbox,
              kestrel),
             ("netdev_add of a tap under the sandbox", case_tap_netdev_add_under_sandbox, kestrel),
             ("-runas and -chroot before the sandbox (kestrel)", case_runas_chroot, kestrel),
             ("-chroot to a missing directory (kestrel)", case_chroot_missing, kestrel)]
    if QEMU:
        cases += [("execve with spawn=deny kills QEMU 7.2 too", case_execve_kills, QEMU),
                  ("blockdev-add, device_add, device_del under QEMU 7.2's sandbox", case_hotplug_under_sandbox, QEMU),
                  ("device_add of a vCPU under QEMU 7.2's sandbox", case_vcpu_hotplug_under_sandbox, QEMU),
                  ("the firmware runs the VGA option ROM under QEMU 7.2's sandbox",
                   case_firmware_reads_option_rom_under_sandbox, QEMU),
                  ("-chroot to a missing directory (QEMU 7.2)", case_chroot_missing, QEMU)]
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="kestrel-sandbox-") as work:
        for name, fn, binary in cases:
            try:
                fn(binary, work)
                passed += 1
                print("PASS %s" % name, flush=True)
            except Exception as e:  # noqa: BLE001 - every failure is reported
                failed += 1
                print("FAIL %s: %s" % (name, e), flush=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
