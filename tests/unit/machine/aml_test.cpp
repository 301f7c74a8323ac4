// The AML encoder and the DSDT's CPU hotplug part: encodings at their
// size boundaries, and a DSDT that has QEMU's CPU hotplug objects only
// when vCPUs can be added, with a consistent header either way.
#include "machine/acpi/acpi_table.h"
#include "machine/acpi/aml.h"
#include "machine/acpi/tables.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <string>

using namespace kestrel::acpi;
namespace aml = kestrel::acpi::aml;
using Bytes = aml::Bytes;

namespace {

size_t count_of(const std::vector<uint8_t>& hay, std::string_view needle) {
    size_t n = 0;
    for (auto it = hay.begin(); (it = std::search(it, hay.end(), needle.begin(), needle.end())) != hay.end(); ++it) ++n;
    return n;
}

uint32_t header_length(const std::vector<uint8_t>& table) {
    uint32_t length;
    std::memcpy(&length, table.data() + LENGTH_OFFSET, 4);
    return length;
}

} // namespace

TEST_CASE("aml: integers take the smallest encoding", "[aml]") {
    CHECK(aml::integer(0) == Bytes{0x00});
    CHECK(aml::integer(1) == Bytes{0x01});
    CHECK(aml::integer(2) == Bytes{0x0a, 2});
    CHECK(aml::integer(0x100) == Bytes{0x0b, 0x00, 0x01});
    CHECK(aml::integer(0xaf00) == Bytes{0x0b, 0x00, 0xaf});
    CHECK(aml::integer(0x10000) == Bytes{0x0c, 0, 0, 1, 0});
    CHECK(aml::integer(1ull << 32).size() == 9);
}

TEST_CASE("aml: names with root, dual and multi prefixes", "[aml]") {
    CHECK(aml::name("CSEL") == Bytes{'C', 'S', 'E', 'L'});
    CHECK(aml::name("_SB") == Bytes{'_', 'S', 'B', '_'});
    CHECK(aml::name("\\_SB.CPUS") == Bytes{'\\', 0x2e, '_', 'S', 'B', '_', 'C', 'P', 'U', 'S'});
    Bytes multi = aml::name("\\_SB.PCI0.PRES.CSEL");
    CHECK(multi.size() == 3 + 16);
    CHECK(multi[1] == 0x2f);
    CHECK(multi[2] == 4);
    CHECK_THROWS(aml::name("TOOLONG"));
}

TEST_CASE("aml: package lengths count themselves across the 1-byte boundary", "[aml]") {
    // Scope: opcode, PkgLength, name (4), body.
    Bytes small = aml::scope("ABCD", Bytes(58, 0xa3));  // 1 + 4 + 58 = 63: one byte
    CHECK(small[1] == 63);
    Bytes big = aml::scope("ABCD", Bytes(59, 0xa3));  // 2 + 4 + 59 = 65: two bytes
    CHECK(big.size() == 1 + 65);
    CHECK((big[1] >> 6) == 1);
    CHECK(((big[1] & 0xf) | big[2] << 4) == 65);
    Bytes huge = aml::scope("ABCD", Bytes(5000, 0xa3));
    CHECK((huge[1] >> 6) == 2);
    CHECK(huge.size() == 1 + 3 + 4 + 5000);
}

TEST_CASE("aml: EISA IDs as QEMU and iasl encode them", "[aml]") {
    CHECK(aml::eisa_id("PNP0A06") == Bytes{0x0c, 0x41, 0xd0, 0x0a, 0x06});
    CHECK(aml::eisa_id("PNP0A05") == Bytes{0x0c, 0x41, 0xd0, 0x0a, 0x05});
}

TEST_CASE("dsdt: CPU hotplug objects only when vCPUs can be added", "[aml]") {
    std::vector<uint8_t> plain = build_dsdt(0x80000000, 1);
    CHECK(count_of(plain, "CSCN") == 0);
    CHECK(count_of(plain, "PRES") == 0);
    const uint32_t ids[] = {0, 1, 2, 3};
    std::vector<uint8_t> hp = build_dsdt(0x80000000, 1, 0, ids);
    CHECK(header_length(hp) == hp.size());
    CHECK(sums_to_zero(hp));
    CHECK(std::equal(plain.begin() + HEADER_SIZE, plain.end(), hp.begin() + HEADER_SIZE));  // appended
    for (const char* name : {"C000", "C001", "C002", "C003"}) CHECK(count_of(hp, name) == 2);  // object, CTFY
    CHECK(count_of(hp, "C004") == 0);
    CHECK(count_of(hp, "_E02") == 1);
    CHECK(count_of(hp, "_EJ0") >= 3);  // every CPU but the boot one (and the PCI slots')
    CHECK(count_of(hp, "ACPI0010") == 1);
}

TEST_CASE("dsdt: CPUs past the xAPIC range are ACPI0007 devices with x2APIC _MAT", "[aml]") {
    std::vector<uint32_t> ids(300);
    for (uint32_t i = 0; i < ids.size(); ++i) ids[i] = i;
    std::vector<uint8_t> hp = build_dsdt(0x80000000, 1, 0, ids);
    CHECK(header_length(hp) == hp.size());
    CHECK(count_of(hp, "ACPI0007") == 300 - 255);
    CHECK(count_of(hp, "C12B") == 2);  // CPU 299
}
