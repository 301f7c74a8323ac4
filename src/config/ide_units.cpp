#include "config/ide_units.h"

#include "base/config_error.h"

namespace kestrel {

void IdeUnits::place(DeviceConfig& dev) {
    if (dev.bus.empty()) dev.bus = "ide.1";
    const unsigned bus = dev.bus == "ide.0" ? 0 : 1;
    std::array<bool, 2>& units = taken_[bus];
    uint64_t unit = dev.props.uint("unit");
    if (unit == 0xffffffff) unit = units[0] ? 1 : 0;
    if (unit >= units.size())
        throw ConfigError("Can't create IDE unit " + std::to_string(unit) + ", bus supports only 2 units");
    if (units[unit]) throw ConfigError("IDE unit " + std::to_string(unit) + " is in use");
    units[unit] = true;
    dev.props.set_value("unit", unit);
    // QEMU numbers its drives' serials by position: QM00001 (ide.0 master) to QM00004.
    if (!dev.props.has("serial")) dev.props.set_value("serial", "QM0000" + std::to_string(2 * bus + unit + 1));
    if (!dev.props.has("ver")) dev.props.set_value("ver", std::string("2.5+"));
}

} // namespace kestrel
