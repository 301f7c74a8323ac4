#!/usr/bin/env python3
"""libvirt's capability probe against kestrel, with Debian's libvirt 9.0.

Runs a private libvirtd (root, in a mount namespace of its own: temporary
directories over /etc/libvirt, /run/libvirt, /var/lib/libvirt,
/var/cache/libvirt and /var/log/libvirt; qemu.conf with user "root" and
security_driver "none", since the probe needs /dev/kvm) and asks it
`virsh domcapabilities --emulatorbin KESTREL --virttype kvm`. Checks that
the probe succeeds and the XML shows kestrel's real machine types, CPU
models and devices, and none it lacks, and host-model is supported (from
kestrel's query-cpu-model-expansion of "host"). The same probe of QEMU 7.2 runs
beside it: every error libvirt logs for kestrel but not for QEMU fails.

Usage: domcapabilities_test.py build/kestrel [qemu-system-x86_64]
       (re-executes itself in a new mount namespace; needs root)"""

import shutil
import sys
import xml.etree.ElementTree as ET

from libvirtd import private_libvirtd, report_extra_errors, run_test, virsh
from results import report


def probe(daemon, binary):
    """(virsh's result, the error lines libvirtd logged meanwhile)."""
    start = daemon.log_size()
    result = virsh("domcapabilities", "--emulatorbin", binary, "--virttype", "kvm")
    return result, daemon.errors_since(start)


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
    sources = values(root, "memoryBacking/enum[@name='sourceType']/value")
    report({"file", "anonymous", "memfd"} <= set(sources), "memory backing: file, anonymous, memfd (memory-backend-*)",
           " ".join(sources))
    video = values(root, "devices/video/enum[@name='modelType']/value")
    report("vga" in video and not {"qxl", "vmvga", "virtio", "bochs", "ramfb"} & set(video),
           "video models: kestrel's (vga), not qxl/vmvga/virtio/bochs/ramfb", " ".join(video))
    report(root.find("features/sev[@supported='yes']") is None and root.find("features/sgx[@supported='yes']") is None,
           "no SEV, no SGX")
    rng = root.find("devices/rng")
    rng_models = values(root, "devices/rng/enum[@name='model']/value")
    rng_backends = values(root, "devices/rng/enum[@name='backendModel']/value")
    report(rng is not None and rng.get("supported") == "yes" and "virtio" in rng_models and
           rng_backends == ["builtin", "random"], "rng: model virtio, backends random and builtin (no egd)",
           " ".join(rng_models) + " / " + " ".join(rng_backends))
    tpm = root.find("devices/tpm")
    report(tpm is None or tpm.get("supported") == "no", "no TPM")


# Flags of IA32_ARCH_CAPABILITIES (an MSR, not CPUID): kestrel's
# expansion has no name for them.
ARCH_CAPABILITIES_MSR = {"rdctl-no", "ibrs-all", "rsba", "skip-l1dfl-vmentry", "ssb-no", "mds-no", "pschange-mc-no",
                         "tsx-ctrl", "taa-no", "sbdr-ssdp-no", "fbsdp-no", "psdp-no", "fb-clear"}


def host_model(xml):
    """(supported, model, vendor, required features) of <mode name='host-model'>."""
    mode = ET.fromstring(xml).find("cpu/mode[@name='host-model']")
    if mode is None:
        return False, None, None, []
    features = sorted(f.get("name") for f in mode.findall("feature") if f.get("policy") == "require")
    return mode.get("supported") == "yes", mode.findtext("model"), mode.findtext("vendor"), features


def check_host_model(xml, qemu_xml):
    """libvirt builds host-model from the static expansion of "host"
    (virQEMUCapsProbeQMPHostCPU): supported, on one of kestrel's models,
    with the host's vendor and features as QEMU's host-model has them."""
    supported, model, vendor, features = host_model(xml)
    report(supported and model in ("qemu64", "kvm64") and len(features) >= 5,
           "CPU mode host-model supported: one of kestrel's models and the host's features",
           "supported=%s model=%s features=%s" % (supported, model, " ".join(features)))
    print("  host-model: %s %s +%s" % (vendor, model, " ".join(features)), flush=True)
    if qemu_xml:
        q_supported, q_model, q_vendor, q_features = host_model(qemu_xml)
        print("  QEMU's host-model: %s %s +%s" % (q_vendor, q_model, " ".join(q_features)), flush=True)
        report(q_supported and vendor == q_vendor and model == q_model,
               "host-model: the vendor and model QEMU's host-model has",
               "kestrel %s %s, QEMU %s %s" % (vendor, model, q_vendor, q_model))
        # From KVM as QEMU's, not from the host CPU (libvirt's fallback when
        # the expansion is missing, which shows what KVM cannot give).
        extra = sorted(set(features) - set(q_features))
        missing = sorted(set(q_features) - set(features) - ARCH_CAPABILITIES_MSR)
        report(not extra and not missing, "host-model: QEMU's features (but the MSR-based ones kestrel cannot name)",
               "kestrel only: %s; QEMU only: %s" % (" ".join(extra), " ".join(missing)))


def in_namespace(kestrel, qemu):
    with private_libvirtd() as daemon:
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
            check_host_model(result.stdout, q_result.stdout if qemu_path and q_result.returncode == 0 else None)
        tcg = virsh("domcapabilities", "--emulatorbin", kestrel, "--virttype", "qemu")
        report(tcg.returncode != 0, "no TCG domains: domcapabilities --virttype qemu is refused",
               tcg.stdout[:300] + tcg.stderr)
        print("  libvirt says: " + tcg.stderr.strip().replace("\n", " "), flush=True)
        if qemu_path:
            report_extra_errors(k_errors, kestrel, q_errors, qemu_path)


if __name__ == "__main__":
    sys.exit(run_test(__file__, in_namespace, "libvirt probe"))
