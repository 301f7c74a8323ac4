#include "devices/vga/vga_legacy.h"

#include "devices/bus.h"
#include "devices/device_context.h"

namespace kestrel {

bool map_std_vga_legacy(DeviceContext& context, const std::shared_ptr<VgaCore>& core) {
    Bus& pio = context.pio();
    auto ports = std::make_shared<VgaPortsIo>(core);
    struct Range {
        uint16_t first, last;
    };
    static constexpr Range kRanges[] = {{0x3b4, 0x3b5}, {0x3ba, 0x3ba}, {0x3c0, 0x3cf}, {0x3d4, 0x3d5}, {0x3da, 0x3da}};
    for (const Range& r : kRanges) {
        auto window = std::make_shared<BusWindow>(ports, r.first - vga::kPortBase);
        if (!pio.insert(r.first, r.last - r.first + 1u, window, "vga")) {
            for (const Range& undo : kRanges) {
                if (undo.first == r.first) break;
                pio.remove(undo.first);
            }
            return false;
        }
    }
    pio.insert(vga::kVbePort, 4, std::make_shared<VbePortsIo>(core), "vbe");
    context.mmio().insert(vga::kLegacyBase, vga::kLegacySize, std::make_shared<VgaLowMemory>(core), "vga-lowmem");
    return true;
}

} // namespace kestrel
