// SMBIOS tables: byte for byte what QEMU 7.2.22's pc puts in fw_cfg (read
// back from guest memory after SeaBIOS installed them: the same structures
// with SeaBIOS's type 0 before them), the entry point's checksums, and
// absurd sizes and blobs.
#include "kvm/guest_memory.h"
#include "kvm/pc_memory_map.h"
#include "machine/smbios/smbios_install.h"
#include "machine/smbios/smbios_tables.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstring>
#include <unistd.h>
#include <numeric>

using namespace kestrel;

namespace {

std::vector<uint8_t> unhex(const std::string& hex) {
    std::vector<uint8_t> out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(uint8_t(std::stoi(hex.substr(i, 2), nullptr, 16)));
    return out;
}

std::vector<uint8_t> strings(std::initializer_list<std::string> list) {
    std::vector<uint8_t> out;
    for (const std::string& s : list) out.insert(out.end(), s.begin(), s.end()), out.push_back(0);
    out.push_back(0);
    if (list.size() == 0) out.push_back(0);
    return out;
}

std::vector<uint8_t> cat(std::initializer_list<std::vector<uint8_t>> parts) {
    std::vector<uint8_t> out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

const std::string PRODUCT = "Standard PC (i440FX + PIIX, 1996)", VERSION = "pc-i440fx-7.2";

// qemu-system-x86_64 -enable-kvm -cpu qemu64 -m 128 -smp 2
SmbiosMachine small_machine() {
    SmbiosMachine m;
    m.ram_size = 128ull << 20;
    m.ram_ranges = {{0, 128ull << 20}};
    m.sockets = 1, m.cores_per_socket = 2, m.threads_per_socket = 2;
    m.cpuid_version = 0x00060fb1, m.cpuid_features = 0x078bfbfd;
    return m;
}

uint8_t sum(const std::vector<uint8_t>& v, size_t from, size_t n) {
    return uint8_t(std::accumulate(v.begin() + long(from), v.begin() + long(from + n), 0));
}

} // namespace

TEST_CASE("SMBIOS: QEMU 7.2's default tables for -m 128 -smp 2", "[smbios]") {
    SmbiosTables t = build_smbios_tables(SmbiosConfig{}, small_machine());
    const auto want = cat({
        unhex("011b00010102030000000000000000000000000000000000060000"), strings({"QEMU", PRODUCT, VERSION}),
        unhex("03160003010102000003030302000000000000000000"), strings({"QEMU", VERSION}),
        unhex("042a000401030102b10f0600fdfb8b0703000000d007d0074101ffffffffffff00000002020202000100"),
        strings({"CPU 0", "QEMU", VERSION}),
        unhex("1017001001030600000200feff01000000000000000000"), strings({}),
        unhex("112800110010feffffffffff80000900010007020000000200000000000000000000000000000000"),
        strings({"DIMM 0", "QEMU"}),
        unhex("131f001300000000ffff010000100100000000000000000000000000000000"), strings({}),
        unhex("200b002000000000000000"), strings({}),
        unhex("7f04007f"), strings({}),
    });
    CHECK(t.tables == want);
    CHECK(t.count == 8);
    CHECK(t.max_size == 81);
    // QEMU's anchor: address and checksums for the BIOS to fill in
    CHECK(t.anchor == unhex("5f534d5f001f020851000000000000005f444d495f00" "4101" "00000000" "0800" "28"));
}

TEST_CASE("SMBIOS: the guest's view as SeaBIOS leaves it (-m 128 -smp 2)", "[smbios]") {
    SmbiosTables t = build_smbios_tables(SmbiosConfig{}, small_machine());
    auto image = smbios_memory_image(t, 0xf0000, "1.16.2-debian-1.16.2-1");
    // The entry point SeaBIOS wrote under QEMU, but for the table address
    // (QEMU's SeaBIOS put it at 0xf5a10) and so the checksums.
    auto ep = std::vector<uint8_t>(image.begin(), image.begin() + 31);
    CHECK(std::vector<uint8_t>(ep.begin() + 5, ep.begin() + 21) ==
          unhex("1f02085100000000000000" "5f444d495f"));
    CHECK(std::vector<uint8_t>(ep.begin() + 22, ep.end()) == unhex("8401" "20000f00" "0900" "28"));
    CHECK(sum(ep, 0, 31) == 0);
    CHECK(sum(ep, 16, 15) == 0);
    auto type0 = cat({unhex("00180000010200e80300080000000000000000040000ffff"),
                      strings({"SeaBIOS", "1.16.2-debian-1.16.2-1", "04/01/2014"})});
    CHECK(std::vector<uint8_t>(image.begin() + 32, image.begin() + 32 + long(type0.size())) == type0);
    CHECK(image.size() == 32 + 0x184);
}

TEST_CASE("SMBIOS: 5 GiB, 2 sockets of 2 cores x 2 threads, OEM strings, DIMM speed", "[smbios]") {
    SmbiosMachine m = small_machine();
    m.ram_size = 5ull << 30;
    m.ram_ranges = {{0, 3ull << 30}, {4ull << 30, 2ull << 30}};
    m.sockets = 2, m.cores_per_socket = 2, m.threads_per_socket = 4;
    SmbiosConfig c;
    c.type11 = {"hello", "world"};
    c.from_fields[11] = c.from_fields[17] = true;
    c.type17.speed = 1000;
    SmbiosTables t = build_smbios_tables(c, m);
    auto at = smbios::structure_offsets(t.tables);
    REQUIRE(at.size() == 11);
    auto bytes = [&](size_t i, size_t n) {
        return std::vector<uint8_t>(t.tables.begin() + long(at[i]), t.tables.begin() + long(at[i] + n));
    };
    CHECK(bytes(2, 0x2a) == unhex("042a000401030102b10f0600fdfb8b0703000000d007d0074101ffffffffffff00000002020402000100"));
    CHECK(bytes(3, 4) == unhex("042a0104"));
    CHECK(bytes(4, 5 + 13) == cat({unhex("0b05000e02"), strings({"hello", "world"})}));
    CHECK(bytes(5, 0x17) == unhex("1017001001030600005000feff01000000000000000000"));
    CHECK(bytes(6, 0x28) == unhex("112800110010feffffffffff001409000100070200e803020000000000000000e803000000000000"));
    CHECK(bytes(7, 0x1f) == unhex("131f001300000000ffff2f0000100100000000000000000000000000000000"));
    CHECK(bytes(8, 0x1f) == unhex("131f011300004000ffff5f0000100100000000000000000000000000000000"));
}

TEST_CASE("SMBIOS: given fields, type 0 from QEMU, UUID in wire order", "[smbios]") {
    SmbiosMachine m = small_machine();
    m.uuid = "12345678-9abc-def0-1122-334455667788";
    SmbiosConfig c;
    c.from_fields[0] = c.from_fields[1] = true;
    c.type0.vendor.emplace("V");
    c.type0.uefi = true;
    c.type0.release = {{3, 4}};
    c.type1.serial.emplace("S");
    c.type1.family.emplace();  // empty: no string
    SmbiosTables t = build_smbios_tables(c, m);
    const auto want0 = cat({unhex("00180000010000e80000080000000000000000" "1c" "0304ffff"), strings({"V"})});
    CHECK(std::vector<uint8_t>(t.tables.begin(), t.tables.begin() + long(want0.size())) == want0);
    auto at = smbios::structure_offsets(t.tables);
    auto type1 = std::vector<uint8_t>(t.tables.begin() + long(at[1]), t.tables.begin() + long(at[1] + 0x1b));
    CHECK(type1 == unhex("011b000101020304" "78563412bc9af0de1122334455667788" "060000"));
    // a type 0 of the VMM's own: the direct boot adds no SeaBIOS one
    CHECK(smbios_memory_image(t, 0xf0000, "x").size() == 32 + t.tables.size());
}

TEST_CASE("SMBIOS: huge RAM uses the extended size fields", "[smbios]") {
    SmbiosMachine m = small_machine();
    m.ram_size = 5ull << 40;  // 5 TiB: 320 DIMMs of 16 GiB, addresses past 4 TiB in KiB
    m.ram_ranges = {{0, 3ull << 30}, {4ull << 30, m.ram_size - (3ull << 30)}};
    SmbiosTables t = build_smbios_tables(SmbiosConfig{}, m);
    auto at = smbios::structure_offsets(t.tables);
    REQUIRE(at.size() == 4 + 320 + 2 + 2);
    const uint8_t* t16 = &t.tables[at[3]];
    CHECK(t16[0] == 16);
    CHECK(t16[7] == 0x00);
    CHECK(t16[10] == 0x80);  // 2 TiB in KiB: the field's maximum
    uint64_t extended;
    std::memcpy(&extended, t16 + 15, 8);
    CHECK(extended == m.ram_size);
    const uint8_t* t17 = &t.tables[at[4 + 319]];
    CHECK(t17[0] == 17);
    CHECK(t17[12] == 0x00);  // 16 GiB in MiB: past the field, in the extended size
    CHECK(t17[13] == 0x40);
    const uint8_t* t19 = &t.tables[at[4 + 320 + 1]];
    CHECK(t19[0] == 19);
    CHECK(t19[4] == 0xff);  // beyond 4 TiB in KiB: the extended addresses
    uint64_t end;
    std::memcpy(&end, t19 + 23, 8);
    CHECK(end == (4ull << 30) + m.ram_size - (3ull << 30) - 1);
}

TEST_CASE("SMBIOS: blobs go first and replace their type; a wrong type 4 count fails", "[smbios]") {
    SmbiosConfig c;
    c.blobs = {unhex("01050001" "41" "00" "0000")};  // a malformed-looking but accepted type 1
    c.from_file[1] = true;
    SmbiosTables t = build_smbios_tables(c, small_machine());
    CHECK(t.tables[0] == 1);
    CHECK(std::count(t.tables.begin(), t.tables.end(), 1) >= 1);
    CHECK(t.count == 8);
    SmbiosConfig four;
    four.blobs = {unhex("04040004" "0000")};
    four.from_file[4] = true;
    SmbiosMachine m = small_machine();
    m.sockets = 2;
    CHECK_THROWS_WITH(build_smbios_tables(four, m), "Expected 2 SMBIOS Type 4 tables, got 1 instead");
}

TEST_CASE("SMBIOS: the 3.0 entry point; tables too big for the F segment fail cleanly", "[smbios]") {
    SmbiosConfig c;
    c.entry_point = SmbiosConfig::EntryPoint::Bits64;
    SmbiosTables t = build_smbios_tables(c, small_machine());
    REQUIRE(t.anchor.size() == 24);
    // QEMU 7.2's type 4 for SMBIOS 3.0: 48 bytes, the 16-bit counts after family 2
    auto at = smbios::structure_offsets(t.tables);
    const uint8_t* t4 = &t.tables[at[2]];
    CHECK(std::vector<uint8_t>(t4, t4 + 0x30) ==
          unhex("0430000401030102b10f0600fdfb8b0703000000d007d0074101ffffffffffff00000002020202000100020002000200"));
    auto image = smbios_memory_image(t, 0xf0000, "");
    CHECK(std::string(image.begin(), image.begin() + 5) == "_SM3_");
    CHECK(sum(image, 0, 24) == 0);
    uint64_t addr;
    std::memcpy(&addr, &image[16], 8);
    CHECK(addr == 0xf0020);

    SmbiosConfig big;
    big.from_fields[11] = true;
    big.type11.assign(300, std::string(300, 'x'));  // 90 KB of OEM strings
    CHECK_THROWS_WITH(build_smbios_tables(big, small_machine()),
                      "SMBIOS 2.1 table length 90627 exceeds 65535");  // QEMU 7.2's check
    big.entry_point = SmbiosConfig::EntryPoint::Bits64;
    SmbiosTables bt = build_smbios_tables(big, small_machine());
    bt.anchor = build_smbios_tables(SmbiosConfig{}, small_machine()).anchor;  // a 2.1 one after all
    CHECK_THROWS_WITH(smbios_memory_image(bt, 0xf0000, ""), Catch::Contains("SMBIOS 2.1 entry point"));
    MemoryConfig mc;
    mc.size = 128ull << 20;
    GuestMemory mem = GuestMemory::create_pc(mc);
    CHECK_THROWS_WITH(install_smbios(mem, build_smbios_tables(big, small_machine()), ""),
                      Catch::Contains("do not fit in the 64 KiB F segment"));
}

TEST_CASE("SMBIOS: malformed tables are recognised, not walked past their end", "[smbios]") {
    CHECK(smbios::structure_offsets(unhex("0102")) == std::vector<size_t>{size_t(-1)});
    CHECK(smbios::structure_offsets(unhex("01020000")) == std::vector<size_t>{size_t(-1)});   // length < 4
    CHECK(smbios::structure_offsets(unhex("01ff00000000")) == std::vector<size_t>{size_t(-1)});  // past the end
    CHECK(smbios::structure_offsets(unhex("0104000041")) == std::vector<size_t>{size_t(-1)});  // no double NUL
    // a blob the direct boot cannot walk still gets SeaBIOS's type 0 (as SeaBIOS: it looks only for type 0)
    SmbiosTables t;
    t.tables = unhex("01ff0000");
    t.anchor = std::vector<uint8_t>(31, 0);
    std::memcpy(t.anchor.data(), "_SM_", 4);
    CHECK(smbios_memory_image(t, 0xf0000, "v")[32] == 0);
}

TEST_CASE("SMBIOS: the SeaBIOS version comes after the image's build info", "[smbios]") {
    auto bytes = [](const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); };
    const std::string info = "gcc: (Debian 12.2.0-14) 12.2.0 binutils: (GNU Binutils for Debian) 2.40";
    CHECK(seabios_version_of(bytes(std::string(100, '\x90') + info + '\0' + "1.16.2-debian-1.16.2-1" + '\0')) ==
          "1.16.2-debian-1.16.2-1");
    CHECK(seabios_version_of(bytes(info + '\0' + "1.16")).empty());            // cut off
    CHECK(seabios_version_of(bytes(info + '\0' + '\0')).empty());              // empty
    CHECK(seabios_version_of(bytes(info + '\0' + "\x01\x02" + '\0')).empty());  // not text
    CHECK(seabios_version_of(bytes("SeaBIOS (version %s)")).empty());
    CHECK(seabios_version_of({}).empty());
}

TEST_CASE("SMBIOS: the SeaBIOS version read from a file, wherever it lies", "[smbios]") {
    const std::string info = "gcc: (Debian 12.2.0-14) 12.2.0 binutils: (GNU Binutils for Debian) 2.40";
    const std::string found = info + '\0' + "1.16.2-debian-1.16.2-1" + '\0';
    const std::string path = "/tmp/kestrel-smbios-version-" + std::to_string(getpid());
    const size_t size = 40000, window = 16384;
    // across the last and the second-to-last window's borders, at both ends, nowhere
    for (size_t at : {size - window - 50, size - 2 * window - 90, size - found.size(), size_t(0), size}) {
        std::string image(size, '\x90');
        if (at < size) image.replace(at, found.size(), found);
        std::FILE* f = std::fopen(path.c_str(), "wb");
        REQUIRE(f);
        std::fwrite(image.data(), 1, image.size(), f);
        std::fclose(f);
        CHECK(seabios_version_of_file(path) == (at < size ? "1.16.2-debian-1.16.2-1" : ""));
    }
    std::remove(path.c_str());
    CHECK(seabios_version_of_file(path).empty());
}

TEST_CASE("SMBIOS: type 41 onboard devices as QEMU 7.2 builds them", "[smbios]") {
    SmbiosMachine m = small_machine();
    m.pci_devices = {{"lan0", 0x28}};
    SmbiosConfig c;
    c.from_fields[41] = true;
    SmbiosType41Device lan;
    lan.designation.emplace("Onboard LAN");
    lan.kind = 5, lan.instance = 3;
    lan.pcidev.emplace("lan0");
    c.type41 = {lan, SmbiosType41Device{}};
    SmbiosTables t = build_smbios_tables(c, m);
    auto at = smbios::structure_offsets(t.tables);
    REQUIRE(at.size() == 10);
    auto bytes = [&](size_t i, size_t n) {
        return std::vector<uint8_t>(t.tables.begin() + long(at[i]), t.tables.begin() + long(at[i] + n));
    };
    CHECK(bytes(7, 0x0b + 13) == cat({unhex("290b002901850300000028"), strings({"Onboard LAN"})}));
    CHECK(bytes(8, 0x0b + 2) == cat({unhex("290b012900810100000000"), strings({})}));
    CHECK(t.tables[at[9]] == 127);
    c.type41[0].pcidev.emplace("nope");
    CHECK_THROWS_WITH(build_smbios_tables(c, m), "No PCI device nope for SMBIOS type 41 entry Onboard LAN");
}
