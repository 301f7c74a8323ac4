#pragma once
// Internal to src/config: -drive, -device and -object as QEMU 7.2 reads
// them. Each is split and its id checked when met on the command line;
// everything else is checked once all options are read, in QEMU's order:
// objects, then drives, then devices (see finalize_block_devices).
#include "config/parse_state.h"

#include <ostream>
#include <string>
#include <string_view>

namespace kestrel {

// QEMU's error for a malformed id (the hint line QEMU adds is left out).
void check_identifier(std::string_view id);

// -blockdev nodes (options_blockdev.cpp): checked before the drives, as
// QEMU creates them first; root nodes go to st.blockdev_drives.
void finalize_blockdevs(ParseState& st);

// Drives (options_drive.cpp): each becomes a DriveConfig in cfg.drives.
void finalize_drives(ParseState& st);

// Devices (options_device.cpp): the board's, the -device ones, then the
// virtio-blk-pci of each if=virtio drive, checked against the drives,
// chardevs and iothreads, with -global applied and PCI slots given.
void finalize_devices(ParseState& st);

// Objects (options_object.cpp).
void finalize_objects(ParseState& st);

// Listings for "-device help", "-device virtio-blk-pci,help",
// "-object help" and "-object iothread,help". Throw ConfigError for a
// driver or type with no listing, as QEMU does.
void print_device_help(std::ostream& out, const std::string& driver);
void print_object_help(std::ostream& out, const std::string& type);

} // namespace kestrel
