// query-cpu-model-expansion with QEMU 7.2's x86 semantics. The model's
// CPUID is built by the same code as a vCPU's (vcpu/cpuid.h) before KVM
// filters it: a named model's own flags, or for host and max what KVM
// supports; model.props apply as "-cpu model,feat=on|off" does. "static"
// answers on the model "base" with the flags (QEMU's canonical names)
// and vendor, family, model, stepping, model-id, min-level, min-xlevel;
// "full" keeps the model's name and adds the flags' other spellings,
// level, xlevel and (host, max) migratable. Only flags whose CPUID bit
// kestrel knows (vcpu/cpu_models.cpp) are reported.
#include "config/cpu_features.h"
#include "monitor/qmp/qmp_commands.h"
#include "vcpu/cpu_description.h"
#include "vcpu/cpuid.h"

namespace kestrel::qmp {

namespace {

CpuConfig cpu_config_of(const std::string& model, const Json& props) {
    if (!find_cpu_model(model)) throw MonitorError("CPU model '" + model + "' not found");
    CpuConfig cpu;
    cpu.model = model;
    if (!props.is_object()) return cpu;  // QEMU ignores props that are no dictionary
    for (const auto& [key, value] : props.items()) {
        std::optional<std::string> canonical = canonical_cpu_feature(key);
        if (!canonical) throw MonitorError("Property '" + model + "-x86_64-cpu." + key + "' not found");
        if (!value.is_boolean()) throw MonitorError("Invalid parameter type for '" + key + "', expected: boolean");
        cpu.features.emplace_back(*canonical, value.get<bool>());
    }
    return cpu;
}

bool migratable(const CpuConfig& cpu) {
    bool on = true;
    for (const auto& [name, enable] : cpu.features)
        if (name == "migratable") on = enable;
    return on;
}

Json expansion_props(const std::vector<kvm_cpuid_entry2>& table, const CpuConfig& cpu, bool full) {
    Json props = Json::object();
    for (const FeatureBit& f : feature_bits()) {
        bool canonical = canonical_cpu_feature(f.name) == std::string(f.name);
        if (canonical || full) props[std::string(f.name)] = has_feature(table, f);
    }
    CpuDescription d = describe_cpu(table);
    props["vendor"] = d.vendor;
    props["family"] = d.family;
    props["model"] = d.model;
    props["stepping"] = d.stepping;
    props["model-id"] = d.model_id;
    props["min-level"] = d.level;
    props["min-xlevel"] = d.xlevel;
    if (full) {
        props["level"] = d.level;
        props["xlevel"] = d.xlevel;
        if (find_cpu_model(cpu.model)->passthrough) props["migratable"] = migratable(cpu);
    }
    return props;
}

Json query_cpu_model_expansion(const VmControl& vm, const Json& args) {
    const bool full = args.at("type").get<std::string>() == "full";
    const Json& model = args.at("model");
    const std::string name = model.at("name").get<std::string>();
    CpuConfig cpu = cpu_config_of(name, optional_arg(model, "props"));
    std::optional<std::vector<kvm_cpuid_entry2>> supported = vm.supported_cpuid();
    if (!supported && find_cpu_model(name)->passthrough)
        throw MonitorError("CPU model '" + name + "' requires KVM");
    std::vector<kvm_cpuid_entry2> table = requested_cpuid(supported.value_or(std::vector<kvm_cpuid_entry2>{}), cpu);
    Json info{{"name", full ? name : "base"}, {"props", expansion_props(table, cpu, full)}};
    return Json{{"model", std::move(info)}};
}

} // namespace

void add_cpu_commands(QmpCommandTable& table, Schema& schema, QmpServices& services) {
    schema.add_enum("CpuModelExpansionType", {"static", "full"});
    schema.add_object("CpuModelInfo", {{"name", "str"}, {"props", "any", true}});
    schema.add_object("CpuModelExpansionInfo", {{"model", "CpuModelInfo"}});
    schema.add_object("q_obj_query-cpu-model-expansion-arg",
                      {{"type", "CpuModelExpansionType"}, {"model", "CpuModelInfo"}});
    VmControl& vm = services.vm;
    table.add({"query-cpu-model-expansion", "q_obj_query-cpu-model-expansion-arg", "CpuModelExpansionInfo",
               [&vm](const Json& args) { return query_cpu_model_expansion(vm, args); }});
}

} // namespace kestrel::qmp
