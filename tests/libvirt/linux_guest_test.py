#!/usr/bin/env python3
"""libvirt 9.0 runs a Linux guest on kestrel, beside QEMU 7.2.

Linux guests need real KVM, so on this machine the test runs in the nested
test host (tests/kvmhost): outside it boots L1 and runs itself there;
inside L1 it starts a private libvirtd (libvirtd.py: root, its own
/etc/libvirt, /run/libvirt, /var/*/libvirt bound in a mount namespace,
security_driver "none", no virtlogd), a bridge kbrlv (10.77.0.1/24) for
the guest's first NIC (libvirt opens the tap itself and adds it to the
bridge) and a libvirt network for its second: kestrel-lvnat, NAT, bridge
kbrnat, 10.78.0.1/24 with a DHCP range, as libvirt's default network
(net-define, net-start: libvirt runs dnsmasq and sets up its iptables
rules; net-destroy, net-undefine at the end).

The domain is what virt-install writes for a direct kernel boot:
pc-i440fx-7.2, 512 MiB, 2 vCPUs of 3 (vcpu1 hotpluggable), Debian's kernel with the test initramfs
(tests/guest/l2-init.sh plus linux_guest.sh), a virtio disk on a raw file,
a virtio NIC on the bridge and one on the libvirt network, a pty serial
console, the guest agent <channel>, a USB tablet on the PIIX3 UHCI, VNC
graphics with a VGA card, a virtio balloon. The XML runs with kestrel as
<emulator> (with KESTREL_LIBVIRT_REFEREE=qemu first with QEMU 7.2 too, the
referee for every step below), and each:
- `virsh console`: the guest's marker, then commands typed at it;
- the guest reads the disk's pattern; `domblkstat` counts the reads;
- the guest pings the bridge; `domifstat` counts the packets;
- on the libvirt network the guest's udhcpc gets an address from
  libvirt's dnsmasq and pings the network's bridge; `domifaddr --source
  lease` and `net-dhcp-leases` show the lease, `domifstat` the packets;
- the guest's virtio_console sees the port org.qemu.guest_agent.0; libvirt
  says the channel is disconnected, connected while the guest holds the
  port open, disconnected again when it closes it;
- the guest sees the USB tablet; `vncdisplay` and an RFB greeting there;
- `screenshot`: a PPM of the VGA screen the guest wrote to;
- `dommemstat` (with the guest's statistics) and `setmem`: the balloon
  shrinks the guest's MemTotal, libvirt's "actual" follows, and back;
- `attach-disk` on the running guest: the guest reads the new disk;
  `detach-disk`: the guest lets it go and libvirt drops it;
- `<vcpus>` with vcpu1 enabled and hotpluggable (libvirt device_adds it
  under -S): `vcpucount`, `vcpuinfo` and the guest see 2 vCPUs;
  `setvcpus --live 3`: the guest onlines the new cpu2 and runs on it;
  with processor hotplug disabled in the guest `setvcpus --live 1` fails
  (the guest refuses the eject; libvirt 9.0 ignores ACPI_DEVICE_OST of CPU
  slots, so its unplug times out) and 3 vCPUs stay;
  `setvcpus --live 1`: it ejects cpu2 and cpu1;
- `attach-interface` (a second virtio NIC on the bridge: libvirt passes
  the tap and vhost-net fds with getfd, then netdev_add and device_add):
  the guest pings the bridge through it; `detach-interface`: the guest's
  NIC goes and `domiflist` drops it;
- libvirtd restarted while the domain runs: it reconnects to the monitor
  (qmp_capabilities, query-status again) and keeps driving the domain;
- `reboot`: the guest gets the ACPI power button, powers off, libvirt
  resets it (same process) and it boots again;
- `shutdown`: ACPI power button, the guest powers off, the process ends.
kestrel's shared kernel folder (/var/cache/kestrel/kernels, which kestrel
run as root makes itself; a fresh /var/cache in this namespace) holds the
kernel afterwards: the domain's own cache folder is deleted with it, the
shared one lasts.
Then a second domain boots from its disk through the firmware (SeaBIOS,
EXTLINUX; firmware_guest.py): banner and command loop on the console,
suspend/resume, restart, reboot, shutdown.
Every kind of error libvirtd logs for kestrel but not for QEMU fails: QEMU's
kinds are recorded in linux_guest_qemu_errors.txt, which a run with the
referee checks (its QEMU half costs as much as kestrel's in the nested test
host, so CI judges by the file).

Usage: linux_guest_test.py build/kestrel [qemu-system-x86_64]
       (root; boots the nested test host unless the machine has hardware KVM)"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "guest"))
sys.path.insert(0, os.path.join(HERE, "..", "kvmhost"))
sys.path.insert(0, os.path.join(HERE, "..", "display"))
import assets  # noqa: E402
import cpio  # noqa: E402
from scenario import DEFAULT_APPEND  # noqa: E402
from domain_start_test import wait_for  # noqa: E402
from firmware_guest import FirmwareDomain, FirmwareNic, build_disk  # noqa: E402
from guest_domain import AGENT_PORT, CMD_WAIT, VIRT_INSTALL_DEVICES_END, GuestDomain, interface_of  # noqa: E402
from libvirtd import (NS_MARK, PTY_SERIAL_CONSOLE, VIRT_INSTALL_PLATFORM, beside_qemu, private_libvirtd,  # noqa: E402
                      run_test, virsh)
from results import report  # noqa: E402

BRIDGE, HOST_IP, GUEST_IP, MAC = "kbrlv", "10.77.0.1", "10.77.0.2", "52:54:00:77:00:02"
HOT_GUEST_IP, HOT_MAC = "10.77.0.3", "52:54:00:77:00:03"  # attach-interface
FW_GUEST_IP, FW_MAC = "10.77.0.4", "52:54:00:77:00:04"  # the firmware domain's NIC
# The libvirt network the second NIC is on: NAT with its own bridge and a
# DHCP range, as libvirt's default network (libvirt runs dnsmasq on it).
NETWORK, NET_BRIDGE, NET_HOST_IP, NET_MAC = "kestrel-lvnat", "kbrnat", "10.78.0.1", "52:54:00:78:00:02"
NETWORK_XML = """<network>
  <name>{name}</name>
  <forward mode='nat'/>
  <bridge name='{bridge}' stp='on' delay='0'/>
  <ip address='{host}' netmask='255.255.255.0'>
    <dhcp>
      <range start='10.78.0.2' end='10.78.0.254'/>
    </dhcp>
  </ip>
</network>
"""
PATTERN = "kestrel-libvirt-disk"
HOT_PATTERN = "kestrel-libvirt-hotplugged"
MEM_KIB, SMALL_KIB = 524288, 393216
CMDLINE = DEFAULT_APPEND
# The domains share libvirtd's mount namespace (the test's own): in the
# test host, the private /dev libvirt builds for each domain does not reach
# the devpts instance L1 mounted, and the emulator's pty (the serial
# console) fails with "Failed to create PTY: No such file or directory".
NESTED_QEMU_CONF = "namespaces = []\n"
SHARED_KERNELS = "/var/cache/kestrel/kernels"
QEMU_ERRORS = os.path.join(HERE, "linux_guest_qemu_errors.txt")

DOMAIN_XML = """<domain type='kvm'>
  <name>{name}</name>
  <memory unit='KiB'>{mem}</memory>
  <currentMemory unit='KiB'>{mem}</currentMemory>
  <vcpu placement='static' current='2'>3</vcpu>
  <vcpus>
    <vcpu id='0' enabled='yes' hotpluggable='no' order='1'/>
    <vcpu id='1' enabled='yes' hotpluggable='yes' order='2'/>
    <vcpu id='2' enabled='no' hotpluggable='yes'/>
  </vcpus>
  <os>
    <type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type>
    <kernel>{kernel}</kernel>
    <initrd>{initrd}</initrd>
    <cmdline>{cmdline}</cmdline>
    <boot dev='hd'/>
  </os>
{platform}  <devices>
    <emulator>{emulator}</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='{disk}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <controller type='usb' index='0' model='piix3-uhci'/>
    <controller type='pci' index='0' model='pci-root'/>
    <interface type='bridge'>
      <source bridge='{bridge}'/>
      <mac address='{mac}'/>
      <model type='virtio'/>
    </interface>
    <interface type='network'>
      <source network='{network}'/>
      <mac address='{net_mac}'/>
      <model type='virtio'/>
    </interface>
""" + VIRT_INSTALL_DEVICES_END


def guest_initrd(work):
    """The guest base initramfs with linux_guest.sh as its /scenario.sh."""
    a = assets.load_assets(os.path.join(assets.cache_dir(), "assets.json"))
    overlay = cpio.CpioWriter()
    with open(os.path.join(HERE, "linux_guest.sh"), "rb") as f:
        overlay.add_file("scenario.sh", f.read(), 0o755)
    out = os.path.join(work, "initrd.cpio.gz")
    with open(out, "wb") as f, open(a["l2_initrd"], "rb") as base:
        shutil.copyfileobj(base, f)
        f.write(b"\0" * (-f.tell() % 512))
        f.write(overlay.gzip_bytes())
    return a["kernel"], out


def disk_with(path, pattern, size=16 << 20):
    with open(path, "wb") as f:
        f.write(pattern.encode())
        f.truncate(size)
    return path


def stats(*args):
    """`virsh domblkstat/domifstat/dommemstat` as a dict of numbers."""
    r = virsh(*args)
    out = {}
    for line in r.stdout.splitlines():
        words = line.split()
        if len(words) >= 2 and words[-1].isdigit():
            out[words[-2]] = int(words[-1])
    return r, out


def meminfo_kib(console, key):
    out = console.run("awk '$1 == \"%s:\" {print \"MEM=\" $2}' /proc/meminfo" % key, CMD_WAIT) or ""
    m = re.search(r"^MEM=(\d+)$", out, re.M)
    return int(m.group(1)) if m else None


class LinuxDomain(GuestDomain):
    """The direct-boot domain with every device, and the steps for them."""

    def __init__(self, daemon, emulator, label, work, kernel, initrd):
        disk = disk_with(os.path.join(work, label + "-vda.raw"), PATTERN)
        name = "kestrel-linux-" + label
        super().__init__(daemon, label, name, DOMAIN_XML.format(
            platform=VIRT_INSTALL_PLATFORM, serial=PTY_SERIAL_CONSOLE, name=name, mem=MEM_KIB, kernel=kernel,
            initrd=initrd, cmdline=CMDLINE, emulator=emulator, disk=disk, bridge=BRIDGE, mac=MAC,
            network=NETWORK, net_mac=NET_MAC, agent_port=AGENT_PORT), work)

    def steps(self):
        return (self.disk_and_nic, self.network_nic, self.agent_channel, self.display, self.balloon,
                self.hotplug, self.vcpu_hotplug) + super().steps()

    def disk_and_nic(self):
        out = self.guest("head -c %d /dev/vda; echo" % len(PATTERN))
        self.check(re.search("^%s$" % PATTERN, out, re.M), "virsh console: the guest reads vda's pattern", out)
        r, blk = stats("domblkstat", self.name, "vda")
        self.check(r.returncode == 0 and blk.get("rd_req", 0) > 0 and blk.get("rd_bytes", 0) > 0,
                   "domblkstat vda counts the guest's reads", r.stdout + r.stderr)
        out = self.guest("%s; ip link set $IF up; ip addr add %s/24 dev $IF; ping -c 3 -W 5 %s"
                         % (interface_of(MAC), GUEST_IP, HOST_IP))
        self.check(re.search(r"3 packets transmitted, [1-3] packets received", out),
                   "the guest pings the bridge through its virtio NIC", out)
        iflist = virsh("domiflist", self.name).stdout
        m = re.search(r"^\s*(vnet\d+)\s+bridge\s+%s\s+virtio\s+%s" % (BRIDGE, MAC), iflist, re.M)
        if not self.check(m, "domiflist names the tap on the bridge", iflist):
            return
        r, net = stats("domifstat", self.name, m.group(1))
        self.check(r.returncode == 0 and net.get("rx_packets", 0) >= 3 and net.get("tx_packets", 0) >= 3,
                   "domifstat counts the guest's packets", r.stdout + r.stderr)

    def network_nic(self):
        """The NIC on the libvirt network: the guest's udhcpc gets a lease
        from libvirt's dnsmasq and pings the network's bridge; libvirt
        knows the lease; domifstat counts the packets."""
        iflist = virsh("domiflist", self.name).stdout
        m = re.search(r"^\s*(vnet\d+)\s+network\s+%s\s+virtio\s+%s" % (NETWORK, NET_MAC), iflist, re.M)
        if not self.check(m, "domiflist names the tap on the libvirt network", iflist):
            return
        vnet = m.group(1)
        before = stats("domifstat", self.name, vnet)[1]
        out = self.guest("%s; %s; ip link set $IF up; udhcpc -i $IF -n -q -t 30 -T 2 -s /tmp/udhcpc.sh; "
                         "ping -c 3 -W 5 %s" % (interface_of(NET_MAC), UDHCPC_SCRIPT, NET_HOST_IP))
        lease = re.search(r"^DHCP-LEASE ip=(10\.78\.0\.\d+) mask=24 router=%s$" % re.escape(NET_HOST_IP), out, re.M)
        self.check(lease, "the guest's udhcpc gets an address from libvirt's dnsmasq", out)
        self.check(re.search(r"3 packets transmitted, [1-3] packets received", out),
                   "the guest pings the libvirt network's bridge", out)
        ip = lease.group(1) if lease else "(none)"
        r = virsh("domifaddr", self.name, "--source", "lease")
        self.check(r.returncode == 0 and re.search(r"%s\s+%s\s+ipv4\s+%s/24" % (vnet, NET_MAC, re.escape(ip)),
                                                   r.stdout), "domifaddr --source lease: the guest's address",
                   r.stdout + r.stderr)
        r = virsh("net-dhcp-leases", NETWORK)
        self.check(r.returncode == 0 and re.search(r"%s\s+ipv4\s+%s/24" % (NET_MAC, re.escape(ip)), r.stdout),
                   "net-dhcp-leases lists the guest's lease", r.stdout + r.stderr)
        r, after = stats("domifstat", self.name, vnet)
        self.check(r.returncode == 0 and all(after.get(k, 0) >= before.get(k, 0) + 3 for k in ("rx_packets", "tx_packets")),
                   "domifstat counts the DHCP and ping packets", "before %s\n%s" % (before, r.stdout + r.stderr))

    def agent_channel(self):
        """virt-install's guest agent channel: the guest's virtio_console
        finds the port by name; libvirt follows the guest opening and
        closing it (VSERPORT_CHANGE, query-chardev's frontend-open)."""
        out = self.guest("cat /sys/class/virtio-ports/*/name")
        self.check(re.search("^%s$" % re.escape(AGENT_PORT), out, re.M),
                   "the guest's virtio_console sees the port %s" % AGENT_PORT, out)
        self.check(self.channel_state() == "disconnected", "the agent channel is disconnected while the port is closed",
                   self.channel_state())
        self.guest("for p in /sys/class/virtio-ports/*; do [ \"$(cat $p/name)\" = %s ] && "
                   "exec 3<>/dev/${p##*/}; done; echo OPENED" % AGENT_PORT)
        opened = wait_for(lambda: self.channel_state() == "connected", CMD_WAIT)
        self.check(opened, "the guest opens the port: libvirt says the agent channel is connected",
                   self.channel_state())
        self.guest("exec 3>&-; echo CLOSED")
        closed = wait_for(lambda: self.channel_state() == "disconnected", CMD_WAIT)
        self.check(closed, "the guest closes the port: the agent channel is disconnected again", self.channel_state())

    def channel_state(self):
        m = re.search(r"<target type='virtio' name='%s' state='(\w+)'" % re.escape(AGENT_PORT),
                      virsh("dumpxml", self.name).stdout)
        return m.group(1) if m else None

    def balloon(self):
        self.virsh_ok("dommemstat --period 1 (the balloon's statistics polling)",
                      "dommemstat", self.name, "--period", "1", "--live")
        r, mem = stats("dommemstat", self.name)
        r, mem = wait_for(lambda: (lambda x: x if "available" in x[1] else None)(stats("dommemstat", self.name)),
                          CMD_WAIT) or (r, mem)
        self.check(mem.get("actual") == MEM_KIB and mem.get("available", 0) > 0 and "unused" in mem,
                   "dommemstat: actual and the guest's statistics", r.stdout + r.stderr)
        total = meminfo_kib(self.console, "MemTotal")
        self.virsh_ok("setmem %d --live" % SMALL_KIB, "setmem", self.name, str(SMALL_KIB), "--live")
        actual = wait_for(lambda: stats("dommemstat", self.name)[1].get("actual") == SMALL_KIB, CMD_WAIT)
        small = wait_for(lambda: (lambda t: t if t and total and t <= total - 100 * 1024 else None)(
            meminfo_kib(self.console, "MemTotal")), CMD_WAIT)
        self.check(actual and small, "setmem: the guest's MemTotal shrinks by the balloon, actual follows",
                   "MemTotal %s -> %s, dommemstat: %s" % (total, small, virsh("dommemstat", self.name).stdout))
        self.virsh_ok("setmem %d --live (back)" % MEM_KIB, "setmem", self.name, str(MEM_KIB), "--live")
        back = wait_for(lambda: (lambda t: t if t and total and t >= total - 1024 else None)(
            meminfo_kib(self.console, "MemTotal")), CMD_WAIT)
        self.check(back, "setmem back: the guest's MemTotal grows again", "MemTotal %s -> %s" % (total, back))

    def hotplug(self):
        hot = disk_with(os.path.join(self.work, self.label + "-hot.raw"), HOT_PATTERN)
        self.virsh_ok("attach-disk vdc --live", "attach-disk", self.name, hot, "vdc", "--targetbus", "virtio",
                      "--subdriver", "raw", "--live")
        out = self.guest("for i in $(seq 300); do [ -e /sys/block/vdb ] && break; sleep 0.2; done; "
                         "head -c %d /dev/vdb; echo" % len(HOT_PATTERN))
        self.check(re.search("^%s$" % HOT_PATTERN, out, re.M), "the guest reads the attached disk", out)
        self.virsh_ok("detach-disk vdc --live", "detach-disk", self.name, "vdc", "--live")
        out = self.guest("for i in $(seq 300); do [ -e /sys/block/vdb ] || break; sleep 0.2; done; "
                         "echo VDB_GONE=$([ -e /sys/block/vdb ] && echo no || echo yes)")
        dropped = wait_for(lambda: "vdc" not in virsh("domblklist", self.name).stdout, CMD_WAIT)
        self.check(re.search("^VDB_GONE=yes$", out, re.M) and dropped,
                   "detach-disk: the disk is gone in the guest and in domblklist",
                   out + virsh("domblklist", self.name).stdout)
        self.hotplug_nic()

    def vcpu_hotplug(self):
        """vcpu1 is hotpluggable and enabled: libvirt starts -smp 1,maxcpus=3
        and device_adds it under -S (id vcpu1), and the guest boots with 2
        online CPUs. setvcpus --live 3 (query-hotpluggable-cpus, device_add
        of vcpu2, query-cpus-fast): the guest's ACPI processor driver adds
        cpu2, the guest onlines it and runs on it. setvcpus --live 1
        (device_del of vcpu2, then of vcpu1; the guest ejects each,
        DEVICE_DELETED): only cpu0 is left."""
        count = virsh("vcpucount", self.name, "--live", "--active").stdout.strip()
        info = virsh("vcpuinfo", self.name).stdout
        out = self.guest("echo ONLINE=$(cat /sys/devices/system/cpu/online) NPROC=$(nproc)")
        self.check(count == "2" and re.findall(r"^VCPU:\s+(\d+)", info, re.M) == ["0", "1"] and
                   re.search(r"^ONLINE=0-1 NPROC=2$", out, re.M),
                   "<vcpus> with vcpu1 hotpluggable: 2 vCPUs at start, in vcpuinfo and online in the guest",
                   "vcpucount %s\n%s%s" % (count, info, out))
        self.virsh_ok("setvcpus 3 --live", "setvcpus", self.name, "3", "--live")
        count = virsh("vcpucount", self.name, "--live", "--active").stdout.strip()
        out = self.guest("for i in $(seq 300); do [ -e /sys/devices/system/cpu/cpu2 ] && break; sleep 0.2; done; "
                         "echo 1 > /sys/devices/system/cpu/cpu2/online; echo ONLINE=$(cat "
                         "/sys/devices/system/cpu/online) NPROC=$(nproc) ON_CPU=$(taskset -c 2 cut -d' ' -f39 "
                         "/proc/self/stat)")
        self.check(count == "3" and re.search(r"^ONLINE=0-2 NPROC=3 ON_CPU=2$", out, re.M),
                   "setvcpus --live 3: the guest onlines the new cpu2 and runs on it", "vcpucount %s\n%s" % (count, out))
        self.refused_vcpu_unplug()
        self.virsh_ok("setvcpus 1 --live", "setvcpus", self.name, "1", "--live")
        count = virsh("vcpucount", self.name, "--live", "--active").stdout.strip()
        info = virsh("vcpuinfo", self.name).stdout
        out = self.guest("for i in $(seq 300); do [ -e /sys/devices/system/cpu/cpu1 ] || break; sleep 0.2; done; "
                         "echo ONLINE=$(cat /sys/devices/system/cpu/online) NPROC=$(nproc)")
        self.check(count == "1" and re.findall(r"^VCPU:\s+(\d+)", info, re.M) == ["0"] and
                   re.search(r"^ONLINE=0 NPROC=1$", out, re.M),
                   "setvcpus --live 1: the guest ejects cpu2 and cpu1 (vcpu1, plugged at start)",
                   "vcpucount %s\n%s%s" % (count, info, out))

    def refused_vcpu_unplug(self):
        """With processor hotplug disabled in the guest, Linux refuses the
        eject of vcpu2 with _OST(3, 0x80) (ACPI_DEVICE_OST). libvirt 9.0 acts
        on that event only for DIMM slots (qemuProcessHandleAcpiOstInfo), so
        for a vCPU it waits out its 5 s and fails setvcpus with "vcpu unplug
        request timed out", as with QEMU 7.2; the guest keeps 3 CPUs. Then
        the guest allows hotplug again."""
        hp = "/sys/firmware/acpi/hotplug/processor/enabled"
        out = self.guest("echo 0 > %s; echo HOTPLUG=$(cat %s)" % (hp, hp))
        start = time.monotonic()
        r = virsh("setvcpus", self.name, "1", "--live")
        took = time.monotonic() - start
        count = virsh("vcpucount", self.name, "--live", "--active").stdout.strip()
        out += self.guest("echo 1 > %s; echo ONLINE=$(cat /sys/devices/system/cpu/online) "
                          "REFUSED=$(dmesg | grep -c 'Eject disabled')" % hp)
        self.check(r.returncode != 0 and "vcpu unplug request timed out" in r.stderr and count == "3" and
                   re.search(r"^HOTPLUG=0$", out, re.M) and re.search(r"^ONLINE=0-2 REFUSED=1$", out, re.M),
                   "setvcpus --live 1 with processor hotplug disabled in the guest: the guest refuses "
                   "(_OST 0x80), libvirt's unplug times out, 3 vCPUs stay",
                   "%.1f s, exit %d: %s\nvcpucount %s\n%s" % (took, r.returncode, r.stderr, count, out))

    def hotplug_nic(self):
        self.virsh_ok("attach-interface bridge --model virtio --live", "attach-interface", self.name,
                      "bridge", BRIDGE, "--model", "virtio", "--mac", HOT_MAC, "--live")
        out = self.guest("for i in $(seq 300); do grep -qx %s /sys/class/net/*/address && break; sleep 0.2; done; "
                         "%s; ip link set $IF up; ip addr add %s/24 dev $IF; "
                         "cat /sys/class/net/$IF/address; ping -c 3 -W 5 -I $IF %s"
                         % (HOT_MAC, interface_of(HOT_MAC), HOT_GUEST_IP, HOST_IP))
        self.check(re.search("^%s$" % HOT_MAC, out, re.M) and
                   re.search(r"3 packets transmitted, [1-3] packets received", out),
                   "attach-interface: the guest pings the bridge through the new NIC", out)
        self.virsh_ok("detach-interface bridge --live", "detach-interface", self.name, "bridge",
                      "--mac", HOT_MAC, "--live")
        out = self.guest("for i in $(seq 300); do grep -qx %s /sys/class/net/*/address || break; sleep 0.2; done; "
                         "echo HOT_NIC_GONE=$(grep -qx %s /sys/class/net/*/address && echo no || echo yes)"
                         % (HOT_MAC, HOT_MAC))
        dropped = wait_for(lambda: HOT_MAC not in virsh("domiflist", self.name).stdout, CMD_WAIT)
        self.check(re.search("^HOT_NIC_GONE=yes$", out, re.M) and dropped,
                   "detach-interface: the NIC is gone in the guest and in domiflist",
                   out + virsh("domiflist", self.name).stdout)


# Guest shell: udhcpc's script, which sets the address and prints the lease.
UDHCPC_SCRIPT = (r"""printf '#!/bin/sh\n[ "$1" = bound ] || exit 0\nip addr add $ip/$mask dev $interface\n"""
                 r"""echo DHCP-LEASE ip=$ip mask=$mask router=$router\n' > /tmp/udhcpc.sh; chmod +x /tmp/udhcpc.sh""")


def add_bridge():
    subprocess.run(["ip", "link", "del", BRIDGE], capture_output=True)
    for cmd in (["ip", "link", "add", BRIDGE, "type", "bridge"],
                ["ip", "addr", "add", HOST_IP + "/24", "dev", BRIDGE],
                ["ip", "link", "set", BRIDGE, "up"]):
        subprocess.run(cmd, check=True)


def run_domains(daemon, emulator, label, work, kernel, initrd):
    """The direct-boot domain, then the firmware-boot one; the errors
    libvirtd logged for them."""
    return (LinuxDomain(daemon, emulator, label, work, kernel, initrd).run() +
            FirmwareDomain(daemon, emulator, label, work, FirmwareNic(BRIDGE, FW_MAC, FW_GUEST_IP, HOST_IP)).run())


def fresh_var_cache(root):
    """A fresh, empty /var/cache in this namespace (root's, 0755)."""
    os.chmod(root, 0o755)
    subprocess.run(["mount", "--bind", root, "/var/cache"], check=True)


def check_shared_kernel_folder(folder):
    """The domain's own XDG_CACHE_HOME is gone with it; the shared folder,
    which kestrel (run as root by libvirt here) made itself, keeps the
    kernel kestrel decompressed while the domain ran."""
    entries = [f for f in os.listdir(folder) if f.endswith(".kernel")] if os.path.isdir(folder) else []
    mode = oct(os.stat(folder).st_mode & 0o777) if os.path.isdir(folder) else "absent"
    report(len(entries) == 1 and mode == "0o755",
           "kestrel under libvirt made and filled the shared kernel folder, which outlives the domain",
           "%s (%s) holds %s" % (folder, mode, os.listdir(folder) if mode != "absent" else "nothing"))


def in_namespace(kestrel, qemu):
    # virsh console locks the pty in /var/lock (= /run/lock), which the test
    # host's fresh /run lacks.
    os.makedirs("/run/lock", exist_ok=True)
    add_bridge()
    try:
        with tempfile.TemporaryDirectory(prefix="kestrel-var-cache-") as var_cache:
            fresh_var_cache(var_cache)
            try:
                run_all(kestrel, qemu)
            finally:
                subprocess.run(["umount", "-R", "-l", "/var/cache"], check=True)
    finally:
        for bridge in (BRIDGE, NET_BRIDGE):  # NET_BRIDGE: in case libvirt could not remove it
            subprocess.run(["ip", "link", "del", bridge], capture_output=True)


def run_all(kestrel, qemu):
    with private_libvirtd(NESTED_QEMU_CONF) as daemon, tempfile.TemporaryDirectory(prefix="kestrel-lvlinux-") as work:
        kernel, initrd = guest_initrd(work)
        virsh("capabilities")
        start_network(work)
        try:
            beside_qemu(kestrel, qemu,
                        lambda emulator, label: run_domains(daemon, emulator, label, work, kernel, initrd),
                        recorded=QEMU_ERRORS)
        finally:
            stop_network()
        check_shared_kernel_folder(SHARED_KERNELS)


def start_network(work):
    """net-define and net-start of the NAT network: libvirt makes its
    bridge, its firewall rules and runs dnsmasq for it."""
    if not shutil.which("dnsmasq"):
        report(False, "dnsmasq for libvirt's network", "scripts/install-deps.sh installs dnsmasq-base")
    path = os.path.join(work, NETWORK + ".xml")
    with open(path, "w") as f:
        f.write(NETWORK_XML.format(name=NETWORK, bridge=NET_BRIDGE, host=NET_HOST_IP))
    defined = virsh("net-define", path)
    started = virsh("net-start", NETWORK)
    report(defined.returncode == 0 and started.returncode == 0 and dnsmasq_pid() is not None,
           "net-define, net-start: a NAT network with its own bridge and libvirt's dnsmasq",
           defined.stderr + started.stdout + started.stderr)


def dnsmasq_pid():
    try:
        with open("/run/libvirt/network/%s.pid" % NETWORK) as f:
            pid = int(f.read().strip())
        return pid if os.path.exists("/proc/%d" % pid) else None
    except (OSError, ValueError):
        return None


def stop_network():
    """net-destroy and net-undefine (libvirtd does not stop a network when
    it exits): the bridge and dnsmasq go."""
    pid = dnsmasq_pid()
    destroyed = virsh("net-destroy", NETWORK)
    undefined = virsh("net-undefine", NETWORK)
    gone = wait_for(lambda: pid is None or not os.path.exists("/proc/%d" % pid), 60)
    report(destroyed.returncode == 0 and undefined.returncode == 0 and gone and
           not os.path.exists("/sys/class/net/" + NET_BRIDGE) and NETWORK not in virsh("net-list", "--all").stdout,
           "net-destroy, net-undefine: the network's bridge and dnsmasq are gone",
           destroyed.stderr + undefined.stderr + " dnsmasq pid %s" % pid)


def outside(kestrel, qemu):
    """Runs this script on a KVM host (the nested one here); its logs and
    the domains' logs in $KESTREL_CACHE/results/libvirt-linux/."""
    import kvmhost
    build_disk(assets.build_all())
    results = os.path.join(assets.cache_dir(), "results", "libvirt-linux")
    shutil.rmtree(results, ignore_errors=True)
    os.makedirs(results)
    os.environ["KESTREL_LIBVIRT_KEEP_LOGS"] = os.path.join(results, "logs")
    status = kvmhost.run([sys.executable, os.path.abspath(__file__), kestrel, qemu], results,
                         timeout=1500, silent_limit=400)
    if status >= 124:
        print("test host failed (status %d; see %s)\n0 passed, 1 failed" % (status, results))
        return 1
    return status


if __name__ == "__main__":
    if os.environ.get("KVMHOST_MODE") or os.environ.get(NS_MARK):
        sys.exit(run_test(__file__, in_namespace, "libvirt Linux guest"))
    sys.exit(outside(os.path.abspath(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "qemu-system-x86_64"))
