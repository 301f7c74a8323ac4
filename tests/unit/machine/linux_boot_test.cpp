#include "machine/boot/e820.h"
#include "machine/boot/linux_boot.h"
#include "kvm/pc_memory_map.h"
#include "tests/unit/machine/boot_test_util.h"
#include "tests/unit/machine/bzimage_fixture.h"

#include <catch2/catch.hpp>
#include <functional>
#include <memory>

using namespace kestrel;
using kestrel::test::FakeKernel;
using kestrel::test::TempFile;
using kestrel::test::at;
using kestrel::test::error_of;

namespace {

template <typename T> T zp(const GuestMemory& mem, uint64_t off) {
    return at<T>(mem, pc::ZERO_PAGE_ADDR + off);
}


std::vector<E820Entry> zero_page_e820(const GuestMemory& mem) {
    std::vector<E820Entry> map(zp<uint8_t>(mem, 0x1e8));
    for (size_t i = 0; i < map.size(); i++) {
        uint64_t off = 0x2d0 + i * 20;
        map[i] = {zp<uint64_t>(mem, off), zp<uint64_t>(mem, off + 8),
                  E820Type(zp<uint32_t>(mem, off + 16))};
    }
    return map;
}

} // namespace

TEST_CASE("load_into fills the zero page and loads kernel, initrd and command line") {
    FakeKernel k;
    TempFile kernel(k.bytes());
    std::vector<uint8_t> initrd_bytes(0x12345, 0x5a);
    TempFile initrd(initrd_bytes);
    auto mem = GuestMemory::create_flat(128 * pc::MiB);
    LinuxBootParams p{kernel.path(), initrd.path(), "console=ttyS0 root=/dev/ram0", 0xe0000};

    LinuxBootInfo info = load_linux(mem, p);
    CHECK(info.entry_rip == 0x100200);
    CHECK(info.zero_page == pc::ZERO_PAGE_ADDR);

    // Protected-mode part at 1 MiB, byte for byte.
    auto image = k.bytes();
    std::vector<uint8_t> loaded(k.pm_size);
    REQUIRE(mem.read(pc::KERNEL_LOAD_ADDR, loaded));
    CHECK(std::equal(loaded.begin(), loaded.end(), image.begin() + 5 * 512));

    // Setup header copied up to 0x202 + image[0x201], nothing after it.
    CHECK(zp<uint32_t>(mem, 0x202) == 0x53726448);
    CHECK(zp<uint16_t>(mem, 0x206) == 0x020f);
    CHECK(zp<uint32_t>(mem, 0x268) == 0xdeadbeef);
    CHECK(zp<uint32_t>(mem, 0x26c) == 0);
    CHECK(zp<uint8_t>(mem, 0x1ef) == 0);  // sentinel stays clear

    CHECK(zp<uint8_t>(mem, 0x210) == 0xff);          // type_of_loader
    CHECK(zp<uint8_t>(mem, 0x211) == (0x01 | 0x80)); // LOADED_HIGH | CAN_USE_HEAP
    CHECK(zp<uint16_t>(mem, 0x224) == 0xfe00);       // heap_end_ptr
    CHECK(zp<uint32_t>(mem, 0x228) == pc::CMDLINE_ADDR);
    CHECK(zp<uint64_t>(mem, 0x070) == 0xe0000);      // acpi_rsdp_addr

    std::string cmdline(p.cmdline.size() + 1, 'x');
    REQUIRE(mem.read(pc::CMDLINE_ADDR, {reinterpret_cast<uint8_t*>(cmdline.data()), cmdline.size()}));
    CHECK(cmdline == p.cmdline + '\0');

    // Initrd: highest page-aligned spot below the top of RAM.
    uint32_t rd = zp<uint32_t>(mem, 0x218);
    CHECK(zp<uint32_t>(mem, 0x21c) == initrd_bytes.size());
    CHECK(rd % 4096 == 0);
    CHECK(rd + initrd_bytes.size() <= 128 * pc::MiB);
    CHECK(rd + initrd_bytes.size() + 4096 > 128 * pc::MiB);
    CHECK(at<uint8_t>(mem, rd) == 0x5a);
    CHECK(at<uint8_t>(mem, rd + initrd_bytes.size() - 1) == 0x5a);

    CHECK(zero_page_e820(mem) == build_e820(mem));
    CHECK(zero_page_e820(mem).size() == 5);  // low RAM, EBDA, BIOS area, RAM, KVM pages
}

TEST_CASE("a reset reload rewrites everything from the cached image") {
    FakeKernel k;
    auto kernel = std::make_unique<TempFile>(k.bytes());
    auto mem = GuestMemory::create_flat(64 * pc::MiB);
    LinuxImage img = LinuxImage::open({kernel->path(), "", "quiet", 0});
    kernel.reset();  // the file is gone; the cached bytes are enough
    img.load_into(mem, 0);
    // The guest scribbles over its kernel, command line and zero page.
    std::vector<uint8_t> junk(0x4000, 0xcc);
    REQUIRE(mem.write(pc::KERNEL_LOAD_ADDR, junk));
    REQUIRE(mem.write(pc::ZERO_PAGE_ADDR, junk));
    REQUIRE(mem.write(pc::CMDLINE_ADDR, junk));
    LinuxBootInfo info = img.load_linux_into(mem, 0xe0000);
    CHECK(info.entry_rip == 0x100200);
    CHECK(at<uint8_t>(mem, pc::KERNEL_LOAD_ADDR) == k.bytes()[5 * 512]);
    CHECK(at<uint8_t>(mem, pc::ZERO_PAGE_ADDR + 0x1000 - 1) == 0);  // page zeroed
    CHECK(at<uint8_t>(mem, pc::CMDLINE_ADDR + 5) == 0);             // "quiet" + NUL
    CHECK(zp<uint32_t>(mem, 0x218) == 0);                            // no initrd
    CHECK(zp<uint32_t>(mem, 0x21c) == 0);
    CHECK(zp<uint64_t>(mem, 0x070) == 0xe0000);
}

TEST_CASE("initrd is placed below initrd_addr_max and above the kernel's end") {
    FakeKernel k;
    k.initrd_addr_max = 0x1fffffff;
    TempFile kernel(k.bytes());
    TempFile initrd(std::vector<uint8_t>(0x3000, 1));
    MemoryConfig mc;
    mc.size = 1 * pc::GiB;
    auto mem = GuestMemory::create_pc(mc);
    LinuxImage img = LinuxImage::open({kernel.path(), initrd.path(), "", 0});
    CHECK(img.kernel_end() == 0x1000000 + 0x800000);  // pref_address + init_size
    InitrdPlacement at_max = img.place_initrd(mem.below_4g());
    CHECK(at_max.addr == 0x20000000 - 0x3000);
    CHECK(at_max.size == 0x3000);
    img.load_into(mem, 0);
    CHECK(zp<uint32_t>(mem, 0x218) == 0x20000000 - 0x3000);
}

TEST_CASE("a non-relocatable kernel ends at pref_address + init_size") {
    FakeKernel k;
    k.relocatable = 0;
    k.pref_address = 0x2000000;
    TempFile kernel(k.bytes());
    LinuxImage img = LinuxImage::open({kernel.path(), "", "", 0});
    CHECK(img.kernel_end() == 0x2000000 + 0x800000);
}

TEST_CASE("boot files give errors a user can act on") {
    FakeKernel k;
    TempFile kernel(k.bytes());
    const std::string missing = "/nonexistent/kestrel/vmlinuz";

    CHECK(error_of([&] { check_linux_boot_files({missing, "", "", 0}); }) ==
          "could not load kernel '" + missing + "': No such file or directory");
    CHECK(error_of([&] { check_linux_boot_files({"/", "", "", 0}); }) ==
          "could not load kernel '/': Is a directory");
    CHECK(error_of([&] { check_linux_boot_files({kernel.path(), missing, "", 0}); }) ==
          "error reading initrd " + missing + ": No such file or directory");

    std::string err = error_of([&] {
        check_linux_boot_files({kernel.path(), "", std::string(0x800, 'a'), 0});
    });
    CHECK(err.find("kernel command line is too long: 2048 bytes") == 0);
    CHECK(err.find("at most 2047") != std::string::npos);
    CHECK(error_of([&] { check_linux_boot_files({kernel.path(), "", std::string(0x7ff, 'a'), 0}); })
              .empty());
}

TEST_CASE("an initrd that does not fit is refused before loading") {
    FakeKernel k;  // kernel ends at 24 MiB
    TempFile kernel(k.bytes());
    TempFile initrd(std::vector<uint8_t>(9 * pc::MiB, 0));
    auto mem = GuestMemory::create_flat(32 * pc::MiB);
    LinuxImage img = LinuxImage::open({kernel.path(), initrd.path(), "", 0});
    std::string err = error_of([&] { img.check_fits(mem.below_4g()); });
    CHECK(err.find("initrd is too large") == 0);
    CHECK(err.find("need 9437184") != std::string::npos);
    CHECK(error_of([&] { img.load_into(mem, 0); }) == err);
    CHECK(error_of([&] { img.check_fits(64 * pc::MiB); }).empty());
}

TEST_CASE("a kernel that needs more RAM than the guest has is refused") {
    FakeKernel k;
    TempFile kernel(k.bytes());
    auto mem = GuestMemory::create_flat(16 * pc::MiB);
    std::string err = error_of([&] { load_linux(mem, {kernel.path(), "", "", 0}); });
    CHECK(err.find("could not load kernel '" + kernel.path() + "': it needs guest RAM up to 0x1800000") == 0);
}
