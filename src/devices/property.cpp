#include "devices/property.h"

#include "base/config_error.h"
#include "base/qemu_opts.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <fmt/format.h>
#include <stdexcept>

namespace kestrel {
namespace {

struct IntRange {
    int64_t min;
    uint64_t max;
    const char* c_name;  // QEMU's "expects uint16_t"
};

std::optional<IntRange> int_range(PropType type) {
    switch (type) {
    case PropType::Uint8: return IntRange{0, UINT8_MAX, "uint8_t"};
    case PropType::Uint16: return IntRange{0, UINT16_MAX, "uint16_t"};
    case PropType::Uint32: return IntRange{0, UINT32_MAX, "uint32_t"};
    case PropType::Int32:
    case PropType::BootIndex: return IntRange{INT32_MIN, INT32_MAX, "int32_t"};
    case PropType::Uint64: return IntRange{0, UINT64_MAX, "uint64_t"};
    case PropType::Int: return IntRange{INT64_MIN, INT64_MAX, "int64_t"};
    default: return std::nullopt;
    }
}

bool is_signed(PropType type) {
    return type == PropType::Int32 || type == PropType::BootIndex || type == PropType::Int;
}

// QEMU's keyval visitor: an integer with any base prefix and nothing after
// the digits ("expects integer"), then the type's range ("expects uint16_t").
PropValue parse_integer(std::string_view name, const std::string& text, const IntRange& range, bool sign) {
    auto expects = [&](const char* what) {
        return ConfigError("Parameter '" + std::string(name) + "' expects " + what);
    };
    char* end = nullptr;
    errno = 0;
    bool negative = text.find('-') != std::string::npos;
    if (negative || sign) {
        long long v = std::strtoll(text.c_str(), &end, 0);
        if (text.empty() || *end != '\0' || errno == ERANGE) throw expects("integer");
        // QEMU's uint64 parser takes a negative number modulo 2^64 (max-bytes=-1).
        if (!sign && range.max == UINT64_MAX) return PropValue(uint64_t(v));
        if (v < range.min || (v >= 0 && uint64_t(v) > range.max)) throw expects(range.c_name);
        return sign ? PropValue(int64_t(v)) : PropValue(uint64_t(v));
    }
    unsigned long long u = std::strtoull(text.c_str(), &end, 0);
    if (text.empty() || *end != '\0' || errno == ERANGE) throw expects("integer");
    if (u > range.max) throw expects(range.c_name);
    return uint64_t(u);
}

// addr=SLOT[.FN], both hexadecimal as QEMU's strtoul(..., 16) reads them.
PropValue parse_pci_addr(const std::string& owner, const std::string& text) {
    auto invalid = [&] {
        return ConfigError("Property '" + owner + ".addr' doesn't take value '" + text + "'");
    };
    const char* p = text.c_str();
    char* end = nullptr;
    unsigned long slot = std::strtoul(p, &end, 16);
    if (end == p || (*end != '\0' && *end != '.') || slot > 0x1f) throw invalid();
    unsigned long function = 0;
    if (*end == '.') {
        p = end + 1;
        function = std::strtoul(p, &end, 16);
        if (end == p || function > 7) throw invalid();
    }
    if (*end != '\0') throw invalid();
    return pci_devfn(unsigned(slot), unsigned(function));
}

// qdev's set_mac: six pairs of hex digits separated by ':' or '-'.
bool is_mac_address(const std::string& text) {
    if (text.size() != 17) return false;
    for (size_t i = 0; i < 17; ++i) {
        bool separator = i % 3 == 2;
        if (separator ? text[i] != ':' && text[i] != '-' : !std::isxdigit(static_cast<unsigned char>(text[i])))
            return false;
    }
    return true;
}

// QEMU's size_to_str: three significant digits of the largest unit.
std::string human_size(uint64_t bytes) {
    static const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    unsigned i = 0;
    double value = double(bytes);
    while (value >= 1024 && i + 1 < std::size(units)) {
        value /= 1024;
        ++i;
    }
    if (i == 0) return fmt::format("{} B", bytes);
    return fmt::format("{:.3g} {}", value, units[i]);
}

constexpr std::string_view kLostTickPolicies[] = {"discard", "delay", "slew"};
constexpr std::string_view kOnOffAuto[] = {"on", "off", "auto"};

bool is_enum(PropType type) { return type == PropType::LostTickPolicy || type == PropType::OnOffAuto; }

std::string default_text(const PropertySpec& spec) {
    switch (spec.type) {
    case PropType::Bool: return spec.default_int ? "true" : "false";
    case PropType::Str:
    case PropType::LostTickPolicy:
    case PropType::OnOffAuto: return "\"" + std::string(spec.default_text) + "\"";
    case PropType::Int32:
    case PropType::PciAddr:
    case PropType::BootIndex: return std::to_string(spec.default_int);
    case PropType::Uint8: return std::to_string(uint8_t(spec.default_int));
    case PropType::Uint16: return std::to_string(uint16_t(spec.default_int));
    case PropType::Uint32: return std::to_string(uint32_t(spec.default_int));
    default: return std::to_string(uint64_t(spec.default_int));
    }
}

std::optional<PropValue> default_value(const PropertySpec& spec) {
    if (!spec.has_default) return std::nullopt;
    if (spec.type == PropType::Bool) return PropValue(spec.default_int != 0);
    if (spec.type == PropType::Str || is_enum(spec.type)) return PropValue(std::string(spec.default_text));
    if (is_signed(spec.type) || spec.type == PropType::PciAddr) return PropValue(spec.default_int);
    return PropValue(uint64_t(spec.default_int) & int_range(spec.type).value_or(IntRange{0, UINT64_MAX, ""}).max);
}

} // namespace

std::string_view prop_type_name(PropType type) {
    switch (type) {
    case PropType::Bool: return "bool";
    case PropType::Uint8: return "uint8";
    case PropType::Uint16: return "uint16";
    case PropType::Uint32: return "uint32";
    case PropType::Int32:
    case PropType::PciAddr:
    case PropType::BootIndex: return "int32";
    case PropType::Uint64: return "uint64";
    case PropType::Size: return "size";
    case PropType::Str:
    case PropType::Drive:
    case PropType::Chardev:
    case PropType::Netdev:
    case PropType::MacAddr: return "str";
    case PropType::Iothread: return "link<iothread>";
    case PropType::RngBackend: return "link<rng-backend>";
    case PropType::LostTickPolicy: return "LostTickPolicy";
    case PropType::OnOffAuto: return "OnOffAuto";
    case PropType::Int: return "int";
    case PropType::ReadOnly: return "str";
    }
    return "str";
}

// QEMU pads "  name=<type>" to 24 columns before " - description".
std::string property_help_line(const PropertySpec& spec) {
    std::string_view type = spec.type_name.empty() ? prop_type_name(spec.type) : spec.type_name;
    std::string line = fmt::format("  {}=<{}>", spec.name, type);
    if (spec.description.empty() && !spec.has_default) return line;
    if (line.size() < 24) line.append(24 - line.size(), ' ');
    line += " - " + std::string(spec.description);
    if (spec.has_default) line += " (default: " + default_text(spec) + ")";
    return line;
}

PropertyValues::PropertyValues(std::string owner, std::vector<const PropertySpec*> specs, std::string backend_owner)
    : owner_(std::move(owner)), backend_owner_(std::move(backend_owner)), specs_(std::move(specs)) {
    for (const PropertySpec* spec : specs_) values_.push_back(default_value(*spec));
}

const PropertySpec* PropertyValues::find(std::string_view name) const {
    for (const PropertySpec* spec : specs_)
        if (spec->name == name) return spec;
    return nullptr;
}

size_t PropertyValues::index_of(std::string_view name) const {
    for (size_t i = 0; i < specs_.size(); ++i)
        if (specs_[i]->name == name) return i;
    throw std::logic_error(owner_ + " has no property " + std::string(name));
}

void PropertyValues::set(std::string_view name, std::string_view text) {
    const PropertySpec* spec = find(name);
    if (!spec) throw ConfigError("Property '" + owner_ + "." + std::string(name) + "' not found");
    std::string t(text);
    switch (spec->type) {
    case PropType::Bool:
        if (auto b = qopts::to_bool(t)) return set_value(name, *b);
        throw ConfigError("Parameter '" + std::string(name) + "' expects 'on' or 'off'");
    case PropType::Size: {
        uint64_t bytes = 0;
        if (qopts::to_size(t, bytes) != qopts::SizeStatus::Ok)
            throw ConfigError("Parameter '" + std::string(name) + "' expects size");
        return set_value(name, bytes);
    }
    case PropType::PciAddr: return set_value(name, parse_pci_addr(owner_, t));
    case PropType::LostTickPolicy:
        if (std::find(std::begin(kLostTickPolicies), std::end(kLostTickPolicies), t) == std::end(kLostTickPolicies))
            throw ConfigError("Parameter '" + std::string(name) + "' does not accept value '" + t + "'");
        return set_value(name, t);
    case PropType::OnOffAuto:
        if (std::find(std::begin(kOnOffAuto), std::end(kOnOffAuto), t) == std::end(kOnOffAuto))
            throw ConfigError("Parameter '" + std::string(name) + "' does not accept value '" + t + "'");
        return set_value(name, t);
    case PropType::MacAddr:
        if (!is_mac_address(t)) {
            const std::string& owner =
                spec->qtree == PropertySpec::Qtree::Backend && !backend_owner_.empty() ? backend_owner_ : owner_;
            throw ConfigError("Property '" + owner + "." + std::string(name) + "' doesn't take value '" + t + "'");
        }
        return set_value(name, t);
    case PropType::Str:
    case PropType::Drive:
    case PropType::Chardev:
    case PropType::Netdev:
    case PropType::Iothread:
    case PropType::RngBackend: return set_value(name, t);
    case PropType::ReadOnly:
        throw ConfigError("Property '" + owner_ + "." + std::string(name) + "' is not writable");
    default: return set_value(name, parse_integer(name, t, *int_range(spec->type), is_signed(spec->type)));
    }
}

void PropertyValues::set_value(std::string_view name, PropValue value) { values_[index_of(name)] = std::move(value); }

bool PropertyValues::has(std::string_view name) const { return values_[index_of(name)].has_value(); }

const PropValue& PropertyValues::value(std::string_view name) const {
    const auto& v = values_[index_of(name)];
    if (!v) throw std::logic_error(owner_ + "." + std::string(name) + " has no value");
    return *v;
}

bool PropertyValues::boolean(std::string_view name) const { return std::get<bool>(value(name)); }
uint64_t PropertyValues::uint(std::string_view name) const { return std::get<uint64_t>(value(name)); }
int64_t PropertyValues::sint(std::string_view name) const { return std::get<int64_t>(value(name)); }

const std::string& PropertyValues::str(std::string_view name) const {
    static const std::string empty;
    const auto& v = values_[index_of(name)];
    return v ? std::get<std::string>(*v) : empty;
}

std::optional<int64_t> PropertyValues::optional_int(std::string_view name) const {
    const auto& v = values_[index_of(name)];
    if (!v) return std::nullopt;
    return std::holds_alternative<int64_t>(*v) ? std::get<int64_t>(*v) : int64_t(std::get<uint64_t>(*v));
}

std::string PropertyValues::qtree_text(const PropertySpec& spec) const {
    const auto& v = values_[index_of(spec.name)];
    if (spec.type == PropType::PciAddr) {
        int64_t devfn = v ? std::get<int64_t>(*v) : -1;
        return devfn < 0 ? "<unset>" : fmt::format("{:02x}.{:x}", devfn >> 3, devfn & 7);
    }
    if (!v) return "\"\"";
    if (auto* b = std::get_if<bool>(&*v)) return *b ? "true" : "false";
    if (auto* s = std::get_if<std::string>(&*v)) return "\"" + *s + "\"";
    if (spec.type == PropType::Size) {
        uint64_t bytes = std::get<uint64_t>(*v);
        return fmt::format("{} ({})", bytes, human_size(bytes));
    }
    if (auto* i = std::get_if<int64_t>(&*v)) return fmt::format("{} (0x{:x})", *i, uint64_t(*i));
    uint64_t u = std::get<uint64_t>(*v);
    return fmt::format("{} (0x{:x})", u, u);
}

} // namespace kestrel
