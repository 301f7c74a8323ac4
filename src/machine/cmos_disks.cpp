#include "machine/cmos_disks.h"

#include "devices/ide/ide_buses.h"
#include "devices/rtc/cmos_rtc.h"

namespace kestrel {

void describe_ide_disks_in_cmos(const ServiceRegistry& services) {
    CmosRtc* rtc = services.find<CmosRtc>();
    IdeBuses* buses = services.find<IdeBuses>();
    if (!rtc || !buses) return;
    std::array<std::optional<HdGeometry>, 4> disks;
    for (unsigned i = 0; i < 4; ++i) disks[i] = buses->channel("ide." + std::to_string(i / 2)).disk_geometry(i % 2);
    rtc->set_hard_disks(disks);
}

} // namespace kestrel
