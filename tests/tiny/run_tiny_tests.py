#!/usr/bin/env python3
"""Tiny test kernels booted directly on this machine's /dev/kvm.

Usage: run_tiny_tests.py PATH/TO/kestrel [--qemu qemu-system-x86_64] [--only NAME ...]

Builds the kernels in tests/tiny/kernel with gcc and binutils (multiboot
ELF, multiboot a.out-kludge flat binary, PVH ELF32 and ELF64), boots each
scenario in kestrel and checks what the kernel printed and kestrel's exit
status (isa-debug-exit: (V << 1) | 1). One scenario runs the same kernel
in QEMU 7.2 too (through SeaBIOS and its multiboot ROM) and requires the
pc-testdev and pci-testdev lines to be identical. Tiny guests run fast even
on a paravirtual KVM, so no nested test host is needed. Ends with
"N passed, N failed".
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "guest", "drivers"))
from qmp import Failure, Qmp, wait_log  # noqa: E402

EXIT = ["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
BASE = ["-display", "none", "-nodefaults", "-serial", "stdio"] + EXIT
TIMEOUT = 120  # a tiny kernel needs well under a second; the machine may be busy

passed = failed = 0


def report(name, problems, output=""):
    global passed, failed
    if not problems:
        passed += 1
        print("PASS " + name, flush=True)
        return
    failed += 1
    print("FAIL " + name, flush=True)
    for p in problems:
        print("     " + p)
    for line in output.splitlines()[-25:]:
        print("     | " + line)


def fnv1a(data):
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xffffffff
    return "%08x" % h


def run(cmd, timeout=TIMEOUT):
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace").replace("\r", ""), p.stderr.decode(errors="replace")


def lines(output, prefix):
    return [l for l in output.splitlines() if l.startswith(prefix)]


class Checks:
    def __init__(self, output):
        self.output = output
        self.problems = []

    def has(self, regex):
        if not re.search(regex, self.output, re.M):
            self.problems.append("no line matching %r" % regex)

    def equal(self, what, got, want):
        if got != want:
            self.problems.append("%s: got %r, want %r" % (what, got, want))


def build_kernels(out):
    subprocess.run(["bash", os.path.join(HERE, "kernel", "build.sh"), out], check=True, capture_output=True)


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


def test_multiboot_elf(k, kdir, work):
    mod1 = write(os.path.join(work, "mod1.txt"), b"first module\n")
    mod2 = write(os.path.join(work, "mod,2.bin"), bytes(range(256)) * 40)
    opt = write(os.path.join(work, "opt.txt"), b"from a file")
    kernel = os.path.join(kdir, "tiny-mb.elf")
    initrd = "%s arg1 arg2,%s" % (mod1, mod2.replace(",", ",,"))
    code, out, err = run([k, "-m", "256", "-smp", "2"] + BASE + [
        "-kernel", kernel, "-initrd", initrd, "-append", "tests=fwcfg exit=5",
        "-fw_cfg", "opt/hello,string=world", "-fw_cfg", "name=opt/file,file=" + opt,
        "-uuid", "12345678-9abc-def0-1234-56789abcdef0"])
    c = Checks(out)
    c.equal("exit status", code, 11)
    c.has(r"^MB magic=2badb002 flags=0000024f$")
    c.has(r"^MB cmdline=%s tests=fwcfg exit=5$" % re.escape(kernel))
    c.has(r"^MB loader=qemu$")
    c.has(r"^MB mem_lower=639 mem_upper=261120 bootdev=8000ffff$")
    c.has(r"^MB mmap base=0 len=9fc00 type=1$")
    c.has(r"^MB mmap base=100000 len=ff00000 type=1$")
    c.has(r"^MB mods=2$")
    c.has(r"^MB mod 0 start=\w+ end=\w+ size=13 aligned=1 overlaps-kernel=0 sum=%s cmdline=%s arg1 arg2$"
          % (fnv1a(open(mod1, "rb").read()), re.escape(mod1)))
    c.has(r"^MB mod 1 start=\w+ end=\w+ size=10240 aligned=1 overlaps-kernel=0 sum=%s cmdline=%s$"
          % (fnv1a(open(mod2, "rb").read()), re.escape(mod2)))
    c.has(r"^FW signature=QEMU id=00000003$")
    c.has(r"^FW dma-signature=QEMU CFG$")
    c.has(r"^FW cpus=2 max-cpus=2 ram=10000000 nographic=0 irq0-override=1$")
    c.has(r"^FW uuid=123456789abcdef0123456789abcdef0$")  # -uuid's bytes in order, as QEMU
    c.has(r"^FW kernel addr=100000 size=\d+ entry=100020$")
    c.has(r"^FW initrd addr=9500 size=88$")
    c.has(r"^FW file name=etc/e820 size=40 key=\w+$")
    c.has(r"^FW e820 base=0 len=10000000 type=1$")
    c.has(r"^FW opt name=opt/hello size=5 sum=%s dma-error=0 same=1 text=world$" % fnv1a(b"world"))
    c.has(r"^FW opt name=opt/file size=11 sum=%s dma-error=0 same=1 text=from a file$" % fnv1a(b"from a file"))
    c.has(r"^FW dma-past-end error=0 sig=QEMU zeros=1$")
    c.has(r"^FW dma-skip error=0 next=M$")
    c.has(r"^FW dma-write-readonly error=1$")
    c.has(r"^FW invalid-key byte=0$")
    report("multiboot ELF: info, memory map, modules, fw_cfg, exit status", c.problems, out + err)


def test_multiboot_flat(k, kdir, work):
    kernel = os.path.join(kdir, "tiny-mb.bin")
    code, out, err = run([k, "-m", "64"] + BASE + ["-kernel", kernel, "-append", "exit=0"])
    c = Checks(out)
    c.equal("exit status", code, 1)
    c.has(r"^MB magic=2badb002 flags=0000024f$")
    c.has(r"^MB cmdline=%s exit=0$" % re.escape(kernel))
    c.has(r"^MB mem_lower=639 mem_upper=64512 bootdev=8000ffff$")
    c.has(r"^MB mods=0$")
    report("multiboot a.out kludge (flat binary)", c.problems, out + err)


def test_pvh(k, kdir, work, name, elf64):
    initrd = write(os.path.join(work, "initrd.img"), os.urandom(5000))
    kernel = os.path.join(kdir, name)
    args = [k, "-m", "128"] + BASE + ["-kernel", kernel, "-append", "tests=fwcfg exit=9"]
    if not elf64:
        args += ["-initrd", initrd]
    code, out, err = run(args)
    c = Checks(out)
    c.equal("exit status", code, 19)
    c.has(r"^PVH magic=336ec578 version=1 flags=0$")
    c.has(r"^PVH cmdline=tests=fwcfg exit=9$")
    c.has(r"^FW uuid=0{32}$")  # no -uuid: zeros
    c.has(r"^PVH rsdp=\w+ signature=1$")
    c.has(r"^PVH memmap base=100000 len=7f00000 type=1$")
    if elf64:
        c.has(r"^PVH modules=0$")
    else:
        c.has(r"^PVH modules=1$")
        c.has(r"^PVH mod 0 addr=\w+ size=5000 aligned=1 sum=%s$" % fnv1a(open(initrd, "rb").read()))
        c.has(r"^FW initrd addr=\w+ size=5000$")
    c.has(r"^FW cmdline size=19 data=tests=fwcfg exit=9$")
    report("PVH %s: start info, memory map, initrd module" % ("ELF64" if elf64 else "ELF32"), c.problems, out + err)


TESTDEVS = ["-device", "pc-testdev", "-device", "pci-testdev,membar=1M"]


def test_testdevs_vs_qemu(k, qemu, kdir):
    kernel = os.path.join(kdir, "tiny-mb.elf")
    args = ["-m", "128"] + BASE + TESTDEVS + ["-kernel", kernel, "-append", "tests=pctestdev,pcitestdev exit=2"]
    code, out, err = run([k] + args)
    mine = lines(out, "PCT ") + lines(out, "PCI ")
    c = Checks(out)
    c.equal("exit status", code, 5)
    c.equal("lines", len(mine) >= 20, True)
    c.has(r"^PCI id=00051b36 class=00ff0000 sub=11001af4 irq-pin=0 header=0$")
    qcode, qout, qerr = run([qemu, "-enable-kvm"] + args)
    theirs = lines(qout, "PCT ") + lines(qout, "PCI ")
    c.equal("QEMU's exit status", qcode, 5)
    for i, (a, b) in enumerate(zip(mine, theirs)):
        if a != b:
            c.problems.append("line %d: kestrel %r, QEMU %r" % (i, a, b))
    c.equal("line count (kestrel, QEMU)", len(mine), len(theirs))
    report("pc-testdev and pci-testdev: every register as QEMU 7.2", c.problems, out + err + qerr)


# Linux's AMD GART probe at boot: an address write and a data read for each
# of 256 buses x 32 slots. The address writes are coalesced (KVM queues them;
# the data read's exit delivers them first), so kestrel returns from KVM_RUN
# about once per slot, not twice; the slots found match QEMU's.
def kvm_runs(k, args, work, name):
    """Runs kestrel under strace; its exit status, stdout and how often it returned from KVM_RUN."""
    trace = os.path.join(work, name + ".strace")
    code, out, err = run(["strace", "-f", "-qq", "-e", "trace=ioctl", "-e", "signal=none", "-o", trace, k] + args)
    with open(trace) as f:
        return code, out, err, sum(1 for line in f if "KVM_RUN" in line)


def test_pci_scan_vs_qemu(k, qemu, kdir, work):
    kernel = os.path.join(kdir, "tiny-mb.elf")
    args = ["-m", "128"] + BASE + ["-kernel", kernel, "-append", "tests=pciscan exit=0"]
    code, out, err, runs = kvm_runs(k, args, work, "pciscan")
    c = Checks(out)
    c.equal("exit status", code, 1)
    c.has(r"^PCISCAN reads=8192 found=\d+$")
    c.equal("returns from KVM_RUN per slot read < 1.25 (%d for 8192)" % runs, runs < 8192 * 1.25, True)
    qcode, qout, qerr = run([qemu, "-enable-kvm"] + args)
    c.equal("QEMU's exit status", qcode, 1)
    c.equal("slots found (kestrel, QEMU)", lines(out, "PCISCAN "), lines(qout, "PCISCAN "))
    report("a scan of every PCI bus: the same slots as QEMU 7.2, address writes coalesced", c.problems,
           out + err + qerr)


# The IDE task file (registers 1-6) written 6000 times and read back 5000
# times: the writes are queued by KVM, each read delivers them first, so
# kestrel returns from KVM_RUN about once per read; the values read match
# QEMU's.
def test_ide_task_file_vs_qemu(k, qemu, kdir, work):
    kernel = os.path.join(kdir, "tiny-mb.elf")
    disk = write(os.path.join(work, "idetf.img"), bytes(1 << 20))
    args = ["-m", "128"] + BASE + ["-drive", "file=%s,format=raw,if=ide" % disk, "-kernel", kernel,
                                   "-append", "tests=idetf exit=0"]
    code, out, err, runs = kvm_runs(k, args, work, "idetf")
    c = Checks(out)
    c.equal("exit status", code, 1)
    c.has(r"^IDETF rounds=1000 sum=[0-9a-f]{8}$")
    c.equal("returns from KVM_RUN < 6000 for 5000 reads and 6000 writes (%d)" % runs, runs < 6000, True)
    qcode, qout, qerr = run([qemu, "-enable-kvm"] + args)
    c.equal("QEMU's exit status", qcode, 1)
    c.equal("what the registers read back (kestrel, QEMU)", lines(out, "IDETF "), lines(qout, "IDETF "))
    report("the IDE task file: the same values as QEMU 7.2, writes coalesced", c.problems, out + err + qerr)


def atapi_replies(output):
    """The ATAPI lines; of the audio control page only its header, code and
    length: QEMU 7.2 leaves the rest of it as the buffer's last contents."""
    return [re.sub(r"^(ATAPI MODE SENSE audio control: 24 bytes \S+ \S+ 0e0e).*", r"\1", l)
            for l in lines(output, "ATAPI ")]


def test_atapi_vs_qemu(k, qemu, kdir, work):
    """ATAPI packet commands to a CD on ide.1's master: every reply's bytes
    and sense key as QEMU 7.2's (INQUIRY, REQUEST SENSE, READ CAPACITY, READ
    TOC in its formats, GET CONFIGURATION, GET EVENT STATUS NOTIFICATION,
    MODE SENSE pages, READ DISC INFORMATION, MECHANISM STATUS, READ(10)
    in and past the medium, an unknown opcode, eject while locked)."""
    kernel = os.path.join(kdir, "tiny-mb.elf")
    cd = write(os.path.join(work, "atapi.iso"), bytes(i * 7 & 0xff for i in range(1 << 20)))
    args = ["-m", "128"] + BASE + ["-drive", "file=%s,format=raw,if=ide,index=2,media=cdrom" % cd,
                                   "-kernel", kernel, "-append", "tests=atapi exit=0"]
    code, out, err = run([k] + args)
    qcode, qout, qerr = run([qemu, "-enable-kvm"] + args)
    c = Checks(out)
    c.equal("exit status (kestrel, QEMU)", (code, qcode), (1, 1))
    c.equal("replies (kestrel, QEMU)", atapi_replies(out), atapi_replies(qout))
    c.equal("replies", len(atapi_replies(out)), 35)
    report("ATAPI packet commands: the same replies and sense keys as QEMU 7.2", c.problems, out + err + qout)


# -device CPUs (cold plug) beside -smp's: slots 1 and 3 of 4, slot 2 left empty.
COLD_PLUG = ["-smp", "1,maxcpus=4,sockets=4,cores=1,threads=1", "-device",
             '{"driver":"qemu64-x86_64-cpu","id":"vcpu1","socket-id":1,"core-id":0,"thread-id":0}',
             "-device", "qemu64-x86_64-cpu,socket-id=3,core-id=0,thread-id=0"]


def test_cold_plugged_cpus_vs_qemu(k, qemu, kdir):
    """The guest starts every vCPU the MADT enables (INIT/SIPI): the -device
    ones run, the empty slot does not; the same lines as under QEMU 7.2."""
    kernel = os.path.join(kdir, "tiny-mb.elf")
    args = ["-m", "128"] + BASE + COLD_PLUG + ["-kernel", kernel, "-append", "tests=cpus exit=4"]
    code, out, err = run([k] + args)
    mine = lines(out, "CPU ")
    c = Checks(out)
    c.equal("exit status", code, 9)
    c.equal("lines", mine, ["CPU fwcfg-cpus=3 cmos-cpus=3", "CPU madt=1", "CPU madt apic=0 enabled=1",
                            "CPU madt apic=1 enabled=1", "CPU madt apic=2 enabled=0", "CPU madt apic=3 enabled=1",
                            "CPU bsp apic=0", "CPU up apic=1", "CPU up apic=3", "CPU online=3"])
    qcode, qout, qerr = run([qemu, "-enable-kvm"] + args)
    c.equal("QEMU's exit status", qcode, 9)
    c.equal("lines (kestrel, QEMU)", mine, lines(qout, "CPU "))
    report("-device CPUs: the guest finds and starts them as under QEMU 7.2", c.problems, out + err + qerr)


def test_debugcon(k, kdir, work):
    log = os.path.join(work, "debugcon.log")
    kernel = os.path.join(kdir, "tiny-mb.elf")
    # pc-testdev's byte port 0xe8-0xeb covers 0xe9: the debug console, created
    # later, wins that port, as in QEMU.
    code, out, err = run([k] + BASE + ["-device", "pc-testdev", "-debugcon", "file:" + log, "-kernel", kernel,
                                       "-append", "tests=debugcon debugcon=1 exit=0"])
    c = Checks(out)
    c.equal("exit status", code, 1)
    c.has(r"^DEBUGCON readback=e9$")
    text = open(log, errors="replace").read() if os.path.exists(log) else ""
    c.equal("debug console output (as COM1's)", text, out)
    report("isa-debugcon: -debugcon file:, readback, over pc-testdev's port", c.problems, out + err)


def test_pit(k, kdir, policy):
    kernel = os.path.join(kdir, "tiny-mb.elf")
    extra = ["-global", "kvm-pit.lost_tick_policy=" + policy] if policy else []
    code, out, err = run([k] + BASE + extra + ["-kernel", kernel, "-append", "tests=pit exit=0"])
    c = Checks(out)
    c.equal("exit status", code, 1)
    m = re.search(r"^PIT warmup=(\d+) burst=(\d+)$", out, re.M)
    if not m:
        c.problems.append("no PIT line")
    elif policy == "discard":
        c.equal("ticks right after the stall <= 10", int(m.group(2)) <= 10, True)
    else:
        c.equal("missed ticks delivered at once (burst)", int(m.group(2)), 20)
    report("kvm-pit lost_tick_policy=%s: %s" % (policy or "delay (default)",
                                                "missed ticks dropped" if policy == "discard"
                                                else "missed ticks delivered"), c.problems, out + err)


def run_with_qmp(k, args, work, steps):
    """Starts kestrel stopped with a QMP socket, continues it, runs steps(qmp);
    returns (exit status, serial output, events)."""
    sock = os.path.join(work, "qmp-%d.sock" % time.monotonic_ns())
    proc = subprocess.Popen([k, "-S", "-qmp", "unix:%s,server=on,wait=off" % sock] + args,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        q = Qmp(sock, timeout=TIMEOUT)
        q.ok("qmp_capabilities")
        q.ok("cont")
        steps(q)
        out = proc.communicate(timeout=TIMEOUT)[0].decode(errors="replace").replace("\r", "")
        try:
            while True:
                msg = q.read_message()
                if msg and "event" in msg:
                    q.events.append(msg)
        except Exception:
            pass
        return proc.returncode, out, [(e["event"], e.get("data", {})) for e in q.events]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_pvpanic(k, kdir, work, action, panic_value, want_code, want_events, still_running=False):
    kernel = os.path.join(kdir, "tiny-mb.elf")
    args = BASE + ["-device", "pvpanic", "-kernel", kernel, "-append", "tests=pvpanic panic=%d exit=4" % panic_value]
    if action:
        args += ["-action", "panic=" + action]
    status, seen = {}, []

    def steps(q):
        if action == "pause":
            seen.append(q.wait_event("GUEST_PANICKED", timeout=TIMEOUT))
            seen.append(q.wait_event("STOP", timeout=TIMEOUT))
            status.update(q.ok("query-status"))
            q.execute("quit")

    code, out, events = run_with_qmp(k, args, work, steps)
    events = [(e["event"], e.get("data", {})) for e in seen] + events
    c = Checks(out)
    c.equal("exit status", code, want_code)
    c.has(r"^PVPANIC events=3$")
    if still_running:
        c.has(r"^PVPANIC continued$")
    if action == "pause":
        c.equal("query-status", status, {"running": False, "singlestep": False, "status": "guest-panicked"})
    got = [e for e in events if e[0] in ("GUEST_PANICKED", "GUEST_CRASHLOADED", "STOP", "SHUTDOWN")]
    c.equal("events", got[:len(want_events)], want_events)
    report("pvpanic %s, -action panic=%s: exit %d, %s" % ("crash loaded" if panic_value == 2 else "panicked",
                                                         action or "shutdown (default)", want_code,
                                                         ", ".join(e[0] for e in want_events)),
           c.problems, out)


def nmi_from_monitor(vmm, kernel, work, how):
    """Boots the NMI kernel stopped, continues it, injects an NMI once it is
    ready (QMP inject-nmi or HMP nmi) and quits. Returns (the command's
    reply, whether the guest saw the NMI, exit status)."""
    tag = "%s-%d" % (how, time.monotonic_ns())
    log, sock = os.path.join(work, "nmi-%s.log" % tag), os.path.join(work, "nmi-%s.sock" % tag)
    argv = vmm + ["-S", "-qmp", "unix:%s,server=on,wait=off" % sock, "-display", "none", "-nodefaults",
                  "-serial", "file:" + log] + EXIT + ["-kernel", kernel, "-append", "tests=nmi"]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        q = Qmp(sock, timeout=TIMEOUT)
        q.ok("qmp_capabilities")
        q.ok("cont")
        wait_log(log, "^NMI ready\r?$", TIMEOUT)
        reply = q.execute("inject-nmi") if how == "qmp" else \
            q.execute("human-monitor-command", {"command-line": "nmi"})
        try:
            wait_log(log, "^NMI seen\r?$", TIMEOUT)
            seen = True
        except Failure:
            seen = False
        q.execute("quit")
        return reply, seen, proc.wait(TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_nmi_vs_qemu(k, qemu, kdir, work):
    kernel = os.path.join(kdir, "tiny-mb.elf")
    for how, name in (("qmp", "QMP inject-nmi"), ("hmp", "HMP nmi")):
        c = Checks("")
        ours = nmi_from_monitor([k], kernel, work, how)
        theirs = nmi_from_monitor([qemu, "-enable-kvm"], kernel, work, how)
        c.equal("kestrel: reply, NMI seen, exit status", ours, theirs[:1] + (True, 0))
        c.equal("QEMU 7.2: reply, NMI seen, exit status", theirs, ours[:1] + (True, 0))
        report("%s reaches the guest's NMI handler (vector 2), as in QEMU 7.2" % name, c.problems)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kestrel")
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    args = ap.parse_args()
    k = os.path.abspath(args.kestrel)
    with tempfile.TemporaryDirectory(prefix="kestrel-tiny-") as work:
        kdir = os.path.join(work, "kernels")
        build_kernels(kdir)
        tests = [
            lambda: test_multiboot_elf(k, kdir, work),
            lambda: test_multiboot_flat(k, kdir, work),
            lambda: test_pvh(k, kdir, work, "tiny-pvh.elf", False),
            lambda: test_pvh(k, kdir, work, "tiny-pvh64.elf", True),
            lambda: test_debugcon(k, kdir, work),
            lambda: test_pit(k, kdir, None),
            lambda: test_pit(k, kdir, "discard"),
            lambda: test_pvpanic(k, kdir, work, "exit-failure", 1, 1,
                                 [("GUEST_PANICKED", {"action": "poweroff"}), ("STOP", {}),
                                  ("SHUTDOWN", {"guest": True, "reason": "guest-panic"})]),
            lambda: test_pvpanic(k, kdir, work, None, 1, 0,
                                 [("GUEST_PANICKED", {"action": "poweroff"}), ("STOP", {}),
                                  ("SHUTDOWN", {"guest": True, "reason": "guest-panic"})]),
            lambda: test_pvpanic(k, kdir, work, "pause", 1, 0,
                                 [("GUEST_PANICKED", {"action": "pause"}), ("STOP", {})]),
            lambda: test_pvpanic(k, kdir, work, "none", 1, 9, [("GUEST_PANICKED", {"action": "run"})], True),
            lambda: test_pvpanic(k, kdir, work, None, 2, 9, [("GUEST_CRASHLOADED", {"action": "run"})], True),
            lambda: test_testdevs_vs_qemu(k, args.qemu, kdir),
            lambda: test_cold_plugged_cpus_vs_qemu(k, args.qemu, kdir),
            lambda: test_pci_scan_vs_qemu(k, args.qemu, kdir, work),
            lambda: test_ide_task_file_vs_qemu(k, args.qemu, kdir, work),
            lambda: test_nmi_vs_qemu(k, args.qemu, kdir, work),
            lambda: test_atapi_vs_qemu(k, args.qemu, kdir, work),
        ]
        for i, t in enumerate(tests):
            try:
                t()
            except Exception as e:  # a VMM that hung or did not start
                report("scenario %d of %d" % (i + 1, len(tests)),
                       ["%s: %s" % (type(e).__name__, e), traceback.format_exc()])
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
