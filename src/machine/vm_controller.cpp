#include "machine/vm_controller.h"

#include "config/parser.h"
#include "machine/pc_machine.h"
#include "base/process.h"
#include "machine/pc_board.h"
#include "vcpu/cpu_dump_state.h"
#include "vcpu/cpuid.h"
#include "vcpu/register_dump.h"

#include <algorithm>
#include <sys/ioctl.h>
#include <spdlog/spdlog.h>

namespace kestrel {

std::string VmController::name() const { return machine_.config().name; }

std::string VmController::uuid() const {
    const std::string& u = machine_.config().uuid;
    return u.empty() ? "00000000-0000-0000-0000-000000000000" : u;
}

VmStatus VmController::status() const {
    RunState s = machine_.state();
    return {run_state_name(s), s == RunState::Running};
}

void VmController::stop() { machine_.stop(); }
void VmController::cont() { machine_.cont(); }
void VmController::system_reset() { machine_.system_reset(); }
void VmController::system_powerdown() { machine_.system_powerdown(); }
void VmController::quit() { machine_.quit(ShutdownCause::HostQuit); }

void VmController::with_vcpus_parked(const std::function<void()>& fn) {
    bool running = machine_.state() == RunState::Running;
    if (running) machine_.pause_vcpus();
    try {
        fn();
    } catch (...) {
        if (running) machine_.resume_vcpus();
        throw;
    }
    if (running) machine_.resume_vcpus();
}

int VmController::vcpu_fd(unsigned index) const {
    for (auto& v : machine_.vcpus())
        if (v->index() == index) return v->fd();
    throw MonitorError("CPU " + std::to_string(index) + " not found");
}

void VmController::inject_nmi() {
    with_vcpus_parked([&] {
        for (auto& v : machine_.vcpus())
            if (ioctl(v->fd(), KVM_NMI) < 0) throw MonitorError("KVM_NMI failed");
    });
}

namespace {

// vCPU `index`'s place in the topology: threads vary fastest, as in QEMU's x86 machines.
CpuSlot topology_slot(const SmpConfig& smp, unsigned index) {
    CpuSlot slot;
    slot.thread_id = index % smp.threads;
    slot.core_id = (index / smp.threads) % smp.cores;
    slot.die_id = (index / (smp.threads * smp.cores)) % smp.dies;
    slot.socket_id = index / (smp.threads * smp.cores * smp.dies);
    return slot;
}

// -smp's vCPUs are unattached; a -device one is a peripheral.
std::string present_qom_path(const SmpConfig& smp, unsigned index) {
    if (const ColdPluggedCpu* plugged = smp.plugged_at(index)) return plugged->qom_path();
    return vcpu_qom_path(index);
}

} // namespace

PossibleCpus VmController::possible_cpus() const {
    const SmpConfig& smp = machine_.smp();
    PossibleCpus out;
    out.type = machine_.config().cpu.model + "-x86_64-cpu";
    out.with_die = smp.dies > 1;
    for (unsigned i = 0; i < smp.maxcpus; ++i) {
        CpuSlot slot = topology_slot(smp, i);
        if (smp.present(i)) slot.qom_path = present_qom_path(smp, i);
        out.slots.push_back(std::move(slot));
    }
    return out;
}

std::optional<std::vector<AcpiOstInfo>> VmController::acpi_ospm_status() const { return machine_.acpi_ospm_status(); }

std::vector<VcpuInfo> VmController::cpus() const {
    const SmpConfig& smp = machine_.smp();
    std::vector<VcpuInfo> out;
    for (auto& v : machine_.vcpus()) {
        unsigned i = v->index();
        VcpuInfo info;
        info.index = i;
        info.host_thread_id = v->thread_id();
        info.qom_path = present_qom_path(smp, i);
        CpuSlot slot = topology_slot(smp, i);
        info.thread_id = slot.thread_id;
        info.core_id = slot.core_id;
        info.die_id = slot.die_id;
        info.socket_id = slot.socket_id;
        info.apic_id = v->apic_id();
        info.cpu_model = machine_.config().cpu.model;
        for (const auto& [feature, on] : machine_.config().cpu.features)
            if (feature == "migratable") info.migratable = on;
        info.cpuid = v->cpuid();
        info.requested_cpuid = machine_.requested_cpuid();
        out.push_back(info);
    }
    return out;
}

std::optional<std::vector<kvm_cpuid_entry2>> VmController::supported_cpuid() const {
    return vmm_supported_cpuid(machine_.kvm());
}

std::string VmController::cpu_registers_text(unsigned index) {
    int fd = vcpu_fd(index);
    std::string text;
    with_vcpus_parked([&] { text = dump_registers(fd); });
    return text;
}

bool VmController::read_physical(uint64_t addr, std::span<uint8_t> out) const {
    return machine_.memory().read(addr, out);
}

bool VmController::read_virtual(unsigned cpu, uint64_t addr, std::span<uint8_t> out) {
    int fd = vcpu_fd(cpu);
    bool ok = true;
    with_vcpus_parked([&] {
        size_t done = 0;
        while (ok && done < out.size()) {
            uint64_t va = addr + done;
            size_t chunk = std::min<uint64_t>(out.size() - done, 4096 - (va & 4095));
            auto pa = translate_virtual(fd, va);
            ok = pa && machine_.memory().read(*pa, out.subspan(done, chunk));
            done += chunk;
        }
    });
    return ok;
}

// Guest RAM as the dump sees it: below and above 4 GiB (QEMU's pc.ram
// aliases); the legacy VGA window's RAM is backed and dumped as QEMU's.
std::vector<RamBlock> VmController::ram_blocks() const {
    std::vector<RamBlock> out;
    for (const MemoryRegion& r : machine_.memory().regions()) out.push_back({r.gpa, r.size});
    return out;
}

std::vector<CpuDumpState> VmController::cpu_dump_states() {
    std::vector<CpuDumpState> out;
    with_vcpus_parked([&] {
        for (auto& v : machine_.vcpus()) {
            try {
                out.push_back(capture_dump_state(v->fd()));
            } catch (const std::runtime_error& e) {
                throw MonitorError(e.what());
            }
        }
    });
    return out;
}

void VmController::stop_for_dump() { machine_.stop(RunState::SaveVm); }

void VmController::resume_after_dump() {
    try {
        machine_.cont();
    } catch (const MonitorError&) {  // shut down meanwhile: nothing to resume
    }
}

std::vector<PciFunctionInfo> VmController::pci_functions() const { return describe_pci_functions(machine_); }

std::vector<ChardevInfo> VmController::chardevs() const {
    ChardevSet* set = machine_.chardevs();
    return set ? set->info() : std::vector<ChardevInfo>{};
}

const DeviceTree& VmController::devices() const { return machine_.board().devices(); }
const ServiceRegistry& VmController::services() const { return machine_.board().service_registry(); }

std::string VmController::info_text(std::string_view what) {
    if (what == "pic") return pic_info_text(machine_);
    if (what == "irq") return irq_info_text(machine_);
    if (what == "mtree") return mtree_info_text(machine_);
    if (what == "roms") return "";  // direct kernel boot: kestrel loads no firmware or option ROMs
    throw MonitorError("unknown info: " + std::string(what));
}

// As -d: every item kestrel knows logs at debug level; "none" quiets them.
void VmController::set_log_items(const std::string& items) {
    if (items != "none") {
        try {
            parse_log_items(items);
        } catch (const ConfigError&) {
            throw MonitorError(monitor_log_help());
        }
    }
    spdlog::set_level(items == "none" ? spdlog::level::warn : spdlog::level::debug);
}

void VmController::set_log_file(const std::string& path) {
    try {
        auto logger = open_log_file(machine_.config().program, path);
        logger->set_level(spdlog::default_logger()->level());
        spdlog::set_default_logger(logger);
    } catch (const std::runtime_error& e) {
        throw MonitorError(e.what());
    }
}

} // namespace kestrel
