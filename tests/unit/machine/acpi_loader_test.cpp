// The ACPI tables a BIOS gets through fw_cfg: running the linker/loader
// script the way SeaBIOS does must give the very bytes the direct boot
// writes, when the files land where the direct boot puts the tables.
#include "machine/acpi/acpi_tables.h"
#include "machine/acpi/table_loader.h"
#include "kvm/pc_memory_map.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <map>
#include <string>

using namespace kestrel;
using Loader = kestrel::acpi::TableLoader;

namespace {

struct LoadedFile {
    std::vector<uint8_t>* data;
    uint64_t address = 0;
};

std::string name_at(const uint8_t* p) {
    return std::string(reinterpret_cast<const char*>(p), strnlen(reinterpret_cast<const char*>(p), 56));
}

uint32_t u32_at(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

// SeaBIOS's romfile_loader, with the allocations placed at `addresses`.
void run_loader(const std::vector<uint8_t>& script, std::map<std::string, LoadedFile>& files,
                const std::map<std::string, uint64_t>& addresses, std::map<std::string, uint8_t>& zones) {
    REQUIRE(script.size() % Loader::ENTRY_SIZE == 0);
    for (size_t at = 0; at < script.size(); at += Loader::ENTRY_SIZE) {
        const uint8_t* e = script.data() + at;
        const uint8_t* body = e + 4;
        switch (u32_at(e)) {
        case Loader::ALLOCATE: {
            std::string file = name_at(body);
            REQUIRE(files.count(file));
            uint32_t align = u32_at(body + 56);
            CHECK(addresses.at(file) % align == 0);
            files[file].address = addresses.at(file);
            zones[file] = body[60];
            break;
        }
        case Loader::ADD_POINTER: {
            LoadedFile& dest = files.at(name_at(body));
            const LoadedFile& src = files.at(name_at(body + 56));
            uint32_t offset = u32_at(body + 112);
            uint8_t size = body[116];
            REQUIRE((size == 1 || size == 2 || size == 4 || size == 8));
            REQUIRE(offset + size <= dest.data->size());
            uint64_t value = 0;
            std::memcpy(&value, dest.data->data() + offset, size);
            value += src.address;
            std::memcpy(dest.data->data() + offset, &value, size);
            break;
        }
        case Loader::ADD_CHECKSUM: {
            LoadedFile& f = files.at(name_at(body));
            uint32_t offset = u32_at(body + 56), start = u32_at(body + 60), length = u32_at(body + 64);
            REQUIRE(start + length <= f.data->size());
            REQUIRE(offset < f.data->size());
            uint8_t sum = 0;
            for (uint32_t i = 0; i < length; ++i) sum = uint8_t(sum + (*f.data)[start + i]);
            (*f.data)[offset] = uint8_t((*f.data)[offset] - sum);
            break;
        }
        default: FAIL("unknown loader command");
        }
    }
}

} // namespace

TEST_CASE("ACPI through the table loader equals the direct boot's tables") {
    MemoryConfig mc;
    mc.size = 256ull << 20;
    GuestMemory mem = GuestMemory::create_pc(mc);
    AcpiConfig cfg;
    cfg.smp.cpus = cfg.smp.maxcpus = 2;
    cfg.serial_ports = 1;
    uint64_t rsdp = build_acpi_tables(mem, cfg);
    REQUIRE(rsdp == pc::BIOS_AREA_START);

    AcpiFwCfgFiles files = build_acpi_fw_cfg_files(mem.below_4g(), cfg);
    // The direct boot puts the RSDP first and the FACS (64-byte aligned) next.
    const uint64_t tables_at = pc::BIOS_AREA_START + 64;
    std::map<std::string, LoadedFile> loaded{{AcpiFwCfgFiles::TABLES, {&files.tables}},
                                             {AcpiFwCfgFiles::RSDP, {&files.rsdp}}};
    std::map<std::string, uint8_t> zones;
    run_loader(files.loader, loaded,
               {{AcpiFwCfgFiles::TABLES, tables_at}, {AcpiFwCfgFiles::RSDP, pc::BIOS_AREA_START}}, zones);
    CHECK(zones[AcpiFwCfgFiles::TABLES] == Loader::ZONE_HIGH);
    CHECK(zones[AcpiFwCfgFiles::RSDP] == Loader::ZONE_FSEG);

    std::vector<uint8_t> direct_rsdp(36), direct_tables(files.tables.size());
    REQUIRE(mem.read(pc::BIOS_AREA_START, direct_rsdp));
    REQUIRE(mem.read(tables_at, direct_tables));
    CHECK(files.rsdp == direct_rsdp);
    CHECK(files.tables == direct_tables);
}

TEST_CASE("table loader commands are 128 bytes with QEMU's layout") {
    Loader l;
    l.allocate("etc/acpi/tables", 64, Loader::ZONE_HIGH);
    l.add_pointer("a", "b", 0x1234, 4);
    l.add_checksum("c", 9, 0, 100);
    const auto& b = l.bytes();
    REQUIRE(b.size() == 3 * 128);
    CHECK(u32_at(b.data()) == 1);
    CHECK(name_at(b.data() + 4) == "etc/acpi/tables");
    CHECK(u32_at(b.data() + 60) == 64);
    CHECK(b[64] == 1);
    CHECK(u32_at(b.data() + 128) == 2);
    CHECK(name_at(b.data() + 132) == "a");
    CHECK(name_at(b.data() + 188) == "b");
    CHECK(u32_at(b.data() + 244) == 0x1234);
    CHECK(b[248] == 4);
    CHECK(u32_at(b.data() + 256) == 3);
    CHECK(u32_at(b.data() + 316) == 9);
    CHECK(u32_at(b.data() + 320) == 0);
    CHECK(u32_at(b.data() + 324) == 100);
}
