// The expansion ROM BAR (config offset 0x30) and romfile=/romsize=/rombar=.
#include "pci_test_fakes.h"

#include "base/config_error.h"
#include "devices/device_config.h"
#include "devices/device_types.h"
#include "devices/pci/pci_rom.h"
#include "devices/pci/pci_rom_config.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <numeric>
#include <unistd.h>

using namespace kestrel;
using namespace kestrel::test;

namespace {

// A ROM image with the PC header and a PCI data structure for vendor:device.
std::vector<uint8_t> pc_rom(size_t size, uint16_t vendor, uint16_t device) {
    std::vector<uint8_t> rom(size);
    for (size_t i = 0; i < size; ++i) rom[i] = uint8_t(i * 13 + 5);
    rom[0] = 0x55, rom[1] = 0xaa;
    rom[0x18] = 0x40, rom[0x19] = 0;
    std::copy_n("PCIR", 4, rom.begin() + 0x40);
    rom[0x44] = uint8_t(vendor), rom[0x45] = uint8_t(vendor >> 8);
    rom[0x46] = uint8_t(device), rom[0x47] = uint8_t(device >> 8);
    return rom;
}

uint8_t byte_sum(const uint8_t* p, size_t n) { return uint8_t(std::accumulate(p, p + n, 0u)); }

struct Attached {
    Bus pio{"io"}, mmio{"memory"};
    std::shared_ptr<TestPciDevice> dev = std::make_shared<TestPciDevice>();
    std::vector<std::optional<uint64_t>> moves;
    std::shared_ptr<PciRomImage> image;

    explicit Attached(std::vector<uint8_t> bytes, uint64_t size = 0x10000) {
        image = PciRomImage::from_bytes(bytes, size);
        dev->add_rom(image, "test.rom", true, [this](std::optional<uint64_t> at) { moves.push_back(at); });
        dev->attach({&pio, &mmio, 3, 0, {}});
    }
    uint32_t read32(uint64_t gpa) {
        uint8_t b[4];
        mmio.read(gpa, b);
        return uint32_t(load_le(b));
    }
};

struct Files final : DeviceCheckContext {
    std::string dir = "/tmp";
    const DriveConfig* find_drive(std::string_view) const override { return nullptr; }
    unsigned count_before(std::string_view) const override { return 0; }
    std::string find_data_file(const std::string& name) const override {
        std::string path = dir + "/" + name;
        return access(path.c_str(), R_OK) == 0 ? path : std::string();
    }
};

DeviceConfig config_of(std::string_view type, std::initializer_list<std::pair<const char*, const char*>> props) {
    const DeviceType* t = find_device_type(type);
    DeviceConfig c{"", t, "", false, t->default_values()};
    for (auto [k, v] : props) c.props.set(k, v);
    return c;
}

} // namespace

TEST_CASE("pci ROM BAR: sizing reports the size, bit 0 is the enable bit") {
    Attached a(pc_rom(40000, 0x1234, 0x5678));
    CHECK(a.dev->config_read(pci::ROM_ADDRESS, 4) == 0);
    a.dev->config_write(pci::ROM_ADDRESS, 4, 0xffffffff);
    CHECK(a.dev->config_read(pci::ROM_ADDRESS, 4) == 0xffff0001);
    a.dev->config_write(pci::ROM_ADDRESS, 4, 0xfffffffe);
    CHECK(a.dev->config_read(pci::ROM_ADDRESS, 4) == 0xffff0000);
    CHECK(a.dev->rom_size() == 0x10000);
    CHECK_FALSE(a.dev->rom_address());
    CHECK(rom_size_for(39936) == 0x10000);
    CHECK(rom_size_for(0x10000) == 0x10000);
    CHECK(rom_size_for(1) == 1);
}

TEST_CASE("pci ROM BAR: decodes only while enabled with memory space on; read-only") {
    Attached a(pc_rom(40000, 0x1234, 0x5678));
    a.dev->config_write(pci::ROM_ADDRESS, 4, 0xfebc0000);  // address, not enabled
    a.dev->config_write(pci::COMMAND, 2, pci::COMMAND_MEMORY);
    CHECK_FALSE(a.dev->rom_address());
    CHECK(a.read32(0xfebc0000) == 0xffffffff);  // nothing there
    a.dev->config_write(pci::ROM_ADDRESS, 1, 0x01);  // enable with a byte write
    REQUIRE(a.dev->rom_address() == 0xfebc0000);
    CHECK(a.moves.back() == 0xfebc0000);
    uint32_t first = a.read32(0xfebc0000);
    CHECK((first & 0xffff) == 0xaa55);
    uint8_t junk[4] = {1, 2, 3, 4};
    a.mmio.write(0xfebc0000, junk);  // a ROM ignores writes
    CHECK(a.read32(0xfebc0000) == first);
    CHECK(a.read32(0xfebc0000 + 0xfffc) == 0);  // the padding to the power of two reads as zeros
    a.dev->config_write(pci::COMMAND, 2, 0);  // memory space off
    CHECK_FALSE(a.dev->rom_address());
    CHECK(a.moves.back() == std::nullopt);
    CHECK(a.read32(0xfebc0000) == 0xffffffff);
    a.dev->config_write(pci::COMMAND, 2, pci::COMMAND_MEMORY);
    CHECK(a.dev->rom_address() == 0xfebc0000);
    a.dev->reset();  // back to power-on: register 0, unmapped
    CHECK(a.dev->config_read(pci::ROM_ADDRESS, 4) == 0);
    CHECK_FALSE(a.dev->rom_address());
}

TEST_CASE("pci ROM BAR: absurd addresses decode nothing and never crash") {
    Attached a(pc_rom(4096, 0x1234, 0x5678));
    a.dev->config_write(pci::COMMAND, 2, pci::COMMAND_MEMORY);
    for (uint32_t value : {0x00000001u, 0xffffffffu, 0xffff0001u, 0x00000fffu}) {
        a.dev->config_write(pci::ROM_ADDRESS, 4, value);
        CHECK_FALSE(a.dev->rom_address());
    }
    a.dev->config_write(pci::ROM_ADDRESS, 4, 0x000a0001);  // over the VGA window: allowed, it is the guest's choice
    CHECK(a.dev->rom_address() == 0xa0000);
    // Another mapping in the way: the BAR stays pending, then maps when it is free.
    a.dev->config_write(pci::ROM_ADDRESS, 4, 0);
    auto other = std::make_shared<RecordingDevice>();
    REQUIRE(a.mmio.insert(0xe0000000, 0x1000, other, "other"));
    a.dev->config_write(pci::ROM_ADDRESS, 4, 0xe0000001);
    CHECK_FALSE(a.dev->rom_address());
    a.mmio.remove(0xe0000000);
    a.dev->retry_pending_bars();
    CHECK(a.dev->rom_address() == 0xe0000000);
    for (uint16_t off = pci::ROM_ADDRESS; off < pci::ROM_ADDRESS + 4; ++off) a.dev->config_write(off, 1, 0xff);
    CHECK(a.dev->config_read(pci::ROM_ADDRESS, 4) == 0xffff0001);
    CHECK(a.dev->config_read(pci::ROM_ADDRESS + 1, 2) == 0xff00);
    CHECK_FALSE(a.dev->rom_address());  // 0xffff0000-0xffffffff reaches the top of 4 GiB
}

TEST_CASE("pci ROM: a default ROM gets the function's device ID, its checksum kept") {
    auto rom = pc_rom(4096, 0x1234, 0x1111);
    uint8_t before = byte_sum(rom.data(), rom.size());
    Attached a(rom, 4096);
    a.dev->config_write(pci::ROM_ADDRESS, 4, 0xfe000001);
    a.dev->config_write(pci::COMMAND, 2, pci::COMMAND_MEMORY);
    const uint8_t* p = a.image->data();
    CHECK((p[0x46] | p[0x47] << 8) == 0x5678);
    CHECK(byte_sum(p, 4096) == before);

    auto other_vendor = PciRomImage::from_bytes(pc_rom(4096, 0x8086, 0x1111), 4096);
    other_vendor->patch_ids_once(0x1234, 0x5678);
    CHECK((other_vendor->data()[0x46] | other_vendor->data()[0x47] << 8) == 0x1111);
    auto broken = pc_rom(4096, 0x1234, 0x1111);
    broken[0x18] = 0xfc, broken[0x19] = 0x0f;  // PCIR pointer past the end
    auto truncated = PciRomImage::from_bytes(broken, 4096);
    truncated->patch_ids_once(0x1234, 0x5678);
    CHECK(std::equal(broken.begin(), broken.end(), truncated->data()));
    auto tiny = PciRomImage::from_bytes({0x55, 0xaa}, 4096);
    tiny->patch_ids_once(0x1234, 0x5678);  // too short to hold a header
    CHECK(tiny->data()[0] == 0x55);
}

TEST_CASE("pci ROM: a file is read at the first enable, with zeros up to the ROM size") {
    char path[] = "/tmp/kestrel-optrom-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    std::vector<uint8_t> bytes(5000, 0xab);
    REQUIRE(write(fd, bytes.data(), bytes.size()) == 5000);
    auto image = PciRomImage::open_file(path, 5000, 8192);
    CHECK(image->size() == 8192);
    image->load_once();
    CHECK(image->data()[0] == 0xab);
    CHECK(image->data()[4999] == 0xab);
    CHECK(image->data()[5000] == 0);
    CHECK(image->data()[8191] == 0);
    // truncated after start-up, before the guest enabled the ROM: zeros, no fault
    auto cut = PciRomImage::open_file(path, 5000, 8192);
    REQUIRE(ftruncate(fd, 100) == 0);
    cut->load_once();
    CHECK(cut->data()[99] == 0xab);
    CHECK(cut->data()[100] == 0);
    CHECK(cut->data()[4999] == 0);
    // later changes to the file do not reach the loaded image
    REQUIRE(ftruncate(fd, 0) == 0);
    CHECK(image->data()[4999] == 0xab);
    close(fd);
    unlink(path);
    CHECK_THROWS(PciRomImage::open_file("/nonexistent/rom", 10, 16));
}

TEST_CASE("romfile=, romsize=, rombar= as QEMU 7.2 checks them") {
    Files files;
    char dir[] = "/tmp/kestrel-optrom-dir-XXXXXX";
    REQUIRE(mkdtemp(dir));
    files.dir = dir;
    std::ofstream(files.dir + "/efi-e1000.rom") << std::string(3000, 'x');
    std::ofstream(files.dir + "/empty.rom");

    DeviceConfig d = config_of("e1000", {});
    complete_pci_rom(d, files);
    REQUIRE(d.rom);
    CHECK(d.rom->is_default);
    CHECK(d.rom->file_size == 3000);
    CHECK(d.rom->rom_size == 4096);
    CHECK(d.props.str("romfile") == "efi-e1000.rom");
    CHECK(d.props.uint("romsize") == 4096);

    DeviceConfig none = config_of("e1000", {{"romfile", ""}});
    complete_pci_rom(none, files);
    CHECK_FALSE(none.rom);

    DeviceConfig missing = config_of("e1000", {{"romfile", "nope.rom"}});
    CHECK_THROWS_WITH(complete_pci_rom(missing, files), "failed to find romfile \"nope.rom\"");
    DeviceConfig empty = config_of("e1000", {{"romfile", "empty.rom"}});
    CHECK_THROWS_WITH(complete_pci_rom(empty, files), "romfile \"empty.rom\" is empty");
    DeviceConfig odd = config_of("e1000", {{"romsize", "3"}});
    CHECK_THROWS_WITH(complete_pci_rom(odd, files), "ROM size 3 is not a power of two");
    DeviceConfig zero = config_of("e1000", {{"romsize", "0"}});
    CHECK_THROWS_WITH(complete_pci_rom(zero, files), "ROM size 0 is not a power of two");
    DeviceConfig small = config_of("e1000", {{"romsize", "2048"}});
    CHECK_THROWS_WITH(complete_pci_rom(small, files),
                      "romfile \"efi-e1000.rom\" (3000 bytes) is too large for ROM size 2048");
    DeviceConfig big = config_of("e1000", {{"romsize", "65536"}});
    complete_pci_rom(big, files);
    CHECK(big.rom->rom_size == 65536);

    // rombar=0: no checks (QEMU only warns when the firmware cannot have it).
    DeviceConfig off = config_of("e1000", {{"romfile", "nope.rom"}, {"rombar", "0"}});
    complete_pci_rom(off, files);
    REQUIRE(off.rom);
    CHECK(off.rom->path.empty());

    // Types without a ROM have no such properties.
    CHECK_FALSE(find_device_type("isa-serial")->default_values().find("romfile"));
    CHECK(find_device_type("VGA")->default_values().find("rombar"));
    std::remove((files.dir + "/efi-e1000.rom").c_str());
    std::remove((files.dir + "/empty.rom").c_str());
    rmdir(dir);
}
