#pragma once
// The CHS geometry a hard disk reports (IDE IDENTIFY, virtio-blk's config,
// the PC's CMOS) and the BIOS translation the firmware is told to use,
// guessed as QEMU 7.2 guesses them (hw/block/hd-geometry.c, taken as
// behaviour): from the MBR's partition table when a partition ends on a
// plausible head/sector, else 16 heads and 63 sectors for the disk's size.
// SeaBIOS builds int 13h's logical geometry from these, so a disk
// partitioned under QEMU addresses the same sectors here.
#include "block/block_backend.h"

#include <cstdint>
#include <span>
#include <vector>

namespace kestrel {

// QEMU's BIOS_ATA_TRANSLATION_* minus one: the 2-bit codes of CMOS 0x39.
enum class BiosTranslation : uint8_t { None = 0, Lba = 1, Large = 2, Rechs = 3 };

struct HdGeometry {
    uint32_t cylinders = 2, heads = 16, sectors = 63;
    BiosTranslation translation = BiosTranslation::None;
};

// `first_sector`: the disk's sector 0 (fewer than 512 bytes: not readable).
HdGeometry guess_hd_geometry(uint64_t total_sectors, std::span<const uint8_t> first_sector);

// Sector 0 of a disk nobody else uses yet (a device's realize, before its
// queue runs): submits one read and waits for it. Empty on error.
std::vector<uint8_t> read_first_sector(BlockBackend& disk);

// Both: the geometry of the disk behind `disk`.
HdGeometry guess_hd_geometry(BlockBackend& disk);

} // namespace kestrel
