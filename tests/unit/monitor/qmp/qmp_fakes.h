#pragma once
// A fake machine and an in-memory chardev for the QMP tests.
#include "chardev/chardev.h"
#include "monitor/qmp/qmp_event_hub.h"
#include "monitor/qmp/qmp_session.h"
#include "monitor/vm_control.h"
#include "vcpu/cpuid.h"
#include "../../vcpu/fake_cpuid_leaf.h"

#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace kestrel::qmp::test {

class FakeChardev final : public Chardev {
public:
    FakeChardev() : Chardev("qmp0") {}
    std::string filename() const override { return "fake"; }
    void write(std::span<const uint8_t> data) override { output.append(data.begin(), data.end()); }
    void type(const std::string& text) {
        frontend_->receive(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
    }
    void connect() { frontend_->opened(); }
    void disconnect() { frontend_->closed(); }
    std::string take() { return std::exchange(output, {}); }
    std::string output;
};

// What vmm_supported_cpuid could give on an Intel host (family 6, model
// 158, stepping 10) whose KVM, like this project's paravirtual one, lacks
// SSE3 (pni); it has the invariant TSC and a brand string.
inline std::vector<kvm_cpuid_entry2> fake_host_cpuid() {
    std::vector<kvm_cpuid_entry2> host = {
        cpuid_leaf(0, 0, 0xd, 0x756e6547, 0x6c65746e, 0x49656e69),
        cpuid_leaf(1, 0, 0x906ea, 0, 0xfffafbfe, 0xbfebfbff),
        cpuid_leaf(7, 0, 0, 0x209c01a9, 0, 0),
        cpuid_leaf(0x40000000, 0, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d),
        cpuid_leaf(0x40000001, 0, 0x01007afb, 0, 0, 0),
        cpuid_leaf(0x80000000, 0, 0x80000008, 0, 0, 0),
        cpuid_leaf(0x80000001, 0, 0, 0, 0x121, 0x2c100800),
        cpuid_leaf(0x80000007, 0, 0, 0, 0, 0x100),
        cpuid_leaf(0x80000008, 0, 0x3027, 0, 0, 0)};
    const char brand[48] = "Fake(R) CPU @ 3.00GHz";
    for (uint32_t i = 0; i < 3; ++i) {
        kvm_cpuid_entry2 e = cpuid_leaf(0x80000002 + i, 0, 0, 0, 0, 0);
        std::memcpy(&e.eax, brand + 16 * i, 16);
        host.push_back(e);
    }
    return host;
}

class FakeVm final : public VmControl {
public:
    explicit FakeVm(EventSink& events) : events_(events) {
        ram.resize(64 * 1024);
        for (size_t i = 0; i < ram.size(); i++)
            ram[i] = static_cast<uint8_t>(i * 7 + 3);
    }
    std::string name() const override { return guest_name; }
    std::string uuid() const override { return "4f0a51c8-2b7a-4c55-9d0e-6a1b2c3d4e5f"; }
    VmStatus status() const override { return {state, state == "running"}; }
    void stop() override {
        if (state == "running") { state = "paused"; events_.emit_event("STOP"); }
    }
    void cont() override {
        if (state == "shutdown") throw MonitorError("Resetting the Virtual Machine is required");
        if (state != "running") { state = "running"; events_.emit_event("RESUME"); }
    }
    void system_reset() override {
        events_.emit_event("RESET", {{"guest", false}, {"reason", "host-qmp-system-reset"}});
    }
    void system_powerdown() override { events_.emit_event("POWERDOWN"); }
    void quit() override {
        quit_called = true;
        events_.emit_event("SHUTDOWN", {{"guest", false}, {"reason", "host-qmp-quit"}});
    }
    void inject_nmi() override {}
    std::vector<VcpuInfo> cpus() const override {
        std::vector<VcpuInfo> v;
        for (unsigned i = 0; i < 2; i++) {
            VcpuInfo c;
            c.index = i;
            c.host_thread_id = 1000 + i;
            c.qom_path = "/machine/unattached/device[" + std::to_string(i) + "]";
            c.socket_id = i;
            c.apic_id = i;
            c.cpu_model = cpu.model;
            for (const auto& [feature, on] : cpu.features)
                if (feature == "migratable") c.migratable = on;
            SmpConfig smp;
            smp.cpus = smp.sockets = smp.maxcpus = 2;
            c.cpuid = build_cpuid(host_cpuid, cpu, smp, i);
            c.requested_cpuid = requested_cpuid(host_cpuid, cpu);
            v.push_back(c);
        }
        return v;
    }
    PossibleCpus possible_cpus() const override { return possible; }
    std::optional<std::vector<AcpiOstInfo>> acpi_ospm_status() const override { return ospm; }
    std::optional<std::vector<kvm_cpuid_entry2>> supported_cpuid() const override {
        if (!kvm) return std::nullopt;
        return host_cpuid;
    }
    std::string cpu_registers_text(unsigned) override { return "RAX=0\n"; }
    bool read_physical(uint64_t addr, std::span<uint8_t> out) const override {
        if (addr > ram.size() || out.size() > ram.size() - addr) return false;
        std::copy_n(ram.begin() + static_cast<std::ptrdiff_t>(addr), out.size(), out.begin());
        return true;
    }
    // Virtual = physical + 0x1000 on vCPU 1, identity on vCPU 0.
    bool read_virtual(unsigned cpu, uint64_t addr, std::span<uint8_t> out) override {
        last_virtual_cpu = cpu;
        return read_physical(cpu == 1 ? addr - 0x1000 : addr, out);
    }
    std::vector<PciFunctionInfo> pci_functions() const override {
        PciFunctionInfo host;
        host.vendor_id = 0x8086; host.device_id = 0x1237; host.class_code = 6;
        host.subsystem_vendor_id = 0x1af4; host.subsystem_id = 0x1100;
        host.description = "Host bridge";
        PciFunctionInfo ide = host;
        ide.slot = 1; ide.function = 1; ide.device_id = 0x7010; ide.class_code = 1; ide.subclass = 1;
        ide.description = "IDE controller"; ide.irq_pin = 1; ide.irq_line = 11;
        ide.bars.push_back({4, true, false, false, 0xc000, 16});
        ide.bars.push_back({0, false, true, true, 0xfe000000, 0x4000});
        return {host, ide};
    }
    std::vector<ChardevInfo> chardevs() const override { return {{"qmp0", "fake", true}}; }
    std::string info_text(std::string_view) override { return ""; }
    void set_log_items(const std::string&) override {}
    void set_log_file(const std::string&) override {}

    std::string guest_name;
    std::string state = "prelaunch";
    CpuConfig cpu;            // -cpu of the two vCPUs (qemu64)
    bool kvm = true;          // false: the none machine on tcg
    PossibleCpus possible;    // query-hotpluggable-cpus; empty: a machine without vCPUs
    std::optional<std::vector<AcpiOstInfo>> ospm;  // query-acpi-ospm-status; nullopt: no ACPI device
    std::vector<kvm_cpuid_entry2> host_cpuid = fake_host_cpuid();
    bool quit_called = false;
    unsigned last_virtual_cpu = 99;
    std::vector<uint8_t> ram;

private:
    EventSink& events_;
};

// A session over a fake chardev, connected and greeted.
struct QmpRig {
    explicit QmpRig(bool pretty = false) : vm(hub), services{vm, hub, hmp_fn()}, session(chr, services, pretty) {
        chr.connect();
    }
    std::function<std::string(const std::string&, std::optional<unsigned>)> hmp_fn() {
        return [this](const std::string& line, std::optional<unsigned> cpu) {
            hmp_lines.push_back(line);
            hmp_cpu = cpu;
            return "ran " + line + "\n";
        };
    }
    // Sends one line, returns what came back.
    std::string exec(const std::string& line) {
        chr.take();
        chr.type(line + "\n");
        return chr.take();
    }
    void negotiate() { exec(R"({"execute":"qmp_capabilities"})"); }

    QmpEventHub hub;
    FakeVm vm;
    std::vector<std::string> hmp_lines;
    std::optional<unsigned> hmp_cpu;
    QmpServices services;
    FakeChardev chr;
    QmpSession session;
};

} // namespace kestrel::qmp::test
