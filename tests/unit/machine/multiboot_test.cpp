// Multiboot v1 direct boot: header search, ELF and a.out kludge kernels,
// the module list, the information structure and QEMU's error messages.
#include "devices/fw_cfg/fw_cfg.h"
#include "kvm/guest_memory.h"
#include "kvm/pc_memory_map.h"
#include "machine/boot/boot_image.h"
#include "machine/boot/multiboot.h"
#include "tests/unit/machine/boot_test_util.h"
#include "tests/unit/machine/bzimage_fixture.h"
#include "tests/unit/machine/elf_fixture.h"

#include <catch2/catch.hpp>
#include <functional>

using namespace kestrel;
using kestrel::test::FakeElf;
using kestrel::test::TempFile;
using kestrel::test::at;
using kestrel::test::error_of;
using kestrel::test::string_at;
using kestrel::test::put_multiboot_header;

namespace {

constexpr uint64_t RAM = 64 * pc::MiB;



// An ELF32 multiboot kernel: text at 1 MiB starting with the header, then bss.
FakeElf multiboot_elf(uint32_t flags = 0x3) {
    FakeElf elf;
    std::vector<uint8_t> text(0x300, 0x90);
    put_multiboot_header(text, 0, flags);
    elf.entry = 0x100020;
    elf.loads.push_back({0x100000, text, 0x2000});
    return elf;
}

} // namespace

TEST_CASE("multiboot: the header is the first valid one, 4-aligned, in the first 8 KiB") {
    std::vector<uint8_t> file(0x3000, 0);
    CHECK(!find_multiboot_header(file));
    put_multiboot_header(file, 0x100, 0x3, {}, false);  // bad checksum: ignored
    put_multiboot_header(file, 0x202, 0x3);             // unaligned: ignored
    CHECK(!find_multiboot_header(file));
    put_multiboot_header(file, 0x1fe0, 0x10003);
    auto h = find_multiboot_header(file);
    REQUIRE(h);
    CHECK(h->offset == 0x1fe0);
    CHECK(h->flags == 0x10003);
    std::vector<uint8_t> late(0x3000, 0);
    put_multiboot_header(late, 0x2000, 0x3);  // past 8 KiB
    CHECK(!find_multiboot_header(late));
}

TEST_CASE("multiboot: -initrd lists modules split at commas, ',,' escaping one") {
    CHECK(split_module_list("a.bin arg1 arg2,b.bin") == std::vector<std::string>{"a.bin arg1 arg2", "b.bin"});
    CHECK(split_module_list("a,,b,c") == std::vector<std::string>{"a,b", "c"});
    CHECK(split_module_list("x") == std::vector<std::string>{"x"});
}

TEST_CASE("multiboot: an ELF kernel with modules laid out as QEMU lays them out") {
    TempFile kernel(multiboot_elf().bytes());
    TempFile mod1(std::vector<uint8_t>(5000, 0xab));
    TempFile mod2(std::vector<uint8_t>{'m', '2'});
    std::string list = mod1.path() + " one two," + mod2.path();
    auto image = BootImage::open({kernel.path(), list, "console=x"}, RAM);
    auto* mb = dynamic_cast<MultibootImage*>(image.get());
    REQUIRE(mb);
    CHECK(mb->load_addr() == 0x100000);
    CHECK(mb->entry() == 0x100020);

    auto mem = GuestMemory::create_flat(RAM);
    BootEntry entry = image->load_into(mem, 0);
    CHECK(entry.mode == BootEntry::Mode::Protected32);
    CHECK(entry.ip == 0x100020);
    CHECK(entry.eax == 0x2badb002);
    CHECK(entry.ebx == 0x9500);
    CHECK(at<uint8_t>(mem, 0x100010) == 0x90);
    CHECK(at<uint8_t>(mem, 0x100300) == 0);  // bss

    const uint64_t mbi = 0x9500;
    CHECK(at<uint32_t>(mem, mbi) == 0x24f);
    CHECK(at<uint32_t>(mem, mbi + 4) == 639);
    CHECK(at<uint32_t>(mem, mbi + 8) == (RAM - pc::MiB) / 1024);
    CHECK(at<uint32_t>(mem, mbi + 12) == 0x8000ffff);
    CHECK(string_at(mem, at<uint32_t>(mem, mbi + 16)) == kernel.path() + " console=x");
    CHECK(string_at(mem, at<uint32_t>(mem, mbi + 64)) == "qemu");
    REQUIRE(at<uint32_t>(mem, mbi + 20) == 2);
    uint32_t mods = at<uint32_t>(mem, mbi + 24);
    CHECK(mods == 0x102000);  // after the kernel, page-aligned
    uint32_t start1 = at<uint32_t>(mem, mods), end1 = at<uint32_t>(mem, mods + 4);
    uint32_t start2 = at<uint32_t>(mem, mods + 16);
    CHECK(start1 == 0x103000);
    CHECK(end1 - start1 == 5000);
    CHECK(start2 == 0x105000);  // page-aligned after the first
    CHECK(at<uint8_t>(mem, start1 + 4999) == 0xab);
    CHECK(at<uint8_t>(mem, start2 + 1) == '2');
    CHECK(string_at(mem, at<uint32_t>(mem, mods + 8)) == mod1.path() + " one two");
    CHECK(string_at(mem, at<uint32_t>(mem, mods + 24)) == mod2.path());

    // The memory map: {size 20, base, length, type}, RAM at 0 and from 1 MiB.
    uint32_t length = at<uint32_t>(mem, mbi + 44);
    CHECK(at<uint32_t>(mem, mbi + 48) == 0x9000);
    REQUIRE(length % 24 == 0);
    bool ram_at_1m = false;
    for (uint32_t off = 0; off < length; off += 24) {
        CHECK(at<uint32_t>(mem, 0x9000 + off) == 20);
        if (at<uint64_t>(mem, 0x9000 + off + 4) == pc::MiB && at<uint32_t>(mem, 0x9000 + off + 20) == 1)
            ram_at_1m = at<uint64_t>(mem, 0x9000 + off + 12) == RAM - pc::MiB;
    }
    CHECK(ram_at_1m);
}

TEST_CASE("multiboot: fw_cfg gets QEMU's kernel and info items") {
    TempFile kernel(multiboot_elf().bytes());
    auto image = BootImage::open({kernel.path(), "", ""}, RAM);
    auto mem = GuestMemory::create_flat(RAM);
    FwCfg fw(mem, 32, true);
    image->publish(fw, RAM);
    auto u32 = [&](uint16_t key) {
        auto d = fw.item_data(key);
        REQUIRE(d.size() == 4);
        uint32_t v;
        std::memcpy(&v, d.data(), 4);
        return v;
    };
    CHECK(u32(fwcfg::KERNEL_ENTRY) == 0x100020);
    CHECK(u32(fwcfg::KERNEL_ADDR) == 0x100000);
    CHECK(u32(fwcfg::KERNEL_SIZE) == 0x3000);  // kernel page and the info page
    CHECK(fw.item_data(fwcfg::KERNEL_DATA).size() == 0x3000);
    CHECK(u32(fwcfg::INITRD_ADDR) == 0x9500);
    CHECK(fw.item_data(fwcfg::INITRD_DATA).size() == 88);
}

TEST_CASE("multiboot: a flat kernel placed by the a.out kludge fields") {
    // File offset 0 goes to 0x200000 (header_addr = load_addr + 0x40).
    std::vector<uint8_t> file(0x1000, 0xcc);
    put_multiboot_header(file, 0x40, 0x10003, {0x200040, 0x200000, 0x200800, 0x203000, 0x200100});
    TempFile kernel(file);
    auto image = BootImage::open({kernel.path(), "", ""}, RAM);
    auto mem = GuestMemory::create_flat(RAM);
    BootEntry entry = image->load_into(mem, 0);
    CHECK(entry.ip == 0x200100);
    CHECK(at<uint8_t>(mem, 0x2007ff) == 0xcc);
    CHECK(at<uint8_t>(mem, 0x200800) == 0);  // past load_end: bss
    CHECK(at<uint8_t>(mem, 0x202fff) == 0);
}

TEST_CASE("multiboot: bad a.out kludge fields give QEMU's messages") {
    auto open_with = [](std::vector<uint32_t> aout, size_t size = 0x1000) {
        std::vector<uint8_t> file(size, 0);
        put_multiboot_header(file, 0x40, 0x10003, aout);
        TempFile kernel(file);
        return error_of([&] { BootImage::open({kernel.path(), "", ""}, RAM); });
    };
    CHECK(open_with({0x100040, 0x200000, 0, 0, 0x200000}) == "invalid load_addr address");
    CHECK(open_with({0x200100, 0x200000, 0, 0, 0x200000}) == "invalid header_addr address");
    CHECK(open_with({0x200040, 0x200000, 0x100000, 0, 0x200000}) == "invalid load_end_addr address");
    CHECK(open_with({0x200040, 0x200000, 0x200800, 0x200400, 0x200000}) == "invalid bss_end_addr address");
    CHECK(open_with({0xfffff040, 0xfffff000, 0, 0, 0}, 0x2000) == "kernel does not fit in address space");
    CHECK(open_with({0x200040, 0x200000, 0x300000, 0, 0x200000}) == "fread() failed");  // file too short
    CHECK(open_with({0x5000040, 0x5000000, 0, 0, 0x5000000}).starts_with("multiboot kernel at 0x5000000-"));
}

TEST_CASE("multiboot: 64-bit, truncated and malformed ELF kernels are refused") {
    FakeElf wide = multiboot_elf();
    wide.is64 = true;
    wide.machine = 62;
    TempFile k64(wide.bytes());
    CHECK(error_of([&] { BootImage::open({k64.path(), "", ""}, RAM); }) ==
          "Cannot load x86-64 image, give a 32bit one.");
    std::vector<uint8_t> cut = multiboot_elf().bytes();
    cut.resize(cut.size() - 0x100);
    TempFile truncated(cut);
    CHECK(error_of([&] { BootImage::open({truncated.path(), "", ""}, RAM); }) == "Error while loading elf kernel");
    FakeElf bad = multiboot_elf();
    bad.loads[0].memsz = 0x10;  // file size above memory size
    TempFile malformed(bad.bytes());
    CHECK(error_of([&] { BootImage::open({malformed.path(), "", ""}, RAM); }) == "Error while loading elf kernel");
}

TEST_CASE("multiboot: missing modules and modules larger than RAM") {
    TempFile kernel(multiboot_elf().bytes());
    CHECK(error_of([&] { BootImage::open({kernel.path(), "/nonexistent/mod arg", ""}, RAM); }) ==
          "Failed to open file '/nonexistent/mod'");
    TempFile big(std::vector<uint8_t>(3 * pc::MiB, 1));
    std::string err = error_of([&] { BootImage::open({kernel.path(), big.path(), ""}, 4 * pc::MiB); });
    CHECK(err.starts_with("multiboot modules do not fit in guest RAM"));
    CHECK(error_of([&] { BootImage::open({kernel.path(), big.path(), ""}, RAM); }).empty());
}

TEST_CASE("boot image: unknown formats are refused") {
    TempFile short_junk(std::vector<uint8_t>(0x4000, 0x41));  // shorter than 0x42 setup sectors
    CHECK(error_of([&] { BootImage::open({short_junk.path(), "", ""}, RAM); }) == "invalid kernel header");
    TempFile junk(std::vector<uint8_t>(0x10000, 0x01));
    CHECK(error_of([&] { BootImage::open({junk.path(), "", ""}, RAM); }) ==
          "could not load kernel '" + junk.path() +
              "': not a Linux bzImage, a multiboot kernel or an ELF kernel with a PVH entry note");
    TempFile empty(std::vector<uint8_t>{});
    CHECK(!error_of([&] { BootImage::open({empty.path(), "", ""}, RAM); }).empty());
}
