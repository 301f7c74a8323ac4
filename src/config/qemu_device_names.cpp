// The device type names of QEMU 7.2's qemu-system-x86_64 (qom-list-types
// implementing "device", and -device help's aliases), so that a type
// kestrel lacks gets "not supported by kestrel yet" rather than "not a
// valid device model name", and -global knows QEMU's class names.
#include "config/qemu_device_names.h"

#include <algorithm>
#include <iterator>

namespace kestrel {
namespace {

constexpr std::string_view kNames[] = {
    "486-v1-x86_64-cpu", "486-x86_64-cpu", "AC97", "AMDVI-PCI", "Broadwell-IBRS-x86_64-cpu",
    "Broadwell-noTSX-IBRS-x86_64-cpu", "Broadwell-noTSX-x86_64-cpu", "Broadwell-v1-x86_64-cpu",
    "Broadwell-v2-x86_64-cpu", "Broadwell-v3-x86_64-cpu", "Broadwell-v4-x86_64-cpu", "Broadwell-x86_64-cpu",
    "Cascadelake-Server-noTSX-x86_64-cpu", "Cascadelake-Server-v1-x86_64-cpu",
    "Cascadelake-Server-v2-x86_64-cpu", "Cascadelake-Server-v3-x86_64-cpu",
    "Cascadelake-Server-v4-x86_64-cpu", "Cascadelake-Server-v5-x86_64-cpu", "Cascadelake-Server-x86_64-cpu",
    "Conroe-v1-x86_64-cpu", "Conroe-x86_64-cpu", "Cooperlake-v1-x86_64-cpu", "Cooperlake-v2-x86_64-cpu",
    "Cooperlake-x86_64-cpu", "Denverton-v1-x86_64-cpu", "Denverton-v2-x86_64-cpu", "Denverton-v3-x86_64-cpu",
    "Denverton-x86_64-cpu", "Dhyana-v1-x86_64-cpu", "Dhyana-v2-x86_64-cpu", "Dhyana-x86_64-cpu",
    "EPYC-IBPB-x86_64-cpu", "EPYC-Milan-v1-x86_64-cpu", "EPYC-Milan-x86_64-cpu", "EPYC-Rome-v1-x86_64-cpu",
    "EPYC-Rome-v2-x86_64-cpu", "EPYC-Rome-x86_64-cpu", "EPYC-v1-x86_64-cpu", "EPYC-v2-x86_64-cpu",
    "EPYC-v3-x86_64-cpu", "EPYC-x86_64-cpu", "ES1370", "Haswell-IBRS-x86_64-cpu",
    "Haswell-noTSX-IBRS-x86_64-cpu", "Haswell-noTSX-x86_64-cpu", "Haswell-v1-x86_64-cpu",
    "Haswell-v2-x86_64-cpu", "Haswell-v3-x86_64-cpu", "Haswell-v4-x86_64-cpu", "Haswell-x86_64-cpu",
    "ICH9-LPC", "ICH9-SMB", "Icelake-Server-noTSX-x86_64-cpu", "Icelake-Server-v1-x86_64-cpu",
    "Icelake-Server-v2-x86_64-cpu", "Icelake-Server-v3-x86_64-cpu", "Icelake-Server-v4-x86_64-cpu",
    "Icelake-Server-v5-x86_64-cpu", "Icelake-Server-v6-x86_64-cpu", "Icelake-Server-x86_64-cpu",
    "IvyBridge-IBRS-x86_64-cpu", "IvyBridge-v1-x86_64-cpu", "IvyBridge-v2-x86_64-cpu", "IvyBridge-x86_64-cpu",
    "KnightsMill-v1-x86_64-cpu", "KnightsMill-x86_64-cpu", "Nehalem-IBRS-x86_64-cpu", "Nehalem-v1-x86_64-cpu",
    "Nehalem-v2-x86_64-cpu", "Nehalem-x86_64-cpu", "Opteron_G1-v1-x86_64-cpu", "Opteron_G1-x86_64-cpu",
    "Opteron_G2-v1-x86_64-cpu", "Opteron_G2-x86_64-cpu", "Opteron_G3-v1-x86_64-cpu", "Opteron_G3-x86_64-cpu",
    "Opteron_G4-v1-x86_64-cpu", "Opteron_G4-x86_64-cpu", "Opteron_G5-v1-x86_64-cpu", "Opteron_G5-x86_64-cpu",
    "PIIX3", "PIIX3-xen", "PIIX4_PM", "Penryn-v1-x86_64-cpu", "Penryn-x86_64-cpu",
    "SandyBridge-IBRS-x86_64-cpu", "SandyBridge-v1-x86_64-cpu", "SandyBridge-v2-x86_64-cpu",
    "SandyBridge-x86_64-cpu", "Skylake-Client-IBRS-x86_64-cpu", "Skylake-Client-noTSX-IBRS-x86_64-cpu",
    "Skylake-Client-v1-x86_64-cpu", "Skylake-Client-v2-x86_64-cpu", "Skylake-Client-v3-x86_64-cpu",
    "Skylake-Client-v4-x86_64-cpu", "Skylake-Client-x86_64-cpu", "Skylake-Server-IBRS-x86_64-cpu",
    "Skylake-Server-noTSX-IBRS-x86_64-cpu", "Skylake-Server-v1-x86_64-cpu", "Skylake-Server-v2-x86_64-cpu",
    "Skylake-Server-v3-x86_64-cpu", "Skylake-Server-v4-x86_64-cpu", "Skylake-Server-v5-x86_64-cpu",
    "Skylake-Server-x86_64-cpu", "Snowridge-v1-x86_64-cpu", "Snowridge-v2-x86_64-cpu",
    "Snowridge-v3-x86_64-cpu", "Snowridge-v4-x86_64-cpu", "Snowridge-x86_64-cpu", "VGA",
    "Westmere-IBRS-x86_64-cpu", "Westmere-v1-x86_64-cpu", "Westmere-v2-x86_64-cpu", "Westmere-x86_64-cpu",
    "ac97", "acpi-erst", "acpi-ged", "acpi-ged-x86", "adlib", "ahci", "am53c974", "amd-iommu", "apic",
    "athlon-v1-x86_64-cpu", "athlon-x86_64-cpu", "ati-vga", "base-x86_64-cpu", "base-xhci", "bochs-display",
    "ccid-card-emulated", "ccid-card-passthru", "cfi.pflash01", "cirrus-vga", "core2duo-v1-x86_64-cpu",
    "core2duo-x86_64-cpu", "coreduo-v1-x86_64-cpu", "coreduo-x86_64-cpu", "cpu-cluster", "cs4231a",
    "ctucan_pci", "cxl-downstream", "cxl-rp", "cxl-type3", "cxl-upstream", "dc390", "e1000", "e1000-82540em",
    "e1000-82544gc", "e1000-82545em", "e1000e", "edu", "es1370", "esp", "floppy", "fw_cfg_io", "fw_cfg_mem",
    "generic-sdhci", "gpex-pcihost", "gpex-root", "gpio_i2c", "guest-loader", "gus", "hda-duplex",
    "hda-micro", "hda-output", "host-x86_64-cpu", "hpet", "hv-syndbg", "hyperv-synic", "hyperv-testdev",
    "i2c-ddc", "i440FX", "i440FX-pcihost", "i6300esb", "i8042", "i8042-mmio", "i82550", "i82551", "i82557a",
    "i82557b", "i82557c", "i82558a", "i82558b", "i82559a", "i82559b", "i82559c", "i82559er", "i82562",
    "i8257", "i82801", "i82801b11-bridge", "ib700", "ich9-ahci", "ich9-intel-hda", "ich9-usb-ehci1",
    "ich9-usb-ehci2", "ich9-usb-uhci1", "ich9-usb-uhci2", "ich9-usb-uhci3", "ich9-usb-uhci4",
    "ich9-usb-uhci5", "ich9-usb-uhci6", "ide-cd", "ide-hd", "imx-usdhc", "imx.usbphy", "intel-hda",
    "intel-iommu", "ioapic", "ioh3420", "ipmi-bmc-extern", "ipmi-bmc-sim", "ipoctal232", "isa-applesmc",
    "isa-cirrus-vga", "isa-debug-exit", "isa-debugcon", "isa-fdc", "isa-i8259", "isa-ide", "isa-ipmi-bt",
    "isa-ipmi-kcs", "isa-parallel", "isa-pcspk", "isa-pit", "isa-serial", "isa-vga", "isabus-bridge",
    "ivshmem-doorbell", "ivshmem-plain", "kvaser_pci", "kvm-apic", "kvm-i8259", "kvm-ioapic", "kvm-pit",
    "kvm32-v1-x86_64-cpu", "kvm32-x86_64-cpu", "kvm64-v1-x86_64-cpu", "kvm64-x86_64-cpu", "kvmclock",
    "kvmvapic", "loader", "lsi", "lsi53c810", "lsi53c895a", "max-x86_64-cpu", "mc146818rtc", "mch", "megasas",
    "megasas-gen2", "migration", "mioe3680_pci", "mptsas1068", "n270-v1-x86_64-cpu", "n270-x86_64-cpu",
    "ne2k_isa", "ne2k_pci", "nec-usb-xhci", "nvdimm", "nvme", "nvme-ns", "nvme-subsys", "pc-dimm",
    "pc-testdev", "pci-bridge", "pci-bridge-seat", "pci-ipmi-bt", "pci-ipmi-kcs", "pci-ohci", "pci-serial",
    "pci-serial-2x", "pci-serial-4x", "pci-testdev", "pcie-pci-bridge", "pcie-root-port", "pcm3680_pci",
    "pcnet", "pentium-v1-x86_64-cpu", "pentium-x86_64-cpu", "pentium2-v1-x86_64-cpu", "pentium2-x86_64-cpu",
    "pentium3-v1-x86_64-cpu", "pentium3-x86_64-cpu", "phenom-v1-x86_64-cpu", "phenom-x86_64-cpu", "piix3-ide",
    "piix3-usb-uhci", "piix4-ide", "piix4-usb-uhci", "port92", "ps2-kbd", "ps2-mouse", "pvpanic",
    "pvpanic-pci", "pvrdma", "pvscsi", "pxb", "pxb-cxl", "pxb-cxl-host", "pxb-host", "pxb-pcie",
    "q35-pcihost", "qemu-xhci", "qemu32-v1-x86_64-cpu", "qemu32-x86_64-cpu", "qemu64-v1-x86_64-cpu",
    "qemu64-x86_64-cpu", "qxl", "qxl-vga", "ramfb", "remote-pcihost", "rocker", "rtl8139", "s3c-sdhci",
    "sb16", "scsi-block", "scsi-cd", "scsi-generic", "scsi-hd", "sd-card", "sdhci-pci", "secondary-vga",
    "serial", "serial-mm", "sga", "sgx-epc", "smbus-eeprom", "smbus-ipmi", "sysbus-ahci", "sysbus-esp",
    "sysbus-ohci", "sysbus-xhci", "tpci200", "tpm-crb", "tpm-tis", "tulip", "u2f-passthru", "usb-audio",
    "usb-bot", "usb-braille", "usb-ccid", "usb-ehci", "usb-host", "usb-hub", "usb-kbd", "usb-mouse",
    "usb-mtp", "usb-net", "usb-redir", "usb-serial", "usb-storage", "usb-tablet", "usb-uas",
    "usb-wacom-tablet", "vfio-pci", "vfio-pci-igd-lpc-bridge", "vfio-pci-nohotplug", "vhost-scsi",
    "vhost-scsi-pci", "vhost-scsi-pci-non-transitional", "vhost-scsi-pci-transitional", "vhost-user-blk",
    "vhost-user-blk-pci", "vhost-user-blk-pci-non-transitional", "vhost-user-blk-pci-transitional",
    "vhost-user-fs-device", "vhost-user-fs-pci", "vhost-user-gpio-device", "vhost-user-gpio-pci",
    "vhost-user-gpu", "vhost-user-gpu-pci", "vhost-user-i2c-device", "vhost-user-i2c-pci", "vhost-user-input",
    "vhost-user-input-pci", "vhost-user-rng", "vhost-user-rng-pci", "vhost-user-scsi", "vhost-user-scsi-pci",
    "vhost-user-scsi-pci-non-transitional", "vhost-user-scsi-pci-transitional", "vhost-user-vga",
    "vhost-user-vsock-device", "vhost-user-vsock-pci", "vhost-user-vsock-pci-non-transitional",
    "vhost-vsock-device", "vhost-vsock-pci", "vhost-vsock-pci-non-transitional", "virtconsole", "virtio-9p",
    "virtio-9p-device", "virtio-9p-pci", "virtio-9p-pci-non-transitional", "virtio-9p-pci-transitional",
    "virtio-balloon", "virtio-balloon-device", "virtio-balloon-pci", "virtio-balloon-pci-non-transitional",
    "virtio-balloon-pci-transitional", "virtio-blk", "virtio-blk-device", "virtio-blk-pci",
    "virtio-blk-pci-non-transitional", "virtio-blk-pci-transitional", "virtio-crypto-device",
    "virtio-crypto-pci", "virtio-gpu", "virtio-gpu-device", "virtio-gpu-gl", "virtio-gpu-gl-pci",
    "virtio-gpu-pci", "virtio-input-host", "virtio-input-host-device", "virtio-input-host-pci",
    "virtio-iommu", "virtio-iommu-device", "virtio-iommu-pci", "virtio-keyboard", "virtio-keyboard-device",
    "virtio-keyboard-pci", "virtio-mem", "virtio-mem-pci", "virtio-mmio", "virtio-mouse",
    "virtio-mouse-device", "virtio-mouse-pci", "virtio-net", "virtio-net-device", "virtio-net-pci",
    "virtio-net-pci-non-transitional", "virtio-net-pci-transitional", "virtio-pmem", "virtio-pmem-pci",
    "virtio-rng", "virtio-rng-device", "virtio-rng-pci", "virtio-rng-pci-non-transitional",
    "virtio-rng-pci-transitional", "virtio-scsi", "virtio-scsi-device", "virtio-scsi-pci",
    "virtio-scsi-pci-non-transitional", "virtio-scsi-pci-transitional", "virtio-serial",
    "virtio-serial-device", "virtio-serial-pci", "virtio-serial-pci-non-transitional",
    "virtio-serial-pci-transitional", "virtio-tablet", "virtio-tablet-device", "virtio-tablet-pci",
    "virtio-vga", "virtio-vga-gl", "virtserialport", "vmbus-bridge", "vmcoreinfo", "vmgenid", "vmmouse",
    "vmport", "vmware-svga", "vmxnet3", "x-pci-proxy-dev", "x3130-upstream", "xio3130-downstream",
};

} // namespace

bool is_qemu_device_name(std::string_view name) {
    return std::binary_search(std::begin(kNames), std::end(kNames), name);
}

} // namespace kestrel
