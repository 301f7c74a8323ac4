// -smbios file=BLOB | type=N,key=value...: the values of the SMBIOS tables
// the machine builds (machine/smbios), checked in QEMU 7.2's order with its
// messages. Files are read here, so a bad one stops kestrel before any
// side effect.
#include "base/file_bytes.h"
#include "config/parse_state.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sys/stat.h>

namespace kestrel {
namespace {

enum class Kind { Text, Number, Bool };
struct Key {
    std::string_view name;
    Kind kind;
};

// Each type's keys as QEMU 7.2 declares them; "type" is a number in all.
const std::vector<Key>* keys_of(unsigned long type) {
    using enum Kind;
    static const std::vector<Key> t0{{"type", Number}, {"vendor", Text}, {"version", Text}, {"date", Text},
                                     {"release", Text}, {"uefi", Bool}};
    static const std::vector<Key> t1{{"type", Number}, {"manufacturer", Text}, {"product", Text},
                                     {"version", Text}, {"serial", Text}, {"uuid", Text}, {"sku", Text},
                                     {"family", Text}};
    static const std::vector<Key> t2{{"type", Number}, {"manufacturer", Text}, {"product", Text},
                                     {"version", Text}, {"serial", Text}, {"asset", Text}, {"location", Text}};
    static const std::vector<Key> t3{{"type", Number}, {"manufacturer", Text}, {"version", Text},
                                     {"serial", Text}, {"asset", Text}, {"sku", Text}};
    static const std::vector<Key> t4{{"type", Number}, {"sock_pfx", Text}, {"manufacturer", Text},
                                     {"version", Text}, {"serial", Text}, {"asset", Text}, {"part", Text},
                                     {"max-speed", Number}, {"current-speed", Number}, {"processor-id", Number}};
    static const std::vector<Key> t8{{"type", Number}, {"internal_reference", Text},
                                     {"external_reference", Text}, {"connector_type", Number},
                                     {"port_type", Number}};
    static const std::vector<Key> t11{{"type", Number}, {"value", Text}, {"path", Text}};
    static const std::vector<Key> t41{{"type", Number}, {"designation", Text}, {"kind", Text},
                                      {"instance", Number}, {"pcidev", Text}};
    static const std::vector<Key> t17{{"type", Number}, {"loc_pfx", Text}, {"bank", Text},
                                      {"manufacturer", Text}, {"serial", Text}, {"asset", Text}, {"part", Text},
                                      {"speed", Number}};
    switch (type) {
    case 0: return &t0;
    case 1: return &t1;
    case 2: return &t2;
    case 3: return &t3;
    case 4: return &t4;
    case 8: return &t8;
    case 11: return &t11;
    case 17: return &t17;
    case 41: return &t41;
    }
    return nullptr;
}

// qemu_opts_validate: the first unknown key, or the first badly typed value.
void validate(const std::vector<qopts::OptPair>& pairs, const std::vector<Key>& keys) {
    for (const qopts::OptPair& p : pairs) {
        auto k = std::find_if(keys.begin(), keys.end(), [&](const Key& k) { return k.name == p.key; });
        if (k == keys.end()) throw ConfigError("Invalid parameter '" + p.key + "'");
        if (k->kind == Kind::Number) qopts::parse_number(p.key, p.value);
        if (k->kind == Kind::Bool) qopts::parse_bool(p.key, p.value);
    }
}

// The last value given for `key` (QemuOpts' qemu_opt_get).
const qopts::OptPair* last(const std::vector<qopts::OptPair>& pairs, std::string_view key) {
    for (auto it = pairs.rbegin(); it != pairs.rend(); ++it)
        if (it->key == key) return &*it;
    return nullptr;
}

void save(SmbiosText& dest, const std::vector<qopts::OptPair>& pairs, std::string_view key) {
    if (const qopts::OptPair* p = last(pairs, key)) dest = p->value;
}

uint64_t number(const std::vector<qopts::OptPair>& pairs, std::string_view key, uint64_t fallback) {
    const qopts::OptPair* p = last(pairs, key);
    return p ? qopts::parse_number(key, p->value) : fallback;
}

std::optional<std::vector<uint8_t>> read_file(const std::string& path) {
    return read_file_bytes(path);
}

constexpr size_t STRUCTURE_HEADER = 4;  // type, length, handle

void add_blob(SmbiosConfig& s, const std::vector<qopts::OptPair>& pairs) {
    validate(pairs, {{"file", Kind::Text}});
    const std::string path = last(pairs, "file")->value;
    auto data = read_file(path);
    if (!data || data->size() < STRUCTURE_HEADER) throw ConfigError("Cannot read SMBIOS file " + path);
    const uint8_t type = (*data)[0];
    if (type <= SmbiosConfig::MAX_TYPE) {
        if (s.from_fields[type])
            throw ConfigError("can't load type " + std::to_string(type) + " struct, fields already specified!");
        s.from_file[type] = true;
    }
    s.blobs.push_back(std::move(*data));
}

void set_type0(SmbiosConfig& s, const std::vector<qopts::OptPair>& pairs) {
    save(s.type0.vendor, pairs, "vendor");
    save(s.type0.version, pairs, "version");
    save(s.type0.date, pairs, "date");
    if (const qopts::OptPair* p = last(pairs, "uefi")) s.type0.uefi = qopts::parse_bool(p->key, p->value);
    if (const qopts::OptPair* p = last(pairs, "release")) {
        unsigned char major, minor;  // QEMU reads it with sscanf("%hhu.%hhu")
        if (std::sscanf(p->value.c_str(), "%hhu.%hhu", &major, &minor) != 2) throw ConfigError("Invalid release");
        s.type0.release = {major, minor};
    }
}

void set_type1(ParseState& st, const std::vector<qopts::OptPair>& pairs) {
    auto& t = st.cfg.smbios.type1;
    for (auto [dest, key] : {std::pair{&t.manufacturer, "manufacturer"}, {&t.product, "product"},
                             {&t.version, "version"}, {&t.serial, "serial"}, {&t.sku, "sku"}, {&t.family, "family"}})
        save(*dest, pairs, key);
    if (const qopts::OptPair* p = last(pairs, "uuid")) {
        if (!is_uuid(p->value)) throw ConfigError("Invalid UUID");
        std::string uuid = p->value;  // the machine's UUID, as -uuid
        for (char& c : uuid) c = char(std::tolower(static_cast<unsigned char>(c)));
        st.cfg.uuid = uuid;
    }
}

void set_type4(SmbiosConfig& s, const std::vector<qopts::OptPair>& pairs) {
    auto& t = s.type4;
    for (auto [dest, key] : {std::pair{&t.sock_pfx, "sock_pfx"}, {&t.manufacturer, "manufacturer"},
                             {&t.version, "version"}, {&t.serial, "serial"}, {&t.asset, "asset"}, {&t.part, "part"}})
        save(*dest, pairs, key);
    t.processor_id = number(pairs, "processor-id", 0);
    const uint64_t max = number(pairs, "max-speed", 2000), current = number(pairs, "current-speed", 2000);
    if (max > UINT16_MAX || current > UINT16_MAX) throw ConfigError("SMBIOS CPU speed is too large (> 65535)");
    t.max_speed = uint16_t(max);
    t.current_speed = uint16_t(current);
}

void add_type11(SmbiosConfig& s, const std::vector<qopts::OptPair>& pairs) {
    for (const qopts::OptPair& p : pairs) {
        if (p.key == "value") s.type11.push_back(p.value);
        if (p.key != "path") continue;
        auto data = read_file(p.value);
        if (!data) throw ConfigError("Could not open '" + p.value + "': " + std::strerror(errno ? errno : EIO));
        s.type11.emplace_back(data->begin(), data->end());
    }
}

// QEMU 7.2's type41-kind names, in SMBIOS's order from 1.
void add_type41(SmbiosConfig& s, const std::vector<qopts::OptPair>& pairs) {
    static constexpr std::string_view kinds[] = {"other", "unknown", "video", "scsi", "ethernet",
                                                 "tokenring", "sound", "pata", "sata", "sas"};
    SmbiosType41Device d;
    save(d.designation, pairs, "designation");
    if (const qopts::OptPair* p = last(pairs, "kind")) {
        auto it = std::find(std::begin(kinds), std::end(kinds), p->value);
        if (it == std::end(kinds)) throw ConfigError("invalid parameter value: " + p->value);
        d.kind = uint8_t(it - std::begin(kinds) + 1);
    }
    d.instance = uint8_t(number(pairs, "instance", 1));
    save(d.pcidev, pairs, "pcidev");
    s.type41.push_back(std::move(d));
}

void set_fields(ParseState& st, unsigned long type, const std::vector<qopts::OptPair>& pairs) {
    SmbiosConfig& s = st.cfg.smbios;
    auto text = [&](std::string_view key) {
        SmbiosText v;
        save(v, pairs, key);
        return v;
    };
    switch (type) {
    case 0: return set_type0(s, pairs);
    case 1: return set_type1(st, pairs);
    case 2:
        for (auto [dest, key] : {std::pair{&s.type2.manufacturer, "manufacturer"}, {&s.type2.product, "product"},
                                 {&s.type2.version, "version"}, {&s.type2.serial, "serial"},
                                 {&s.type2.asset, "asset"}, {&s.type2.location, "location"}})
            save(*dest, pairs, key);
        return;
    case 3:
        for (auto [dest, key] : {std::pair{&s.type3.manufacturer, "manufacturer"}, {&s.type3.version, "version"},
                                 {&s.type3.serial, "serial"}, {&s.type3.asset, "asset"}, {&s.type3.sku, "sku"}})
            save(*dest, pairs, key);
        return;
    case 4: return set_type4(s, pairs);
    case 8:
        s.type8.push_back({text("internal_reference"), text("external_reference"),
                           uint8_t(number(pairs, "connector_type", 0)), uint8_t(number(pairs, "port_type", 0))});
        return;
    case 11: return add_type11(s, pairs);
    case 41: return add_type41(s, pairs);
    case 17:
        for (auto [dest, key] : {std::pair{&s.type17.loc_pfx, "loc_pfx"}, {&s.type17.bank, "bank"},
                                 {&s.type17.manufacturer, "manufacturer"}, {&s.type17.serial, "serial"},
                                 {&s.type17.asset, "asset"}, {&s.type17.part, "part"}})
            save(*dest, pairs, key);
        s.type17.speed = uint16_t(number(pairs, "speed", 0));
        return;
    }
}

} // namespace

void handle_smbios(ParseState& st, const ArgToken& tok) {
    auto pairs = split_unchecked(st, tok, "");
    at_location(tok.location(), [&] {
        SmbiosConfig& s = st.cfg.smbios;
        if (last(pairs, "file")) return add_blob(s, pairs);
        const qopts::OptPair* type_pair = last(pairs, "type");
        if (!type_pair) throw ConfigError("Must specify type= or file=");
        // strtoul(value, NULL, 0): junk reads as 0 and fails type 0's number check below
        const unsigned long type = std::strtoul(type_pair->value.c_str(), nullptr, 0);
        if (type > SmbiosConfig::MAX_TYPE) throw ConfigError("out of range!");
        if (s.from_file[type]) throw ConfigError("can't add fields, binary file already loaded!");
        s.from_fields[type] = true;
        const std::vector<Key>* keys = keys_of(type);
        if (!keys) throw ConfigError("Don't know how to build fields for SMBIOS type " + std::to_string(type));
        validate(pairs, *keys);
        set_fields(st, type, pairs);
    });
}

} // namespace kestrel
