"""The life cycle every libvirt guest test drives, on one domain: define and
start it paused, attach `virsh console`, resume, wait for the guest's
command loop (tests/libvirt/linux_guest.sh), and the steps that need
nothing but that loop: libvirtd restarted under the running domain,
`reboot`, `shutdown`. Subclasses write the domain XML and add their own
steps (steps())."""

import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "display"))
import images  # noqa: E402
from domain_start_test import domain_pid, wait_for  # noqa: E402
from libvirtd import VNC_VGA_BALLOON, virsh  # noqa: E402
from results import report  # noqa: E402
from virsh_console import VirshConsole  # noqa: E402

# Nested guests are slow and the machine is shared: generous waits, on events.
BOOT_WAIT, CMD_WAIT = 300, 120
AGENT_PORT = "org.qemu.guest_agent.0"
# The end of both guest domains' XML (after their disks and NICs), as
# virt-install writes it: the serial console ({serial}), the guest agent
# channel, USB tablet, VNC with a VGA card and the balloon.
VIRT_INSTALL_DEVICES_END = """{serial}    <channel type='unix'>
      <target type='virtio' name='{agent_port}'/>
    </channel>
    <input type='tablet' bus='usb'/>
    <input type='mouse' bus='ps2'/>
    <input type='keyboard' bus='ps2'/>
""" + VNC_VGA_BALLOON + """  </devices>
</domain>
"""


def rfb_greeting(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            return s.recv(12).decode(errors="replace")
    except OSError as e:
        return repr(e)


def screen_picture(path):
    """(width, height, distinct colours) of the PPM or PNG screendump wrote
    (libvirt asks for PNG where the emulator offers it), or the error."""
    try:
        with open(path, "rb") as f:
            data = f.read()
        image = images.read_png_bytes(data) if data.startswith(b"\x89PNG") else images.read_ppm_bytes(data)
    except (OSError, ValueError) as e:
        return repr(e)
    return image.width, image.height, len(image.distinct_colours())


def interface_of(mac):
    """Guest shell: IF= the name of the guest's NIC with this MAC address."""
    return 'for n in /sys/class/net/*; do [ "$(cat $n/address)" = %s ] && IF=${n##*/}; done' % mac


class GuestDomain:
    """One domain's run; `label` prefixes every result line."""

    def __init__(self, daemon, label, name, xml_text, work):
        self.daemon, self.label, self.work, self.name = daemon, label, work, name
        self.xml = os.path.join(work, name + ".xml")
        with open(self.xml, "w") as f:
            f.write(xml_text)
        self.console = None
        self.pid = None

    def steps(self):
        return (self.restart_daemon, self.reboot, self.shutdown)

    def check(self, ok, what, detail=""):
        report(bool(ok), "%s: %s" % (self.label, what), detail)
        return ok

    def virsh_ok(self, what, *args):
        r = virsh(*args)
        self.check(r.returncode == 0, what, r.stdout + r.stderr)
        return r

    def guest(self, command):
        return self.console.run(command, CMD_WAIT) or ""

    def log_tail(self):
        try:
            with open("/var/log/libvirt/qemu/%s.log" % self.name, errors="replace") as f:
                return "\n" + "".join(f.readlines()[-15:])
        except OSError:
            return ""

    def start(self):
        native = virsh("domxml-to-native", "qemu-argv", self.xml)
        print("  %s command line: %s" % (self.label, native.stdout.strip()), flush=True)
        self.virsh_ok("virsh define", "define", self.xml)
        started = virsh("start", "--paused", self.name)
        if not self.check(started.returncode == 0, "virsh start --paused", started.stderr + self.log_tail()):
            return False
        self.pid = domain_pid(self.name)
        self.console = VirshConsole(self.name)
        self.virsh_ok("virsh resume", "resume", self.name)
        return self.booted("virsh console: the guest booted (its marker, then its command loop)")

    def booted(self, what):
        ok = (self.console.expect(r"^KTEST-GUEST-START$", BOOT_WAIT) and
              self.console.expect_all([r"^KTEST-LIBVIRT-READY$", r"^KTEST-POWER-BUTTON-READY"], BOOT_WAIT))
        return self.check(ok, what, self.console.tail())

    def display(self):
        """A domain with VNC graphics, a VGA card and a USB tablet."""
        out = self.guest("cat /sys/bus/usb/devices/*/product")
        self.check(re.search(r"^QEMU USB Tablet$", out, re.M), "the guest sees the USB tablet", out)
        display = virsh("vncdisplay", self.name).stdout.strip()
        m = re.match(r"127\.0\.0\.1:(\d+)$", display)
        greeting = rfb_greeting(5900 + int(m.group(1))) if m else ""
        self.check(greeting.startswith("RFB 003.00"), "vncdisplay names a VNC server", display + " " + greeting)
        self.guest("printf '\\033[2J\\033[1;1H%s\\n' > /dev/tty1" % ("KESTREL LIBVIRT SCREEN " * 3))
        shot = os.path.join(self.work, self.label + "-screen")
        r = virsh("screenshot", self.name, shot)
        size = screen_picture(shot)
        self.check(r.returncode == 0 and isinstance(size, tuple) and size[0] >= 640 and size[1] >= 400 and size[2] > 1,
                   "screenshot: a picture of the screen with the guest's text on it",
                   r.stdout + r.stderr + " width/height/colours: %s" % (size,))

    def restart_daemon(self):
        self.console.close()
        mark = self.daemon.log_size()
        self.daemon.restart()
        state = wait_for(lambda: virsh("domstate", self.name).stdout.strip() == "running", CMD_WAIT)
        log = self.daemon.log_since(mark)
        self.check(state and "qemuProcessReconnect" in log and '"execute":"qmp_capabilities"' in log
                   and '"execute":"query-status"' in log,
                   "libvirtd restarted: reconnects to the monitor, queries the state again, domain running",
                   virsh("domstate", self.name).stdout)
        status = virsh("qemu-monitor-command", self.name, "--hmp", "info status")
        self.check(status.stdout.strip() == "VM status: running",
                   "after the restart: qemu-monitor-command --hmp 'info status'", status.stdout + status.stderr)
        self.console = VirshConsole(self.name)
        out = self.guest("echo ALIVE-$((40+2))") if self.console.connected(CMD_WAIT) else ""
        self.check(re.search("^ALIVE-42$", out, re.M), "after the restart: virsh console reaches the guest",
                   out + self.console.tail())

    def reboot(self):
        self.virsh_ok("reboot", "reboot", self.name)
        ok = self.console.expect(r"^KTEST-POWER-BUTTON-PRESSED$", CMD_WAIT)
        self.check(ok, "reboot: the guest got the ACPI power button", self.console.tail())
        self.booted("reboot: the guest booted again")
        self.check(domain_pid(self.name) == self.pid and virsh("domstate", self.name).stdout.strip() == "running",
                   "reboot: the same process runs the domain", "pid %s -> %s" % (self.pid, domain_pid(self.name)))

    def shutdown(self):
        self.virsh_ok("shutdown", "shutdown", self.name)
        pressed = self.console.expect(r"^KTEST-POWER-BUTTON-PRESSED$", CMD_WAIT)
        off = wait_for(lambda: virsh("domstate", self.name).stdout.strip() == "shut off", CMD_WAIT)
        gone = self.pid and wait_for(lambda: not os.path.exists("/proc/%d" % self.pid), CMD_WAIT)
        self.check(pressed and off and gone, "shutdown: the guest powered off, the process ended",
                   self.console.tail() + virsh("domstate", self.name).stdout)

    def run(self):
        """Every step; returns the errors libvirtd logged meanwhile."""
        mark = self.daemon.log_size()
        try:
            if self.start():
                for step in self.steps():
                    began = time.monotonic()
                    step()
                    print("  %s: %s took %.1f s" % (self.label, step.__name__, time.monotonic() - began), flush=True)
        finally:
            if self.console:
                self.console.close()
            virsh("destroy", self.name)
            virsh("undefine", self.name)
        return self.daemon.errors_since(mark)
