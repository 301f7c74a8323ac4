#include "config/ide_units.h"

#include "base/config_error.h"
#include "devices/device_type.h"

#include <algorithm>
#include <fmt/format.h>

namespace kestrel {

void IdeUnits::add_controller(const std::string& id) {
    for (std::string& name : ide_bus_names(id, id.empty() ? unnamed_++ : 0)) buses_.push_back({std::move(name), {}});
}

void IdeUnits::place(DeviceConfig& dev) {
    if (buses_.empty()) throw ConfigError("No 'IDE' bus found for device '" + std::string(dev.type->name) + "'");
    auto bus = dev.bus.empty() ? buses_.end() - 1
                               : std::find_if(buses_.begin(), buses_.end(), [&](const Bus& b) { return b.name == dev.bus; });
    if (bus == buses_.end()) throw ConfigError("Bus '" + dev.bus + "' not found");
    dev.bus = bus->name;
    uint64_t unit = dev.props.uint("unit");
    if (unit == 0xffffffff) unit = bus->taken[0] ? 1 : 0;
    if (unit >= bus->taken.size())
        throw ConfigError("Can't create IDE unit " + std::to_string(unit) + ", bus supports only 2 units");
    if (bus->taken[unit]) throw ConfigError("IDE unit " + std::to_string(unit) + " is in use");
    bus->taken[unit] = true;
    dev.props.set_value("unit", unit);
    // QEMU numbers its drives' serials by the unit's place: QM00001 (ide.0 master) to QM00004, then on.
    const uint64_t place = 2 * uint64_t(bus - buses_.begin()) + unit + 1;
    if (!dev.props.has("serial")) dev.props.set_value("serial", fmt::format("QM{:05}", place));
    if (!dev.props.has("ver")) dev.props.set_value("ver", std::string("2.5+"));
}

} // namespace kestrel
