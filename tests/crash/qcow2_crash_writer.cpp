// Writes to a qcow2 image through the same BlockBackend a -drive gets
// (ImageBackend, cache=writeback), many requests in flight, until it is
// killed. run_crash_tests.py SIGKILLs it at random moments and then checks
// the image with qemu-img.
//
// usage: qcow2_crash_writer IMAGE SEED LOG
//
// Every 512-byte sector written holds (magic, op index, sector offset) and
// a filler derived from both, so a reader can tell which operation's data
// it sees. LOG gets, before each operation is submitted, "W index offset
// length" (or "Z" for write zeroes), and after each flush completes
// "F index": every operation below index had completed before that flush
// was issued, so its data must survive the kill.
#include "block/block_backend.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <poll.h>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

using namespace kestrel;

namespace {

constexpr uint64_t kMagic = 0x4b45535452454c21ull;  // "KESTREL!"
constexpr unsigned kBatch = 24;

void fill(std::vector<uint8_t>& buf, uint64_t index, uint64_t offset) {
    for (size_t s = 0; s < buf.size(); s += 512) {
        uint64_t sector = offset + s;
        uint8_t* p = &buf[s];
        std::memcpy(p, &kMagic, 8);
        std::memcpy(p + 8, &index, 8);
        std::memcpy(p + 16, &sector, 8);
        for (size_t i = 24; i < 512; i++) p[i] = uint8_t(index * 31 + sector / 512 * 7 + i);
    }
}

struct Writer {
    BlockBackend& disk;
    FILE* log;
    unsigned in_flight = 0;
    int failures = 0;

    void wait_all() {
        disk.kick();
        while (in_flight > 0) {
            pollfd p{disk.completion_fd(), POLLIN, 0};
            ::poll(&p, 1, 1000);
            disk.process_completions();
        }
    }
    void submit(BlockRequest req) {
        in_flight++;
        req.done = [this](int64_t r) {
            if (r < 0) failures++;
            in_flight--;
        };
        disk.submit(std::move(req));
    }
};

} // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s IMAGE SEED LOG\n", argv[0]);
        return 2;
    }
    BlockOpenOptions o;
    o.path = argv[1];
    o.cache = CacheMode::Writeback;
    o.discard_unmap = true;
    std::unique_ptr<BlockBackend> disk;
    try {
        disk = open_image_backend(o, "qcow2");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    FILE* log = std::fopen(argv[3], "a");
    if (!log) return 1;
    std::setvbuf(log, nullptr, _IONBF, 0);
    std::mt19937_64 rng(std::stoull(argv[2]));
    const uint64_t sectors = disk->size() / 512;
    // Op indexes grow across runs: run N (its seed) starts at N * 10^6.
    uint64_t index = std::stoull(argv[2]) * 1000000;
    Writer w{*disk, log};
    std::vector<std::vector<uint8_t>> buffers(kBatch);
    for (;;) {
        std::vector<std::pair<uint64_t, uint64_t>> batch;  // no two ops of a batch overlap
        for (unsigned i = 0; i < kBatch; i++, index++) {
            uint64_t len = 0, offset = 0;
            bool overlaps = true;
            while (overlaps) {
                uint64_t big = rng() % 4 == 0;
                len = (1 + rng() % (big ? 512 : 8)) * 512;
                offset = (rng() % (sectors - len / 512 + 1)) * 512;
                overlaps = false;
                for (auto [o, l] : batch) overlaps |= offset < o + l && o < offset + len;
            }
            batch.emplace_back(offset, len);
            if (rng() % 10 == 0) {
                std::fprintf(log, "Z %lu %lu %lu\n", index, offset, len);
                BlockRequest req;
                req.op = BlockOp::WriteZeroes;
                req.offset = offset;
                req.length = len;
                req.may_unmap = rng() % 2;
                w.submit(std::move(req));
                continue;
            }
            buffers[i].resize(len);
            fill(buffers[i], index, offset);
            std::fprintf(log, "W %lu %lu %lu\n", index, offset, len);
            BlockRequest req;
            req.op = BlockOp::Write;
            req.offset = offset;
            req.iov = {{buffers[i].data(), len}};
            w.submit(std::move(req));
        }
        w.wait_all();
        BlockRequest flush;
        flush.op = BlockOp::Flush;
        w.submit(std::move(flush));
        w.wait_all();
        if (w.failures) {
            std::fprintf(stderr, "%d requests failed\n", w.failures);
            return 1;
        }
        std::fprintf(log, "F %lu\n", index);
    }
}
