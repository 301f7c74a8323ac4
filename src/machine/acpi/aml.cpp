#include "machine/acpi/aml.h"

#include <stdexcept>
#include <string>

namespace kestrel::acpi::aml {

namespace {

enum : uint8_t {
    ZERO_OP = 0x00, ONE_OP = 0x01, NAME_OP = 0x08, BYTE_PREFIX = 0x0a, WORD_PREFIX = 0x0b,
    DWORD_PREFIX = 0x0c, STRING_PREFIX = 0x0d, QWORD_PREFIX = 0x0e, SCOPE_OP = 0x10,
    BUFFER_OP = 0x11, METHOD_OP = 0x14, DUAL_NAME_PREFIX = 0x2e, MULTI_NAME_PREFIX = 0x2f,
    EXT_OP_PREFIX = 0x5b, ROOT_CHAR = 0x5c, PARENT_PREFIX = 0x5e, LOCAL0_OP = 0x60, ARG0_OP = 0x68,
    STORE_OP = 0x70, NOTIFY_OP = 0x86, LEQUAL_OP = 0x93, IF_OP = 0xa0, ELSE_OP = 0xa1,
    WHILE_OP = 0xa2, RETURN_OP = 0xa4,
    // after EXT_OP_PREFIX
    MUTEX_OP = 0x01, ACQUIRE_OP = 0x23, RELEASE_OP = 0x27, REGION_OP = 0x80, FIELD_OP = 0x81,
    DEVICE_OP = 0x82, PROCESSOR_OP = 0x83,
};

void append(Bytes& out, const Bytes& more) { out.insert(out.end(), more.begin(), more.end()); }

// PkgLength holding `value` as is (field units count bits so).
Bytes raw_length(size_t value) {
    if (value < 0x40) return {uint8_t(value)};
    if (value >= (size_t(1) << 28)) throw std::length_error("AML package too long");
    unsigned extra = value < (1u << 12) ? 1 : value < (1u << 20) ? 2 : 3;
    Bytes out{uint8_t((extra << 6) | (value & 0xf))};
    for (unsigned i = 0; i < extra; ++i) out.push_back(uint8_t(value >> (4 + 8 * i)));
    return out;
}

// A package: its opcode bytes, the PkgLength (counting itself), the body.
Bytes package(Bytes opcode, const Bytes& body) {
    size_t size = body.size() + 1;
    while (raw_length(size).size() + body.size() != size) size = raw_length(size).size() + body.size();
    append(opcode, raw_length(size));
    append(opcode, body);
    return opcode;
}

Bytes name_seg(std::string_view seg) {
    if (seg.empty() || seg.size() > 4) throw std::invalid_argument("bad AML NameSeg '" + std::string(seg) + "'");
    Bytes out(4, '_');
    for (size_t i = 0; i < seg.size(); ++i) out[i] = uint8_t(seg[i]);
    return out;
}

} // namespace

Bytes join(std::initializer_list<Bytes> terms) {
    Bytes out;
    for (const Bytes& t : terms) append(out, t);
    return out;
}

Bytes name(std::string_view path) {
    Bytes out;
    if (path.starts_with('\\')) {
        out.push_back(ROOT_CHAR);
        path.remove_prefix(1);
    }
    while (path.starts_with('^')) {
        out.push_back(PARENT_PREFIX);
        path.remove_prefix(1);
    }
    std::vector<Bytes> segs;
    for (size_t dot; (dot = path.find('.')) != std::string_view::npos; path.remove_prefix(dot + 1))
        segs.push_back(name_seg(path.substr(0, dot)));
    if (!path.empty()) segs.push_back(name_seg(path));
    if (segs.size() == 2) out.push_back(DUAL_NAME_PREFIX);
    if (segs.size() > 2) out.insert(out.end(), {MULTI_NAME_PREFIX, uint8_t(segs.size())});
    if (segs.empty()) out.push_back(0);  // NullName
    for (const Bytes& s : segs) append(out, s);
    return out;
}

Bytes integer(uint64_t v) {
    if (v == 0) return {ZERO_OP};
    if (v == 1) return {ONE_OP};
    auto le = [&](uint8_t prefix, unsigned bytes) {
        Bytes out{prefix};
        for (unsigned i = 0; i < bytes; ++i) out.push_back(uint8_t(v >> (8 * i)));
        return out;
    };
    if (v <= 0xff) return le(BYTE_PREFIX, 1);
    if (v <= 0xffff) return le(WORD_PREFIX, 2);
    if (v <= 0xffffffff) return le(DWORD_PREFIX, 4);
    return le(QWORD_PREFIX, 8);
}

Bytes string(std::string_view text) {
    Bytes out{STRING_PREFIX};
    for (char c : text) out.push_back(uint8_t(c));
    out.push_back(0);
    return out;
}

// Three 5-bit letters and four hex digits, stored big-endian.
Bytes eisa_id(std::string_view id) {
    if (id.size() != 7) throw std::invalid_argument("bad EISA ID");
    uint32_t v = uint32_t((id[0] - 0x40) & 0x1f) << 26 | uint32_t((id[1] - 0x40) & 0x1f) << 21 |
                 uint32_t((id[2] - 0x40) & 0x1f) << 16 | uint32_t(std::stoul(std::string(id.substr(3)), nullptr, 16));
    uint32_t swapped = (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24);
    return integer(swapped);
}

Bytes buffer(std::span<const uint8_t> bytes) {
    Bytes body = integer(bytes.size());
    body.insert(body.end(), bytes.begin(), bytes.end());
    return package({BUFFER_OP}, body);
}

Bytes arg(unsigned n) { return {uint8_t(ARG0_OP + n)}; }
Bytes local(unsigned n) { return {uint8_t(LOCAL0_OP + n)}; }

Bytes name_decl(std::string_view path, const Bytes& object) { return join({{NAME_OP}, name(path), object}); }
Bytes scope(std::string_view path, const Bytes& body) { return package({SCOPE_OP}, join({name(path), body})); }
Bytes device(std::string_view path, const Bytes& body) {
    return package({EXT_OP_PREFIX, DEVICE_OP}, join({name(path), body}));
}

// No processor register block (address and length 0), as QEMU's.
Bytes processor(std::string_view path, uint8_t id, const Bytes& body) {
    return package({EXT_OP_PREFIX, PROCESSOR_OP}, join({name(path), {id, 0, 0, 0, 0, 0}, body}));
}

Bytes method(std::string_view path, unsigned args, bool serialized, const Bytes& body) {
    uint8_t flags = uint8_t((args & 7) | (serialized ? 1u << 3 : 0));
    return package({METHOD_OP}, join({name(path), {flags}, body}));
}

Bytes mutex(std::string_view path, uint8_t sync_level) {
    return join({{EXT_OP_PREFIX, MUTEX_OP}, name(path), {uint8_t(sync_level & 0xf)}});
}

Bytes operation_region(std::string_view path, RegionSpace space, uint64_t offset, uint64_t length) {
    return join({{EXT_OP_PREFIX, REGION_OP}, name(path), {uint8_t(space)}, integer(offset), integer(length)});
}

Bytes field(std::string_view region, FieldAccess access, FieldUpdate update, std::initializer_list<FieldUnit> units) {
    Bytes body = name(region);
    body.push_back(uint8_t(uint8_t(access) | uint8_t(update) << 5));  // NoLock
    for (const FieldUnit& u : units) {
        append(body, u.name.empty() ? Bytes{0} : name_seg(u.name));
        append(body, raw_length(u.bits));
    }
    return package({EXT_OP_PREFIX, FIELD_OP}, body);
}

Bytes store(const Bytes& source, const Bytes& target) { return join({{STORE_OP}, source, target}); }
Bytes acquire(std::string_view mutex_path, uint16_t timeout) {
    return join({{EXT_OP_PREFIX, ACQUIRE_OP}, name(mutex_path), {uint8_t(timeout), uint8_t(timeout >> 8)}});
}
Bytes release(std::string_view mutex_path) { return join({{EXT_OP_PREFIX, RELEASE_OP}, name(mutex_path)}); }
Bytes if_(const Bytes& predicate, const Bytes& body) { return package({IF_OP}, join({predicate, body})); }
Bytes else_(const Bytes& body) { return package({ELSE_OP}, body); }
Bytes while_(const Bytes& predicate, const Bytes& body) { return package({WHILE_OP}, join({predicate, body})); }
Bytes equal(const Bytes& a, const Bytes& b) { return join({{LEQUAL_OP}, a, b}); }
Bytes notify(const Bytes& object, const Bytes& value) { return join({{NOTIFY_OP}, object, value}); }
Bytes return_(const Bytes& value) { return join({{RETURN_OP}, value}); }

Bytes call(std::string_view path, std::initializer_list<Bytes> args) {
    Bytes out = name(path);
    for (const Bytes& a : args) append(out, a);
    return out;
}

Bytes io_resource(uint16_t base, uint8_t length) {
    constexpr uint8_t IO_DESCRIPTOR = 0x47, DECODE16 = 1, END_TAG = 0x79;
    const uint8_t lo = uint8_t(base), hi = uint8_t(base >> 8);
    const Bytes descriptors{IO_DESCRIPTOR, DECODE16, lo, hi, lo, hi, 1, length, END_TAG, 0};
    return buffer(descriptors);
}

} // namespace kestrel::acpi::aml
