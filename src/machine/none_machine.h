#pragma once
// QEMU's "none" machine (-machine none): no board, no RAM, no vCPUs; the
// chardevs and monitors only. Tools ask such a process what the emulator
// can do (libvirt's capability probe runs -machine none,accel=kvm:tcg).
// cfg.machine.accel is the list of accelerators to try, in order: kvm
// when KVM opens, else tcg if listed (nothing runs on it), else the error.
#include "base/event_loop.h"
#include "base/unique_fd.h"
#include "chardev/chardev_set.h"
#include "config/config.h"

#include <memory>
#include <nlohmann/json.hpp>

namespace kestrel {

class KvmSystem;
class Monitors;
class EventSink;
class NoneVmControl;

class NoneMachine {
public:
    explicit NoneMachine(const Config& cfg);
    ~NoneMachine();

    void open_backends();   // chardevs and monitors
    void enter_sandbox();
    int run();              // until quit or a signal

    // What the monitors do: QEMU's run states and events, without a guest.
    void stop();
    void cont();
    void quit(const char* reason);
    bool running() const { return running_; }
    bool shut_down() const { return shut_down_; }
    bool started() const { return started_; }   // ran once: stopped is "paused"
    const Config& config() const { return cfg_; }
    const std::string& accelerator() const { return accel_; }   // "kvm" or "tcg"
    ChardevSet* chardevs() { return chardevs_.get(); }
    const KvmSystem* kvm() const { return kvm_.get(); }   // null on tcg

private:
    void watch_signals();
    void emit(const char* event, const nlohmann::json& data = nlohmann::json::object());

    void choose_accelerator();

    const Config& cfg_;
    std::string accel_;
    std::unique_ptr<KvmSystem> kvm_;   // open while the accelerator is kvm, as in QEMU
    EventLoop loop_;
    std::unique_ptr<ChardevSet> chardevs_;
    std::unique_ptr<NoneVmControl> control_;
    std::unique_ptr<Monitors> monitors_;
    EventSink* events_ = nullptr;
    UniqueFd signal_fd_;
    bool running_ = false;
    bool shut_down_ = false;
    bool started_ = false;
};

} // namespace kestrel
