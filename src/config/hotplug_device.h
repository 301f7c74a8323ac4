#pragma once
// device_add on the running machine: the device QEMU 7.2 would create from
// the monitor's options, with the same checks and texts as -device, against
// the machine as it is now (`live`: its drives, netdevs and devices,
// hot-added ones included). Placement on pci.0 as QEMU's: addr= or the
// lowest slot whose function 0 is free. A NIC without mac= gets the lowest
// free default address. `other_ids`: ids taken by devices `live` does not
// list (hot-added vCPUs). Throws ConfigError.
#include "base/qemu_opts.h"
#include "config/config.h"

#include <vector>

namespace kestrel {

DeviceConfig make_hotplug_device(const Config& live, const std::vector<qopts::OptPair>& pairs,
                                 const std::vector<std::string>& other_ids = {});

// The bus a device of `type` would go on in `live`, as QEMU finds it before
// it asks whether that bus takes hot plug: `bus` checked as bus= on the
// command line is (ConfigError "Bus 'X' not found", "Device 'T' can't go on
// K bus"), or without one the bus QEMU picks (an IDE device: the newest
// controller's second bus).
std::string hotplug_bus_name(const Config& live, const DeviceType& type, const std::string& bus);

} // namespace kestrel
