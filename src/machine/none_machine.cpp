#include "machine/none_machine.h"

#include "base/process.h"
#include "base/sandbox.h"
#include "kvm/kvm_system.h"
#include "monitor/event_sink.h"
#include "monitor/monitors.h"
#include "monitor/vm_control.h"
#include "vcpu/cpuid.h"

#include <algorithm>
#include <spdlog/spdlog.h>
#include <stdexcept>

namespace kestrel {

// The monitors' view of a machine without a guest: no vCPUs, no memory, no
// devices; the run state and the chardevs are real.
class NoneVmControl final : public VmControl {
public:
    explicit NoneVmControl(NoneMachine& machine) : machine_(machine) {}

    std::string name() const override { return machine_.config().name; }
    std::string uuid() const override {
        const std::string& u = machine_.config().uuid;
        return u.empty() ? "00000000-0000-0000-0000-000000000000" : u;
    }
    VmStatus status() const override {
        if (machine_.shut_down()) return {"shutdown", false};
        if (machine_.running()) return {"running", true};
        return {machine_.started() ? "paused" : "prelaunch", false};
    }
    std::string accelerator() const override { return machine_.accelerator(); }
    void stop() override { machine_.stop(); }
    void cont() override { machine_.cont(); }
    void system_reset() override {}  // nothing to reset (QEMU emits no event either)
    void system_powerdown() override {
        throw MonitorError("The 'none' machine has no power button");
    }
    void quit() override { machine_.quit("host-qmp-quit"); }
    void inject_nmi() override {}  // no vCPU to take it
    std::vector<VcpuInfo> cpus() const override { return {}; }
    std::optional<std::vector<kvm_cpuid_entry2>> supported_cpuid() const override {
        if (const KvmSystem* kvm = machine_.kvm()) return vmm_supported_cpuid(*kvm);
        return std::nullopt;
    }
    std::string cpu_registers_text(unsigned) override { return ""; }
    bool read_physical(uint64_t, std::span<uint8_t>) const override { return false; }
    bool read_virtual(unsigned, uint64_t, std::span<uint8_t>) override { return false; }
    std::vector<PciFunctionInfo> pci_functions() const override { return {}; }
    std::vector<ChardevInfo> chardevs() const override {
        ChardevSet* set = machine_.chardevs();
        return set ? set->info() : std::vector<ChardevInfo>{};
    }
    std::string info_text(std::string_view) override { return ""; }
    void set_log_items(const std::string&) override {
        throw MonitorError("The 'none' machine has no log");
    }
    void set_log_file(const std::string&) override {
        throw MonitorError("The 'none' machine has no log");
    }

private:
    NoneMachine& machine_;
};

NoneMachine::NoneMachine(const Config& cfg) : cfg_(cfg) {
    choose_accelerator();
    watch_signals();
}

// As QEMU: each in turn; KVM's failure is a warning when tcg follows.
void NoneMachine::choose_accelerator() {
    std::string list = cfg_.machine.accel, failure;
    for (size_t start = 0; start <= list.size();) {
        size_t colon = std::min(list.find(':', start), list.size());
        std::string name = list.substr(start, colon - start);
        start = colon + 1;
        if (name == "tcg") {
            if (!failure.empty()) {
                for (size_t at = 0; at < failure.size();) {
                    size_t end = std::min(failure.find('\n', at), failure.size());
                    spdlog::warn("{}", failure.substr(at, end - at));
                    at = end + 1;
                }
                spdlog::warn("falling back to tcg");
            }
            accel_ = name;
            return;
        }
        if (name != "kvm") continue;  // a fallback kestrel does not have
        try {
            kvm_ = std::make_unique<KvmSystem>();
            accel_ = name;
            return;
        } catch (const std::exception& e) {
            failure = e.what();
        }
    }
    throw std::runtime_error(failure.empty() ? "no accelerator found" : failure);
}

NoneMachine::~NoneMachine() {
    events_ = nullptr;
    monitors_.reset();
    chardevs_.reset();
}

void NoneMachine::open_backends() {
    MuxActions actions{[this] { quit("host-ui"); }, [] {}};
    chardevs_ = std::make_unique<ChardevSet>(cfg_.chardevs, loop_, actions, cfg_.program);
    control_ = std::make_unique<NoneVmControl>(*this);
    monitors_ = std::make_unique<Monitors>(cfg_.monitors, *chardevs_, *control_, loop_);
    events_ = &monitors_->events();
}

void NoneMachine::enter_sandbox() {
    if (cfg_.sandbox.enable) kestrel::enter_sandbox(cfg_.sandbox);
}

int NoneMachine::run() {
    running_ = started_ = !cfg_.start_paused;
    loop_.run();
    return 0;
}

void NoneMachine::stop() {
    if (!running_) return;
    running_ = false;
    emit("STOP");
}

void NoneMachine::cont() {
    if (running_ || shut_down_) return;
    running_ = started_ = true;
    emit("RESUME");
}

void NoneMachine::quit(const char* reason) {
    running_ = false;
    shut_down_ = true;
    emit("SHUTDOWN", {{"guest", false}, {"reason", reason}});
    loop_.post([this] { loop_.stop(); });
}

void NoneMachine::emit(const char* event, const nlohmann::json& data) {
    if (events_) events_->emit_event(event, data);
}

void NoneMachine::watch_signals() {
    signal_fd_ = watch_termination_signals(loop_, [this](int signo, int sender) {
        spdlog::warn("terminating on signal {} from pid {}", signo, sender);
        quit("host-signal");
    });
}

} // namespace kestrel
