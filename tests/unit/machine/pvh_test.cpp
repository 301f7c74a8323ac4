// PVH direct boot: the Xen entry note, the ELF loads, hvm_start_info with
// the command line, the initrd module and the memory map.
#include "devices/fw_cfg/fw_cfg.h"
#include "kvm/guest_memory.h"
#include "kvm/pc_memory_map.h"
#include "machine/boot/boot_image.h"
#include "machine/boot/pvh.h"
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

namespace {

constexpr uint64_t RAM = 64 * pc::MiB;


// A vmlinux-like ELF64: two loads from 16 MiB, the Xen note with a 64-bit
// descriptor as Linux writes it, and a GNU note before it.
FakeElf pvh_kernel() {
    FakeElf elf;
    elf.is64 = true;
    elf.machine = 62;
    elf.entry = 0xffffffff81000000ull;
    elf.loads.push_back({0x1000000, std::vector<uint8_t>(0x1800, 0x11), 0x2000});
    elf.loads.push_back({0x1003000, std::vector<uint8_t>(0x100, 0x22), 0x1000});
    elf.notes.push_back({"GNU", 3, {1, 2, 3, 4, 5, 6, 7, 8}});
    elf.notes.push_back({"Xen", 18, {0x40, 0x12, 0x00, 0x01, 0, 0, 0, 0}});
    return elf;
}

} // namespace

TEST_CASE("pvh: an ELF64 kernel starts at its note's entry with hvm_start_info") {
    TempFile kernel(pvh_kernel().bytes());
    std::vector<uint8_t> initrd_bytes(10000, 0x5a);
    TempFile initrd(initrd_bytes);
    auto image = BootImage::open({kernel.path(), initrd.path(), "console=ttyS0"}, RAM);
    REQUIRE(dynamic_cast<PvhImage*>(image.get()));
    auto mem = GuestMemory::create_flat(RAM);
    std::vector<uint8_t> junk(0x3000, 0xee);
    REQUIRE(mem.write(0x1000000, junk));
    BootEntry entry = image->load_into(mem, 0xf0000);
    CHECK(entry.mode == BootEntry::Mode::Protected32);
    CHECK(entry.ip == 0x1001240);
    CHECK(entry.ebx == pvh::START_INFO_ADDR);
    CHECK(at<uint8_t>(mem, 0x10017ff) == 0x11);
    CHECK(at<uint8_t>(mem, 0x1001800) == 0);  // bss of the first load
    CHECK(at<uint8_t>(mem, 0x1002800) == 0xee);  // the gap is not the kernel's
    CHECK(at<uint8_t>(mem, 0x1003000) == 0x22);

    const uint64_t si = pvh::START_INFO_ADDR;
    CHECK(at<uint32_t>(mem, si) == 0x336ec578);
    CHECK(at<uint32_t>(mem, si + 4) == 1);
    CHECK(at<uint32_t>(mem, si + 12) == 1);
    CHECK(at<uint64_t>(mem, si + 32) == 0xf0000);
    uint64_t cmdline = at<uint64_t>(mem, si + 24);
    CHECK(at<char>(mem, cmdline) == 'c');
    CHECK(at<char>(mem, cmdline + 13) == '\0');
    uint64_t mod = at<uint64_t>(mem, si + 16);
    uint64_t initrd_at = at<uint64_t>(mem, mod);
    CHECK(at<uint64_t>(mem, mod + 8) == 10000);
    CHECK(initrd_at % 0x1000 == 0);
    CHECK(initrd_at + 10000 <= RAM);
    CHECK(at<uint8_t>(mem, initrd_at + 9999) == 0x5a);
    uint32_t entries = at<uint32_t>(mem, si + 48);
    uint64_t memmap = at<uint64_t>(mem, si + 40);
    REQUIRE(entries >= 2);
    CHECK(at<uint64_t>(mem, memmap) == 0);
    CHECK(at<uint32_t>(mem, memmap + 16) == 1);

    FwCfg fw(mem, 32, true);
    image->publish(fw, RAM);
    CHECK(fw.item_data(fwcfg::KERNEL_ENTRY) == std::vector<uint8_t>{0x40, 0x12, 0x00, 0x01});
    CHECK(fw.item_data(fwcfg::CMDLINE_DATA).size() == 14);
    CHECK(fw.item_data(fwcfg::INITRD_DATA).size() == 10000);
}

TEST_CASE("pvh: kernels without the note, malformed, or too big are refused") {
    FakeElf no_note = pvh_kernel();
    no_note.notes.pop_back();
    TempFile k1(no_note.bytes());
    CHECK(error_of([&] { BootImage::open({k1.path(), "", ""}, RAM); }) ==
          "Error loading uncompressed kernel without PVH ELF Note");

    std::vector<uint8_t> cut = pvh_kernel().bytes();
    cut.resize(cut.size() - 0x80);
    TempFile k2(cut);
    CHECK(error_of([&] { BootImage::open({k2.path(), "", ""}, RAM); }) == "Error while loading elf kernel");

    FakeElf bad_note = pvh_kernel();
    bad_note.notes.back().name = std::string(200, 'x');  // the note's name runs past its segment
    std::vector<uint8_t> bytes = bad_note.bytes();
    bytes[64 + 32] = 0x10;  // shrink the PT_NOTE file size
    TempFile k3(bytes);
    CHECK(error_of([&] { BootImage::open({k3.path(), "", ""}, RAM); }) == "Error while loading elf kernel");

    TempFile k4(pvh_kernel().bytes());
    CHECK(error_of([&] { BootImage::open({k4.path(), "", ""}, 16 * pc::MiB); }).starts_with("could not load kernel"));
    TempFile big(std::vector<uint8_t>(60 * pc::MiB, 0));
    CHECK(error_of([&] { BootImage::open({k4.path(), big.path(), ""}, RAM); }).starts_with("initrd is too large"));
    CHECK(error_of([&] { BootImage::open({k4.path(), "/nonexistent/initrd", ""}, RAM); }) ==
          "error reading initrd /nonexistent/initrd: No such file or directory");
}

TEST_CASE("elf: ELF32 PVH kernels work too; other machines are refused") {
    FakeElf elf = pvh_kernel();
    elf.is64 = false;
    elf.machine = 3;
    elf.notes.back().desc = {0x40, 0x12, 0x00, 0x01};
    TempFile k(elf.bytes());
    auto mem = GuestMemory::create_flat(RAM);
    CHECK(BootImage::open({k.path(), "", ""}, RAM)->load_into(mem, 0).ip == 0x1001240);
    elf.machine = 40;  // ARM
    TempFile arm(elf.bytes());
    CHECK(error_of([&] { BootImage::open({arm.path(), "", ""}, RAM); }) == "Error while loading elf kernel");
}
