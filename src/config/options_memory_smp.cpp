// -m and -smp.
#include "config/parse_state.h"
#include "config/smp_topology.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace kestrel {

namespace {

constexpr uint64_t kRamAlignment = 8192;  // QEMU rounds -m up to this
constexpr uint64_t kMaxMemorySlots = 256;  // ACPI's limit on pc

// A bare number is MiB for -m ("-m 512"); QEMU appends "M" and parses again,
// reporting overflow under the machine property's name.
uint64_t memory_size_from_text(ParseState& st, const std::string& text) {
    uint64_t size = qopts::parse_size("size", text);
    if (text.empty() || !std::isdigit(static_cast<unsigned char>(text.back())))
        return size;
    std::string warning;
    if (qopts::to_size(text + "M", size, &warning) != qopts::SizeStatus::Ok)
        throw ConfigError("Parameter 'memory.size' expects size");
    if (!warning.empty())
        st.warn("", warning);
    return size;
}

void check_hotplug_limits(uint64_t size, std::optional<uint64_t> slots,
                          std::optional<uint64_t> maxmem) {
    if (slots && !maxmem)
        throw ConfigError("slots specified but no max-size");
    if (!maxmem)
        return;
    if (*maxmem < size)
        throw ConfigError(fmt::format("invalid value of maxmem: maximum memory size (0x{:x}) must "
                                      "be at least the initial memory size (0x{:x})",
                                      *maxmem, size));
    uint64_t slot_count = slots.value_or(0);
    if (slot_count > 0 && *maxmem == size)
        throw ConfigError(fmt::format(
            "invalid value of maxmem: memory slots were specified but maximum memory size "
            "(0x{:x}) is equal to the initial memory size (0x{:x})",
            *maxmem, size));
    if (slot_count > kMaxMemorySlots)
        throw ConfigError(fmt::format("unsupported amount of memory slots: {}", slot_count));
}

struct SmpField {
    std::string_view key;
    uint32_t SmpRequest::*member;
};

constexpr SmpField kSmpFields[] = {
    {"cpus", &SmpRequest::cpus},       {"sockets", &SmpRequest::sockets},
    {"dies", &SmpRequest::dies},       {"clusters", &SmpRequest::clusters},
    {"cores", &SmpRequest::cores},     {"threads", &SmpRequest::threads},
    {"maxcpus", &SmpRequest::maxcpus},
};

} // namespace

void handle_memory(ParseState& st, const ArgToken& tok) {
    auto pairs = split_checked(st, tok, "size", {"size", "slots", "maxmem"});
    at_location(tok.location(), [&] {
        for (const qopts::OptPair& p : pairs) {
            if (p.key == "size") {
                qopts::parse_size(p.key, p.value);
                st.mem_size_text = p.value;
            } else if (p.key == "slots") {
                st.mem_slots = qopts::parse_number(p.key, p.value);
            } else {
                st.mem_maxmem = qopts::parse_size(p.key, p.value);
            }
        }
    });
}

void finalize_memory(ParseState& st) {
    MemoryConfig& mem = st.cfg.memory;
    if (st.mem_size_text) {
        uint64_t size = memory_size_from_text(st, *st.mem_size_text);
        if (size != 0)  // "-m 0" keeps the default, as in QEMU
            mem.size = size;
    }
    if (mem.size > UINT64_MAX - (kRamAlignment - 1))
        throw ConfigError("ram size too large");
    mem.size = (mem.size + kRamAlignment - 1) / kRamAlignment * kRamAlignment;
    check_hotplug_limits(mem.size, st.mem_slots, st.mem_maxmem);
    mem.slots = unsigned(st.mem_slots.value_or(0));
    mem.maxmem = st.mem_maxmem.value_or(mem.size);
}

void handle_smp(ParseState& st, const ArgToken& tok) {
    // QEMU checks -smp's keys and numbers only when the machine is set up,
    // so errors carry no "-smp ..." prefix; see finalize_smp.
    auto split = at_location(tok.location(), [&] {
        return qopts::split(*tok.value, "cpus", qopts::Syntax::QemuOpts);
    });
    for (qopts::OptPair& p : split.pairs) {
        if (p.short_form)
            st.warn(tok.location(), qopts::short_form_warning(p));
        st.smp_opts.push_back(std::move(p));
    }
}

void finalize_smp(ParseState& st) {
    SmpRequest request;
    std::vector<const SmpField*> given;
    for (const qopts::OptPair& p : st.smp_opts) {
        auto field = std::find_if(std::begin(kSmpFields), std::end(kSmpFields),
                                  [&](const SmpField& f) { return f.key == p.key; });
        if (field == std::end(kSmpFields))
            throw ConfigError("Parameter 'smp." + p.key + "' is unexpected");
        std::optional<uint64_t> n = qopts::to_u64(p.value);
        if (!n)
            throw ConfigError("Parameter 'smp." + p.key + "' expects integer");
        request.*(field->member) = uint32_t(*n);  // QEMU keeps the low 32 bits
        given.push_back(field);
    }
    bool zero_given = std::any_of(given.begin(), given.end(),
                                  [&](const SmpField* f) { return request.*(f->member) == 0; });
    if (zero_given)
        st.warn("", "Deprecated CPU topology (considered invalid): CPU topology parameters must "
                    "be greater than zero");
    st.cfg.smp = resolve_smp(request);
}

} // namespace kestrel
