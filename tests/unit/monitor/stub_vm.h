#pragma once
// A machine that answers every VmControl question with nothing (one vCPU,
// no memory, devices or chardevs): the base of the monitor tests' fakes
// that only care about one subsystem.
#include "monitor/vm_control.h"

#include <string>
#include <vector>

namespace kestrel::test {

class StubVm : public VmControl {
public:
    std::string name() const override { return ""; }
    std::string uuid() const override { return "00000000-0000-0000-0000-000000000000"; }
    VmStatus status() const override { return {"prelaunch", false}; }
    void stop() override {}
    void cont() override {}
    void system_reset() override {}
    void system_powerdown() override {}
    void quit() override {}
    void inject_nmi() override {}
    std::vector<VcpuInfo> cpus() const override { return {VcpuInfo{}}; }
    std::string cpu_registers_text(unsigned) override { return ""; }
    bool read_physical(uint64_t, std::span<uint8_t>) const override { return false; }
    bool read_virtual(unsigned, uint64_t, std::span<uint8_t>) override { return false; }
    std::vector<PciFunctionInfo> pci_functions() const override { return {}; }
    std::vector<ChardevInfo> chardevs() const override { return {}; }
    std::string info_text(std::string_view) override { return ""; }
    void set_log_items(const std::string&) override {}
    void set_log_file(const std::string&) override {}
};

} // namespace kestrel::test
