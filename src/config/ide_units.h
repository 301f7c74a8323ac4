#pragma once
// Internal to src/config: the IDE buses of the IDE controllers made so far
// (the board's piix3-ide with ide.0 and ide.1, then -device piix3-ide and
// piix4-ide ones) and their units as QEMU 7.2 fills them: the -drive if=ide
// devices the board makes first, then each -device ide-hd/ide-cd in order.
// Without bus= a device goes on the first IDE bus QEMU finds, the second
// bus of the newest controller; without unit= on the master if it is free,
// else the slave.
#include "devices/device_config.h"

#include <array>
#include <string>
#include <vector>

namespace kestrel {

class IdeUnits {
public:
    // A controller with qdev id `id` has been made: its buses get QEMU's names.
    void add_controller(const std::string& id);
    // Sets dev.bus and its "unit", and the values QEMU's realize derives
    // from them (serial "QM000NN" by the unit's place among all IDE units,
    // ver "2.5+"); throws ConfigError with QEMU's text for a missing bus or
    // a unit out of range or taken.
    void place(DeviceConfig& dev);

private:
    struct Bus {
        std::string name;
        std::array<bool, 2> taken{};
    };
    std::vector<Bus> buses_;  // in the order made: ide.0, ide.1, then the -device controllers'
    unsigned unnamed_ = 0;
};

} // namespace kestrel
