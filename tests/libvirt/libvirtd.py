"""A private libvirtd for the libvirt tests (Debian's libvirt 9.0).

The daemon runs as root in a mount namespace of the test's own: temporary
directories are bound over /etc/libvirt, /run/libvirt, /var/lib/libvirt,
/var/cache/libvirt and /var/log/libvirt, and qemu.conf says user "root",
security_driver "none" (the emulator needs /dev/kvm; no SELinux/AppArmor
labels in a test) and stdio_handler "file" (no virtlogd). Nothing of the host's libvirt is touched.

    if reexec_in_namespace(__file__, args):   # re-runs the script in one
        ...
    with private_libvirtd() as daemon:
        virsh("start", "dom")
"""

import contextlib
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from results import report, summary

STATE_DIRS = ["/run/libvirt", "/var/lib/libvirt", "/var/cache/libvirt", "/var/log/libvirt"]
ERROR_LINE = re.compile(r"^\S+ \S+ \d+: error : (.*)")
LOG_FILTERS = "1:qemu.qemu_monitor 1:qemu.qemu_capabilities 1:qemu.qemu_process 1:qemu.qemu_command"
NS_MARK = "KESTREL_LIBVIRT_NS"

# The parts of a domain that virt-install writes the same for every pc guest
# (used by the tests' domain XML): ACPI, the CPU, the clock without an HPET,
# the life-cycle actions, no S3/S4; and the pty serial console.
VIRT_INSTALL_PLATFORM = """  <features>
    <acpi/>
    <apic/>
  </features>
  <cpu mode='host-passthrough' check='none' migratable='on'/>
  <clock offset='utc'>
    <timer name='rtc' tickpolicy='catchup'/>
    <timer name='pit' tickpolicy='delay'/>
    <timer name='hpet' present='no'/>
  </clock>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <pm>
    <suspend-to-mem enabled='no'/>
    <suspend-to-disk enabled='no'/>
  </pm>
"""
PTY_SERIAL_CONSOLE = """    <serial type='pty'>
      <target type='isa-serial' port='0'>
        <model name='isa-serial'/>
      </target>
    </serial>
    <console type='pty'>
      <target type='serial' port='0'/>
    </console>
"""
# VNC on the loopback with a VGA card, and the balloon, as virt-install
# writes them (every guest domain of the tests has them).
VNC_VGA_BALLOON = """    <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'>
      <listen type='address' address='127.0.0.1'/>
    </graphics>
    <video>
      <model type='vga' vram='16384' heads='1' primary='yes'/>
    </video>
    <memballoon model='virtio'/>
"""


class Libvirtd:
    """A libvirtd of this namespace, its state in `root`."""

    def __init__(self, root, qemu_conf=""):
        self.root = root
        self.log = os.path.join(root, "libvirtd.log")
        etc = os.path.join(root, "etc")
        shutil.copytree("/etc/libvirt", etc, symlinks=True)
        with open(os.path.join(etc, "qemu.conf"), "w") as f:
            # stdio_handler "file": the domain log is written by libvirtd
            # itself (no virtlogd in the namespace).
            f.write('user = "root"\ngroup = "root"\nsecurity_driver = "none"\nstdio_handler = "file"\n' + qemu_conf)
        subprocess.run(["mount", "--bind", etc, "/etc/libvirt"], check=True)
        for d in STATE_DIRS:
            mine = os.path.join(root, d.strip("/").replace("/", "-"))
            os.makedirs(mine)
            os.makedirs(d, exist_ok=True)
            subprocess.run(["mount", "--bind", mine, d], check=True)
        self.out = open(os.path.join(root, "libvirtd.out"), "w")
        self._spawn()

    def _spawn(self):
        env = dict(os.environ, LIBVIRT_LOG_FILTERS=LOG_FILTERS, LIBVIRT_LOG_OUTPUTS="1:file:" + self.log)
        root = self.root
        # One CPU for libvirtd: its reading of the host's CPUID differs from
        # CPU to CPU here (APIC IDs), and a cached emulator capability whose
        # CPUID differs is "outdated": every restart probed both emulators
        # again (~30 s in the test host). Domains get all CPUs from libvirt.
        cpu = min(os.sched_getaffinity(0))
        self.proc = subprocess.Popen(["libvirtd", "--pid-file", os.path.join(root, "libvirtd.pid")],
                                     env=env, stdout=self.out, stderr=subprocess.STDOUT,
                                     preexec_fn=lambda: os.sched_setaffinity(0, {cpu}))
        sock = "/run/libvirt/libvirt-sock"
        deadline = time.monotonic() + 120
        while not os.path.exists(sock):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("libvirtd did not start: see " + self.out.name)
            time.sleep(0.1)

    def log_size(self):
        return os.path.getsize(self.log) if os.path.exists(self.log) else 0

    def log_since(self, offset):
        with open(self.log, errors="replace") as f:
            f.seek(offset)
            return f.read()

    def errors_since(self, offset):
        return [line for line in self.log_since(offset).splitlines() if ERROR_LINE.match(line)]

    def restart(self):
        """Stops the daemon alone (its domains keep running) and starts it
        again: it reconnects to their monitors."""
        self.proc.terminate()
        self.proc.wait(timeout=120)
        with contextlib.suppress(FileNotFoundError):
            os.unlink("/run/libvirt/libvirt-sock")
        self._spawn()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=120)
        self.out.close()
        # A probe or domain libvirtd left behind (it crashed) is ended by
        # its pidfile, which lives in this test's directories.
        for pidfile in glob.glob("/var/lib/libvirt/qemu/qmp-*/qmp.pid") + glob.glob("/run/libvirt/qemu/*.pid"):
            try:
                with open(pidfile) as f:
                    os.kill(int(f.read()), signal.SIGKILL)
            except (OSError, ValueError):
                pass


def virsh(*args, timeout=600):
    return subprocess.run(["virsh", "-c", "qemu:///system"] + list(args), capture_output=True, text=True,
                          timeout=timeout)


def error_kinds(lines, binary):
    """Error lines without time, thread, numbers and the binary's path."""
    kinds = set()
    for line in lines:
        text = ERROR_LINE.match(line).group(1).replace(binary, "EMU").replace(os.path.basename(binary), "EMU")
        kinds.add(re.sub(r"libvirt-\d+|0x[0-9a-f]+", "N", text))
    return kinds


def reexec_in_namespace(script, args):
    """Outside the namespace: checks the prerequisites and runs `script`
    again in a private mount namespace; returns its exit status. Inside:
    returns None."""
    if os.environ.get(NS_MARK) == "1":
        return None
    missing = [tool for tool in ("libvirtd", "virsh", "unshare") if not shutil.which(tool)]
    if missing or os.geteuid() != 0:
        report(False, "libvirt test prerequisites",
               "needs root and " + " ".join(missing or ["libvirtd", "virsh"]) +
               " (scripts/install-deps.sh installs libvirt-daemon-system, libvirt-clients)")
        print("0 passed, 1 failed")
        return 1
    env = dict(os.environ, **{NS_MARK: "1"})
    return subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable,
                           os.path.abspath(script)] + list(args), env=env).returncode


@contextlib.contextmanager
def private_libvirtd(qemu_conf=""):
    """A Libvirtd in a temporary root (inside the namespace), with the
    XDG directories of virsh there too, `qemu_conf` added to its qemu.conf;
    stopped on exit."""
    with tempfile.TemporaryDirectory(prefix="kestrel-libvirt-") as root:
        for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR", "XDG_DATA_HOME"):
            os.environ[var] = os.path.join(root, "home-" + var.lower())
            os.makedirs(os.environ[var], mode=0o700)
        daemon = Libvirtd(root, qemu_conf)
        try:
            yield daemon
        finally:
            daemon.stop()
            keep = os.environ.get("KESTREL_LIBVIRT_KEEP_LOGS")  # a directory for libvirtd's and the domains' logs
            if keep:
                os.makedirs(keep, exist_ok=True)
                for log in [daemon.log] + glob.glob("/var/log/libvirt/qemu/*.log"):
                    shutil.copy(log, keep)


def report_extra_errors(k_errors, kestrel, q_errors, qemu):
    """Fails for each kind of error libvirtd logged for kestrel, not for QEMU."""
    extra = error_kinds(k_errors, kestrel) - error_kinds(q_errors, qemu)
    report(not extra, "libvirt logs no error for kestrel that it does not log for QEMU", "\n".join(sorted(extra)))


def beside_qemu(kestrel, qemu, run, recorded=None):
    """run(emulator, label) with QEMU 7.2 first (when it is installed),
    then with kestrel; each returns the errors libvirtd logged for it.
    Fails for each kind of error logged for kestrel and not for QEMU.
    With `recorded` (a file of the error kinds QEMU's run logs), QEMU runs
    only when KESTREL_LIBVIRT_REFEREE=qemu is set, and its kinds must then
    equal the file's; otherwise kestrel's are judged against the file. (In
    the nested test host QEMU's run costs as much as kestrel's, and CI is
    CPU-bound.)"""
    if recorded and os.environ.get("KESTREL_LIBVIRT_REFEREE") != "qemu":
        with open(recorded) as f:
            q_kinds = {line.rstrip("\n") for line in f if line.strip() and not line.startswith("#")}
        k_kinds = error_kinds(run(kestrel, "kestrel"), kestrel)
        extra = k_kinds - q_kinds
        report(not extra, "libvirt logs no error for kestrel that it logged for QEMU (%s)" %
               os.path.relpath(recorded), "\n".join(sorted(extra)))
        return
    qemu_path = shutil.which(qemu)
    if not qemu_path:
        report(False, "QEMU 7.2 (%s) to compare with" % qemu)
    q_errors = run(qemu_path, "qemu") if qemu_path else []
    if recorded and qemu_path:
        check_recorded_kinds(recorded, error_kinds(q_errors, qemu_path))
    k_errors = run(kestrel, "kestrel")
    if qemu_path:
        report_extra_errors(k_errors, kestrel, q_errors, qemu_path)


def check_recorded_kinds(recorded, kinds):
    """QEMU's error kinds equal those recorded for the runs without it."""
    with open(recorded) as f:
        old = {line.rstrip("\n") for line in f if line.strip() and not line.startswith("#")}
    report(old == kinds, "QEMU's error kinds are those recorded in %s" % os.path.relpath(recorded),
           "QEMU's run logged (one per line, for the file):\n" + "\n".join(sorted(kinds)))


def run_test(script, body, what):
    """A libvirt test's main(): `script KESTREL [QEMU]` re-executed in a
    mount namespace of its own, where body(kestrel, qemu) runs."""
    kestrel = os.path.abspath(sys.argv[1])
    qemu = sys.argv[2] if len(sys.argv) > 2 else "qemu-system-x86_64"
    status = reexec_in_namespace(script, [kestrel, qemu])
    if status is not None:
        return status
    try:
        body(kestrel, qemu)
    except Exception as e:
        report(False, what, repr(e))
    return summary()
