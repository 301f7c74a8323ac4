#pragma once
// A machine and a chardev for HMP tests: guest RAM is a vector (virtual
// addresses are physical + kVirtOffset), two vCPUs, a PCI list.
#include "chardev/chardev.h"
#include "monitor/hmp/hmp.h"

#include <algorithm>
#include <utility>
#include <string>
#include <vector>

namespace kestrel::hmp_test {

class FakeVm final : public VmControl {
public:
    static constexpr uint64_t kVirtOffset = 0x10000000;

    std::vector<uint8_t> ram = std::vector<uint8_t>(0x10000);
    VmStatus state{"prelaunch", false};
    std::string vm_name, vm_uuid = "00000000-0000-0000-0000-000000000000";
    std::vector<PciFunctionInfo> pci;
    std::vector<std::string> calls;   // lifecycle calls, in order
    std::string log_items, log_file;
    ServiceRegistry registry;  // the services a test gives the machine
    PossibleCpus possible;     // info hotpluggable-cpus; empty: a machine without vCPUs

    FakeVm() {
        // The pattern qemu got with -device loader,file=...,addr=0x1000.
        for (unsigned i = 0; i < 256; ++i) ram[0x1000 + i] = static_cast<uint8_t>(i * 37 + 0x5c);
    }

    std::string name() const override { return vm_name; }
    std::string uuid() const override { return vm_uuid; }
    VmStatus status() const override { return state; }
    void stop() override { calls.push_back("stop"); state = {"paused", false}; }
    void cont() override {
        if (state.status == "shutdown") throw MonitorError("Resetting the Virtual Machine is required");
        calls.push_back("cont");
        state = {"running", true};
    }
    void system_reset() override { calls.push_back("system_reset"); }
    void system_powerdown() override { calls.push_back("system_powerdown"); }
    void quit() override { calls.push_back("quit"); }
    void inject_nmi() override { calls.push_back("nmi"); }

    std::vector<VcpuInfo> cpus() const override {
        VcpuInfo a, b;
        a.index = 0, a.host_thread_id = 4100, a.qom_path = "/machine/unattached/device[0]";
        b.index = 1, b.host_thread_id = 4101, b.qom_path = "/machine/peripheral/c1";
        a.cpu_model = b.cpu_model = "qemu64";
        return {a, b};
    }
    PossibleCpus possible_cpus() const override { return possible; }
    std::string cpu_registers_text(unsigned index) override {
        return "RAX=000000000000000" + std::to_string(index) +
               " RBX=0000000000001000\nRIP=0000000000000010 RFL=00000002\n"
               "ES =0000 0000000000000000 0000ffff 00009300\n"
               "CS =0000 0000000010000ff0 0000ffff 00009b00\n";
    }
    bool read_physical(uint64_t addr, std::span<uint8_t> out) const override {
        if (addr > ram.size() || out.size() > ram.size() - addr) return false;
        std::copy_n(ram.begin() + static_cast<std::ptrdiff_t>(addr), out.size(), out.begin());
        return true;
    }
    bool read_virtual(unsigned, uint64_t addr, std::span<uint8_t> out) override {
        return addr >= kVirtOffset && read_physical(addr - kVirtOffset, out);
    }
    std::vector<PciFunctionInfo> pci_functions() const override { return pci; }
    const ServiceRegistry& services() const override { return registry; }
    std::vector<ChardevInfo> chardevs() const override {
        return {{"compat_monitor0", "stdio", true}, {"serial0", "pty:/dev/pts/3", true}};
    }
    std::string info_text(std::string_view what) override { return "text of " + std::string(what); }
    void set_log_items(const std::string& items) override {
        if (items == "foo") throw MonitorError("Log items (comma separated):\nnone            remove all logs");
        log_items = items;
    }
    void set_log_file(const std::string& path) override { log_file = path; }
};

class FakeChardev final : public Chardev {
public:
    FakeChardev() : Chardev("compat_monitor0") {}
    std::string output;
    void write(std::span<const uint8_t> data) override { output.append(data.begin(), data.end()); }
    std::string filename() const override { return "stdio"; }
    CharFrontend* frontend() const { return frontend_; }
    void type(std::string_view keys) {
        frontend_->receive({reinterpret_cast<const uint8_t*>(keys.data()), keys.size()});
    }
    std::string take() { return std::exchange(output, {}); }
};

// A monitor over a fake VM: run() is one command line at the (qemu) prompt.
struct Monitor {
    FakeVm vm;
    HmpServices services{vm};
    HmpState state;
    std::string run(std::string_view line) { return run_hmp_command(services, state, line); }
};

// Expected output: each line ends in CR LF, as the monitor writes it.
inline std::string lines(std::initializer_list<std::string_view> ls) {
    std::string out;
    for (auto l : ls) out.append(l).append("\r\n");
    return out;
}

} // namespace kestrel::hmp_test
