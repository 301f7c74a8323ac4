// PAM: the i440FX's registers as segment modes, and the KVM slots
// PamMemory makes of them (the pure layout; the slots need /dev/kvm).
#include "kvm/pam_memory.h"
#include "piix_test_board.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::test;
using Slot = PamMemory::Slot;

namespace {

struct LowMemory {
    GuestMemory mem = GuestMemory::create_pc(MemoryConfig{64ull << 20});
    std::vector<uint8_t> bytes = std::vector<uint8_t>(PamMemory::END - PamMemory::START);
    // The ISA BIOS right after the zeros, so slots can merge across them.
    PamMemory::RomView rom{bytes.data(), bytes.data() + 0x20000, 0xe0000};
};

} // namespace

TEST_CASE("i440FX: PAM registers as segment modes, SeaBIOS's writes") {
    PcChipset pc;
    auto& f = *pc.f;
    CHECK(pc.host->pam_modes() == PamMemory::Modes{});
    // make_bios_writable: two dwords from 0x58; 0xf0000 RAM (0x30), the rest RAM (0x33)
    f.cfg_write(0, 0, 0x58, 0x33333000, 4);
    f.cfg_write(0, 0, 0x5c, 0x33333333, 4);
    PamMemory::Modes all_ram;
    all_ram.fill(3);
    CHECK(pc.host->pam_modes() == all_ram);
    // make_bios_readonly of 0xf0000 and 0xe4000: read-only RAM (0x1)
    f.cfg_write(0, 0, I440fxHost::PAM0, 0x10, 1);
    f.cfg_write(0, 0, I440fxHost::PAM0 + 5, 0x31, 1);  // 0xe0000 RO, 0xe4000 RW
    auto m = pc.host->pam_modes();
    CHECK(m[0] == 1);
    CHECK(m[9] == 1);   // 0xe0000
    CHECK(m[10] == 3);  // 0xe4000
    // Reserved bits (the low nibble of PAM0, bits 2-3 of a nibble) do not count.
    f.cfg_write(0, 0, I440fxHost::PAM0, 0xcf, 1);
    CHECK(pc.host->pam_modes()[0] == 0);
    pc.host->reset();
    CHECK(pc.host->pam_modes() == PamMemory::Modes{});
}

TEST_CASE("PAM layout: power-on is the ROM view, merged into one slot") {
    LowMemory low;
    GuestMemory& mem = low.mem;
    const PamMemory::RomView& rom = low.rom;
    auto slots = PamMemory::layout({}, rom, mem);
    REQUIRE(slots.size() == 1);
    CHECK(slots[0] == Slot{0xc0000, 0x40000, low.bytes.data(), true});
}

TEST_CASE("PAM layout: the ISA BIOS is the top of the BIOS image, not a copy") {
    LowMemory low;
    std::vector<uint8_t> image(0x40000);
    PamMemory::RomView rom{low.bytes.data(), image.data() + 0x20000, 0xe0000};
    auto slots = PamMemory::layout({}, rom, low.mem);
    REQUIRE(slots.size() == 2);
    CHECK(slots[0] == Slot{0xc0000, 0x20000, low.bytes.data(), true});
    CHECK(slots[1] == Slot{0xe0000, 0x20000, image.data() + 0x20000, true});
    PamMemory::Modes modes;
    modes.fill(3);
    modes[0] = 0;  // 0xf0000 back to the ROM view: the image's last 64 KiB
    slots = PamMemory::layout(modes, rom, low.mem);
    REQUIRE(slots.size() == 2);
    CHECK(slots[1] == Slot{0xf0000, 0x10000, image.data() + 0x30000, true});
}

TEST_CASE("PAM layout: RAM, read-only RAM and ROM segments") {
    LowMemory low;
    GuestMemory& mem = low.mem;
    const PamMemory::RomView& rom = low.rom;
    PamMemory::Modes modes;
    modes.fill(3);
    auto all_ram = PamMemory::layout(modes, rom, mem);
    REQUIRE(all_ram.size() == 1);
    CHECK(all_ram[0] == Slot{0xc0000, 0x40000, mem.host_ptr(0xc0000, 0x40000), false});
    modes.fill(2);  // write-only maps RAM, as QEMU's pc
    CHECK(PamMemory::layout(modes, rom, mem) == all_ram);

    modes.fill(3);
    modes[0] = 1;   // 0xf0000 read-only RAM
    modes[9] = 1;   // 0xe0000 read-only RAM
    modes[1] = 0;   // 0xc0000 the ROM view
    auto slots = PamMemory::layout(modes, rom, mem);
    REQUIRE(slots.size() == 5);
    CHECK(slots[0] == Slot{0xc0000, 0x4000, low.bytes.data(), true});
    CHECK(slots[1] == Slot{0xc4000, 0x1c000, mem.host_ptr(0xc4000, 1), false});
    CHECK(slots[2] == Slot{0xe0000, 0x4000, mem.host_ptr(0xe0000, 1), true});
    CHECK(slots[3] == Slot{0xe4000, 0xc000, mem.host_ptr(0xe4000, 1), false});
    CHECK(slots[4] == Slot{0xf0000, 0x10000, mem.host_ptr(0xf0000, 1), true});
}

TEST_CASE("PAM layout: only the low two bits of a mode count") {
    LowMemory low;
    GuestMemory& mem = low.mem;
    const PamMemory::RomView& rom = low.rom;
    PamMemory::Modes modes;
    modes.fill(0xfc);  // garbage above the two bits: the ROM view
    CHECK(PamMemory::layout(modes, rom, mem) == PamMemory::layout({}, rom, mem));
}
