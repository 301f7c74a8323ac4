#pragma once
// An EDID 1.4 base block describing the std VGA's virtual monitor, as
// QEMU offers it at the start of the VGA's MMIO BAR: vendor "RHT",
// "QEMU Monitor", the preferred mode xres x yres (the bochs DRM driver's
// default mode), standard modes up to the maximum, range limits.
#include <array>
#include <cstdint>

namespace kestrel {

struct EdidInfo {
    unsigned preferred_width = 1280, preferred_height = 800;
    unsigned max_width = 0, max_height = 0;  // 0: the preferred mode's
    unsigned refresh_mhz = 75000;            // 0: 75 Hz
};

std::array<uint8_t, 128> make_edid(const EdidInfo& info);

} // namespace kestrel
