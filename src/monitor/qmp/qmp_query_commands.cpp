// query-version, -status, -name, -uuid, -kvm, -target, -cpus-fast,
// -chardev, -pci and -machines, from VmControl.
#include "monitor/qmp/qmp_commands.h"
#include "monitor/qmp/qmp_machines.h"

#include "kestrel_version.h"

#include <algorithm>
#include <map>

namespace kestrel::qmp {

namespace {

template <class Ids>   // VcpuInfo or CpuSlot
Json cpu_props(const Ids& cpu, bool with_die) {
    Json props = Json::object();
    props["socket-id"] = cpu.socket_id;
    if (with_die)
        props["die-id"] = cpu.die_id;
    props["core-id"] = cpu.core_id;
    props["thread-id"] = cpu.thread_id;
    return props;
}

Json query_cpus_fast(VmControl& vm) {
    std::vector<VcpuInfo> cpus = vm.cpus();
    // QEMU lists die-id only on machines with several dies per socket.
    bool with_die = std::any_of(cpus.begin(), cpus.end(), [](const VcpuInfo& c) { return c.die_id != 0; });
    Json list = Json::array();
    for (const VcpuInfo& cpu : cpus) {
        Json info = Json::object();
        info["cpu-index"] = cpu.index;
        info["qom-path"] = cpu.qom_path;
        info["thread-id"] = cpu.host_thread_id;
        info["props"] = cpu_props(cpu, with_die);
        info["target"] = "x86_64";
        list.push_back(std::move(info));
    }
    return list;
}

// Every possible vCPU, the last first as QEMU lists them; qom-path only
// for the present ones (-smp's, -device's and device_add's).
Json query_hotpluggable_cpus(VmControl& vm) {
    PossibleCpus cpus = vm.possible_cpus();
    if (cpus.slots.empty()) throw MonitorError("The feature 'query-hotpluggable-cpus' is not enabled");
    Json list = Json::array();
    for (auto slot = cpus.slots.rbegin(); slot != cpus.slots.rend(); ++slot) {
        Json entry{{"type", cpus.type}, {"vcpus-count", 1}, {"props", cpu_props(*slot, cpus.with_die)}};
        if (!slot->qom_path.empty()) entry["qom-path"] = slot->qom_path;
        list.push_back(std::move(entry));
    }
    return list;
}

Json query_chardev(VmControl& vm) {
    Json list = Json::array();
    for (const ChardevInfo& c : vm.chardevs())
        list.push_back(Json{{"label", c.label}, {"filename", c.filename}, {"frontend-open", c.frontend_open}});
    return list;
}

Json pci_region(const PciBarInfo& bar) {
    Json region = Json::object();
    region["bar"] = bar.index;
    region["type"] = bar.io ? "io" : "memory";
    region["address"] = static_cast<int64_t>(bar.address);
    region["size"] = static_cast<int64_t>(bar.size);
    if (!bar.io) {
        region["prefetch"] = bar.prefetchable;
        region["mem_type_64"] = bar.mem64;
    }
    return region;
}

Json pci_device(const PciFunctionInfo& f) {
    Json dev = Json::object();
    dev["bus"] = f.bus;
    dev["slot"] = f.slot;
    dev["function"] = f.function;
    Json class_info = Json::object();
    if (!f.description.empty())
        class_info["desc"] = f.description;
    class_info["class"] = f.class_code << 8 | f.subclass;
    dev["class_info"] = std::move(class_info);
    dev["id"] = Json{{"device", f.device_id}, {"vendor", f.vendor_id},
                     {"subsystem", f.subsystem_id}, {"subsystem-vendor", f.subsystem_vendor_id}};
    if (f.irq_pin != 0)
        dev["irq"] = f.irq_line;
    dev["irq_pin"] = f.irq_pin;
    dev["qdev_id"] = f.qdev_id;
    Json regions = Json::array();
    for (const PciBarInfo& bar : f.bars)
        regions.push_back(pci_region(bar));
    dev["regions"] = std::move(regions);
    return dev;
}

Json query_pci(VmControl& vm) {
    std::map<unsigned, Json> buses;
    for (const PciFunctionInfo& f : vm.pci_functions()) {
        auto [it, fresh] = buses.try_emplace(f.bus, Json::array());
        it->second.push_back(pci_device(f));
    }
    Json list = Json::array();
    for (auto& [bus, devices] : buses)
        list.push_back(Json{{"bus", bus}, {"devices", std::move(devices)}});
    return list;
}

} // namespace

Json qmp_version_info() {
    Json triple = Json::object();
    triple["major"] = kQmpQemuMajor;
    triple["minor"] = kQmpQemuMinor;
    triple["micro"] = kQmpQemuMicro;
    return Json{{"qemu", std::move(triple)}, {"package", std::string("kestrel ") + KESTREL_VERSION}};
}

void add_query_commands(QmpCommandTable& table, QmpServices& services) {
    VmControl& vm = services.vm;
    table.add({"query-version", "q_empty", "VersionInfo", [](const Json&) { return qmp_version_info(); }});
    table.add({"query-status", "q_empty", "StatusInfo", [&vm](const Json&) {
        VmStatus s = vm.status();
        return Json{{"running", s.running}, {"singlestep", false}, {"status", s.status}};
    }});
    table.add({"query-name", "q_empty", "NameInfo", [&vm](const Json&) {
        std::string name = vm.name();
        return name.empty() ? Json::object() : Json{{"name", name}};
    }});
    table.add({"query-uuid", "q_empty", "UuidInfo", [&vm](const Json&) { return Json{{"UUID", vm.uuid()}}; }});
    // kestrel runs guests only under KVM; the guestless none machine may
    // have started with tcg.
    table.add({"query-kvm", "q_empty", "KvmInfo", [&vm](const Json&) {
        return Json{{"enabled", vm.accelerator() == "kvm"}, {"present", true}};
    }});
    table.add({"query-target", "q_empty", "TargetInfo", [](const Json&) { return Json{{"arch", "x86_64"}}; }});
    table.add({"query-cpus-fast", "q_empty", "[CpuInfoFast]", [&vm](const Json&) { return query_cpus_fast(vm); }});
    table.add({"query-hotpluggable-cpus", "q_empty", "[HotpluggableCPU]",
               [&vm](const Json&) { return query_hotpluggable_cpus(vm); }});
    table.add({"query-chardev", "q_empty", "[ChardevInfo]", [&vm](const Json&) { return query_chardev(vm); }});
    table.add({"query-pci", "q_empty", "[PciInfo]", [&vm](const Json&) { return query_pci(vm); }});
    // kestrel's machines run guests only on KVM: started with tcg (the
    // none machine of libvirt's TCG probe) it offers none, so libvirt
    // refuses TCG domains ("does not support virt type 'qemu'").
    table.add({"query-machines", "q_empty", "[MachineInfo]", [&vm](const Json&) {
        return vm.accelerator() == "kvm" ? query_machines() : Json::array();
    }});
}

} // namespace kestrel::qmp
