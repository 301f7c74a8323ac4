#include "kvm/guest_memory.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace kestrel;

namespace {

constexpr uint64_t MiB = 1 << 20;

// Fraction of the pages of [gpa, gpa+len) that are resident.
double resident_share(const GuestMemory& mem, uint64_t gpa, uint64_t len) {
    long page = sysconf(_SC_PAGESIZE);
    std::vector<unsigned char> vec(len / uint64_t(page));
    REQUIRE(mincore(mem.host_ptr(gpa, len), len, vec.data()) == 0);
    size_t in = 0;
    for (unsigned char v : vec) in += v & 1;
    return double(in) / double(vec.size());
}

double resident_share(const GuestMemory& mem) { return resident_share(mem, 0, mem.regions()[0].size); }

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/kestrel-memtest.XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~TempDir() { std::system(("rm -rf " + path).c_str()); }
};

} // namespace

TEST_CASE("anonymous RAM is committed only as it is touched") {
    MemoryConfig cfg;
    cfg.size = 64 * MiB;
    auto mem = GuestMemory::create_pc(cfg);
    CHECK(resident_share(mem) < 0.1);
}

TEST_CASE("-mem-prealloc makes every page resident before the guest runs") {
    MemoryConfig cfg;
    cfg.size = 64 * MiB;
    cfg.prealloc = true;
    auto mem = GuestMemory::create_pc(cfg);
    CHECK(resident_share(mem) == 1.0);
}

TEST_CASE("-mem-path FILE: guest RAM is the file's contents") {
    TempDir dir;
    MemoryConfig cfg;
    cfg.size = 16 * MiB;
    cfg.mem_path = dir.path + "/ram";
    {
        auto mem = GuestMemory::create_pc(cfg);
        CHECK(mem.write(5 * MiB + 3, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>("kestrel"), 7)));
    }
    std::ifstream f(cfg.mem_path, std::ios::binary);
    f.seekg(std::streamoff(5 * MiB + 3));
    std::string text(7, '\0');
    f.read(text.data(), 7);
    CHECK(text == "kestrel");
    f.seekg(0, std::ios::end);
    CHECK(uint64_t(f.tellg()) == cfg.size);
}

TEST_CASE("-mem-path DIR: an unlinked file in that directory, preallocated on request") {
    TempDir dir;
    MemoryConfig cfg;
    cfg.size = 8 * MiB;
    cfg.mem_path = dir.path;
    cfg.prealloc = true;
    auto mem = GuestMemory::create_pc(cfg);
    CHECK(resident_share(mem) == 1.0);
    CHECK(std::system(("test -z \"$(ls -A " + dir.path + ")\"").c_str()) == 0);
}

TEST_CASE("-mem-path in a missing directory fails with a message") {
    MemoryConfig cfg;
    cfg.size = 8 * MiB;
    cfg.mem_path = "/nonexistent-kestrel-dir/ram";
    CHECK_THROWS_WITH(GuestMemory::create_pc(cfg),
                      Catch::Contains("can't open backing store /nonexistent-kestrel-dir/ram for guest RAM"));
}

namespace {

uint64_t allocated_bytes(const std::string& path) {
    struct stat st {};
    REQUIRE(stat(path.c_str(), &st) == 0);
    return uint64_t(st.st_blocks) * 512;
}

void touch(const GuestMemory& mem, uint64_t gpa, uint64_t len, uint8_t value) {
    std::memset(mem.host_ptr(gpa, len), value, len);
}

} // namespace

TEST_CASE("discard gives anonymous pages back: not resident, zero when read again") {
    auto mem = GuestMemory::create_flat(16 * MiB);
    touch(mem, 0, 16 * MiB, 0x5a);
    CHECK(resident_share(mem) == 1.0);
    CHECK(mem.page_size() == 4096);
    CHECK(mem.discard(mem.host_ptr(4 * MiB, 8 * MiB), 8 * MiB));
    CHECK(resident_share(mem) == Approx(0.5).margin(0.01));
    uint8_t byte = 0xff;
    CHECK(mem.read_obj(6 * MiB + 17, byte));
    CHECK(byte == 0);
    CHECK(mem.read_obj(3 * MiB, byte));
    CHECK(byte == 0x5a);
}

TEST_CASE("discard on -mem-path RAM punches a hole in the file") {
    TempDir dir;
    MemoryConfig cfg;
    cfg.size = 16 * MiB;
    cfg.mem_path = dir.path + "/ram";
    auto mem = GuestMemory::create_pc(cfg);
    touch(mem, 0, 16 * MiB, 0x11);
    CHECK(allocated_bytes(cfg.mem_path) >= 16 * MiB);
    CHECK(mem.discard(mem.host_ptr(2 * MiB, 12 * MiB), 12 * MiB));
    CHECK(allocated_bytes(cfg.mem_path) <= 4 * MiB + 64 * 1024);
    uint8_t byte = 0xff;
    CHECK(mem.read_obj(8 * MiB, byte));
    CHECK(byte == 0);
    touch(mem, 8 * MiB, 4096, 0x22);  // usable again
    CHECK(mem.read_obj(8 * MiB + 100, byte));
    CHECK(byte == 0x22);
}

TEST_CASE("discard refuses ranges outside RAM or off page boundaries, freeing nothing") {
    auto mem = GuestMemory::create_flat(4 * MiB);
    touch(mem, 0, 4 * MiB, 0x33);
    uint8_t* base = mem.host_ptr(0, 1);
    CHECK_FALSE(mem.discard(base + 100, 4096));
    CHECK_FALSE(mem.discard(base, 100));
    CHECK_FALSE(mem.discard(base + 4 * MiB - 4096, 8192));
    CHECK_FALSE(mem.discard(base - 4096, 4096));
    CHECK_FALSE(mem.discard(base + 8 * MiB, 4096));
    CHECK(resident_share(mem) == 1.0);
    CHECK(mem.discard(base + 4 * MiB, 0));
}

TEST_CASE("populate_in_background faults a range in and leaves its bytes as they were") {
    auto mem = GuestMemory::create_flat(64 * MiB);
    const uint64_t start = 20 * MiB + 0x3000, len = 9 * MiB;
    REQUIRE(mem.write_obj(start + 5 * MiB, uint64_t(0x6b657374726c)));
    CHECK(resident_share(mem, 22 * MiB, 6 * MiB) < 0.5);
    mem.populate_in_background({{start, len}});
    mem.wait_for_populate();
    CHECK(resident_share(mem, start, len) == 1.0);
    CHECK(resident_share(mem, 40 * MiB, 8 * MiB) < 0.5);  // nothing beyond the range
    uint64_t v = 0, zero = 1;
    CHECK((mem.read_obj(start + 5 * MiB, v) && v == 0x6b657374726c));
    CHECK((mem.read_obj(start + len - 8, zero) && zero == 0));
}

TEST_CASE("populate_in_background skips a range outside RAM; the memory can go while it runs") {
    auto mem = GuestMemory::create_flat(16 * MiB);
    mem.populate_in_background({{15 * MiB, 2 * MiB}, {4 * MiB, 2 * MiB}});
    mem.wait_for_populate();
    CHECK(resident_share(mem, 14 * MiB, 2 * MiB) < 0.5);
    CHECK(resident_share(mem, 4 * MiB, 2 * MiB) == 1.0);  // the next range still is
    auto big = GuestMemory::create_flat(256 * MiB);
    big.populate_in_background({{2 * MiB, 250 * MiB}});
}   // ~GuestMemory stops the thread before unmapping

TEST_CASE("a held populate starts only when released; the newest ranges count") {
    auto mem = GuestMemory::create_flat(32 * MiB);
    mem.hold_populate();
    mem.populate_in_background({{4 * MiB, 2 * MiB}});
    mem.populate_in_background({{8 * MiB, 2 * MiB}});  // a reset's reload replaces the first
    mem.wait_for_populate();
    CHECK(resident_share(mem, 8 * MiB, 2 * MiB) < 0.5);
    mem.release_populate();
    mem.wait_for_populate();
    CHECK(resident_share(mem, 8 * MiB, 2 * MiB) == 1.0);
    CHECK(resident_share(mem, 4 * MiB, 2 * MiB) < 0.5);
    mem.release_populate();  // again: nothing pending, nothing held
    mem.populate_in_background({{16 * MiB, 2 * MiB}});
    mem.wait_for_populate();
    CHECK(resident_share(mem, 16 * MiB, 2 * MiB) == 1.0);
}
