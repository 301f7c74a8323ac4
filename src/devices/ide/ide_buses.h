#pragma once
// The IDE controller's two buses (ide.0, ide.1) as a service: the ide-hd
// and ide-cd devices, realized after the controller, plug their drives in
// through it.
#include "devices/ide/ide_channel.h"

#include <array>
#include <memory>
#include <stdexcept>
#include <string>

namespace kestrel {

class IdeBuses {
public:
    explicit IdeBuses(std::array<std::shared_ptr<IdeChannel>, 2> channels) : channels_(std::move(channels)) {}
    // The channel of bus "ide.N"; throws std::runtime_error for another name.
    IdeChannel& channel(const std::string& bus) const {
        for (unsigned i = 0; i < channels_.size(); ++i)
            if (bus == "ide." + std::to_string(i)) return *channels_[i];
        throw std::runtime_error("Bus '" + bus + "' not found");
    }

private:
    std::array<std::shared_ptr<IdeChannel>, 2> channels_;
};

} // namespace kestrel
