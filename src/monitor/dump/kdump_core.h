#pragma once
// dump-guest-memory's kdump-compressed formats as QEMU 7.2 writes them:
// the diskdump layout (makedumpfile's "KDUMP   " header version 6, the
// 64-bit kdump sub-header, the ELF notes, 1st and 2nd dump bitmaps, one
// page descriptor per page, then the pages, each compressed on its own)
// carried in makedumpfile's *flattened* stream, as QEMU 7.2 always does:
// a 4 KiB "makedumpfile" header, then (offset, size) records, big-endian,
// ending with (-1, -1). `makedumpfile -R` turns it into the plain file.
// Pages are 4 KiB; all zero pages share one stored zero page; a page whose
// compressed form is not smaller is stored plain (descriptor flags 0).
#include "monitor/dump/ram_block.h"
#include "monitor/vm_control.h"

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kestrel {

// The diskdump header's and page descriptors' compression flags.
enum : uint32_t { kKdumpZlib = 1, kKdumpLzo = 2, kKdumpSnappy = 4 };

// The flag for a DumpGuestMemoryFormat kestrel writes; nullopt for "elf"
// and for win-dmp, which it cannot write.
std::optional<uint32_t> kdump_compression(const std::string& format);

struct KdumpJob {
    std::vector<uint8_t> notes;      // as the ELF core's PT_NOTE holds them
    uint32_t nr_cpus = 0;
    std::vector<RamBlock> blocks;    // page-aligned, in address order
    uint32_t compression = kKdumpZlib;
};

// Writes the whole flattened dump to `fd`; "" or QEMU's error text. Counts
// each page into `completed`; stops early on `cancel`.
std::string write_kdump(VmControl& vm, int fd, const KdumpJob& job, std::atomic<int64_t>& completed,
                        const std::atomic<bool>& cancel);

} // namespace kestrel
