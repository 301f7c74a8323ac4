#include "devices/ide/ide_buses.h"

#include "devices/device_type.h"

#include <stdexcept>

namespace kestrel {

std::array<std::string, 2> IdeBuses::add(std::array<std::shared_ptr<IdeChannel>, 2> channels, const std::string& id) {
    std::array<std::string, 2> names = ide_bus_names(id, id.empty() ? unnamed_made_++ : 0);
    for (unsigned i = 0; i < 2; ++i) buses_.push_back({names[i], std::move(channels[i])});
    return names;
}

void IdeBuses::remove(const std::array<std::string, 2>& names) {
    std::erase_if(buses_, [&](const Bus& b) { return b.name == names[0] || b.name == names[1]; });
}

IdeChannel& IdeBuses::channel(const std::string& bus) const {
    for (const Bus& b : buses_)
        if (b.name == bus) return *b.channel;
    throw std::runtime_error("Bus '" + bus + "' not found");
}

} // namespace kestrel
