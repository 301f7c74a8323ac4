#pragma once
// fw_cfg's "bootorder": the devices with a bootindex, lowest first, as
// firmware device paths in QEMU's syntax (SeaBIOS matches them against the
// devices it finds): "/pci@i0cf8/ide@1,1/drive@0/disk@0",
// "/pci@i0cf8/scsi@4/disk@0,0", "/pci@i0cf8/ethernet@3/ethernet-phy@0".
#include "devices/device_tree.h"

#include <cstdint>
#include <string>
#include <vector>

namespace kestrel {

// The device's firmware path with QEMU's boot suffix; "" for a device
// kestrel cannot name (none of those with a bootindex).
std::string boot_device_path(const DeviceTree& tree, const Device& device);

// The file's bytes as QEMU's get_boot_devices_list makes them: the paths
// joined by newlines and NUL-terminated, "HALT" last with strict=on; empty
// without any bootindex.
// `others` adds paths that belong to no device (-option-rom's
// "/rom@genroms/NAME") with their bootindex.
std::vector<uint8_t> boot_order_file(const DeviceTree& tree, bool strict,
                                     const std::vector<std::pair<int64_t, std::string>>& others = {});

} // namespace kestrel
