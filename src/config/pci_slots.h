#pragma once
// Internal to src/config: PCI bus 0 of the pc machine as QEMU 7.2 fills it
// while it creates devices: the board's own functions first (00:00.0
// i440FX, 00:01.0 PIIX3, 00:01.1 its IDE function, 00:01.3 PIIX4_PM), then
// each device in creation order, at its addr= or, without one, at function
// 0 of the lowest slot whose function 0 is free.
#include "config/config.h"

#include <string>
#include <vector>

namespace kestrel {

constexpr unsigned kMaxVirtioQueues = 1024;  // VIRTIO_QUEUE_MAX

class PciSlots {
public:
    PciSlots();
    // Sets dev.slot/function when no addr= was given; throws ConfigError
    // with QEMU's text when the function is taken or the bus is full.
    void place(DeviceConfig& dev);

private:
    struct Occupant {
        unsigned slot, function;
        std::string name;  // "virtio-blk-pci,id=x" as QEMU names it in errors
    };
    const Occupant* find(unsigned slot, unsigned function) const;
    std::vector<Occupant> taken_;
};

} // namespace kestrel
