#pragma once
// The IDE buses of the machine's IDE controllers (the board's ide.0 and
// ide.1, and those of -device piix3-ide/piix4-ide), registered in the
// ServiceRegistry by the board: a controller adds its two channels when it
// is realized, and the ide-hd and ide-cd devices realized after it plug
// their drives in through them.
#include "devices/ide/ide_channel.h"

#include <array>
#include <memory>
#include <string>
#include <vector>

namespace kestrel {

class IdeBuses {
public:
    // Registers a controller's channels under QEMU's names for the buses of
    // a controller with qdev id `id` (ide_bus_names) and returns them.
    std::array<std::string, 2> add(std::array<std::shared_ptr<IdeChannel>, 2> channels, const std::string& id);
    void remove(const std::array<std::string, 2>& names);
    // The channel of bus `bus`; throws std::runtime_error "Bus '...' not
    // found" for another name.
    IdeChannel& channel(const std::string& bus) const;

private:
    struct Bus {
        std::string name;
        std::shared_ptr<IdeChannel> channel;
    };
    std::vector<Bus> buses_;
    unsigned unnamed_made_ = 0;  // QEMU's automatic bus ids are never reused
};

} // namespace kestrel
