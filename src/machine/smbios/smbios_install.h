#pragma once
// SMBIOS for a direct kernel boot, where no BIOS runs: kestrel does what
// SeaBIOS does with QEMU's fw_cfg tables. Without a type 0 it adds
// SeaBIOS's own (vendor "SeaBIOS", the BIOS's version, date 04/01/2014),
// then places the entry point at the start of the F segment (where
// Linux's dmi_scan looks) with the structures right after it, filling in
// their address, counts and checksums.
#include "machine/smbios/smbios_tables.h"

namespace kestrel {

class GuestMemory;

// The entry point and structures as they go into guest memory at `at`.
std::vector<uint8_t> smbios_memory_image(const SmbiosTables& tables, uint64_t at, const std::string& bios_version);

// Writes that image at pc::SMBIOS_AREA_START; throws std::runtime_error if
// it does not fit below 1 MiB.
// Returns the guest address where the image ends.
uint64_t install_smbios(GuestMemory& mem, const SmbiosTables& tables, const std::string& bios_version);

// "1.16.2-debian-1.16.2-1": the version string of a SeaBIOS image; empty
// if it has none.
std::string seabios_version_of(const std::vector<uint8_t>& image);

// The same, read from a BIOS file without holding all of it in memory;
// empty if the file cannot be read or has no version.
std::string seabios_version_of_file(const std::string& path);

} // namespace kestrel
