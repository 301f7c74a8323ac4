#!/usr/bin/env python3
"""libvirt 9.0 starts and runs a domain on kestrel, beside QEMU 7.2.

A private libvirtd (libvirtd.py) defines the same virt-install-style domain
twice, once with kestrel and once with QEMU 7.2 as <emulator>:
pc-i440fx-7.2, 512 MiB, 2 vCPUs of at most 3, host-passthrough migratable='on', no
HPET, <pm> without S3/S4 (as virt-install writes them), direct kernel boot of the tiny test
kernel (tests/tiny/kernel, multiboot: it prints its boot information on
COM1 and halts), a virtio disk on a raw file and one on a qcow2 file, a
pty serial console, a virtio balloon, a virtio-rng on /dev/urandom (as
virt-install writes it), a guest agent <channel> (virtio-serial-pci with a
virtserialport on a Unix socket libvirt passes as fd=), the PIIX3 USB controller with a
USB tablet, a virtio NIC on a tap libvirt makes (-netdev in JSON), VNC graphics (libvirt adds audiodev= to -vnc) and a VGA card.

For each: `virsh domxml-to-native` (printed: the command line libvirt
builds), `virsh start --paused`, the pty console attached, `virsh resume`,
the kernel's marker read from the console, `domstate` through
suspend/resume, `qemu-monitor-command --hmp 'info status'`, `domblkstat`
of both disks, `dommemstat`, `virsh dump --memory-only` as ELF and as
kdump-zlib (the files parsed: notes of both vCPUs, every RAM page),
`attach-disk --live` (device_add with JSON
values), `setvcpus --live 3` (query-hotpluggable-cpus, device_add of the
vCPU in the free slot, query-cpus-fast: vcpucount 3 in both VMMs),
`destroy` leaving no process. No agent runs in the guest: `dumpxml` shows the channel
state='disconnected' (libvirt reads query-chardev's frontend-open, which
follows the guest's end of the port) and libvirt logs no agent error
("End of file from agent socket" when it had connected). Both command
lines must use JSON -device (libvirt's QEMU_CAPS_DEVICE_JSON, from
device_add's schema feature json-cli-hotplug).
Every error libvirtd logs for kestrel but not for QEMU fails the test.

Usage: domain_start_test.py build/kestrel [qemu-system-x86_64]
       (re-executes itself in a new mount namespace; needs root)"""

import os
import re
import select
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
import dump_test  # noqa: E402 (the dump file parsers)
from libvirtd import (PTY_SERIAL_CONSOLE, VIRT_INSTALL_PLATFORM, VNC_VGA_BALLOON, beside_qemu, private_libvirtd,
                      run_test, virsh)
from results import report

HERE = os.path.dirname(os.path.abspath(__file__))
MARKER = "TINY exit=0"
RAM_BYTES = 512 << 20
VGA_WINDOW = (0xa0000, 0xc0000)

DOMAIN_XML = """<domain type='kvm'>
  <name>{name}</name>
  <memory unit='KiB'>524288</memory>
  <currentMemory unit='KiB'>524288</currentMemory>
  <vcpu placement='static' current='2'>3</vcpu>
  <os>
    <type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type>
    <kernel>{kernel}</kernel>
    <cmdline>marker=libvirt</cmdline>
  </os>
{platform}  <devices>
    <emulator>{emulator}</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='{raw}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='{qcow2}'/>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <controller type='usb' index='0' model='piix3-uhci'/>
    <controller type='pci' index='0' model='pci-root'/>
{serial}    <interface type='ethernet'>
      <model type='virtio'/>
    </interface>
    <input type='tablet' bus='usb'/>
""" + VNC_VGA_BALLOON + """    <rng model='virtio'>
      <backend model='random'>/dev/urandom</backend>
    </rng>
    <channel type='unix'>
      <target type='virtio' name='org.qemu.guest_agent.0'/>
    </channel>
  </devices>
</domain>
"""


def build_kernel(work):
    out = os.path.join(work, "kernel")
    subprocess.run(["bash", os.path.join(HERE, "..", "tiny", "kernel", "build.sh"), out], check=True,
                   capture_output=True)
    return os.path.join(out, "tiny-mb.elf")


def make_disks(work, tag):
    raw = os.path.join(work, tag + "-disk.raw")
    with open(raw, "wb") as f:
        f.truncate(8 << 20)
    qcow2 = os.path.join(work, tag + "-disk.qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", qcow2, "16M"], check=True)
    return raw, qcow2


def wait_for(predicate, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    return predicate()


def read_console(pty_path, resume, timeout=120):
    """Opens the domain's pty (as `virsh console` would), resumes the
    domain and reads until the marker or the timeout."""
    fd = os.open(pty_path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        resumed = resume()
        text = b""
        deadline = time.monotonic() + timeout
        while MARKER.encode() not in text and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 1)
            if ready:
                try:
                    text += os.read(fd, 4096)
                except BlockingIOError:
                    pass
        return resumed, text.decode(errors="replace").replace("\r", "")
    finally:
        os.close(fd)


def domain_pid(name):
    try:
        with open("/run/libvirt/qemu/%s.pid" % name) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def blkstat(name, dev):
    r = virsh("domblkstat", name, dev)
    stats = dict(line.split()[1:3] for line in r.stdout.splitlines() if len(line.split()) == 3)
    return r, stats


# The referee's own limit on some PVM hosts (../shared/TESTING.md; seen on
# an AMD one): QEMU's -cpu host dies when KVM refuses the
# ARCH_CAPABILITIES value it writes, even with the MSR's flags disabled.
QEMU_MSR_QUIRK = "failed to set MSR 0x10a"


def run_domain(daemon, emulator, label, work, kernel, results):
    """Defines and exercises one domain; returns the errors libvirtd logged."""
    name = "kestrel-test-" + label
    raw, qcow2 = make_disks(work, label)
    xml_path = os.path.join(work, name + ".xml")
    with open(xml_path, "w") as f:
        f.write(DOMAIN_XML.format(platform=VIRT_INSTALL_PLATFORM, serial=PTY_SERIAL_CONSOLE, name=name,
                                  kernel=kernel, emulator=emulator, raw=raw, qcow2=qcow2))
    start = daemon.log_size()
    native = virsh("domxml-to-native", "qemu-argv", xml_path)
    report(native.returncode == 0, "%s: virsh domxml-to-native qemu-argv" % label, native.stderr.strip())
    print("  %s command line: %s" % (label, native.stdout.strip().replace("\n", " ")), flush=True)
    devices = re.findall(r"-device (\S+)", native.stdout)
    report(devices and all(d.startswith("'{") for d in devices), "%s: libvirt writes -device in JSON" % label,
           "\n".join(devices))
    report(any('"virtio-serial-pci"' in d for d in devices) and
           any('"virtserialport"' in d and "org.qemu.guest_agent.0" in d for d in devices),
           "%s: the guest agent channel is a virtserialport on a virtio-serial-pci" % label, "\n".join(devices))
    defined = virsh("define", xml_path)
    report(defined.returncode == 0, "%s: virsh define" % label, defined.stderr.strip())
    started = virsh("start", "--paused", name)
    if label == "qemu" and started.returncode != 0 and QEMU_MSR_QUIRK in started.stderr:
        print("  qemu: the referee cannot run -cpu host on this host (%s, ../shared/TESTING.md); "
              "its domain's checks are skipped, kestrel's are not" % QEMU_MSR_QUIRK, flush=True)
        virsh("undefine", name)
        return daemon.errors_since(start)
    report(started.returncode == 0, "%s: virsh start --paused" % label, started.stderr.strip() +
           tail("/var/log/libvirt/qemu/%s.log" % name))
    if started.returncode != 0:
        virsh("undefine", name)
        return daemon.errors_since(start)
    pid = domain_pid(name)
    check_agent_channel(name, label)
    tty = virsh("ttyconsole", name).stdout.strip()
    report(tty.startswith("/dev/pts/"), "%s: virsh ttyconsole names the serial pty" % label, tty)
    state = virsh("domstate", name).stdout.strip()
    report(state == "paused", "%s: domstate after start --paused" % label, state)
    resumed, console = read_console(tty, lambda: virsh("resume", name))
    report(resumed.returncode == 0, "%s: virsh resume" % label, resumed.stderr.strip())
    report(MARKER in console and "MB cmdline=%s marker=libvirt" % kernel in console,
           "%s: the kernel's marker and command line on the serial console" % label, console[-2000:])
    report(virsh("domstate", name).stdout.strip() == "running", "%s: domstate running" % label)
    status = virsh("qemu-monitor-command", name, "--hmp", "info status")
    report(status.stdout.strip() == "VM status: running", "%s: qemu-monitor-command --hmp 'info status'" % label,
           status.stdout + status.stderr)
    suspended = virsh("suspend", name)
    state = virsh("domstate", name).stdout.strip()
    status = virsh("qemu-monitor-command", name, "--hmp", "info status").stdout.strip()
    report(suspended.returncode == 0 and state == "paused" and status == "VM status: paused",
           "%s: suspend -> domstate paused, info status paused" % label, suspended.stderr + state + " / " + status)
    resumed = virsh("resume", name)
    state = virsh("domstate", name).stdout.strip()
    report(resumed.returncode == 0 and state == "running", "%s: resume -> domstate running" % label,
           resumed.stderr + state)
    for dev in ("vda", "vdb"):
        r, stats = blkstat(name, dev)
        report(r.returncode == 0 and {"rd_req", "wr_req", "rd_bytes", "wr_bytes"} <= set(stats),
               "%s: domblkstat %s" % (label, dev), r.stdout + r.stderr)
        results.setdefault("blk-" + dev, {})[label] = stats
    mem = virsh("dommemstat", name)
    report(mem.returncode == 0 and re.search(r"^actual 524288$", mem.stdout, re.M),
           "%s: dommemstat (the balloon's actual size)" % label, mem.stdout + mem.stderr)
    dump_memory(name, label, work)
    attach_disk(name, label, work)
    expected_errors = set_vcpus_live(name, label)
    destroyed = virsh("destroy", name)
    gone = wait_for(lambda: pid is None or not os.path.exists("/proc/%d" % pid))
    report(destroyed.returncode == 0 and pid is not None and gone, "%s: destroy leaves no process" % label,
           destroyed.stderr + " pid=%s" % pid)
    report(virsh("domstate", name).stdout.strip() == "shut off", "%s: domstate shut off" % label)
    virsh("undefine", name)
    errors = daemon.errors_since(start)
    agent_errors = [e for e in errors if "agent" in e]
    report(not agent_errors, "%s: libvirt logs no guest agent error (it never connected to the channel)" % label,
           "\n".join(agent_errors))
    return [e for e in errors if not any(x in e for x in expected_errors)]


def dump_memory(name, label, work):
    """virsh dump --memory-only (dump-guest-memory on an fd libvirt passes
    with getfd, the domain paused around it), as ELF and as kdump-zlib
    (libvirt asks query-dump-guest-memory-capability first): 2 vCPUs' notes
    and every RAM page of the 512 MiB."""
    elf_path, kdump_path = (os.path.join(work, "%s.%s" % (label, ext)) for ext in ("core", "kdump"))
    r = virsh("dump", "--memory-only", name, elf_path)
    problems = [r.stderr.strip()] if r.returncode else elf_problems(elf_path, label)
    report(not problems, "%s: virsh dump --memory-only (ELF)" % label, "; ".join(problems))
    r = virsh("dump", "--memory-only", "--format", "kdump-zlib", name, kdump_path)
    problems = [r.stderr.strip()] if r.returncode else kdump_zlib_problems(kdump_path, label)
    report(not problems, "%s: virsh dump --memory-only --format kdump-zlib" % label, "; ".join(problems))
    state = virsh("domstate", name).stdout.strip()
    report(state == "running", "%s: domstate running again after the dumps" % label, state)
    for path in (elf_path, kdump_path):
        if os.path.exists(path):
            os.unlink(path)


def elf_problems(path, label):
    core = dump_test.parse_core(path)
    p = []
    if (core["ident"], core["type"]) != (b"\x7fELF\x02\x01\x01", 4):
        p.append("ident %r type %d" % (core["ident"], core["type"]))
    notes = [(n, t) for n, t, _ in core["notes"]]
    if notes != [("CORE", 1)] * 2 + [("QEMU", 0)] * 2:
        p.append("notes %s" % notes)
    ram = [load for load in dump_test.loads(core) if load != dump_test.QEMU_BIOS]
    if label == "qemu":
        ram = qemu_ram_blocks(ram)
    if ram != [(0, RAM_BYTES)]:
        p.append("PT_LOADs %s" % [tuple(map(hex, load)) for load in ram])
    return p


def qemu_ram_blocks(loads):
    """QEMU dumps what is RAM in its memory map at that moment, which
    differs between hosts: on some (an Intel PVM host here) the VGA window
    0xa0000-0xbffff is the VGA's MMIO and splits guest RAM, and the VGA's
    RAM-backed VRAM at its BAR is a block of its own; on others (an AMD
    PVM host) the dump held guest RAM alone, in one block, as kestrel's
    does. The referee's dump passes in either form."""
    ram = [load for load in loads if load[0] < RAM_BYTES]  # not device RAM in the PCI hole
    if ram == [(0, VGA_WINDOW[0]), (VGA_WINDOW[1], RAM_BYTES - VGA_WINDOW[1])]:
        return [(0, RAM_BYTES)]
    return ram


def kdump_zlib_problems(path, label):
    k = dump_test.parse_kdump(path)
    p = ["%s %r" % (key, k[key]) for key, want in
         (("signature", b"KDUMP   "), ("status", dump_test.KDUMP_ZLIB), ("nr_cpus", 2), ("bitmaps_equal", True))
         if k[key] != want]
    ram_pages = RAM_BYTES // 4096
    pfns = [pfn for pfn in k["pfns"] if pfn < ram_pages]
    vga_pages = range(VGA_WINDOW[0] // 4096, VGA_WINDOW[1] // 4096)
    if label == "qemu" and not any(pfn in vga_pages for pfn in pfns):  # as qemu_ram_blocks says
        pfns = sorted(pfns + list(vga_pages))
    if pfns != list(range(ram_pages)):
        p.append("the bitmap does not hold every RAM page")
    elif any(len(dump_test.page_bytes(k, pfn)) != 4096 for pfn in range(0, ram_pages, 4099)):
        p.append("a page does not decompress to 4096 bytes")
    return p


def check_agent_channel(name, label):
    """No agent runs in the guest, so the channel's port stays closed:
    libvirt reads query-chardev's frontend-open, says state='disconnected'
    and does not connect to the agent's socket (with frontend-open set it
    did, and logged "End of file from agent socket" at destroy)."""
    xml = virsh("dumpxml", name).stdout
    target = re.search(r"<target type='virtio' name='org.qemu.guest_agent.0'[^>]*>", xml)
    report(target and "state='disconnected'" in target.group(0),
           "%s: the guest agent channel is disconnected (no agent in the guest)" % label,
           target.group(0) if target else xml)


def attach_disk(name, label, work):
    """virsh attach-disk --live: blockdev-add and device_add (JSON values)."""
    hot = os.path.join(work, label + "-hot.raw")
    with open(hot, "wb") as f:
        f.truncate(1 << 20)
    r = virsh("attach-disk", name, hot, "vdc", "--targetbus", "virtio", "--live")
    listed = virsh("domblklist", name).stdout
    report(r.returncode == 0 and re.search(r"^\s*vdc\s+" + re.escape(hot), listed, re.M),
           "%s: attach-disk vdc --live" % label, r.stderr + listed)


def set_vcpus_live(name, label):
    """virsh setvcpus --live 3: libvirt reads query-hotpluggable-cpus,
    device_adds the CPU type with the free slot's props and checks
    query-cpus-fast; the domain runs on with 3 vCPUs. Returns the errors
    libvirtd is expected to log (none)."""
    r = virsh("setvcpus", name, "3", "--live")
    count = virsh("vcpucount", name, "--live", "--active").stdout.strip()
    state = virsh("domstate", name).stdout.strip()
    report(r.returncode == 0 and count == "3" and state == "running",
           "%s: setvcpus --live 3 plugs a vCPU" % label, "%s / vcpucount %s / %s" % (r.stderr.strip(), count, state))
    return []


def tail(path, lines=15):
    try:
        with open(path, errors="replace") as f:
            return "\n" + "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def in_namespace(kestrel, qemu):
    with private_libvirtd() as daemon, tempfile.TemporaryDirectory(prefix="kestrel-dom-") as work:
        virsh("capabilities")
        kernel = build_kernel(work)
        results = {}
        beside_qemu(kestrel, qemu, lambda emulator, label: run_domain(daemon, emulator, label, work, kernel, results))


if __name__ == "__main__":
    sys.exit(run_test(__file__, in_namespace, "libvirt domain start"))
