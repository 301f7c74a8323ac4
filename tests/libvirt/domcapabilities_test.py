#!/usr/bin/env python3
"""libvirt's capability probe against kestrel, with Debian's libvirt 9.0.

Runs a private libvirtd (root, in a mount namespace of its own: temporary
directories over /etc/libvirt, /run/libvirt, /var/lib/libvirt,
/var/cache/libvirt and /var/log/libvirt; qemu.conf with user "root" and
security_driver "none", since the probe needs /dev/kvm) and asks it
`virsh domcapabilities --emulatorbin KESTREL --virttype kvm`. Checks that
the probe succeeds and the XML shows kestrel's real machine types, CPU
models and devices, and none it lacks. The same probe of QEMU 7.2 runs
beside it: every error libvirt logs for kestrel but not for QEMU fails.

Usage: domcapabilities_test.py build/kestrel [qemu-system-x86_64]
       (re-executes itself in a new mount namespace; needs root)"""

import glob
import os
import re
import signal
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

from results import report, summary

STATE_DIRS = ["/run/libvirt", "/var/lib/libvirt", "/var/cache/libvirt", "/var/log/libvirt"]
ERROR_LINE = re.compile(r"^\S+ \S+ \d+: error : (.*)")
LOG_FILTERS = "1:qemu.qemu_monitor 1:qemu.qemu_capabilities 1:qemu.qemu_process"


class Libvirtd:
    """A libvirtd of this namespace, its state in `root`."""

    def __init__(self, root):
        self.root = root
        self.log = os.path.join(root, "libvirtd.log")
        etc = os.path.join(root, "etc")
        shutil.copytree("/etc/libvirt", etc, symlinks=True)
        with open(os.path.join(etc, "qemu.conf"), "w") as f:
            f.write('user = "root"\ngroup = "root"\nsecurity_driver = "none"\n')
        subprocess.run(["mount", "--bind", etc, "/etc/libvirt"], check=True)
        for d in STATE_DIRS:
            mine = os.path.join(root, d.strip("/").replace("/", "-"))
            os.makedirs(mine)
            os.makedirs(d, exist_ok=True)
            subprocess.run(["mount", "--bind", mine, d], check=True)
        env = dict(os.environ, LIBVIRT_LOG_FILTERS=LOG_FILTERS, LIBVIRT_LOG_OUTPUTS="1:file:" + self.log)
        self.out = open(os.path.join(root, "libvirtd.out"), "w")
        self.proc = subprocess.Popen(["libvirtd", "--pid-file", os.path.join(root, "libvirtd.pid")],
                                     env=env, stdout=self.out, stderr=subprocess.STDOUT)
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

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=120)
        self.out.close()
        # A probe libvirtd left behind (it crashed mid-probe) is ended by
        # its pidfile, which lives in this test's directories.
        for pidfile in glob.glob("/var/lib/libvirt/qemu/qmp-*/qmp.pid"):
            try:
                with open(pidfile) as f:
                    os.kill(int(f.read()), signal.SIGKILL)
            except (OSError, ValueError):
                pass


def virsh(*args):
    return subprocess.run(["virsh", "-c", "qemu:///system"] + list(args), capture_output=True, text=True,
                          timeout=600)


def probe(daemon, binary):
    """(virsh's result, the error lines libvirtd logged meanwhile)."""
    start = daemon.log_size()
    result = virsh("domcapabilities", "--emulatorbin", binary, "--virttype", "kvm")
    errors = [line for line in daemon.log_since(start).splitlines() if ERROR_LINE.match(line)]
    return result, errors


def error_kinds(lines, binary):
    """Error lines without time, thread and the binary's path."""
    kinds = set()
    for line in lines:
        text = ERROR_LINE.match(line).group(1).replace(binary, "EMU").replace(os.path.basename(binary), "EMU")
        kinds.add(re.sub(r"libvirt-\d+|0x[0-9a-f]+", "N", text))
    return kinds


def values(root, path):
    return sorted(v.text for v in root.findall(path))


def check_caps(xml, kestrel):
    root = ET.fromstring(xml)
    report(root.findtext("path") == kestrel and root.findtext("domain") == "kvm",
           "domcapabilities: kestrel's path and domain kvm")
    report(root.findtext("machine") == "pc-i440fx-7.2" and root.findtext("arch") == "x86_64",
           "the default machine is pc-i440fx-7.2 (x86_64)", root.findtext("machine") or "")
    models = values(root, "cpu/mode[@name='custom']/model")
    report({"qemu64", "kvm64"} <= set(models) and not {"Skylake-Client", "EPYC", "Nehalem"} & set(models),
           "CPU models: kestrel's (qemu64, kvm64) and no others", " ".join(models))
    passthrough = root.find("cpu/mode[@name='host-passthrough']")
    report(passthrough is not None and passthrough.get("supported") == "yes", "CPU mode host-passthrough")
    buses = values(root, "devices/disk/enum[@name='bus']/value")
    # libvirt lists scsi and fdc for any i440fx machine; sata and usb
    # follow from devices (ich9-ahci, usb-storage) that kestrel lacks.
    report("virtio" in buses and "ide" in buses and not {"sata", "usb"} & set(buses),
           "disk buses: virtio and ide, no sata or usb", " ".join(buses))
    graphics = values(root, "devices/graphics/enum[@name='type']/value")
    report(graphics == ["vnc"], "graphics: vnc only (no spice, sdl, dbus)", " ".join(graphics))
    report(root.find("memoryBacking/enum[@name='sourceType']/value[.='memfd']") is None,
           "no memfd memory backend")
    video = values(root, "devices/video/enum[@name='modelType']/value")
    report("vga" in video and not {"qxl", "vmvga", "virtio", "bochs", "ramfb"} & set(video),
           "video models: kestrel's (vga), not qxl/vmvga/virtio/bochs/ramfb", " ".join(video))
    report(root.find("features/sev[@supported='yes']") is None and root.find("features/sgx[@supported='yes']") is None,
           "no SEV, no SGX")
    tpm = root.find("devices/tpm")
    report(tpm is None or tpm.get("supported") == "no", "no TPM")


def in_namespace(kestrel, qemu):
    with tempfile.TemporaryDirectory(prefix="kestrel-libvirt-") as root:
        for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR", "XDG_DATA_HOME"):
            os.environ[var] = os.path.join(root, "home-" + var.lower())
            os.makedirs(os.environ[var], mode=0o700)
        daemon = Libvirtd(root)
        try:
            # The host's capabilities first: what libvirtd logs about the
            # host (no dnsmasq, no DMI tables here) is no one's probe.
            virsh("capabilities")
            qemu_path = shutil.which(qemu)
            if qemu_path:
                q_result, q_errors = probe(daemon, qemu_path)
                report(q_result.returncode == 0, "the same probe of QEMU 7.2", q_result.stderr.strip())
            else:
                report(False, "QEMU 7.2 (%s) to compare with" % qemu)
            result, k_errors = probe(daemon, kestrel)
            report(result.returncode == 0, "virsh domcapabilities --emulatorbin kestrel --virttype kvm",
                   result.stderr.strip())
            if result.returncode == 0:
                check_caps(result.stdout, kestrel)
            tcg = virsh("domcapabilities", "--emulatorbin", kestrel, "--virttype", "qemu")
            report(tcg.returncode != 0, "no TCG domains: domcapabilities --virttype qemu is refused",
                   tcg.stdout[:300] + tcg.stderr)
            print("  libvirt says: " + tcg.stderr.strip().replace("\n", " "), flush=True)
            if qemu_path:
                extra = error_kinds(k_errors, kestrel) - error_kinds(q_errors, qemu_path)
                report(not extra, "libvirt logs no error for kestrel that it does not log for QEMU",
                       "\n".join(sorted(extra)))
        finally:
            daemon.stop()


def main():
    kestrel = os.path.abspath(sys.argv[1])
    qemu = sys.argv[2] if len(sys.argv) > 2 else "qemu-system-x86_64"
    if os.environ.get("KESTREL_LIBVIRT_NS") != "1":
        missing = [tool for tool in ("libvirtd", "virsh", "unshare") if not shutil.which(tool)]
        if missing or os.geteuid() != 0:
            report(False, "libvirt test prerequisites",
                   "needs root and " + " ".join(missing or ["libvirtd", "virsh"]) +
                   " (scripts/install-deps.sh installs libvirt-daemon-system, libvirt-clients)")
            return summary()
        env = dict(os.environ, KESTREL_LIBVIRT_NS="1")
        return subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable,
                               os.path.abspath(__file__), kestrel, qemu], env=env).returncode
    try:
        in_namespace(kestrel, qemu)
    except Exception as e:
        report(False, "libvirt probe", repr(e))
    return summary()


if __name__ == "__main__":
    sys.exit(main())
