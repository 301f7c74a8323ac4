// -machine/-M, -accel, -enable-kvm and -cpu.
#include "config/cpu_features.h"
#include "config/parse_state.h"

#include <algorithm>

namespace kestrel {

namespace {

constexpr std::string_view kPcVersions[] = {
    "1.4", "1.5", "1.6", "1.7", "2.0", "2.1", "2.2", "2.3",  "2.4",  "2.5",  "2.6", "2.7",
    "2.8", "2.9", "2.10", "2.11", "2.12", "3.0", "3.1", "4.0", "4.1", "4.2", "5.0", "5.1",
    "5.2", "6.0", "6.1", "6.2", "7.0", "7.1", "7.2",
};

// Machine types QEMU's x86_64 binary has but kestrel does not emulate.
bool is_other_qemu_machine(std::string_view type) {
    return type == "q35" || type.starts_with("pc-q35-") || type == "isapc" ||
           type == "microvm" || type == "x-remote";
}

constexpr std::string_view kAccelerators[] = {"kvm", "tcg", "xen", "hax", "hvf", "nvmm", "whpx", "qtest"};

bool is_help(std::string_view s) { return s == "help" || s == "?"; }

// Accelerators are tried in the order given; kestrel runs guests only with
// kvm, so the first one must be kvm (later ones are fallbacks QEMU would
// never reach). The guestless "none" machine also starts with tcg, as
// QEMU's does: nothing runs on it (tools such as libvirt probe that way).
void check_accelerator(const std::string& name, bool& kvm_chosen, bool none_machine = false) {
    if (std::find(std::begin(kAccelerators), std::end(kAccelerators), name) ==
        std::end(kAccelerators))
        throw ConfigError("invalid accelerator " + name);
    if (name == "kvm" || (name == "tcg" && none_machine))
        kvm_chosen = true;
    else if (!kvm_chosen)
        throw ConfigError("accelerator '" + name +
                          "' is not supported (kestrel runs guests only with kvm)");
}

// The first accelerator of the list that kestrel has.
std::string check_machine_accel_list(const std::string& list, bool none_machine) {
    bool kvm_chosen = false;
    std::string chosen;
    size_t start = 0;
    while (true) {
        size_t colon = list.find(':', start);
        std::string name = list.substr(start, colon - start);
        if (!is_help(name)) {
            check_accelerator(name, kvm_chosen, none_machine);
            if (chosen.empty()) chosen = name;
        }
        if (colon == std::string::npos)
            break;
        start = colon + 1;
    }
    return chosen;
}

void check_kvm_accel_property(const qopts::OptPair& p) {
    if (p.key != "kernel-irqchip")
        throw ConfigError("Property 'kvm-accel." + p.key + "' not found");
    if (p.value == "off" || p.value == "split")
        throw ConfigError("kernel-irqchip=" + p.value +
                          " is not supported (kestrel always uses KVM's in-kernel irqchip)");
    if (p.value != "on")
        throw ConfigError("Parameter 'kernel-irqchip' does not accept value '" + p.value + "'");
}

std::string canonical_cpu_model(const std::string& model) {
    for (std::string_view known : {"host", "max", "qemu64", "kvm64"}) {
        if (model == known || model == std::string(known) + "-v1")
            return std::string(known);
    }
    throw ConfigError("unable to find CPU model '" + model + "'");
}

std::vector<std::string> split_commas(const std::string& text) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (true) {
        size_t comma = text.find(',', start);
        parts.push_back(text.substr(start, comma - start));
        if (comma == std::string::npos)
            return parts;
        start = comma + 1;
    }
}

using FeatureList = std::vector<std::pair<std::string, bool>>;

struct CpuFeatureLists {
    FeatureList assigned, plus, minus;  // feat=on|off, +feat, -feat
};

void add_cpu_feature(const std::string& type, const std::string& item, CpuFeatureLists& lists) {
    if (item[0] == '+' || item[0] == '-') {
        std::string name = item.substr(1);
        auto canonical = canonical_cpu_feature(name);
        if (!canonical)
            throw ConfigError("Property '" + type + "." + name + "' not found");
        (item[0] == '+' ? lists.plus : lists.minus).emplace_back(*canonical, item[0] == '+');
        return;
    }
    size_t eq = item.find('=');
    std::string key = item.substr(0, eq);
    std::string value = eq == std::string::npos ? "on" : item.substr(eq + 1);
    std::string global = "can't apply global " + type + "." + key + "=" + value + ": ";
    auto canonical = canonical_cpu_feature(key);
    if (!canonical)
        throw ConfigError(global + "Property '" + type + "." + key + "' not found");
    auto enabled = qopts::to_bool(value);
    if (!enabled)
        throw ConfigError(global + "Parameter '" + key + "' expects 'on' or 'off'");
    lists.assigned.emplace_back(*canonical, *enabled);
}

void warn_mixed_feature_syntax(ParseState& st, const CpuFeatureLists& lists) {
    for (const FeatureList* signed_list : {&lists.plus, &lists.minus}) {
        for (const auto& [name, on] : *signed_list) {
            for (const auto& [assigned_name, assigned_on] : lists.assigned) {
                if (assigned_name == name)
                    st.warn("", std::string("Ambiguous CPU model string. Don't mix both \"") +
                                    (on ? "+" : "-") + name + "\" and \"" + name + "=" +
                                    (assigned_on ? "on" : "off") + "\"");
            }
        }
    }
}

// QEMU's "none" machine: no board, no guest; the monitors answer.
void finalize_none_machine(ParseState& st, const std::optional<std::string>& accel) {
    st.cfg.machine.type = "none";
    for (const qopts::OptPair& p : st.machine_opts) {
        if (p.key != "type" && p.key != "accel")
            throw ConfigError("Property 'none-machine." + p.key + "' not found");
    }
    if (accel && !st.accels.empty())
        throw ConfigError("The -accel and \"-machine accel=\" options are incompatible");
    // The none machine keeps the whole list ("kvm:tcg"): it tries each in
    // turn when it starts, as QEMU does (see machine/none_machine.h).
    if (accel && !check_machine_accel_list(*accel, true).empty()) st.cfg.machine.accel = *accel;
}

} // namespace

void handle_machine(ParseState& st, const ArgToken& tok) {
    auto split = at_location(tok.location(), [&] {
        return qopts::split(*tok.value, "type", qopts::Syntax::Keyval);
    });
    st.machine_help |= split.help;  // only a bare "help": "type=help" is a bad type
    for (qopts::OptPair& p : split.pairs)
        st.machine_opts.push_back(std::move(p));
}

void finalize_machine(ParseState& st) {
    std::string type = "pc";
    std::optional<std::string> accel;
    for (const qopts::OptPair& p : st.machine_opts) {
        if (p.key == "type")
            type = p.value;
        else if (p.key == "accel")
            accel = p.value;
    }
    bool versioned_pc = type.starts_with("pc-i440fx-") &&
                        std::find(std::begin(kPcVersions), std::end(kPcVersions),
                                  type.substr(10)) != std::end(kPcVersions);
    if (type == "none") {
        finalize_none_machine(st, accel);
        return;
    }
    if (is_other_qemu_machine(type))
        throw ConfigError("unsupported machine type '" + type +
                          "': kestrel emulates only pc (i440FX + PIIX)");
    if (type != "pc" && !versioned_pc)
        throw ConfigError("unsupported machine type");
    st.cfg.machine.type = "pc";
    for (const qopts::OptPair& p : st.machine_opts) {
        if (p.key == "usb") {  // the PIIX3's USB function at 01.2, as -usb
            st.cfg.usb = qopts::parse_bool(p.key, p.value);
            continue;
        }
        if (p.key == "smbios-entry-point-type") {  // 32: SMBIOS 2.8 "_SM_" (pc's default), 64: 3.0 "_SM3_"
            if (p.value != "32" && p.value != "64")
                throw ConfigError("Parameter 'smbios-entry-point-type' does not accept value '" + p.value + "'");
            st.cfg.smbios.entry_point = p.value == "32" ? SmbiosConfig::EntryPoint::Bits32
                                                        : SmbiosConfig::EntryPoint::Bits64;
            continue;
        }
        if (p.key == "memory-backend") {  // resolved with the objects (options_object.cpp)
            st.memdev = p.value;
            continue;
        }
        if (p.key == "dump-guest-core" || p.key == "mem-merge") {  // guest RAM's madvise
            bool on = qopts::parse_bool(p.key, p.value);
            (p.key == "mem-merge" ? st.cfg.memory.merge : st.cfg.memory.dump) = on;
            continue;
        }
        if (p.key != "type" && p.key != "accel")
            throw ConfigError("Property 'pc-i440fx-7.2-machine." + p.key + "' not found");
    }
    if (accel && !st.accels.empty())
        throw ConfigError("The -accel and \"-machine accel=\" options are incompatible");
    if (accel)
        check_machine_accel_list(*accel, false);
}

void handle_accel(ParseState& st, const ArgToken& tok) {
    auto split = at_location(tok.location(), [&] {
        return qopts::split(*tok.value, "accel", qopts::Syntax::QemuOpts);
    });
    ParseState::AccelArg accel{tok.location(), "", {}};
    for (qopts::OptPair& p : split.pairs) {
        if (p.short_form)
            st.warn(tok.location(), qopts::short_form_warning(p));
        if (p.key == "accel")
            accel.name = p.value;
        else
            accel.properties.push_back(std::move(p));
    }
    if (accel.name.empty() || is_help(accel.name)) {  // QEMU lists them for "-accel ''" too
        st.accel_help = true;
        return;
    }
    st.accels.push_back(std::move(accel));
}

void handle_enable_kvm(ParseState& st, const ArgToken& tok) {
    st.accels.push_back({tok.spelled, "kvm", {}});  // the same as "-accel kvm"
}

// QEMU sets accelerators up after choosing the machine, so their errors come
// after the whole command line was read.
void finalize_accel(ParseState& st) {
    bool kvm_chosen = false;
    bool none_machine = st.cfg.machine.type == "none";
    for (const ParseState::AccelArg& accel : st.accels) {
        at_location(accel.location, [&] {
            bool fallback = kvm_chosen;
            check_accelerator(accel.name, kvm_chosen, none_machine);
            if (none_machine)  // the list to try in turn when it starts
                st.cfg.machine.accel = fallback ? st.cfg.machine.accel + ":" + accel.name : accel.name;
            if (fallback)
                return;  // never used, so its properties are not checked
            if (accel.name == "kvm")
                for (const qopts::OptPair& p : accel.properties)
                    check_kvm_accel_property(p);
            else if (!accel.properties.empty())
                throw ConfigError("Property 'tcg-accel." + accel.properties.front().key + "' not found");
        });
    }
}

// What QEMU's none machine refuses: it has no buses, one CPU at most, and
// loads no kernel.
void check_none_machine(ParseState& st) {
    if (st.cfg.machine.type != "none") return;
    if (!st.cfg.boot.kernel.empty())
        throw ConfigError("The -kernel parameter is not supported (use the generic 'loader' device instead).");
    if (st.cfg.smp.cpus > 1 || st.cfg.smp.maxcpus > 1)
        throw ConfigError("Invalid SMP CPUs " + std::to_string(std::max(st.cfg.smp.cpus, st.cfg.smp.maxcpus)) +
                          ". The max CPUs supported by machine 'none' is 1");
    // No machine to give a -device CPU its slot: its APIC ID stays unset.
    if (!st.cpu_devices.empty())
        at_location(st.cpu_devices.front().location,
                    [] { throw ConfigError("apic-id property was not initialized properly"); });
    for (const DeviceConfig& dev : st.cfg.devices) {
        at_location(dev.location, [&] {
            throw ConfigError("No '" + std::string(bus_type_name(dev.type->bus)) + "' bus found for device '" +
                              std::string(dev.driver()) + "'");
        });
    }
}

void finalize_cpu(ParseState& st) {
    if (!st.cpu)
        return;
    if (st.cpu->text.empty())
        throw ConfigError("-cpu option cannot be empty");
    std::vector<std::string> items = split_commas(st.cpu->text);
    const std::string& model = items.front();
    st.cfg.cpu.model = canonical_cpu_model(model);
    std::string type = model + "-x86_64-cpu";
    CpuFeatureLists lists;
    for (size_t i = 1; i < items.size(); ++i) {
        if (!items[i].empty())
            add_cpu_feature(type, items[i], lists);
    }
    warn_mixed_feature_syntax(st, lists);
    FeatureList& features = st.cfg.cpu.features;
    features = lists.assigned;
    features.insert(features.end(), lists.plus.begin(), lists.plus.end());
    features.insert(features.end(), lists.minus.begin(), lists.minus.end());
}

} // namespace kestrel
