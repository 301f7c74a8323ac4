#pragma once
// QEMU's pc_cmos_init_late for the IDE disks: once every device is
// realized, the CMOS learns the hard disks' geometry and BIOS translation.
#include "base/service_registry.h"

namespace kestrel {

// Does nothing without an RTC or an IDE controller.
void describe_ide_disks_in_cmos(const ServiceRegistry& services);

} // namespace kestrel
