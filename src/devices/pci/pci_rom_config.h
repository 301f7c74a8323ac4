#pragma once
// romfile=, romsize= and rombar= of a PCI function with an expansion ROM,
// checked and resolved while the command line is read, with QEMU 7.2's
// errors (pci_qdev_realize, pci_add_option_rom): the ROM file is found and
// its size taken (stat only: nothing is read until firmware needs it).
#include "devices/device_config.h"

namespace kestrel {

// Sets device.rom (and romfile=/romsize= as QEMU's qtree shows them) for a
// type with has_rom. Throws ConfigError.
void complete_pci_rom(DeviceConfig& device, const DeviceCheckContext& context);

} // namespace kestrel
