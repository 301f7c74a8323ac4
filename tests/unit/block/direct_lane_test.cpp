// DirectLane (kestrel-img convert's raw target): while the lane is free a
// large aligned data write goes to the device with O_DIRECT and leaves the
// page cache alone; the others, small or misaligned ones go through the page
// cache. Either way the image reads back what was written.
#include "block/async/buffer.h"
#include "block/async/co_sync.h"
#include "block/image/image_open.h"
#include "block_test_util.h"

#include <sys/mman.h>

using namespace kestrel;
using namespace kestrel::test;

namespace {

constexpr uint64_t MiB = 1 << 20;

std::unique_ptr<AsyncImage> open_rw(AioContext& ctx, const std::string& path, const std::string& format) {
    ImageOpenOptions o;
    o.path = path;
    o.format = format;
    o.read_only = false;
    return open_image(ctx, o);
}

// Whether every page of [offset, offset + len) of the file is in the page cache.
bool cached(const std::string& path, uint64_t offset, uint64_t len, bool* none = nullptr) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    void* map = mmap(nullptr, len, PROT_READ, MAP_SHARED, fd, off_t(offset));
    close(fd);
    REQUIRE(map != MAP_FAILED);
    std::vector<unsigned char> pages(len / 4096);
    REQUIRE(mincore(map, len, pages.data()) == 0);
    munmap(map, len);
    bool all = true, any = false;
    for (unsigned char p : pages) {
        all = all && (p & 1);
        any = any || (p & 1);
    }
    if (none) *none = !any;
    return all;
}

// Whether the file system takes O_DIRECT (tmpfs does not).
bool direct_io_works(const std::string& path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC);
    if (fd < 0) return false;
    close(fd);
    return true;
}

struct Pattern {
    Buffer buf;
    Pattern(size_t len, uint8_t seed) : buf(len + 4096) {
        for (size_t i = 0; i < buf.size(); i++) buf.data()[i] = uint8_t(seed + i * 13 + i / 4096);
    }
    std::vector<iovec> iov(size_t skew = 0, size_t len = SIZE_MAX) {
        return {buf.iov(skew, len == SIZE_MAX ? buf.size() - 4096 : len)};
    }
};

} // namespace

TEST_CASE("direct lane: one large aligned write at a time bypasses the page cache, the rest is buffered", "[block]") {
    TempDir dir;
    std::string path = make_image(dir.file("t.raw"), 8 * MiB);
    AioContext ctx;
    if (!direct_io_works(path)) {
        WARN("no O_DIRECT on " << dir.path << ": direct lane not tested");
        return;
    }
    auto img = open_rw(ctx, path, "raw");
    REQUIRE(img->enable_direct_lane(1));
    Pattern a(MiB, 1), b(MiB, 2), c(MiB, 3), d(16 << 10, 4);
    std::vector<Task<int>> writes;
    writes.push_back(img->write(0, a.iov()));                // takes the lane
    writes.push_back(img->write(2 * MiB, b.iov()));          // the lane is busy: buffered
    writes.push_back(img->write(4 * MiB + 512, c.iov(512)));  // misaligned: buffered
    writes.push_back(img->write(6 * MiB, d.iov()));          // small: buffered
    REQUIRE(ctx.run(when_all(ctx, std::move(writes))) == 0);
    bool none = false;
    cached(path, 0, MiB, &none);
    CHECK(none);
    CHECK(cached(path, 2 * MiB, MiB));
    CHECK(cached(path, 4 * MiB, MiB));
    CHECK(cached(path, 6 * MiB, 16 << 10));
    // The lane is free again: the next large write takes it.
    REQUIRE(ctx.run(img->write(7 * MiB, a.iov())) == 0);
    cached(path, 7 * MiB, MiB, &none);
    CHECK(none);
    REQUIRE(ctx.run(img->close()) == 0);
    CHECK(read_file(path, 0, MiB) == std::vector<uint8_t>(a.buf.data(), a.buf.data() + MiB));
    CHECK(read_file(path, 2 * MiB, MiB) == std::vector<uint8_t>(b.buf.data(), b.buf.data() + MiB));
    CHECK(read_file(path, 4 * MiB + 512, MiB) == std::vector<uint8_t>(c.buf.data() + 512, c.buf.data() + 512 + MiB));
    CHECK(read_file(path, 6 * MiB, 16 << 10) == std::vector<uint8_t>(d.buf.data(), d.buf.data() + (16 << 10)));
    CHECK(read_file(path, 7 * MiB, MiB) == std::vector<uint8_t>(a.buf.data(), a.buf.data() + MiB));
}
