#pragma once
// Internal to src/config: PCI bus 0 of the pc machine as QEMU 7.2 fills it
// while it creates devices: the board's functions first (devices/pc_layout.h:
// 00:00.0 i440FX, 00:01.0 PIIX3, 00:01.1 its IDE function, 00:01.3
// PIIX4_PM), then each device in creation order, at its addr= or, without
// one, at function 0 of the lowest slot whose function 0 is free.
#include "devices/device_config.h"

#include <string>
#include <vector>

namespace kestrel {

class PciSlots {
public:
    PciSlots();
    // Sets dev's addr when none was given; throws ConfigError with QEMU's
    // text when the function is taken or the bus is full.
    void place(DeviceConfig& dev);
    // A function a default device of QEMU's holds (none of kestrel's), or
    // one of the running machine's devices (device_add).
    void reserve(int64_t devfn, std::string name, const std::string& id = "");

private:
    struct Occupant {
        int64_t devfn;
        std::string name;  // "virtio-blk-pci,id=x" as QEMU names it in errors
    };
    const Occupant* find(int64_t devfn) const;
    std::vector<Occupant> taken_;
};

} // namespace kestrel
