#include "machine/boot/kaslr.h"

#include <catch2/catch.hpp>
#include <set>

using namespace kestrel;

namespace {

constexpr uint64_t MiB = 1 << 20;

KaslrRequest request(const std::string& cmdline) {
    KaslrRequest r;
    r.cmdline = cmdline;
    r.kernel_has_kaslr = true;
    r.load_phys = 16 * MiB;
    r.alignment = 2 * MiB;
    r.memory_size = 60 * MiB;
    r.ram_end = 512 * MiB;
    r.avoid_start = 500 * MiB;  // an initrd at the top
    r.avoid_end = 505 * MiB;
    return r;
}

// A counter, so that successive calls walk through the slots.
std::function<uint64_t()> counting(uint64_t start, uint64_t step) {
    auto n = std::make_shared<uint64_t>(start);
    return [n, step] { return *n += step; };
}

} // namespace

TEST_CASE("nokaslr, or a kernel without KASLR, stays where it was linked") {
    for (auto r : {request("console=ttyS0 nokaslr quiet"), request("nokaslr")}) {
        KaslrChoice c = choose_kernel_location(r, counting(0, 12345));
        CHECK(c.phys == 16 * MiB);
        CHECK(c.virt == 16 * MiB);
        CHECK_FALSE(c.randomized);
    }
    KaslrRequest r = request("quiet");
    r.kernel_has_kaslr = false;
    CHECK_FALSE(choose_kernel_location(r, counting(0, 1)).randomized);
    // a word containing it is not the option
    CHECK(choose_kernel_location(request("xnokaslr nokaslrx"), counting(0, 1)).randomized);
}

TEST_CASE("KASLR picks aligned physical and virtual addresses that fit and avoid the initrd") {
    const KaslrRequest r = request("console=ttyS0 quiet");
    std::set<uint64_t> phys, virt;
    auto random = counting(7, 0x9e3779b97f4a7c15ull);
    for (int i = 0; i < 400; i++) {
        KaslrChoice c = choose_kernel_location(r, random);
        REQUIRE(c.randomized);
        CHECK(c.phys % r.alignment == 0);
        CHECK(c.phys >= r.load_phys);
        CHECK(c.phys + r.memory_size <= r.ram_end);
        CHECK((c.phys + r.memory_size <= r.avoid_start || c.phys >= r.avoid_end));
        CHECK(c.virt % r.alignment == 0);
        CHECK(c.virt >= r.load_phys);
        CHECK(c.virt + r.memory_size <= KASLR_IMAGE_SIZE);
        phys.insert(c.phys);
        virt.insert(c.virt);
    }
    CHECK(phys.size() > 100);  // (500 - 16 - 60) / 2 + 1 = 213 slots below the initrd
    CHECK(virt.size() > 200);  // (1024 - 16 - 60) / 2 + 1 = 475 slots
}

TEST_CASE("mem= limits the physical choice; memmap= keeps the physical address") {
    KaslrRequest r = request("quiet mem=128M");
    auto random = counting(3, 0x9e3779b97f4a7c15ull);
    for (int i = 0; i < 100; i++) CHECK(choose_kernel_location(r, random).phys + r.memory_size <= 128 * MiB);
    r = request("memmap=64M$256M");
    std::set<uint64_t> virt;
    for (int i = 0; i < 50; i++) {
        KaslrChoice c = choose_kernel_location(r, random);
        CHECK(c.phys == r.load_phys);
        CHECK(c.randomized);
        virt.insert(c.virt);
    }
    CHECK(virt.size() > 10);
    // options after "--" belong to init
    CHECK(choose_kernel_location(request("quiet -- mem=1M"), counting(0, 1 << 21)).phys > 16 * MiB);
}

TEST_CASE("no room to move: the physical address stays, the virtual one still moves") {
    KaslrRequest r = request("quiet");
    r.ram_end = 80 * MiB;  // exactly the kernel from 16 MiB + a few slots
    r.avoid_start = r.avoid_end = 0;
    r.memory_size = 64 * MiB;
    auto random = counting(0, 1);
    for (int i = 0; i < 4; i++) {
        KaslrChoice c = choose_kernel_location(r, random);
        CHECK(c.phys == 16 * MiB);
    }
    r.memory_size = 70 * MiB;  // does not fit at all
    CHECK(choose_kernel_location(r, random).phys == 16 * MiB);
}

TEST_CASE("cmdline_has_word matches whole words only") {
    CHECK(cmdline_has_word("a nokaslr b", "nokaslr"));
    CHECK(cmdline_has_word("nokaslr", "nokaslr"));
    CHECK(cmdline_has_word("x\tnokaslr\n", "nokaslr"));
    CHECK_FALSE(cmdline_has_word("nokaslr=1", "nokaslr"));
    CHECK_FALSE(cmdline_has_word("", "nokaslr"));
}
