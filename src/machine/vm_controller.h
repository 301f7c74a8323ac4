#pragma once
// The monitors' view of a PcMachine (VmControl): lifecycle commands go to
// the machine; reading vCPUs and guest memory happens with the vCPUs
// parked for the moment it takes, as KVM requires.
#include "monitor/vm_control.h"

#include <functional>

namespace kestrel {

class PcMachine;

class VmController final : public VmControl {
public:
    explicit VmController(PcMachine& machine) : machine_(machine) {}

    std::string name() const override;
    std::string uuid() const override;
    VmStatus status() const override;

    void stop() override;
    void cont() override;
    void system_reset() override;
    void system_powerdown() override;
    void quit() override;
    void inject_nmi() override;

    std::vector<VcpuInfo> cpus() const override;
    PossibleCpus possible_cpus() const override;
    std::optional<std::vector<AcpiOstInfo>> acpi_ospm_status() const override;
    std::optional<std::vector<kvm_cpuid_entry2>> supported_cpuid() const override;
    std::string cpu_registers_text(unsigned index) override;

    bool read_physical(uint64_t addr, std::span<uint8_t> out) const override;
    bool read_virtual(unsigned cpu, uint64_t addr, std::span<uint8_t> out) override;
    std::vector<RamBlock> ram_blocks() const override;
    std::vector<CpuDumpState> cpu_dump_states() override;
    void stop_for_dump() override;
    void resume_after_dump() override;

    std::vector<PciFunctionInfo> pci_functions() const override;
    std::vector<ChardevInfo> chardevs() const override;
    const DeviceTree& devices() const override;
    const ServiceRegistry& services() const override;
    std::string info_text(std::string_view what) override;

    void set_log_items(const std::string& items) override;
    void set_log_file(const std::string& path) override;

private:
    // Runs fn with every vCPU out of KVM_RUN, then lets them go on.
    void with_vcpus_parked(const std::function<void()>& fn);
    int vcpu_fd(unsigned index) const;

    PcMachine& machine_;
};

// Text of "info pic", "info irq", "info mtree" (machine_info.cpp).
std::string pic_info_text(PcMachine& machine);
std::string irq_info_text(PcMachine& machine);
std::string mtree_info_text(PcMachine& machine);
// query-pci / "info pci" data (pci_info.cpp).
std::vector<PciFunctionInfo> describe_pci_functions(PcMachine& machine);

} // namespace kestrel
