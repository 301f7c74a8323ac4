"""A libvirt domain that boots from its disk through the firmware, as a
domain made from a disk image does (virt-install --import): no <kernel>,
`<boot dev='hd'/>`, so libvirt gives the disk bootindex=1 and kestrel
runs SeaBIOS, which boots EXTLINUX from the virtio disk.

The disk is tests/guest/bootmedia.py's boot disk (MBR, ext4, EXTLINUX on
COM1, Debian's kernel) with linux_guest.sh as its initramfs's scenario,
built outside the test host (root, a loop mount) by build_disk(). Steps:
the loader's banner and the guest's command loop on `virsh console`, the
loader's command line in the guest, `domblkstat` counting the firmware's
and the guest's reads, the guest pinging the bridge through its virtio NIC,
the USB tablet, VNC and a `screenshot` of the VGA card, `suspend`/`resume`, then the common restart,
`reboot` (through the firmware again) and `shutdown`. With a guest agent
<channel> the guest never opens, as virt-install writes it."""

import collections
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "guest"))
import assets  # noqa: E402
import bootmedia  # noqa: E402
import cpio  # noqa: E402
from domain_start_test import blkstat, wait_for  # noqa: E402
from guest_domain import AGENT_PORT, BOOT_WAIT, CMD_WAIT, VIRT_INSTALL_DEVICES_END, GuestDomain, interface_of  # noqa: E402
from libvirtd import PTY_SERIAL_CONSOLE, VIRT_INSTALL_PLATFORM, virsh  # noqa: E402

DISK_NAME = "libvirt-guest-disk"
MEM_KIB = 524288
LOADER_BANNER = r"SYSLINUX 6\.\d+"

FIRMWARE_XML = """<domain type='kvm'>
  <name>{name}</name>
  <memory unit='KiB'>{mem}</memory>
  <currentMemory unit='KiB'>{mem}</currentMemory>
  <vcpu placement='static'>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type>
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
""" + VIRT_INSTALL_DEVICES_END


def build_disk(built):
    """The boot disk in the asset cache, from the assets `built` (outside
    the test host: building it needs root and a loop mount)."""
    bootmedia.build_script_disk(assets.cache_dir(), DISK_NAME, built["kernel"], built["l2_initrd"],
                                os.path.join(HERE, "linux_guest.sh"), cpio)


def disk_path():
    return os.path.join(assets.cache_dir(), "boot", DISK_NAME + ".img")


# The domain's NIC: on `bridge`, where the host has `host_ip`.
FirmwareNic = collections.namedtuple("FirmwareNic", "bridge mac guest_ip host_ip")


class FirmwareDomain(GuestDomain):
    def __init__(self, daemon, emulator, label, work, nic):
        disk = os.path.join(work, label + "-boot.img")
        bootmedia.copy_raw_disk(disk_path(), disk, bootmedia.DATA_BYTES)
        name = "kestrel-firmware-" + label
        self.nic = nic
        super().__init__(daemon, label + " firmware boot", name, FIRMWARE_XML.format(
            platform=VIRT_INSTALL_PLATFORM, serial=PTY_SERIAL_CONSOLE, name=name, mem=MEM_KIB,
            emulator=emulator, disk=disk, bridge=nic.bridge, mac=nic.mac, agent_port=AGENT_PORT), work)

    def steps(self):
        return (self.loader_and_disk, self.bridge_nic, self.display, self.suspend_resume) + super().steps()

    def booted(self, what):
        loader = self.console.expect(LOADER_BANNER, BOOT_WAIT)
        return self.check(loader, what + ": the loader's banner", self.console.tail()) and super().booted(what)

    def loader_and_disk(self):
        out = self.guest("cat /proc/cmdline")
        self.check(re.search(r"^BOOT_IMAGE=/vmlinuz .*ktest\.medium=disk", out, re.M),
                   "the guest runs the kernel and command line EXTLINUX loaded", out)
        r, blk = blkstat(self.name, "vda")
        self.check(r.returncode == 0 and int(blk.get("rd_req", 0)) > 0,
                   "domblkstat vda counts the firmware's and the guest's reads", r.stdout + r.stderr)

    def bridge_nic(self):
        out = self.guest("%s; ip link set $IF up; ip addr add %s/24 dev $IF; ping -c 3 -W 5 %s"
                         % (interface_of(self.nic.mac), self.nic.guest_ip, self.nic.host_ip))
        self.check(re.search(r"3 packets transmitted, [1-3] packets received", out),
                   "the guest pings the bridge through its virtio NIC", out)

    def suspend_resume(self):
        self.virsh_ok("suspend", "suspend", self.name)
        paused = wait_for(lambda: virsh("domstate", self.name).stdout.strip() == "paused", CMD_WAIT)
        self.virsh_ok("resume", "resume", self.name)
        out = self.guest("echo RESUMED-$((1+1))")
        self.check(paused and re.search("^RESUMED-2$", out, re.M), "suspend, resume: the guest goes on",
                   out + virsh("domstate", self.name).stdout)
