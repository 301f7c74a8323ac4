#include "machine/pc_machine.h"

#include "base/file_bytes.h"
#include "base/process.h"

#include "machine/boot/boot_image.h"
#include "block/removable_medium.h"
#include "devices/fw_cfg/fw_cfg.h"
#include "devices/power_button.h"
#include "machine/fw_cfg_items.h"
#include "machine/guestfwd_chardevs.h"
#include "machine/pc_board.h"
#include "machine/smbios/smbios_install.h"
#include "kvm/pam_memory.h"
#include "kvm/pc_memory_map.h"
#include "vcpu/topology.h"
#include "machine/vm_controller.h"
#include "monitor/display_control.h"
#include "monitor/event_sink.h"
#include "monitor/monitors.h"
#include "monitor/vm_control.h"
#include "vcpu/boot_state.h"
#include "vcpu/cpuid.h"
#include "machine/mptable/mptable.h"
#include "ui/vnc/vnc_server.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <spdlog/spdlog.h>
#include <stdexcept>
#include <unistd.h>

namespace kestrel {
namespace {

// A VGA card whose text mode kestrel sets up (its BIOS's part).
bool has_vga(const Config& cfg) {
    if (cfg.vga != VgaKind::None) return true;
    return std::any_of(cfg.devices.begin(), cfg.devices.end(), [](const DeviceConfig& d) {
        return d.type->name == "VGA" || d.type->name == "cirrus-vga";
    });
}

std::unique_ptr<BootImage> check_boot_inputs(const Config& cfg) {
    validate_cpu_config(cfg.cpu);
    if (cfg.boot.kernel.empty()) return nullptr;  // firmware boot
    return BootImage::open({cfg.boot.kernel, cfg.boot.initrd, cfg.boot.append, has_vga(cfg)},
                           pc::ram_below_4g(cfg.memory.size));
}

const char* shutdown_reason(ShutdownCause cause) {
    switch (cause) {
    case ShutdownCause::GuestPoweroff: return "guest-shutdown";
    case ShutdownCause::GuestReset: return "guest-reset";
    case ShutdownCause::HostQuit: return "host-qmp-quit";
    case ShutdownCause::HostSignal: return "host-signal";
    case ShutdownCause::HostUi: return "host-ui";
    case ShutdownCause::HostReset: return "host-qmp-system-reset";
    case ShutdownCause::GuestPanic: return "guest-panic";
    }
    return "host-error";
}

bool caused_by_guest(ShutdownCause cause) {
    return cause == ShutdownCause::GuestPoweroff || cause == ShutdownCause::GuestReset ||
           cause == ShutdownCause::GuestPanic;
}

nlohmann::json shutdown_data(ShutdownCause cause) {
    return {{"guest", caused_by_guest(cause)}, {"reason", shutdown_reason(cause)}};
}

// The BIOS image, read before KVM is opened. QEMU's sizes: a multiple of
// 64 KiB, at most 16 MiB.
std::vector<uint8_t> read_firmware(const Config& cfg) {
    if (!cfg.boot.kernel.empty() || cfg.boot.firmware.empty()) return {};
    const std::string& path = cfg.boot.firmware;
    std::string name = cfg.boot.bios.empty() ? "bios-256k.bin" : cfg.boot.bios;
    std::vector<uint8_t> bytes = read_file_bytes(path).value_or(std::vector<uint8_t>{});
    if (bytes.empty() || bytes.size() % 0x10000 || bytes.size() > 16 * 1024 * 1024)
        throw std::runtime_error("could not load PC BIOS '" + name + "'");
    return bytes;
}

} // namespace

const char* run_state_name(RunState state) {
    switch (state) {
    case RunState::Prelaunch: return "prelaunch";
    case RunState::Running: return "running";
    case RunState::Paused: return "paused";
    case RunState::SaveVm: return "save-vm";
    case RunState::Shutdown: return "shutdown";
    case RunState::GuestPanicked: return "guest-panicked";
    }
    return "internal-error";
}

PcMachine::PcMachine(const Config& cfg)
    : cfg_(cfg), kernel_(check_boot_inputs(cfg)), firmware_(read_firmware(cfg)),
      memory_(GuestMemory::create_pc(cfg.memory)), preloading_(start_preloading()),
      vm_(kvm_, memory_, !firmware_.empty()) {
    try {
        if (!firmware_.empty()) pam_ = std::make_unique<PamMemory>(vm_, memory_, firmware_);
        std::vector<uint8_t>().swap(firmware_);  // PamMemory has its own copy (`= {}` keeps the buffer)
        board_ = std::make_unique<PcBoard>(PcBoardSetup{cfg_, vm_, memory_, pio_, mmio_, loop_, *this, pam_.get()});
        if (cfg_.cpu_pm) vm_.disable_power_exits();
        objects_ = std::make_unique<UserObjects>(cfg_);
        board_->services().add<UserObjects>(*objects_);
        if (FwCfg* fw_cfg = board_->services().find<FwCfg>()) {
            add_pc_fw_cfg_items(*fw_cfg, cfg_, memory_);
            if (pam_) board_->add_firmware_fw_cfg_items(*fw_cfg);
        }
        create_vcpus();
        board_->services().add<VcpuHotplug>(*this);
        board_->ids_held_elsewhere([this] {
            std::vector<std::string> ids;
            for (const ColdPluggedCpu& cpu : smp_.plugged)
                if (!cpu.id.empty()) ids.push_back(cpu.id);
            return ids;
        });
        watch_vcpu_ejects();
        watch_vcpu_ost();
        build_smbios();
        load_boot_state();
        watch_signals();
    } catch (...) {
        tear_down();  // members alone would go in the wrong order (see tear_down)
        throw;
    }
}

PcMachine::~PcMachine() { tear_down(); }

void PcMachine::tear_down() {
    for (auto& v : vcpus_) v->stop_thread();
    vnc_.reset();  // its clients' threads read the display and feed input
    events_ = nullptr;
    monitors_.reset();
    if (board_) board_->stop_threads();
    // The buses share ownership of devices that use the board's IRQ lines
    // and chardevs; empty them so devices go first, in the board's order.
    pio_.clear();
    mmio_.clear();
    board_.reset();
    chardevs_.reset();
    signal_fd_.reset();
}

void PcMachine::create_vcpus() {
    Vcpu::install_kick_handler();
    smp_ = cfg_.smp;
    supported_cpuid_ = vmm_supported_cpuid(kvm_);
    requested_cpuid_ = kestrel::requested_cpuid(supported_cpuid_, cfg_.cpu);
    // -smp's vCPUs, then the -device ones in their slots (cpu-index = slot).
    for (unsigned i = 0; i < cfg_.smp.cpus; ++i) create_vcpu(i);
    for (const ColdPluggedCpu& c : cfg_.smp.plugged) create_vcpu(c.index);
    for (const kvm_cpuid_entry2& e : vcpus_[0]->cpuid())
        if (e.function == 1) cpuid_version_ = e.eax, cpuid_features_ = e.edx;
}

void PcMachine::create_vcpu(unsigned index) {
    auto parked = std::find_if(parked_vcpus_.begin(), parked_vcpus_.end(),
                               [&](const auto& v) { return v->index() == index; });
    if (parked != parked_vcpus_.end()) {
        vcpus_.push_back(std::move(*parked));
        parked_vcpus_.erase(parked);
        return;
    }
    uint32_t apic = apic_id_for(index, smp_);
    auto cpuid = build_cpuid(supported_cpuid_, cfg_.cpu, smp_, index);
    vcpus_.push_back(std::make_unique<Vcpu>(VcpuSetup{vm_, index, apic, std::move(cpuid), pio_, mmio_, *this, memory_.below_4g()}));
}

// QEMU's SMBIOS tables for this machine, for the BIOS in fw_cfg and, in a
// direct boot, for kestrel to install as SeaBIOS would.
void PcMachine::build_smbios() {
    SmbiosMachine m;
    m.ram_size = cfg_.memory.size;
    for (const MemoryRegion& r : memory_.regions()) m.ram_ranges.push_back({r.gpa, r.size});
    m.sockets = cfg_.smp.sockets;
    m.cores_per_socket = cfg_.smp.dies * cfg_.smp.cores;
    m.threads_per_socket = m.cores_per_socket * cfg_.smp.threads;
    m.cpuid_version = cpuid_version_;
    // The CPU model's features, as QEMU's env: HTT (bit 28) is added only
    // when CPUID is read with several logical CPUs per package.
    constexpr uint32_t CPUID_1_EDX_HTT = 1u << 28;
    m.cpuid_features = cpuid_features_ & ~CPUID_1_EDX_HTT;
    m.uuid = cfg_.uuid;
    for (const auto* list : {&cfg_.board_devices, &cfg_.devices})
        for (const DeviceConfig& d : *list)
            if (!d.id.empty() && d.type->bus == BusKind::Pci)
                m.pci_devices.push_back({d.id, uint8_t(d.props.sint("addr"))});
    smbios_ = build_smbios_tables(cfg_.smbios, m);
    if (FwCfg* fw_cfg = board_->services().find<FwCfg>()) {
        fw_cfg->add_file("etc/smbios/smbios-tables", smbios_.tables);
        fw_cfg->add_file("etc/smbios/smbios-anchor", smbios_.anchor);
    }
    if (kernel_ && !cfg_.boot.bios_path.empty()) smbios_bios_version_ = seabios_version_of_file(cfg_.boot.bios_path);
}

// What firmware would leave behind at power-on: the kernel and its boot
// data in RAM and fw_cfg, ACPI tables, and the BSP at the kernel's entry
// (64-bit for Linux, 32-bit protected mode for multiboot and PVH).
std::future<void> PcMachine::start_preloading() {
    if (!kernel_) return {};
    if (cfg_.start_paused) memory_.hold_populate();  // until "cont"
    return std::async(std::launch::async, [this] { kernel_->preload(memory_, memory_.zero_at_creation()); });
}

// Firmware boot: every vCPU at its reset state, the BIOS at the reset
// vector finds the rest in fw_cfg.
void PcMachine::load_boot_state() {
    for (auto& v : vcpus_) v->reset();
    if (cpu_tables_stale_ && pam_)
        if (FwCfg* fw_cfg = board_->services().find<FwCfg>()) board_->refresh_firmware_acpi(*fw_cfg, smp_);
    cpu_tables_stale_ = false;
    if (!kernel_) return;
    // At a reset the vCPUs device_add plugged are boot vCPUs, as in QEMU.
    uint64_t rsdp = board_->write_acpi_tables(smp_);
    const uint64_t smbios_end = install_smbios(memory_, smbios_, smbios_bios_version_);
    install_mp_table(memory_, {smp_, cpuid_version_, cpuid_features_}, smbios_end);
    // At power-on the payloads were loaded beside the VM's creation.
    if (preloading_.valid()) preloading_.get();
    BootEntry entry = kernel_->load_into(memory_, rsdp);
    if (FwCfg* fw_cfg = board_->services().find<FwCfg>()) kernel_->publish(*fw_cfg, memory_.below_4g());
    if (entry.mode == BootEntry::Mode::Long64) {
        write_long_mode_tables(memory_);
        set_long_mode_registers(vcpus_[0]->fd(), {entry.ip, entry.rsi});
    } else {
        write_protected_mode_gdt(memory_);
        set_protected_mode_registers(vcpus_[0]->fd(), {uint32_t(entry.ip), entry.eax, entry.ebx});
    }
}

// The VNC server listens before chardevs are opened, so that a taken port
// fails start-up before they create anything.
void PcMachine::start_vnc() {
    if (!cfg_.vnc) return;
    vnc_ = std::make_unique<VncServer>(*cfg_.vnc, board_->displays(), &board_->input());
    try {
        vnc_->start();
    } catch (const std::runtime_error& e) {
        const std::string& where = cfg_.vnc->location;
        throw std::runtime_error(where.empty() ? e.what() : where + ": " + e.what());
    }
    board_->services().add<VncService>(*vnc_);
    if (cfg_.vnc->announce) std::fprintf(stderr, "%s\n", vnc_->running_message().c_str());
}

void PcMachine::open_backends() {
    start_vnc();
    MuxActions actions{[this] { quit(ShutdownCause::HostUi); }, [] {}};
    chardevs_ = std::make_unique<ChardevSet>(cfg_.chardevs, loop_, actions, cfg_.program);
    guestfwd_chardevs_ = std::make_unique<MachineGuestFwdChardevs>(*chardevs_);
    board_->net().set_guestfwd_chardevs(guestfwd_chardevs_.get());
    controller_ = std::make_unique<VmController>(*this);
    // Monitors attach first: as in QEMU, the serial port attaching last to
    // a mux (mon:stdio) has the keyboard at start.
    monitors_ = std::make_unique<Monitors>(cfg_.monitors, *chardevs_, *controller_, loop_);
    events_ = &monitors_->events();
    if (MediumService* media = board_->services().find<MediumService>())
        media->on_tray_moved([this](const std::string& device, const std::string& id, bool open) {
            emit("DEVICE_TRAY_MOVED", {{"device", device}, {"id", id}, {"tray-open", open}});
        });
    if (auto* vserial = board_->services().find<VirtioSerialBuses>())
        vserial->on_port_change([this](const std::string& id, bool open) {
            emit("VSERPORT_CHANGE", {{"id", id}, {"open", open}});
        });
    board_->on_device_deleted([this](const std::string& id, const std::string& path) {
        nlohmann::json data = nlohmann::json::object();
        if (!id.empty()) data["device"] = id;
        data["path"] = path;
        emit("DEVICE_DELETED", data);
    });
    board_->net().set_rx_filter_event([this](const std::string& name, const std::string& path) {
        emit("NIC_RX_FILTER_CHANGED", {{"name", name}, {"path", path}});
    });
    if (vnc_)
        vnc_->set_event_handler([this](const VncClientEvent& e) {
            loop_.post([this, e] { emit(vnc_event_name(e), vnc_event_data(e)); });
        });
    board_->connect_chardevs(*chardevs_);
}

void PcMachine::emit(const char* event, const nlohmann::json& data) {
    if (events_) events_->emit_event(event, data);
}

void PcMachine::watch_signals() {
    signal_fd_ = watch_termination_signals(loop_, [this](int signo, int sender) { on_signal(signo, sender); });
}

void PcMachine::on_signal(int signo, int sender_pid) {
    spdlog::warn("terminating on signal {} from pid {}", signo, sender_pid);
    quit(ShutdownCause::HostSignal);
}

void PcMachine::enter_sandbox() {
    if (!cfg_.sandbox.enable) return;
    kestrel::enter_sandbox(cfg_.sandbox);
    board_->enter_thread_sandboxes();
}

int PcMachine::run() {
    for (auto& v : vcpus_) v->start_thread();
    if (!cfg_.start_paused) {  // -S: prelaunch until the monitor says "cont"
        state_ = RunState::Running;
        resume_vcpus();
    }
    loop_.run();
    for (auto& v : vcpus_) v->stop_thread();
    return exit_status_;
}

void PcMachine::pause_vcpus() {
    for (auto& v : vcpus_) v->request_pause();
    for (auto& v : vcpus_) v->wait_parked();
}

void PcMachine::resume_vcpus() {
    memory_.release_populate();
    for (auto& v : vcpus_) v->resume();
}

void PcMachine::request_shutdown(ShutdownCause cause) {
    loop_.post([this, cause] { on_shutdown(cause); });
}

// As QEMU's isa-debug-exit: the end, with that status and no SHUTDOWN event.
// QEMU exits at once; here the vCPUs run on until paused, so a later
// request (the guest running past its exit) must not change the status.
void PcMachine::request_exit(int status) {
    loop_.post([this, status] {
        if (exit_requested_) return;
        exit_requested_ = true;
        if (state_ == RunState::Running) pause_vcpus();
        state_ = RunState::Shutdown;
        exit_status_ = status;
        loop_.stop();
    });
}

// Unless the guest may run on, no vCPU gets past the panic notification
// (the one that wrote it included), as with QEMU's vm_stop from the vCPU.
void PcMachine::report_guest_panic() {
    if (cfg_.panic_action != PanicAction::None)
        for (auto& v : vcpus_) v->request_pause();
    loop_.post([this] { on_guest_panic(); });
}

void PcMachine::report_guest_crashloaded() {
    loop_.post([this] { emit("GUEST_CRASHLOADED", {{"action", "run"}}); });
}

// QEMU's qemu_system_guest_panicked: GUEST_PANICKED with what happens next;
// pause (also panic=shutdown under -no-shutdown) stops in guest-panicked,
// shutdown and exit-failure stop and shut down (exit status 0 or 1), none
// lets the guest run on.
void PcMachine::on_guest_panic() {
    if (state_ != RunState::Running) return;
    PanicAction action = cfg_.panic_action;
    if (action == PanicAction::None) {
        emit("GUEST_PANICKED", {{"action", "run"}});
        return;
    }
    bool pause = action == PanicAction::Pause || (action == PanicAction::Shutdown && cfg_.no_shutdown);
    emit("GUEST_PANICKED", {{"action", pause ? "pause" : "poweroff"}});
    pause_vcpus();
    board_->devices().pause_all();
    state_ = RunState::GuestPanicked;
    emit("STOP");
    spdlog::debug("Guest crashed");
    if (pause) return;
    emit("SHUTDOWN", shutdown_data(ShutdownCause::GuestPanic));
    exit_status_ = action == PanicAction::ExitFailure ? 1 : 0;
    loop_.stop();
}

void PcMachine::request_reset(ShutdownCause cause) {
    if (cfg_.no_reboot) {  // -no-reboot: a guest reset ends the machine as a poweroff does
        request_shutdown(cause);
        return;
    }
    loop_.post([this, cause] { on_reset(cause); });
}

// QEMU's order: SHUTDOWN, then (with -no-shutdown) STOP, or the end.
void PcMachine::on_shutdown(ShutdownCause cause) {
    if (state_ == RunState::Shutdown || state_ == RunState::GuestPanicked) return;
    bool was_running = state_ == RunState::Running;
    pause_vcpus();
    emit("SHUTDOWN", shutdown_data(cause));
    if (cause == ShutdownCause::GuestPanic) {
        spdlog::error("the guest stopped on an unrecoverable error");
        state_ = RunState::GuestPanicked;
        exit_status_ = 1;
        loop_.stop();
        return;
    }
    state_ = RunState::Shutdown;
    if (cfg_.no_shutdown && caused_by_guest(cause)) {  // stay, stopped, for the monitor
        if (was_running) emit("STOP");
        return;
    }
    exit_status_ = 0;
    loop_.stop();
}

void PcMachine::on_reset(ShutdownCause cause) {
    if (state_ == RunState::Shutdown && caused_by_guest(cause)) return;
    pause_vcpus();
    reset_machine();
    emit("RESET", shutdown_data(cause));
    // As QEMU: a machine that was not running comes back in prelaunch.
    if (state_ == RunState::Running)
        resume_vcpus();
    else
        state_ = RunState::Prelaunch;
}

void PcMachine::stop(RunState to) {
    if (state_ != RunState::Running) return;
    pause_vcpus();
    board_->devices().pause_all();
    state_ = to;
    emit("STOP");
}

void PcMachine::cont() {
    if (state_ == RunState::Shutdown || state_ == RunState::GuestPanicked)
        throw MonitorError("Resetting the Virtual Machine is required");
    if (state_ == RunState::Running) return;
    if (state_ == RunState::Paused || state_ == RunState::SaveVm) board_->devices().resume_all();
    // vCPUs device_add plugged under -S are boot vCPUs: QEMU builds the
    // tables when the firmware first reads them (libvirt plugs a domain's
    // hotpluggable vCPUs that way).
    if (state_ == RunState::Prelaunch && cpu_tables_stale_) {
        pause_vcpus();
        load_boot_state();
    }
    state_ = RunState::Running;
    resume_vcpus();
    emit("RESUME");
}

void PcMachine::system_reset() { on_reset(ShutdownCause::HostReset); }

void PcMachine::system_powerdown() {
    emit("POWERDOWN");
    if (auto* button = board_->services().find<PowerButton>()) button->press();
}

// As QEMU: the SHUTDOWN event now, the end after the monitor's reply is out
// (the loop finishes this round first).
void PcMachine::quit(ShutdownCause cause) {
    if (state_ == RunState::Running) pause_vcpus();
    state_ = RunState::Shutdown;
    emit("SHUTDOWN", shutdown_data(cause));
    exit_status_ = 0;
    loop_.post([this] { loop_.stop(); });
}

void PcMachine::reset_machine() {
    vm_.reset_irqchip();
    board_->reset();
    load_boot_state();
}

} // namespace kestrel
