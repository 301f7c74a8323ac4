#include "machine/smbios/smbios_tables.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace kestrel {
namespace {

constexpr uint64_t KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;
constexpr uint64_t DIMM_MAX = 16 * GiB;          // QEMU's DIMM size for type 17
constexpr uint64_t T16_MAX_KB = 0x80000000;      // 2 TiB in KiB: beyond it, the extended field
constexpr uint64_t T17_MAX_MB = 0x7fff;          // 32 GiB - 1 MiB in MiB: likewise

// One structure: its formatted part, then its strings (numbered from 1).
class Structure {
public:
    Structure(uint8_t type, uint8_t length, uint16_t handle) : bytes_(length, 0) {
        bytes_[0] = type;
        bytes_[1] = length;
        u16(2, handle);
    }
    void u8(size_t at, uint8_t v) { bytes_[at] = v; }
    void u16(size_t at, uint16_t v) { std::memcpy(&bytes_[at], &v, 2); }
    void u32(size_t at, uint32_t v) { std::memcpy(&bytes_[at], &v, 4); }
    void u64(size_t at, uint64_t v) { std::memcpy(&bytes_[at], &v, 8); }
    // An empty or missing string is "no string" (0), as QEMU's.
    void str(size_t at, const SmbiosText& text) {
        if (!text || text->empty()) return;
        strings_.insert(strings_.end(), text->begin(), text->end());
        strings_.push_back(0);
        bytes_[at] = ++count_;
    }
    void list_str(const std::string& text) {  // one of a counted list (type 11)
        if (text.empty()) return;
        strings_.insert(strings_.end(), text.begin(), text.end());
        strings_.push_back(0);
        ++count_;
    }
    std::vector<uint8_t> finish() && {
        bytes_.insert(bytes_.end(), strings_.begin(), strings_.end());
        bytes_.resize(bytes_.size() + (count_ ? 1 : 2), 0);  // the double NUL
        return std::move(bytes_);
    }

private:
    std::vector<uint8_t> bytes_, strings_;
    uint8_t count_ = 0;
};

SmbiosText or_default(const SmbiosText& given, const std::string& fallback) { return given ? given : fallback; }

std::vector<uint8_t> type0(const SmbiosConfig& c) {
    Structure s(0, 0x18, smbios::TYPE0_HANDLE);
    s.str(4, c.type0.vendor);
    s.str(5, c.type0.version);
    s.u16(6, 0xe800);  // starting segment, as SeaBIOS
    s.str(8, c.type0.date);
    s.u64(10, 0x08);   // characteristics: not supported
    s.u8(19, 0x14 | (c.type0.uefi ? 0x08 : 0));  // TCD/SVVP, virtual machine, UEFI
    if (c.type0.release) s.u8(20, c.type0.release->first), s.u8(21, c.type0.release->second);
    s.u8(22, 0xff);    // no embedded controller
    s.u8(23, 0xff);
    return std::move(s).finish();
}

// RFC 4122 text to SMBIOS 2.6's wire format (the first three fields little-endian).
void put_uuid(Structure& s, size_t at, const std::string& text) {
    uint8_t b[16] = {};
    for (size_t i = 0, n = 0; i + 1 < text.size() && n < 16; ++i) {
        if (text[i] == '-') continue;
        b[n++] = uint8_t(std::stoi(text.substr(i, 2), nullptr, 16));
        ++i;
    }
    std::reverse(b, b + 4);
    std::reverse(b + 4, b + 6);
    std::reverse(b + 6, b + 8);
    for (int i = 0; i < 16; ++i) s.u8(at + i, b[i]);
}

std::vector<uint8_t> type1(const SmbiosConfig& c, const SmbiosMachine& m, const SmbiosDefaults& d) {
    Structure s(1, 0x1b, 0x100);
    s.str(4, or_default(c.type1.manufacturer, d.manufacturer));
    s.str(5, or_default(c.type1.product, d.product));
    s.str(6, or_default(c.type1.version, d.version));
    s.str(7, c.type1.serial);
    if (!m.uuid.empty()) put_uuid(s, 8, m.uuid);
    s.u8(24, 0x06);  // wake-up: power switch
    s.str(25, c.type1.sku);
    s.str(26, c.type1.family);
    return std::move(s).finish();
}

std::vector<uint8_t> type2(const SmbiosConfig& c, const SmbiosDefaults& d) {
    Structure s(2, 0x0f, 0x200);
    s.str(4, or_default(c.type2.manufacturer, d.manufacturer));
    s.str(5, or_default(c.type2.product, d.product));
    s.str(6, or_default(c.type2.version, d.version));
    s.str(7, c.type2.serial);
    s.str(8, c.type2.asset);
    s.u8(9, 0x01);  // feature flags: a motherboard
    s.str(10, c.type2.location);
    s.u16(11, 0x300);  // its chassis: type 3
    s.u8(13, 0x0a);    // board type: motherboard
    return std::move(s).finish();
}

std::vector<uint8_t> type3(const SmbiosConfig& c, const SmbiosDefaults& d) {
    Structure s(3, 0x16, 0x300);
    s.str(4, or_default(c.type3.manufacturer, d.manufacturer));
    s.u8(5, 0x01);  // type: other
    s.str(6, or_default(c.type3.version, d.version));
    s.str(7, c.type3.serial);
    s.str(8, c.type3.asset);
    s.u8(9, 0x03);   // boot-up, power supply and thermal states: safe
    s.u8(10, 0x03);
    s.u8(11, 0x03);
    s.u8(12, 0x02);  // security status: unknown
    s.str(21, c.type3.sku);
    return std::move(s).finish();
}

std::vector<uint8_t> type4(const SmbiosConfig& c, const SmbiosMachine& m, const SmbiosDefaults& d, unsigned i) {
    // SMBIOS 3.0 adds 16-bit core and thread counts
    const bool v3 = c.entry_point == SmbiosConfig::EntryPoint::Bits64;
    Structure s(4, v3 ? 0x30 : 0x2a, uint16_t(0x400 + i));
    char socket[160];
    std::snprintf(socket, sizeof socket, "%s%2x", or_default(c.type4.sock_pfx, "CPU")->c_str(), i);
    s.str(4, std::string(socket));
    s.u8(5, 0x03);  // central processor
    s.u8(6, 0x01);  // family: other
    s.str(7, or_default(c.type4.manufacturer, d.manufacturer));
    s.u64(8, c.type4.processor_id ? c.type4.processor_id
                                  : m.cpuid_version | uint64_t(m.cpuid_features) << 32);
    s.str(16, or_default(c.type4.version, d.version));
    s.u16(20, c.type4.max_speed);
    s.u16(22, c.type4.current_speed);
    s.u8(24, 0x41);  // socket populated, CPU enabled
    s.u8(25, 0x01);  // upgrade: other
    s.u16(26, 0xffff);  // no L1, L2, L3 cache structures
    s.u16(28, 0xffff);
    s.u16(30, 0xffff);
    s.str(32, c.type4.serial);
    s.str(33, c.type4.asset);
    s.str(34, c.type4.part);
    s.u8(35, uint8_t(std::min(m.cores_per_socket, 0xffu)));
    s.u8(36, uint8_t(std::min(m.cores_per_socket, 0xffu)));
    s.u8(37, uint8_t(std::min(m.threads_per_socket, 0xffu)));
    s.u16(38, 0x02);  // characteristics: unknown
    s.u16(40, 0x01);  // family 2: other
    if (v3) {
        s.u16(42, uint16_t(std::min(m.cores_per_socket, 0xffffu)));
        s.u16(44, uint16_t(std::min(m.cores_per_socket, 0xffffu)));
        s.u16(46, uint16_t(std::min(m.threads_per_socket, 0xffffu)));
    }
    return std::move(s).finish();
}

std::vector<uint8_t> type8(const SmbiosType8Port& p, unsigned i) {
    Structure s(8, 0x09, uint16_t(i));  // QEMU 7.2 numbers them from 0, beside type 0's handle
    s.str(4, p.internal_reference);     // internal connector type: none
    s.str(6, p.external_reference);
    s.u8(7, p.connector_type);
    s.u8(8, p.port_type);
    return std::move(s).finish();
}

std::vector<uint8_t> type11(const std::vector<std::string>& values) {
    Structure s(11, 0x05, 0xe00);
    s.u8(4, uint8_t(values.size()));
    for (const std::string& v : values) s.list_str(v);
    return std::move(s).finish();
}

std::vector<uint8_t> type41(const SmbiosType41Device& dev, const SmbiosMachine& m, unsigned i) {
    Structure s(41, 0x0b, uint16_t(0x2900 + i));
    s.str(4, dev.designation);
    s.u8(5, dev.kind | 0x80);  // enabled
    s.u8(6, dev.instance);
    if (dev.pcidev) {          // segment 0, bus 0: the pc's one PCI bus
        auto it = std::find_if(m.pci_devices.begin(), m.pci_devices.end(),
                               [&](const SmbiosMachine::PciDevice& d) { return d.id == *dev.pcidev; });
        if (it == m.pci_devices.end())
            throw std::runtime_error("No PCI device " + *dev.pcidev + " for SMBIOS type 41 entry " +
                                     dev.designation.value_or("(null)"));
        s.u8(10, it->devfn);
    }
    return std::move(s).finish();
}

std::vector<uint8_t> type16(uint64_t ram_size, unsigned dimms) {
    Structure s(16, 0x17, 0x1000);
    s.u8(4, 0x01);  // location: other
    s.u8(5, 0x03);  // use: system memory
    s.u8(6, 0x06);  // error correction: multi-bit ECC
    const uint64_t kb = (ram_size + KiB - 1) / KiB;
    s.u32(7, uint32_t(kb < T16_MAX_KB ? kb : T16_MAX_KB));
    s.u16(11, 0xfffe);  // no error information
    s.u16(13, uint16_t(dimms));
    if (kb >= T16_MAX_KB) s.u64(15, ram_size);
    return std::move(s).finish();
}

std::vector<uint8_t> type17(const SmbiosConfig& c, const SmbiosDefaults& d, unsigned i, uint64_t size) {
    Structure s(17, 0x28, uint16_t(0x1100 + i));
    s.u16(4, 0x1000);   // its array: type 16
    s.u16(6, 0xfffe);   // no error information
    s.u16(8, 0xffff);   // total and data width unknown
    s.u16(10, 0xffff);
    const uint64_t mb = (size + MiB - 1) / MiB;
    s.u16(12, uint16_t(mb < T17_MAX_MB ? mb : T17_MAX_MB));
    s.u8(14, 0x09);  // form factor: DIMM
    s.str(16, std::string(*or_default(c.type17.loc_pfx, "DIMM")) + " " + std::to_string(i));
    s.str(17, c.type17.bank);
    s.u8(18, 0x07);  // memory type: RAM
    s.u16(19, 0x02); // type detail: other
    s.u16(21, c.type17.speed);
    s.str(23, or_default(c.type17.manufacturer, d.manufacturer));
    s.str(24, c.type17.serial);
    s.str(25, c.type17.asset);
    s.str(26, c.type17.part);
    if (mb >= T17_MAX_MB) s.u32(28, uint32_t(mb));
    s.u16(32, c.type17.speed);  // configured speed
    return std::move(s).finish();
}

std::vector<uint8_t> type19(unsigned i, uint64_t start, uint64_t size) {
    Structure s(19, 0x1f, uint16_t(0x1300 + i));
    const uint64_t end = start + size - 1, start_kb = start / KiB, end_kb = end / KiB;
    if (start_kb < UINT32_MAX && end_kb < UINT32_MAX) {
        s.u32(4, uint32_t(start_kb));
        s.u32(8, uint32_t(end_kb));
    } else {
        s.u32(4, UINT32_MAX);
        s.u32(8, UINT32_MAX);
        s.u64(15, start);
        s.u64(23, end);
    }
    s.u16(12, 0x1000);  // its array: type 16
    s.u8(14, 1);        // partition width: one device per row
    return std::move(s).finish();
}

class TableSet {
public:
    explicit TableSet(const SmbiosConfig& c) : cfg_(c) {
        for (const auto& blob : c.blobs) add(blob);
    }
    // A type the user gave as a file is not built; one given with fields
    // is; the rest only if it is one QEMU always builds.
    bool wanted(unsigned type, bool required) const {
        if (cfg_.from_file[type]) return false;
        return cfg_.from_fields[type] || required;
    }
    void add(const std::vector<uint8_t>& s) {
        out_.tables.insert(out_.tables.end(), s.begin(), s.end());
        out_.max_size = std::max(out_.max_size, unsigned(s.size()));
        ++out_.count;
    }
    SmbiosTables& result() { return out_; }

private:
    const SmbiosConfig& cfg_;
    SmbiosTables out_;
};

std::vector<uint8_t> anchor(const SmbiosConfig& c, const SmbiosTables& t) {
    std::vector<uint8_t> ep;
    auto put16 = [&](size_t at, uint16_t v) { std::memcpy(&ep[at], &v, 2); };
    if (c.entry_point == SmbiosConfig::EntryPoint::Bits32) {
        ep.assign(smbios::EP21_SIZE, 0);
        std::memcpy(ep.data(), "_SM_", 4);
        ep[5] = uint8_t(smbios::EP21_SIZE);
        ep[6] = 2, ep[7] = 8;  // SMBIOS 2.8
        put16(8, uint16_t(t.max_size));
        std::memcpy(ep.data() + 16, "_DMI_", 5);
        put16(22, uint16_t(t.tables.size()));
        put16(28, uint16_t(t.count));
        ep[30] = 0x28;
    } else {
        ep.assign(smbios::EP30_SIZE, 0);
        std::memcpy(ep.data(), "_SM3_", 5);
        ep[6] = uint8_t(smbios::EP30_SIZE);
        ep[7] = 3;   // SMBIOS 3.0
        ep[10] = 1;  // entry point revision
        const uint32_t max = uint32_t(t.tables.size());
        std::memcpy(&ep[12], &max, 4);
    }
    return ep;
}

} // namespace

SmbiosTables build_smbios_tables(const SmbiosConfig& c, const SmbiosMachine& m, const SmbiosDefaults& d) {
    TableSet set(c);
    unsigned type4_count = unsigned(std::count_if(c.blobs.begin(), c.blobs.end(),
                                                  [](const auto& b) { return b[0] == 4; }));
    if (set.wanted(0, false)) set.add(type0(c));
    if (set.wanted(1, true)) set.add(type1(c, m, d));
    if (set.wanted(2, false)) set.add(type2(c, d));
    if (set.wanted(3, true)) set.add(type3(c, d));
    for (unsigned i = 0; i < m.sockets && set.wanted(4, true); ++i, ++type4_count) set.add(type4(c, m, d, i));
    for (unsigned i = 0; i < c.type8.size() && set.wanted(8, false); ++i) set.add(type8(c.type8[i], i));
    if (!c.type11.empty() && set.wanted(11, false)) set.add(type11(c.type11));
    const unsigned dimms = unsigned((m.ram_size + DIMM_MAX - 1) / DIMM_MAX);
    if (set.wanted(16, true)) set.add(type16(m.ram_size, dimms));
    for (unsigned i = 0; i < dimms && set.wanted(17, true); ++i)
        set.add(type17(c, d, i, i + 1 < dimms ? DIMM_MAX : (m.ram_size - 1) % DIMM_MAX + 1));
    for (unsigned i = 0; i < m.ram_ranges.size() && set.wanted(19, true); ++i)
        set.add(type19(i, m.ram_ranges[i].start, m.ram_ranges[i].size));
    if (set.wanted(32, true)) set.add(std::move(Structure(32, 0x0b, 0x2000)).finish());
    for (unsigned i = 0; i < c.type41.size() && set.wanted(41, false); ++i) set.add(type41(c.type41[i], m, i));
    if (set.wanted(127, true)) set.add(std::move(Structure(127, 0x04, 0x7f00)).finish());
    if (type4_count && type4_count != m.sockets)
        throw std::runtime_error("Expected " + std::to_string(m.sockets) + " SMBIOS Type 4 tables, got " +
                                 std::to_string(type4_count) + " instead");
    SmbiosTables& t = set.result();
    if (c.entry_point == SmbiosConfig::EntryPoint::Bits32 && t.tables.size() > UINT16_MAX)
        throw std::runtime_error("SMBIOS 2.1 table length " + std::to_string(t.tables.size()) + " exceeds 65535");
    t.anchor = anchor(c, t);
    return std::move(t);
}

namespace smbios {

std::vector<size_t> structure_offsets(const std::vector<uint8_t>& t) {
    std::vector<size_t> at;
    size_t i = 0;
    while (i < t.size()) {
        if (i + 4 > t.size() || t[i + 1] < 4 || i + t[i + 1] + 2 > t.size()) return {size_t(-1)};
        at.push_back(i);
        size_t j = i + t[i + 1];
        while (j + 1 < t.size() && !(t[j] == 0 && t[j + 1] == 0)) ++j;
        if (j + 1 >= t.size()) return {size_t(-1)};
        i = j + 2;
    }
    return at;
}

uint8_t checksum(const uint8_t* bytes, size_t size) {
    uint8_t sum = 0;
    for (size_t i = 0; i < size; ++i) sum = uint8_t(sum + bytes[i]);
    return uint8_t(-sum);
}

} // namespace smbios
} // namespace kestrel
