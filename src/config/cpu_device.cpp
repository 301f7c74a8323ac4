#include "config/cpu_device.h"

#include "base/config_error.h"
#include "config/cpu_features.h"
#include "config/qemu_device_names.h"
#include "vcpu/topology.h"

#include <cerrno>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>

namespace kestrel {

namespace {

// The properties as QEMU's X86CPU holds them: -1 for an id not given.
struct CpuProps {
    std::string driver, id;
    int64_t socket = -1, die = -1, core = -1, thread = -1;
    std::optional<uint32_t> apic;
};

// QemuOpts' integers: decimal, 0x hex or 0 octal, with a sign.
int64_t parse_integer(const qopts::OptPair& p, int64_t min, int64_t max, const char* c_type) {
    const char* text = p.value.c_str();
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(text, &end, 0);
    if (p.value.empty() || *end != '\0') throw ConfigError("Parameter '" + p.key + "' expects integer");
    if (errno == ERANGE || v < min || v > max)
        throw ConfigError("Parameter '" + p.key + "' expects " + c_type);
    return v;
}

int64_t parse_int32(const qopts::OptPair& p) {
    return parse_integer(p, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max(), "int32_t");
}

CpuProps read_props(const std::vector<qopts::OptPair>& pairs) {
    CpuProps props;
    for (const qopts::OptPair& p : pairs)
        if (p.key == "driver") props.driver = p.value;
    for (const qopts::OptPair& p : pairs) {
        if (p.key == "driver") continue;
        else if (p.key == "id") props.id = p.value;
        else if (p.key == "socket-id") props.socket = parse_int32(p);
        else if (p.key == "die-id") props.die = parse_int32(p);
        else if (p.key == "core-id") props.core = parse_int32(p);
        else if (p.key == "thread-id") props.thread = parse_int32(p);
        else if (p.key == "apic-id") props.apic = uint32_t(parse_integer(p, 0, UINT32_MAX, "uint32_t"));
        else if (p.key == "node-id" || canonical_cpu_feature(p.key))
            throw ConfigError("Property '" + props.driver + "." + p.key + "' is not supported by kestrel yet");
        else
            throw ConfigError("Property '" + props.driver + "." + p.key + "' not found");
    }
    return props;
}

// One id of the slot: given, and below its count.
void check_id(const char* name, int64_t value, unsigned count) {
    if (value < 0) throw ConfigError(std::string("CPU ") + name + " is not set");
    if (value > int64_t(count) - 1)
        throw ConfigError(std::string("Invalid CPU ") + name + ": " + std::to_string(value) + " must be in range 0:" +
                          std::to_string(count - 1));
}

uint32_t apic_id_from_props(const SmpConfig& smp, CpuProps& props) {
    unsigned max_socket = (smp.maxcpus - 1) / smp.threads / smp.cores / smp.dies;
    if (props.die < 0 && smp.dies == 1) props.die = 0;  // optional with one die, as QEMU 4.0 had it
    check_id("socket-id", props.socket, max_socket + 1);
    check_id("die-id", props.die, smp.dies);
    check_id("core-id", props.core, smp.cores);
    check_id("thread-id", props.thread, smp.threads);
    unsigned tb = topo_bits(smp.threads), cb = topo_bits(smp.cores), db = topo_bits(smp.dies);
    return uint32_t(props.socket << (db + cb + tb) | props.die << (cb + tb) | props.core << tb | props.thread);
}

// The ids an APIC ID encodes (QEMU's x86_topo_ids_from_apicid).
TopologyIds ids_of_apic(const SmpConfig& smp, uint32_t apic) {
    unsigned tb = topo_bits(smp.threads), cb = topo_bits(smp.cores), db = topo_bits(smp.dies);
    auto field = [&](unsigned shift, unsigned bits) { return (apic >> shift) & ((1u << bits) - 1); };
    return {apic >> (db + cb + tb), field(cb + tb, db), field(tb, cb), field(0, tb)};
}

std::optional<unsigned> slot_of_apic(const SmpConfig& smp, uint32_t apic) {
    for (unsigned i = 0; i < smp.maxcpus; ++i)
        if (apic_id_for(i, smp) == apic) return i;
    return std::nullopt;
}

// With apic-id= given, each id given must be the one it encodes.
void check_ids_match(const CpuProps& props, uint32_t apic, const TopologyIds& ids) {
    auto check = [&](const char* name, int64_t given, unsigned encoded) {
        if (given == -1 || given == int64_t(encoded)) return;
        char hex[16];
        std::snprintf(hex, sizeof hex, "0x%x", apic);
        throw ConfigError(std::string("property ") + name + ": " + std::to_string(uint32_t(given)) +
                          " doesn't match set apic-id: " + hex + " (" + name + ": " + std::to_string(encoded) + ")");
    };
    check("socket-id", props.socket, ids.socket);
    check("die-id", props.die, ids.die);
    check("core-id", props.core, ids.core);
    check("thread-id", props.thread, ids.thread);
}

} // namespace

bool is_cpu_device_type(std::string_view driver) {
    return driver.ends_with("-x86_64-cpu") && is_qemu_device_name(driver);
}

ColdPluggedCpu check_cpu_device(const SmpConfig& smp, const std::string& cpu_model,
                                const std::vector<qopts::OptPair>& pairs) {
    CpuProps props = read_props(pairs);
    std::string expected = cpu_model + "-x86_64-cpu";
    if (props.driver != expected) throw ConfigError("Invalid CPU type, expected cpu type: '" + expected + "'");
    bool apic_given = props.apic.has_value();
    uint32_t apic = apic_given ? *props.apic : apic_id_from_props(smp, props);
    std::optional<unsigned> slot = slot_of_apic(smp, apic);
    TopologyIds ids = ids_of_apic(smp, apic);
    if (!slot)
        throw ConfigError("Invalid CPU [socket: " + std::to_string(ids.socket) + ", die: " + std::to_string(ids.die) +
                          ", core: " + std::to_string(ids.core) + ", thread: " + std::to_string(ids.thread) +
                          "] with APIC ID " + std::to_string(apic) + ", valid index range 0:" +
                          std::to_string(smp.maxcpus - 1));
    if (smp.present(*slot))
        throw ConfigError("CPU[" + std::to_string(*slot) + "] with APIC ID " + std::to_string(apic) + " exists");
    if (apic_given) check_ids_match(props, apic, ids);
    return ColdPluggedCpu{*slot, props.id, 0};
}

} // namespace kestrel
