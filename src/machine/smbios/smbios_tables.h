#pragma once
// The SMBIOS structures QEMU 7.2's pc builds for its firmware (fw_cfg
// "etc/smbios/smbios-tables" and "etc/smbios/smbios-anchor"): -smbios file=
// blobs first, then types 0 (only with type=0 fields: SeaBIOS adds its own
// otherwise), 1, 2 (with fields), 3, 4 (one per socket), 8, 11, 16, 17
// (one per 16 GiB DIMM), 19 (one per RAM range), 32, 41 and 127, and the entry
// point the firmware completes (address and checksums).
#include "config/smbios_config.h"

#include <cstdint>
#include <string>
#include <vector>

namespace kestrel {

// What the machine is made of, as the tables describe it.
struct SmbiosMachine {
    uint64_t ram_size = 0;
    struct Range {
        uint64_t start, size;
    };
    std::vector<Range> ram_ranges;  // the e820 RAM entries
    unsigned sockets = 1, cores_per_socket = 1, threads_per_socket = 1;
    uint32_t cpuid_version = 0, cpuid_features = 0;  // CPUID leaf 1 EAX and EDX of the first CPU
    std::string uuid;                                  // canonical text, empty: all zeros
    struct PciDevice {
        std::string id;
        uint8_t devfn;
    };
    std::vector<PciDevice> pci_devices;  // PCI devices with an id (on bus 0), for type 41's pcidev=
};

struct SmbiosTables {
    std::vector<uint8_t> tables;  // the structures, one after another
    std::vector<uint8_t> anchor;  // the entry point, address and checksums zero
    unsigned count = 0;           // structures
    unsigned max_size = 0;        // the largest structure, strings included
};

// QEMU's pc defaults (manufacturer "QEMU", its product and machine names).
struct SmbiosDefaults {
    std::string manufacturer = "QEMU";
    std::string product = "Standard PC (i440FX + PIIX, 1996)";
    std::string version = "pc-i440fx-7.2";
};

// Throws std::runtime_error with QEMU's text where its checks fail
// ("Expected N SMBIOS Type 4 tables, got M instead", "SMBIOS 2.1 table
// length N exceeds 65535", "No PCI device X for SMBIOS type 41 entry Y").
SmbiosTables build_smbios_tables(const SmbiosConfig& cfg, const SmbiosMachine& machine,
                                 const SmbiosDefaults& defaults = {});

namespace smbios {
constexpr uint16_t TYPE0_HANDLE = 0x000;
constexpr size_t EP21_SIZE = 31, EP30_SIZE = 24;
// Each structure in `tables`: its offset (-1 if the table is malformed).
std::vector<size_t> structure_offsets(const std::vector<uint8_t>& tables);
uint8_t checksum(const uint8_t* bytes, size_t size);  // the byte that makes the sum zero
} // namespace smbios

} // namespace kestrel
