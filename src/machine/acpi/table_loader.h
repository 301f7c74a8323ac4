#pragma once
// QEMU's BIOS linker/loader script ("etc/table-loader"): 128-byte commands
// telling the firmware (SeaBIOS, OVMF) to allocate fw_cfg files in guest
// memory, patch pointers between them, and fix checksums afterwards. This
// is how firmware gets the machine's ACPI tables.
#include <cstdint>
#include <string_view>
#include <vector>

namespace kestrel::acpi {

class TableLoader {
public:
    static constexpr uint32_t ALLOCATE = 1, ADD_POINTER = 2, ADD_CHECKSUM = 3;
    static constexpr uint8_t ZONE_HIGH = 1, ZONE_FSEG = 2;  // FSEG: 0xe0000-0xfffff
    static constexpr size_t ENTRY_SIZE = 128, FILE_NAME_SIZE = 56;

    // Allocates `file` aligned to `align` bytes in `zone` and loads it there.
    void allocate(std::string_view file, uint32_t align, uint8_t zone);
    // Adds the address `source` got to the `size`-byte little-endian value
    // at `offset` in `dest` (which holds an offset into `source`).
    void add_pointer(std::string_view dest, std::string_view source, uint32_t offset, uint8_t size);
    // Sets the byte at `offset` so that [start, start + length) of `file` sums to 0.
    void add_checksum(std::string_view file, uint32_t offset, uint32_t start, uint32_t length);

    const std::vector<uint8_t>& bytes() const { return bytes_; }

private:
    uint8_t* add_entry(uint32_t command);
    std::vector<uint8_t> bytes_;
};

} // namespace kestrel::acpi
