#include "monitor/qmp/qmp_qom_cpu.h"

#include "config/cpu_features.h"
#include "vcpu/cpu_description.h"
#include "vcpu/cpu_models.h"

#include <algorithm>
#include <optional>

namespace kestrel::qmp {

namespace {

std::string type_name(const VcpuInfo& cpu) { return cpu.cpu_model + "-x86_64-cpu"; }

// The properties besides the feature flags, with QEMU's type names.
constexpr std::pair<std::string_view, std::string_view> kCpuProperties[] = {
    {"family", "int"},           {"model", "int"},          {"stepping", "int"},
    {"vendor", "string"},        {"model-id", "string"},    {"level", "uint32"},
    {"xlevel", "uint32"},        {"min-level", "uint32"},   {"min-xlevel", "uint32"},
    {"apic-id", "uint32"},       {"socket-id", "int32"},    {"die-id", "int32"},
    {"core-id", "int32"},        {"thread-id", "int32"},    {"unavailable-features", "strList"},
    {"feature-words", "X86CPUFeatureWordInfo"},             {"filtered-features", "X86CPUFeatureWordInfo"},
};

bool passthrough(const VcpuInfo& cpu) {
    const CpuModel* model = find_cpu_model(cpu.cpu_model);
    return model && model->passthrough;
}

// The bits `requested` has and `actual` lacks, as a CPUID table.
std::vector<kvm_cpuid_entry2> filtered_table(const VcpuInfo& cpu) {
    std::vector<kvm_cpuid_entry2> table;
    for (const FeatureBit* f : filtered_features(cpu.requested_cpuid, cpu.cpuid)) {
        auto it = std::find_if(table.begin(), table.end(), [&](const kvm_cpuid_entry2& e) {
            return e.function == f->leaf && e.index == f->subleaf;
        });
        if (it == table.end()) {
            kvm_cpuid_entry2 e{};
            e.function = f->leaf;
            e.index = f->subleaf;
            table.push_back(e);
            it = table.end() - 1;
        }
        uint32_t* regs[] = {&it->eax, &it->ebx, &it->ecx, &it->edx};
        *regs[static_cast<int>(f->reg)] |= 1u << f->bit;
    }
    return table;
}

// QEMU's names only, as query-cpu-definitions' unavailable-features.
Json unavailable_features(const VcpuInfo& cpu) {
    Json names = Json::array();
    for (const FeatureBit* f : filtered_features(cpu.requested_cpuid, cpu.cpuid))
        if (canonical_cpu_feature(f->name) == std::string(f->name)) names.push_back(std::string(f->name));
    return names;
}

std::optional<Json> description_value(const VcpuInfo& cpu, const std::string& property) {
    CpuDescription d = describe_cpu(cpu.cpuid);
    if (property == "family") return d.family;
    if (property == "model") return d.model;
    if (property == "stepping") return d.stepping;
    if (property == "vendor") return d.vendor;
    if (property == "model-id") return d.model_id;
    if (property == "level" || property == "min-level") return d.level;
    if (property == "xlevel" || property == "min-xlevel") return d.xlevel;
    return std::nullopt;
}

std::optional<Json> place_value(const VcpuInfo& cpu, const std::string& property) {
    if (property == "apic-id") return cpu.apic_id;
    if (property == "socket-id") return cpu.socket_id;
    if (property == "die-id") return cpu.die_id;
    if (property == "core-id") return cpu.core_id;
    if (property == "thread-id") return cpu.thread_id;
    return std::nullopt;
}

MonitorError not_found(const VcpuInfo& cpu, const std::string& property) {
    return MonitorError("Property '" + type_name(cpu) + "." + property + "' not found");
}

} // namespace

void append_cpu_properties(Json& list) {
    for (const auto& [name, type] : kCpuProperties) list.push_back(Json{{"name", name}, {"type", type}});
}

Json feature_word_list(const std::vector<kvm_cpuid_entry2>& table) {
    Json list = Json::array();
    for (const FeatureWord& w : feature_words(table)) {
        Json word{{"cpuid-input-eax", w.leaf}};
        if (w.indexed) word["cpuid-input-ecx"] = w.subleaf;
        word["cpuid-register"] = std::string(cpuid_register_name(w.reg));
        word["features"] = w.features;
        list.push_back(std::move(word));
    }
    return list;
}

Json vcpu_qom_list(const VcpuInfo& cpu) {
    Json list = Json::array({Json{{"name", "type"}, {"type", "string"}}});
    for (const FeatureBit& f : feature_bits()) list.push_back(Json{{"name", f.name}, {"type", "bool"}});
    if (passthrough(cpu)) list.push_back(Json{{"name", "migratable"}, {"type", "bool"}});
    append_cpu_properties(list);
    return list;
}

Json vcpu_qom_get(const VcpuInfo& cpu, const std::string& property) {
    if (property == "type") return type_name(cpu);
    if (const FeatureBit* f = find_feature(property)) return has_feature(cpu.cpuid, *f);
    if (std::optional<Json> v = description_value(cpu, property)) return *v;
    if (std::optional<Json> v = place_value(cpu, property)) return *v;
    if (property == "feature-words") return feature_word_list(cpu.cpuid);
    if (property == "filtered-features") return feature_word_list(filtered_table(cpu));
    if (property == "unavailable-features") return unavailable_features(cpu);
    if (property == "migratable" && passthrough(cpu)) return cpu.migratable;
    throw not_found(cpu, property);
}

// Everything is fixed once the vCPU is realized; the lists are read-only.
void vcpu_qom_set(const VcpuInfo& cpu, const std::string& property) {
    const std::string type = type_name(cpu);
    if (property == "type" || property == "feature-words" || property == "filtered-features" ||
        property == "unavailable-features")
        throw MonitorError("Property '" + type + "." + property + "' is not writable");
    vcpu_qom_get(cpu, property);  // unknown: not found
    throw MonitorError("Attempt to set property '" + property + "' on anonymous device (type '" + type +
                       "') after it was realized");
}

} // namespace kestrel::qmp
