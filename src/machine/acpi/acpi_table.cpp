#include "machine/acpi/acpi_table.h"

namespace kestrel::acpi {

uint8_t checksum_of(std::span<const uint8_t> bytes) {
    uint8_t sum = 0;
    for (uint8_t b : bytes) sum = uint8_t(sum + b);
    return uint8_t(-sum);
}

bool sums_to_zero(std::span<const uint8_t> bytes) { return checksum_of(bytes) == 0; }

void fix_checksum(std::span<uint8_t> table) {
    table[CHECKSUM_OFFSET] = 0;
    table[CHECKSUM_OFFSET] = checksum_of(table);
}

TableBuilder::TableBuilder(std::string_view signature, uint8_t revision) {
    text(signature, 4);
    u32(0);  // length, set by finish()
    u8(revision);
    u8(0);   // checksum, set by finish()
    text(OEM_ID, 6);
    text(OEM_TABLE_ID, 8);
    u32(OEM_REVISION);
    text(CREATOR_ID, 4);
    u32(CREATOR_REVISION);
}

void TableBuilder::text(std::string_view s, size_t width) {
    for (size_t i = 0; i < width; i++) u8(i < s.size() ? uint8_t(s[i]) : ' ');
}

void TableBuilder::gas(const Gas& g) {
    u8(g.space);
    u8(g.bit_width);
    u8(g.bit_offset);
    u8(g.access_size);
    u64(g.address);
}

std::vector<uint8_t> TableBuilder::finish() {
    uint32_t len = uint32_t(bytes_.size());
    std::memcpy(bytes_.data() + LENGTH_OFFSET, &len, sizeof len);
    fix_checksum(bytes_);
    return std::move(bytes_);
}

} // namespace kestrel::acpi
