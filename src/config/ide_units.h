#pragma once
// Internal to src/config: the pc's two IDE buses (ide.0, ide.1 of the
// piix3-ide function) and their units as QEMU 7.2 fills them: the -drive
// if=ide devices the board makes first, then each -device ide-hd/ide-cd in
// order. Without bus= a device goes on the first IDE bus QEMU finds, ide.1;
// without unit= on the master if it is free, else the slave.
#include "devices/device_config.h"

#include <array>

namespace kestrel {

class IdeUnits {
public:
    // Sets dev.bus and its "unit", and the values QEMU's realize derives
    // from them (serial "QM0000N", ver "2.5+"); throws ConfigError with
    // QEMU's text for a unit out of range or taken.
    void place(DeviceConfig& dev);

private:
    std::array<std::array<bool, 2>, 2> taken_{};
};

} // namespace kestrel
