#include "machine/acpi/table_loader.h"

#include <cstring>
#include <stdexcept>

namespace kestrel::acpi {
namespace {

void put_name(uint8_t* at, std::string_view name) {
    if (name.size() >= TableLoader::FILE_NAME_SIZE) throw std::invalid_argument("fw_cfg file name too long");
    std::memcpy(at, name.data(), name.size());
}

void put_u32(uint8_t* at, uint32_t value) { std::memcpy(at, &value, 4); }

} // namespace

uint8_t* TableLoader::add_entry(uint32_t command) {
    size_t at = bytes_.size();
    bytes_.resize(at + ENTRY_SIZE, 0);
    put_u32(bytes_.data() + at, command);
    return bytes_.data() + at + 4;
}

void TableLoader::allocate(std::string_view file, uint32_t align, uint8_t zone) {
    uint8_t* e = add_entry(ALLOCATE);
    put_name(e, file);
    put_u32(e + FILE_NAME_SIZE, align);
    e[FILE_NAME_SIZE + 4] = zone;
}

void TableLoader::add_pointer(std::string_view dest, std::string_view source, uint32_t offset, uint8_t size) {
    uint8_t* e = add_entry(ADD_POINTER);
    put_name(e, dest);
    put_name(e + FILE_NAME_SIZE, source);
    put_u32(e + 2 * FILE_NAME_SIZE, offset);
    e[2 * FILE_NAME_SIZE + 4] = size;
}

void TableLoader::add_checksum(std::string_view file, uint32_t offset, uint32_t start, uint32_t length) {
    uint8_t* e = add_entry(ADD_CHECKSUM);
    put_name(e, file);
    put_u32(e + FILE_NAME_SIZE, offset);
    put_u32(e + FILE_NAME_SIZE + 4, start);
    put_u32(e + FILE_NAME_SIZE + 8, length);
}

} // namespace kestrel::acpi
