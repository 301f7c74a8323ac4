#include "block/block_backend.h"
#include "block_test_util.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

using namespace kestrel;
using namespace kestrel::test;

namespace {

constexpr uint64_t kMiB = 1 << 20;

std::unique_ptr<BlockBackend> open_rw(const std::string& path, CacheMode cache = CacheMode::Writeback,
                                      bool discard_unmap = false) {
    BlockOpenOptions options;
    options.path = path;
    options.cache = cache;
    options.discard_unmap = discard_unmap;
    return open_raw_image(options);
}

std::vector<uint8_t> pattern(size_t len, uint8_t seed) {
    std::vector<uint8_t> data(len);
    for (size_t i = 0; i < len; i++) data[i] = static_cast<uint8_t>(seed + i * 13 + i / 511);
    return data;
}

} // namespace

TEST_CASE("raw backend reads and writes through scattered iovecs", "[block]") {
    TempDir dir;
    std::string path = make_image(dir.file("disk.img"), 4 * kMiB, true);
    auto disk = open_rw(path);
    Driver io(*disk);
    CHECK(disk->size() == 4 * kMiB);
    CHECK(disk->logical_block_size() == 512);
    CHECK(disk->has_volatile_cache());

    // Three segments of odd sizes summing to 3 sectors.
    std::vector<uint8_t> data = pattern(1536, 42);
    std::vector<iovec> out = {iov_of(data, 0, 100), iov_of(data, 100, 1000), iov_of(data, 1100, 436)};
    REQUIRE(io.one(BlockOp::Write, 8192, out) == 1536);
    CHECK(read_file(path, 8192, 1536) == data);

    std::vector<uint8_t> back(1536, 0xee);
    std::vector<iovec> in = {iov_of(back, 0, 1), iov_of(back, 1, 1535)};
    REQUIRE(io.one(BlockOp::Read, 8192, in) == 1536);
    CHECK(back == data);

    // Untouched bytes keep the image's original pattern.
    std::vector<uint8_t> before(512);
    REQUIRE(io.one(BlockOp::Read, 7680, {iov_of(before)}) == 512);
    CHECK(before == read_file(path, 7680, 512));
}

TEST_CASE("raw backend keeps many requests in flight, beyond the ring's size", "[block]") {
    TempDir dir;
    std::string path = make_image(dir.file("disk.img"), 8 * kMiB);
    auto disk = open_rw(path);
    Driver io(*disk);
    constexpr size_t kRequests = 1500;  // more than the 512 completion slots
    std::vector<std::vector<uint8_t>> blocks;
    for (size_t i = 0; i < kRequests; i++) blocks.push_back(pattern(4096, static_cast<uint8_t>(i)));
    for (size_t i = 0; i < kRequests; i++)
        io.submit(BlockOp::Write, (i % 2048) * 4096, {iov_of(blocks[i])});
    CHECK(io.finished() == 0);  // callbacks never run inside submit()
    io.run();
    for (size_t i = 0; i < kRequests; i++) REQUIRE(io.result(i) == 4096);

    std::vector<std::vector<uint8_t>> readback(kRequests, std::vector<uint8_t>(4096));
    Driver reads(*disk);
    for (size_t i = 0; i < kRequests; i++) reads.submit(BlockOp::Read, (i % 2048) * 4096, {iov_of(readback[i])});
    reads.run();
    for (size_t i = 0; i < kRequests; i++) {
        REQUIRE(reads.result(i) == 4096);
        REQUIRE(readback[i] == blocks[i]);
    }
}

TEST_CASE("raw backend flushes, and ignores flushes with cache=unsafe", "[block]") {
    TempDir dir;
    std::string path = make_image(dir.file("disk.img"), kMiB);
    for (CacheMode cache : {CacheMode::Writeback, CacheMode::Writethrough, CacheMode::Unsafe}) {
        auto disk = open_rw(path, cache);
        Driver io(*disk);
        std::vector<uint8_t> data = pattern(4096, 1);
        REQUIRE(io.one(BlockOp::Write, 0, {iov_of(data)}) == 4096);
        CHECK(io.one(BlockOp::Flush, 0, {}) == 0);
        CHECK(disk->stats().flush_operations == 1);
        CHECK(disk->has_volatile_cache() == (cache != CacheMode::Writethrough));
    }
}

TEST_CASE("raw backend punches holes on discard only with discard=unmap", "[block]") {
    TempDir dir;
    std::string path = make_image(dir.file("disk.img"), 8 * kMiB, true);
    uint64_t full = allocated_bytes(path);
    REQUIRE(full >= 8 * kMiB);
    {
        auto ignoring = open_rw(path);
        Driver io(*ignoring);
        CHECK(io.one(BlockOp::Discard, 0, {}, 4 * kMiB) == 0);
        CHECK(allocated_bytes(path) == full);
        CHECK(ignoring->stats().unmap_operations == 1);
    }
    auto disk = open_rw(path, CacheMode::Writeback, true);
    Driver io(*disk);
    CHECK(io.one(BlockOp::Discard, 0, {}, 4 * kMiB) == 0);
    CHECK(allocated_bytes(path) <= full - 4 * kMiB);
    CHECK(read_file(path, 0, 4096) == std::vector<uint8_t>(4096, 0));
    CHECK(read_file(path, 4 * kMiB, 4096) != std::vector<uint8_t>(4096, 0));
    auto stats = disk->stats();
    CHECK(stats.unmap_operations == 1);
    CHECK(stats.unmap_bytes == 4 * kMiB);
}

TEST_CASE("raw backend writes zeroes, as a hole when the guest allows unmapping", "[block]") {
    TempDir dir;
    std::string path = make_image(dir.file("disk.img"), 8 * kMiB, true);
    uint64_t full = allocated_bytes(path);
    auto disk = open_rw(path, CacheMode::Writeback, true);
    Driver io(*disk);
    CHECK(io.one(BlockOp::WriteZeroes, 4096, {}, 8192) == 0);
    CHECK(read_file(path, 4096, 8192) == std::vector<uint8_t>(8192, 0));
    CHECK(read_file(path, 0, 4096) != std::vector<uint8_t>(4096, 0));
    CHECK(read_file(path, 12288, 4096) != std::vector<uint8_t>(4096, 0));

    CHECK(io.one(BlockOp::WriteZeroes, 2 * kMiB, {}, 2 * kMiB, true) == 0);
    CHECK(read_file(path, 2 * kMiB, 2 * kMiB) == std::vector<uint8_t>(2 * kMiB, 0));
    CHECK(allocated_bytes(path) <= full - 2 * kMiB);
    CHECK(disk->stats().wr_operations == 2);
}

TEST_CASE("raw backend fails requests past the end with -EIO without touching the file", "[block]") {
    TempDir dir;
    std::string path = make_image(dir.file("disk.img"), kMiB);
    auto disk = open_rw(path);
    Driver io(*disk);
    std::vector<uint8_t> data(1024, 0x5a);
    CHECK(io.one(BlockOp::Write, kMiB - 512, {iov_of(data)}) == -EIO);
    CHECK(io.one(BlockOp::Read, kMiB, {iov_of(data)}) == -EIO);
    CHECK(io.one(BlockOp::WriteZeroes, UINT64_MAX - 10, {}, 4096) == -EIO);
    struct stat st {};
    REQUIRE(stat(path.c_str(), &st) == 0);
    CHECK(st.st_size == static_cast<off_t>(kMiB));
    auto stats = disk->stats();
    CHECK(stats.invalid_wr_operations == 2);
    CHECK(stats.invalid_rd_operations == 1);
    CHECK(stats.wr_operations == 0);
}

TEST_CASE("raw backend opened read-only refuses writes with -EBADF", "[block]") {
    TempDir dir;
    std::string path = make_image(dir.file("disk.img"), kMiB, true);
    BlockOpenOptions options;
    options.path = path;
    options.read_only = true;
    options.discard_unmap = true;
    auto disk = open_raw_image(options);
    CHECK(disk->read_only());
    Driver io(*disk);
    std::vector<uint8_t> data(512, 1);
    CHECK(io.one(BlockOp::Write, 0, {iov_of(data)}) == -EBADF);
    CHECK(io.one(BlockOp::Discard, 0, {}, 4096) == -EBADF);
    CHECK(io.one(BlockOp::WriteZeroes, 0, {}, 4096) == -EBADF);
    CHECK(io.one(BlockOp::Read, 0, {iov_of(data)}) == 512);
    CHECK(data == read_file(path, 0, 512));
    CHECK(disk->stats().failed_wr_operations == 2);
    CHECK(disk->stats().failed_unmap_operations == 1);
}

TEST_CASE("raw backend counts bytes, operations and time for query-blockstats", "[block]") {
    TempDir dir;
    std::string path = make_image(dir.file("disk.img"), kMiB);
    auto disk = open_rw(path);
    Driver io(*disk);
    std::vector<uint8_t> a(4096, 1), b(8192, 2);
    REQUIRE(io.one(BlockOp::Write, 0, {iov_of(a)}) == 4096);
    REQUIRE(io.one(BlockOp::Write, 65536, {iov_of(b)}) == 8192);
    REQUIRE(io.one(BlockOp::Read, 0, {iov_of(b)}) == 8192);
    REQUIRE(io.one(BlockOp::Flush, 0, {}) == 0);
    auto s = disk->stats();
    CHECK(s.wr_operations == 2);
    CHECK(s.wr_bytes == 12288);
    CHECK(s.rd_operations == 1);
    CHECK(s.rd_bytes == 8192);
    CHECK(s.flush_operations == 1);
    CHECK(s.wr_total_time_ns > 0);
    CHECK(s.rd_total_time_ns > 0);
    CHECK(s.wr_highest_offset == 65536 + 8192);
    CHECK(s.last_completion_ns > 0);
    CHECK(s.failed_rd_operations + s.failed_wr_operations == 0);
}

TEST_CASE("raw backend with cache=none uses O_DIRECT, misaligned buffers included", "[block]") {
    TempDir dir;
    std::string path = make_image(dir.file("disk.img"), kMiB);
    BlockOpenOptions options;
    options.path = path;
    options.cache = CacheMode::None;
    std::string error = open_error(options);
    if (error.find("does not support O_DIRECT") != std::string::npos) {
        WARN("skipped: " << error);
        return;
    }
    REQUIRE(error.empty());
    auto disk = open_raw_image(options);
    Driver io(*disk);
    void* raw = std::aligned_alloc(4096, 3 * 4096);
    std::unique_ptr<void, decltype(&std::free)> holder(raw, &std::free);
    auto* aligned = static_cast<uint8_t*>(raw);
    std::vector<uint8_t> data = pattern(4096, 9);
    std::memcpy(aligned, data.data(), 4096);
    CHECK(io.one(BlockOp::Write, 4096, {{aligned, 4096}}) == 4096);
    // A buffer at an odd address goes through the page cache instead.
    std::memcpy(aligned + 4096 + 1, data.data(), 4096);
    CHECK(io.one(BlockOp::Write, 16384, {{aligned + 4096 + 1, 4096}}) == 4096);
    CHECK(io.one(BlockOp::Flush, 0, {}) == 0);
    CHECK(read_file(path, 4096, 4096) == data);
    CHECK(read_file(path, 16384, 4096) == data);
    std::memset(aligned, 0, 3 * 4096);
    CHECK(io.one(BlockOp::Read, 16384, {{aligned + 3, 4096}}) == 4096);
    CHECK(std::memcmp(aligned + 3, data.data(), 4096) == 0);
}

TEST_CASE("raw backend writes zeros itself where ZERO_RANGE is unsupported (tmpfs)", "[block]") {
    char tmpl[] = "/dev/shm/kestrel-block-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0) {
        WARN("skipped: no /dev/shm");
        return;
    }
    close(fd);
    std::string path = make_image(tmpl, 70 * kMiB, true);  // more than one zero-fill write
    {
        auto disk = open_rw(path);
        Driver io(*disk);
        CHECK(io.one(BlockOp::WriteZeroes, 512, {}, 66 * kMiB + 1024) == 0);
    }
    CHECK(read_file(path, 0, 512) != std::vector<uint8_t>(512, 0));
    std::vector<uint8_t> zeros = read_file(path, 512, 66 * kMiB + 1024);
    CHECK(std::all_of(zeros.begin(), zeros.end(), [](uint8_t b) { return b == 0; }));
    CHECK(read_file(path, 66 * kMiB + 1536, 512) != std::vector<uint8_t>(512, 0));
    unlink(path.c_str());
}

TEST_CASE("raw backend reads zeros where the file has shrunk under it", "[block]") {
    TempDir dir;
    std::string path = make_image(dir.file("disk.img"), kMiB, true);
    auto disk = open_rw(path);
    REQUIRE(truncate(path.c_str(), kMiB / 2 + 100) == 0);
    Driver io(*disk);
    std::vector<uint8_t> back(8192, 0xff);
    CHECK(io.one(BlockOp::Read, kMiB / 2 - 4096, {iov_of(back)}) == 8192);
    std::vector<uint8_t> expect = read_file(path, kMiB / 2 - 4096, 4096 + 100);
    expect.resize(8192, 0);
    CHECK(back == expect);
}
