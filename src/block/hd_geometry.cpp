#include "block/hd_geometry.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <poll.h>

namespace kestrel {
namespace {

constexpr unsigned kSector = 512;
constexpr unsigned kPartitionTable = 0x1be, kEntrySize = 16;
constexpr uint32_t kMaxCylinders = 16383;

struct Chs {
    uint32_t cylinders, heads, sectors;
};

// The geometry the partition table implies: the first partition whose end
// has a head and a sector (partitions are assumed to end on a cylinder).
bool geometry_from_mbr(uint64_t total, std::span<const uint8_t> mbr, Chs& out) {
    if (mbr.size() < kSector || mbr[510] != 0x55 || mbr[511] != 0xaa) return false;
    for (unsigned i = 0; i < 4; ++i) {
        const uint8_t* p = mbr.data() + kPartitionTable + i * kEntrySize;
        uint32_t nr_sects;
        std::memcpy(&nr_sects, p + 12, 4);
        const uint8_t end_head = p[5], end_sector = p[6] & 63;
        if (!nr_sects || !end_head || !end_sector) continue;
        const uint32_t heads = end_head + 1u;
        const uint64_t cylinders = total / (heads * end_sector);
        if (cylinders < 1 || cylinders > kMaxCylinders) continue;
        out = {uint32_t(cylinders), heads, end_sector};
        return true;
    }
    return false;
}

Chs geometry_for_size(uint64_t total) {
    return {uint32_t(std::clamp<uint64_t>(total / (16 * 63), 2, kMaxCylinders)), 16, 63};
}

} // namespace

HdGeometry guess_hd_geometry(uint64_t total_sectors, std::span<const uint8_t> first_sector) {
    Chs logical{};
    HdGeometry g;
    if (!geometry_from_mbr(total_sectors, first_sector, logical)) {
        const Chs c = geometry_for_size(total_sectors);
        g = {c.cylinders, c.heads, c.sectors, BiosTranslation::None};
        if (c.cylinders > 1024) g.translation = BiosTranslation::Lba;
    } else if (logical.heads > 16) {
        // A BIOS translated the disk when it was partitioned: a standard
        // physical geometry, and the translation that gives those heads.
        const Chs c = geometry_for_size(total_sectors);
        g = {c.cylinders, c.heads, c.sectors,
             c.cylinders * c.heads <= 131072 ? BiosTranslation::Large : BiosTranslation::Lba};
    } else {
        g = {logical.cylinders, logical.heads, logical.sectors, BiosTranslation::None};
    }
    return g;
}

std::vector<uint8_t> read_first_sector(BlockBackend& disk) {
    if (disk.size() < kSector) return {};
    // O_DIRECT: an aligned buffer, a length the host's sector size divides.
    struct Read {
        std::unique_ptr<uint8_t, decltype(&std::free)> buffer{static_cast<uint8_t*>(std::aligned_alloc(4096, 4096)),
                                                              &std::free};
        bool done = false;
        int64_t result = -1;
    };
    auto read = std::make_shared<Read>();
    const uint64_t length = disk.size() >= 4096 ? 4096 : kSector;
    BlockRequest request;
    request.op = BlockOp::Read;
    request.offset = 0;
    request.length = length;
    request.iov = {iovec{read->buffer.get(), length}};
    request.done = [read](int64_t result) {  // holds the buffer even if we stop waiting
        read->result = result;
        read->done = true;
    };
    disk.submit(std::move(request));
    disk.kick();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!read->done && std::chrono::steady_clock::now() < deadline) {
        pollfd p{disk.completion_fd(), POLLIN, 0};
        ::poll(&p, 1, 100);
        disk.process_completions();
    }
    if (!read->done || read->result < 0) return {};
    return std::vector<uint8_t>(read->buffer.get(), read->buffer.get() + kSector);
}

HdGeometry guess_hd_geometry(BlockBackend& disk) {
    return guess_hd_geometry(disk.size() / kSector, read_first_sector(disk));
}

} // namespace kestrel
