#include "monitor/qmp/qmp_machines.h"

#include <string>

namespace kestrel::qmp {

namespace {

// The versions -M pc-i440fx-X.Y accepts; keep in step with kPcVersions in
// src/config/options_machine_cpu.cpp.
constexpr const char* kPcVersions[] = {
    "1.4", "1.5", "1.6", "1.7", "2.0", "2.1", "2.2", "2.3",  "2.4",  "2.5",  "2.6", "2.7",
    "2.8", "2.9", "2.10", "2.11", "2.12", "3.0", "3.1", "4.0", "4.1", "4.2", "5.0", "5.1",
    "5.2", "6.0", "6.1", "6.2", "7.0", "7.1", "7.2",
};

// QEMU 7.2 deprecates pc-i440fx-1.4 .. 1.7 and supports NUMA memory
// ("-numa node,mem=") only on machine types up to 5.0.
bool older_than(const std::string& version, int major, int minor) {
    size_t dot = version.find('.');
    int vmaj = std::stoi(version.substr(0, dot)), vmin = std::stoi(version.substr(dot + 1));
    return vmaj < major || (vmaj == major && vmin < minor);
}

} // namespace

Json query_machines() {
    Json list = Json::array();
    for (const char* version : kPcVersions) {
        std::string v = version;
        bool current = v == "7.2";
        Json m = Json::object();
        m["name"] = "pc-i440fx-" + v;
        if (current) {
            m["alias"] = "pc";
            m["is-default"] = true;
        }
        m["cpu-max"] = 255;
        m["hotpluggable-cpus"] = true;   // device_add of a vCPU (ACPI CPU hotplug)
        m["numa-mem-supported"] = older_than(v, 5, 1);
        m["deprecated"] = older_than(v, 2, 0);
        m["default-cpu-type"] = "qemu64-x86_64-cpu";
        m["default-ram-id"] = "pc.ram";
        list.push_back(std::move(m));
    }
    // The guestless machine (-machine none): one CPU at most, no board.
    list.push_back(Json{{"name", "none"}, {"cpu-max", 1}, {"hotpluggable-cpus", false},
                        {"numa-mem-supported", false}, {"deprecated", false}, {"default-ram-id", "ram"}});
    return list;
}

} // namespace kestrel::qmp
