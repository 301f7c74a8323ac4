#include "block/hd_geometry.h"

#include "block_test_util.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

using namespace kestrel;
using namespace kestrel::test;

namespace {

constexpr uint64_t kGiB = 1ull << 30, kMiB = 1ull << 20;

// A sector 0 with one partition entry whose end is at (head, sector).
std::vector<uint8_t> mbr(uint8_t end_head, uint8_t end_sector, uint32_t sectors = 1000, bool signature = true) {
    std::vector<uint8_t> s(512, 0);
    uint8_t* p = &s[0x1be];
    p[0] = 0x80;
    p[4] = 0x83;
    p[5] = end_head;
    p[6] = end_sector;
    p[7] = 0xff;
    std::memcpy(p + 8, "\x00\x08\x00\x00", 4);
    std::memcpy(p + 12, &sectors, 4);
    if (signature) s[510] = 0x55, s[511] = 0xaa;
    return s;
}

void check(const HdGeometry& g, uint32_t c, uint32_t h, uint32_t s, BiosTranslation t) {
    CHECK(g.cylinders == c);
    CHECK(g.heads == h);
    CHECK(g.sectors == s);
    CHECK(g.translation == t);
}

} // namespace

TEST_CASE("hd geometry: without a partition table, 16 heads and 63 sectors for the size", "[block]") {
    check(guess_hd_geometry(10 * kGiB / 512, {}), 16383, 16, 63, BiosTranslation::Lba);
    check(guess_hd_geometry(64 * kMiB / 512, {}), 130, 16, 63, BiosTranslation::None);
    check(guess_hd_geometry(1 * kGiB / 512, {}), 2080, 16, 63, BiosTranslation::Lba);
    check(guess_hd_geometry(1024 * 16 * 63, {}), 1024, 16, 63, BiosTranslation::None);
    check(guess_hd_geometry(1025 * 16 * 63, {}), 1025, 16, 63, BiosTranslation::Lba);
    check(guess_hd_geometry(100, {}), 2, 16, 63, BiosTranslation::None);  // at least 2 cylinders
    check(guess_hd_geometry(10 * kGiB / 512, mbr(0, 0, 0)), 16383, 16, 63, BiosTranslation::Lba);  // empty table
}

TEST_CASE("hd geometry: a partition table partitioned through a BIOS translation", "[block]") {
    // fdisk's 255 heads on a 2 GiB disk: LARGE (cylinders * heads fit 131072).
    check(guess_hd_geometry(2 * kGiB / 512, mbr(254, 63)), 4161, 16, 63, BiosTranslation::Large);
    // ... and on a 5 GiB disk: LBA.
    check(guess_hd_geometry(5 * kGiB / 512, mbr(254, 63)), 10402, 16, 63, BiosTranslation::Lba);
}

TEST_CASE("hd geometry: a partition table with at most 16 heads is the physical geometry", "[block]") {
    check(guess_hd_geometry(256 * kMiB / 512, mbr(15, 63)), 520, 16, 63, BiosTranslation::None);
    check(guess_hd_geometry(16 * kMiB / 512, mbr(3, 32 | 0xc0)), 256, 4, 32, BiosTranslation::None);  // bits 6-7: cylinder
}

TEST_CASE("hd geometry: unusable partition entries are skipped", "[block]") {
    // No 55 AA; an end sector of 0; more than 16383 cylinders (one head,
    // one sector, as SYSLINUX-style tables that do not end on a cylinder).
    check(guess_hd_geometry(256 * kMiB / 512, mbr(15, 63, 1000, false)), 520, 16, 63, BiosTranslation::None);
    check(guess_hd_geometry(10 * kGiB / 512, mbr(15, 0)), 16383, 16, 63, BiosTranslation::Lba);
    check(guess_hd_geometry(10 * kGiB / 512, mbr(73, 1)), 16383, 16, 63, BiosTranslation::Lba);
    // A second entry is used when the first is no good.
    auto two = mbr(15, 0);
    std::memcpy(&two[0x1ce], &mbr(7, 63)[0x1be], 16);
    check(guess_hd_geometry(64 * kMiB / 512, two), 260, 8, 63, BiosTranslation::None);
    // A short first sector (unreadable) counts as no table.
    check(guess_hd_geometry(64 * kMiB / 512, std::vector<uint8_t>(100, 0)), 130, 16, 63, BiosTranslation::None);
}

TEST_CASE("hd geometry: read from an image's first sector through its backend", "[block]") {
    TempDir dir;
    const std::string path = make_image(dir.file("disk.img"), 2 * kGiB);
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    auto sector = mbr(254, 63);
    REQUIRE(pwrite(fd, sector.data(), 512, 0) == 512);
    ::close(fd);
    BlockOpenOptions options;
    options.path = path;
    auto disk = open_raw_image(options);
    CHECK(read_first_sector(*disk) == sector);
    check(guess_hd_geometry(*disk), 4161, 16, 63, BiosTranslation::Large);
}
