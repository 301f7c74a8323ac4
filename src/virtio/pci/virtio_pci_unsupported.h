#pragma once
// QEMU 7.2's properties of every virtio-pci proxy and its virtio device
// that kestrel lacks (DeviceType::transport_unsupported_properties; a
// device that has one of them finds it among its own properties first).
#include <string_view>

namespace kestrel {

inline constexpr std::string_view kVirtioPciUnsupported[] = {
    "aer", "any_layout", "ats", "disable-legacy", "disable-modern", "event_idx", "indirect_desc",
    "iommu_platform", "migrate-extra", "modern-pio-notify", "notify_on_empty", "packed", "page-per-vq",
    "queue_reset", "use-disabled-flag", "use-started", "virtio-backend", "virtio-pci-bus-master-bug-migration",
    "x-ats-page-aligned", "x-disable-legacy-check", "x-disable-pcie", "x-ignore-backend-features",
    "x-pcie-deverr-init", "x-pcie-flr-init", "x-pcie-lnkctl-init", "x-pcie-pm-init",
};

} // namespace kestrel
