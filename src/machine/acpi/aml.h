#pragma once
// A small AML encoder (ACPI 6.x section 20): the terms kestrel generates
// at run time for what its compiled DSDT cannot know in advance (one
// processor object per possible vCPU). Each function returns the encoded
// bytes of one term; bodies are the concatenation of their terms.
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>
#include <vector>

namespace kestrel::acpi::aml {

using Bytes = std::vector<uint8_t>;

Bytes join(std::initializer_list<Bytes> terms);

// "\\_SB.CPUS", "CSEL", "^PRES": root/parent prefixes, dotted NameSegs.
Bytes name(std::string_view path);
Bytes integer(uint64_t value);
Bytes string(std::string_view text);
Bytes eisa_id(std::string_view id);  // "PNP0A06"
Bytes buffer(std::span<const uint8_t> bytes);
Bytes arg(unsigned n);
Bytes local(unsigned n);

Bytes name_decl(std::string_view path, const Bytes& object);
Bytes scope(std::string_view path, const Bytes& body);
Bytes device(std::string_view path, const Bytes& body);
Bytes processor(std::string_view path, uint8_t id, const Bytes& body);
Bytes method(std::string_view path, unsigned args, bool serialized, const Bytes& body);
Bytes mutex(std::string_view path, uint8_t sync_level);

enum class RegionSpace : uint8_t { SystemMemory = 0, SystemIo = 1 };
Bytes operation_region(std::string_view path, RegionSpace space, uint64_t offset, uint64_t length);
enum class FieldAccess : uint8_t { Any = 0, Byte = 1, Word = 2, Dword = 3 };
enum class FieldUpdate : uint8_t { Preserve = 0, WriteAsOnes = 1, WriteAsZeros = 2 };
struct FieldUnit {
    std::string_view name;  // empty: reserved bits
    unsigned bits;
};
Bytes field(std::string_view region, FieldAccess access, FieldUpdate update, std::initializer_list<FieldUnit> units);

Bytes store(const Bytes& source, const Bytes& target);
Bytes acquire(std::string_view mutex_path, uint16_t timeout);
Bytes release(std::string_view mutex_path);
Bytes if_(const Bytes& predicate, const Bytes& body);
Bytes else_(const Bytes& body);
Bytes while_(const Bytes& predicate, const Bytes& body);
Bytes equal(const Bytes& a, const Bytes& b);
Bytes notify(const Bytes& object, const Bytes& value);
Bytes return_(const Bytes& value);
// A method invocation: its name, then its arguments.
Bytes call(std::string_view path, std::initializer_list<Bytes> args = {});

// ResourceTemplate () { IO (Decode16, base, base, 1, length) }
Bytes io_resource(uint16_t base, uint8_t length);

} // namespace kestrel::acpi::aml
