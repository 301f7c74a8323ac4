#pragma once
#include <cstdint>
#include <string>

namespace kestrel {

// One -drive (QEMU 7.2's legacy drive options). kestrel has virtio and
// none interfaces only; IDE, floppy, SCSI, ... are refused while parsing.
// Nothing here has been opened: missing files are the opener's to report.
struct DriveConfig {
    std::string location;       // "-drive file=...": the prefix of open-time errors
    std::string id;             // id=, else QEMU's implied "virtio<N>" / "none<N>" (N = index)
    std::string interface;      // "virtio" | "none"
    unsigned index = 0;         // index=, else the first free one on that interface
    std::string file;           // empty only for an empty if=none drive (no device may use it)
    // "raw" or "qcow2", or empty when format= was not given: the opener
    // probes and, finding a raw image, prints image_probe_warning(file).
    std::string format;
    uint64_t l2_cache_size = 0;      // l2-cache-size= (qcow2), bytes; 0: QEMU's default
    // cache= as QEMU resolves it (writeback: writeback on; none: direct;
    // writethrough: writeback off; directsync: direct, writeback off;
    // unsafe: no-flush), then cache.writeback/direct/no-flush= override.
    bool cache_writeback = true;
    bool cache_direct = false;
    bool cache_no_flush = false;
    std::string aio = "threads";     // threads | native | io_uring
    bool read_only = false;          // readonly=on (always for a CD-ROM)
    bool cdrom = false;              // media=cdrom: an IDE CD-ROM drive; file may be empty (no medium)
    bool snapshot = false;           // snapshot=on: writes go to a temporary copy
    std::string discard = "ignore";  // ignore | unmap (off/on are stored as these)
    std::string serial;              // legacy serial= (the device's default serial)
    // -blockdev: the root node (id is its node-name; query-block shows no
    // device name), the file node below it ("" for a nested unnamed one),
    // and the options only -blockdev has.
    bool blockdev = false;
    std::string node_name, file_node_name;
    bool protocol_only = false;        // a "file" node used by the device itself
    bool open_backing = true;          // backing=null: the image's backing file is not opened
    bool lock = true;                  // locking=off
    // backing=NODE: the file and format that node opens; the image's own
    // backing file must be that file (checked when opened).
    std::string expected_backing_file, expected_backing_format;
};

// What QEMU prints when a -drive without format= is opened and probing
// finds a raw image (three lines, no program prefix, on stderr).
std::string image_probe_warning(const std::string& file);

} // namespace kestrel
