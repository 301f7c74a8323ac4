#pragma once
// Byte-level building blocks for ACPI tables: the common 36-byte header,
// little-endian appends, Generic Address Structures and checksums.
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

namespace kestrel::acpi {

constexpr std::string_view OEM_ID = "KESTRL";        // 6 chars
constexpr std::string_view OEM_TABLE_ID = "KESTRLPC"; // 8 chars
constexpr std::string_view CREATOR_ID = "KSTL";       // 4 chars
constexpr uint32_t OEM_REVISION = 1;
constexpr uint32_t CREATOR_REVISION = 1;
constexpr size_t HEADER_SIZE = 36;
constexpr size_t CHECKSUM_OFFSET = 9;
constexpr size_t LENGTH_OFFSET = 4;

// Generic Address Structure (12 bytes).
struct Gas {
    enum Space : uint8_t { SystemMemory = 0, SystemIo = 1 };
    enum Access : uint8_t { Undefined = 0, Byte = 1, Word = 2, Dword = 3, Qword = 4 };
    uint8_t space = SystemMemory;
    uint8_t bit_width = 0;
    uint8_t bit_offset = 0;
    uint8_t access_size = Undefined;
    uint64_t address = 0;

    static Gas io(uint64_t port, unsigned bytes, uint8_t access = Undefined) {
        return {SystemIo, uint8_t(bytes * 8), 0, access, port};
    }
};

// The byte that makes `bytes` sum to zero when stored in place of a zero.
uint8_t checksum_of(std::span<const uint8_t> bytes);
// Recomputes the header checksum of a complete table (after patching).
void fix_checksum(std::span<uint8_t> table);
// True if all bytes of `bytes` sum to zero modulo 256.
bool sums_to_zero(std::span<const uint8_t> bytes);

class TableBuilder {
public:
    TableBuilder(std::string_view signature, uint8_t revision);

    void u8(uint8_t v) { bytes_.push_back(v); }
    void u16(uint16_t v) { append(v); }
    void u32(uint32_t v) { append(v); }
    void u64(uint64_t v) { append(v); }
    void zeros(size_t n) { bytes_.insert(bytes_.end(), n, 0); }
    void text(std::string_view s, size_t width);  // space-padded
    void gas(const Gas& g);
    size_t size() const { return bytes_.size(); }

    // Sets length and checksum and hands out the table.
    std::vector<uint8_t> finish();

private:
    template <typename T> void append(T v) {
        uint8_t b[sizeof v];
        std::memcpy(b, &v, sizeof v);
        bytes_.insert(bytes_.end(), b, b + sizeof v);
    }
    std::vector<uint8_t> bytes_;
};

} // namespace kestrel::acpi
