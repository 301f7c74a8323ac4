#!/usr/bin/env python3
"""QMP file descriptor passing and user-creatable objects, on kestrel and
on QEMU 7.2 with the same commands (libvirt's domain start uses them):
getfd/closefd, add-fd/remove-fd/query-fdsets with descriptors sent by
SCM_RIGHTS on the QMP Unix socket, -add-fd with an inherited descriptor
that -serial file:/dev/fdset/N then writes to, object-add/object-del of secrets and
memory backends, query-memdev; and guest RAM backed by the
memory-backend-file that -machine memory-backend= names (share=on: the
tiny kernel's loaded code is in the file once it ran). Replies must be equal (descriptor numbers
aside, query-memdev's list compared by id); each descriptor the VMM says
it holds must be, in /proc/PID/fd, the file the test sent, and gone once
closed or removed. One difference is deliberate: QEMU 7.2 closes a
descriptor remove-fd removed only once the guest runs (until then a second
remove-fd succeeds and query-fdsets still lists it); kestrel closes it at
once, so those two answers are checked on kestrel alone.

usage: qmp_fds_test.py PATH/TO/kestrel [qemu-system-x86_64]
Prints one PASS/FAIL line per check, then "N passed, N failed"."""
import json
import re
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "libvirt"))
from results import report, summary  # noqa: E402


class Vmm:
    def __init__(self, binary, work, tag, extra=("-m", "64"), pass_fds=()):
        self.sock_path = os.path.join(work, tag + ".qmp")
        argv = [binary, "-S", "-display", "none", "-nodefaults", "-accel", "kvm",
                "-qmp", "unix:%s,server=on,wait=off" % self.sock_path] + list(extra)
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, pass_fds=pass_fds)
        deadline = time.monotonic() + 60
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(self.sock_path)
                break
            except OSError:
                self.sock.close()
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("%s did not start: %s" % (binary, self.proc.stderr.read()))
                time.sleep(0.05)
        self.buf = b""
        self.read()
        self.cmd("qmp_capabilities")

    def read(self):
        while True:
            while b"\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise RuntimeError("QMP closed")
                self.buf += chunk
            line, self.buf = self.buf.split(b"\n", 1)
            msg = json.loads(line)
            if "event" not in msg:
                return msg

    def cmd(self, name, args=None, fds=()):
        msg = {"execute": name}
        if args is not None:
            msg["arguments"] = args
        data = json.dumps(msg).encode() + b"\n"
        if fds:
            socket.send_fds(self.sock, [data], list(fds))
        else:
            self.sock.sendall(data)
        return self.read()

    def fd_target(self, fd):
        try:
            return os.readlink("/proc/%d/fd/%d" % (self.proc.pid, fd))
        except OSError:
            return None

    def stop(self):
        self.sock.close()
        self.proc.kill()
        self.proc.wait()


def normalized(reply):
    """The reply with descriptor numbers replaced (they differ by VMM)."""
    def walk(v):
        if isinstance(v, dict):
            return {k: ("N" if k == "fd" and isinstance(x, int) else walk(x)) for k, x in v.items()}
        if isinstance(v, list):
            items = [walk(x) for x in v]
            if all(isinstance(x, dict) and "host-nodes" in x for x in items):  # query-memdev: any order
                items.sort(key=lambda x: x.get("id", ""))
            return items
        return v
    return walk(reply)


def session(binary, work, tag):
    """Runs the commands; returns [(label, normalized reply)] and the fd checks."""
    files = {}
    for name in ("a", "b", "c"):
        path = os.path.join(work, "%s-%s.file" % (tag, name))
        open(path, "w").close()
        files[name] = path
    vmm = Vmm(binary, work, tag)
    out, checks = [], []

    def run(label, name, args=None, send=()):
        fds = [os.open(files[f], os.O_RDONLY) for f in send]
        try:
            reply = vmm.cmd(name, args, fds)
        finally:
            for fd in fds:
                os.close(fd)
        out.append((label, normalized(reply)))
        return reply

    try:
        run("getfd without a descriptor", "getfd", {"fdname": "x"})
        run("getfd", "getfd", {"fdname": "fdA"}, ["a"])
        run("getfd of a name starting with a digit", "getfd", {"fdname": "1x"}, ["b"])
        run("closefd", "closefd", {"fdname": "fdA"})
        run("closefd again", "closefd", {"fdname": "fdA"})
        added = run("add-fd to set 3 with opaque", "add-fd", {"fdset-id": 3, "opaque": "disk"}, ["b"])
        fd_b = added.get("return", {}).get("fd")
        checks.append(("add-fd: the VMM holds the file sent", fd_b is not None and vmm.fd_target(fd_b) == files["b"]))
        added = run("add-fd without a set id", "add-fd", None, ["c"])
        fd_c = added.get("return", {}).get("fd")
        run("add-fd without a descriptor", "add-fd", {"fdset-id": 3})
        run("query-fdsets", "query-fdsets")
        run("remove-fd of a descriptor", "remove-fd", {"fdset-id": 3, "fd": fd_b if fd_b is not None else -1})
        checks.append(("remove-fd: the descriptor is closed", fd_b is not None and vmm.fd_target(fd_b) != files["b"]))
        run("remove-fd again", "remove-fd", {"fdset-id": 3, "fd": fd_b if fd_b is not None else -1})
        run("remove-fd of an unknown set", "remove-fd", {"fdset-id": 99})
        run("query-fdsets after remove-fd", "query-fdsets")
        checks.append(("add-fd without a set id: held", fd_c is not None and vmm.fd_target(fd_c) == files["c"]))
        run("object-add secret", "object-add", {"qom-type": "secret", "id": "sec0", "data": "aGVsbG8=",
                                                "format": "base64"})
        run("object-add duplicate id", "object-add", {"qom-type": "secret", "id": "sec0", "data": "x"})
        run("object-add secret without data", "object-add", {"qom-type": "secret", "id": "sec1"})
        run("object-add memory-backend-ram", "object-add", {"qom-type": "memory-backend-ram", "id": "mem1",
                                                            "size": 4194304, "share": True})
        run("object-add memory-backend-memfd", "object-add", {"qom-type": "memory-backend-memfd", "id": "mem2",
                                                              "size": 2097152})
        run("object-add memory backend of size 0", "object-add", {"qom-type": "memory-backend-ram", "id": "mem3",
                                                                  "size": 0})
        run("query-memdev", "query-memdev")
        run("object-del", "object-del", {"id": "mem1"})
        run("object-del again", "object-del", {"id": "mem1"})
        run("object-del secret", "object-del", {"id": "sec0"})
        run("query-memdev after object-del", "query-memdev")
    finally:
        vmm.stop()
    return out, checks


def tiny_kernel(work):
    kernel_dir = os.path.join(work, "kernel")
    if not os.path.exists(kernel_dir):
        subprocess.run(["bash", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tiny", "kernel",
                                             "build.sh"), kernel_dir], check=True, capture_output=True)
    return os.path.join(kernel_dir, "tiny-mb.elf")


def serial_through_fdset(binary, work, tag, append):
    """-add-fd with an inherited descriptor of a file that holds a line,
    and the serial port on `-chardev file,path=/dev/fdset/5,append=on|off`,
    as libvirt passes a <serial type='file'>: the tiny kernel's output
    lands in that file (after the line with append=on; the file truncated
    first with append=off, as open() would), the original descriptor is
    closed, and query-fdsets lists the set's copy with its opaque text.
    Returns (output ok, original closed, query-fdsets reply normalized)."""
    path = os.path.join(work, "%s-fdset-serial-%s.txt" % (tag, append))
    with open(path, "w") as f:
        f.write("BEFORE\n")
    fd = os.open(path, os.O_WRONLY)
    try:
        vmm = Vmm(binary, work, tag + "-fdset", [
            "-add-fd", "fd=%d,set=5,opaque=serial0" % fd, "-chardev",
            "file,id=s0,path=/dev/fdset/5,append=%s" % append, "-serial", "chardev:s0",
            "-kernel", tiny_kernel(work)], pass_fds=[fd])
    finally:
        os.close(fd)
    try:
        original_closed = vmm.fd_target(fd) != path
        fdsets = normalized(vmm.cmd("query-fdsets"))
        vmm.cmd("cont")
        deadline = time.monotonic() + 120
        while b"TINY exit=" not in open(path, "rb").read() and time.monotonic() < deadline:
            time.sleep(0.1)
        text = open(path, "rb").read()
        return text.startswith(b"BEFORE\n") == (append == "on") and b"TINY exit=" in text, original_closed, fdsets
    finally:
        vmm.stop()


def ram_in_file(binary, work, tag):
    """-machine memory-backend= naming a shared memory-backend-file: once
    the tiny multiboot kernel has printed its marker, the file holds, at
    its load address, the kernel's loaded segment (guest RAM is the file)."""
    kernel = tiny_kernel(work)
    ram, serial = os.path.join(work, tag + "-ram.img"), os.path.join(work, tag + "-serial.txt")
    vmm = Vmm(binary, work, tag + "-ram", ["-machine", "memory-backend=m", "-object",
              "memory-backend-file,id=m,size=64M,mem-path=%s,share=on" % ram, "-kernel", kernel,
              "-serial", "file:" + serial])
    try:
        vmm.cmd("cont")
        deadline = time.monotonic() + 120
        while b"TINY exit=" not in open(serial, "rb").read() and time.monotonic() < deadline:
            time.sleep(0.1)
        with open(kernel, "rb") as f:
            elf = f.read()
        # The first PT_LOAD of the 32-bit ELF: its first page (code).
        phoff, phentsize = struct.unpack_from("<I", elf, 28)[0], struct.unpack_from("<H", elf, 42)[0]
        for i in range(struct.unpack_from("<H", elf, 44)[0]):
            p_type, offset, _vaddr, paddr = struct.unpack_from("<IIII", elf, phoff + i * phentsize)
            if p_type == 1:
                break
        with open(ram, "rb") as f:
            f.seek(paddr)
            loaded = f.read(0x1000)
        return loaded == elf[offset:offset + 0x1000]
    finally:
        vmm.stop()


def main():
    kestrel = os.path.abspath(sys.argv[1])
    qemu = shutil.which(sys.argv[2] if len(sys.argv) > 2 else "qemu-system-x86_64")
    with tempfile.TemporaryDirectory(prefix="kestrel-qmpfds-") as work:
        k_out, k_checks = session(kestrel, work, "kestrel")
        for label, ok in k_checks:
            report(ok, "kestrel: " + label)
        report(ram_in_file(kestrel, work, "kestrel"),
               "kestrel: guest RAM is the memory-backend-file -machine memory-backend= names")
        k_serial = {a: serial_through_fdset(kestrel, work, "kestrel", a) for a in ("on", "off")}
        for a, (ok, closed, _) in k_serial.items():
            report(ok, "kestrel: -add-fd + -chardev file,path=/dev/fdset/5,append=%s: the guest's output in the file"
                   % a)
            report(closed, "kestrel: -add-fd: the inherited descriptor is closed, the set holds a copy")
        if not qemu:
            report(False, "QEMU 7.2 to compare with")
            return summary()
        for a in ("on", "off"):
            q_serial = serial_through_fdset(qemu, work, "qemu", a)
            report(q_serial[0], "QEMU 7.2: -add-fd + /dev/fdset/5, append=%s (the check itself)" % a)
            report(k_serial[a][2] == q_serial[2], "query-fdsets after -add-fd (as QEMU 7.2)",
                   "kestrel: %s\n  QEMU:    %s" % (k_serial[a][2], q_serial[2]))
        q_out, _ = session(qemu, work, "qemu")
        report(ram_in_file(qemu, work, "qemu"), "QEMU 7.2: the same (the check itself)")
        kestrel_only = {
            "remove-fd again": {"error": {"class": "GenericError",
                                          "desc": "File descriptor named 'fdset-id:3, fd:N' not found"}},
            "query-fdsets after remove-fd": {"return": [{"fdset-id": 0, "fds": [{"fd": "N"}]}]},
        }
        for (label, k), (_, q) in zip(k_out, q_out):
            if label in kestrel_only:
                k = json.loads(re.sub(r"fd:\d+", "fd:N", json.dumps(k)))
                report(k == kestrel_only[label], "kestrel: " + label + " (the descriptor was closed)", str(k))
                continue
            k = json.loads(json.dumps(k).replace(kestrel, "EMU"))
            report(k == q, label + " (as QEMU 7.2)", "kestrel: %s\n  QEMU:    %s" % (k, q))
    return summary()


if __name__ == "__main__":
    sys.exit(main())
