#pragma once
// The pc machine's fw_cfg items, as QEMU's pc sets them for firmware and
// test kernels: UUID, display, boot menu, CPU counts, RAM size, the IRQ0
// override, the e820 map (etc/e820 and the legacy reservation table),
// etc/boot-fail-wait, and the -fw_cfg files.
#include "config/config.h"

namespace kestrel {

class FwCfg;
class GuestMemory;

// Throws std::runtime_error "<-fw_cfg ...>: duplicate fw_cfg file name: X"
// for a -fw_cfg file whose name the machine uses.
void add_pc_fw_cfg_items(FwCfg& fw_cfg, const Config& cfg, const GuestMemory& mem);

} // namespace kestrel
