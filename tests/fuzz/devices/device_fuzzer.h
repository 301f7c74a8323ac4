#pragma once
// The generic device register fuzzer. A device's fuzz target is one small
// file that names a type from the device table and what it needs:
//
//   // tests/fuzz/devices/isa_serial.cpp
//   #include "device_fuzzer.h"
//   const kestrel::fuzz::DeviceFuzzSpec kestrel::fuzz::kDeviceFuzzSpec{
//       .type = "isa-serial",
//   };
//
// plus its line in tests/fuzz/meson.build. device_fuzzer.cpp realizes the
// device through a DeviceContext of its own (buses, PCI bus with the
// configuration ports at 0xCF8, guest RAM, memory-backed drives, ISA IRQ
// lines, fake MSI plumbing, one event loop for every queue) and plays the
// input as a guest would: register accesses at (region, offset, size,
// value), configuration cycles, writes of guest RAM (rings, descriptors,
// DMA tables), event loop rounds, resets and pauses.
//
// Input: a sequence of operations, each one byte of kind then its
// operands (little-endian; see Op in device_fuzzer.cpp).
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kestrel::fuzz {

struct DeviceFuzzSpec {
    std::string_view type;                                     // a name in device_types.cpp
    std::vector<std::pair<std::string, std::string>> properties;  // as -device gives them
    std::vector<std::string> drives;   // -drive ids served by in-memory disks
    uint64_t disk_size = 64 * 1024;
    bool read_only_drives = false;
    // Devices realized after it on its buses (ide-hd, ide-cd on the IDE
    // function's): type, bus, and properties as -device gives them.
    struct Child {
        std::string_view type;
        std::string bus;
        std::vector<std::pair<std::string, std::string>> properties;
    };
    std::vector<Child> children;
    uint64_t ram_size = 1 << 20;       // guest RAM at 0
    unsigned cpus = 1;
    unsigned max_cpus = 0;             // -smp maxcpus=; 0: as cpus
};

// Defined by the device's target file.
extern const DeviceFuzzSpec kDeviceFuzzSpec;

} // namespace kestrel::fuzz
