#include "vcpu/vcpu.h"

#include "vcpu/boot_state.h"
#include "vcpu/cpuid.h"
#include "devices/kvm_device_memory.h"
#include "base/sandbox.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <stdexcept>
#include <string>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

namespace kestrel {
namespace {

constexpr int KICK_SIGNAL = SIGUSR1;
thread_local kvm_run* this_thread_run = nullptr;

// Runs on the vCPU thread: makes a KVM_RUN that is about to start (or is
// running) return at once, so a kick can never be lost.
void on_kick(int) {
    if (this_thread_run) this_thread_run->immediate_exit = 1;
}

[[noreturn]] void fail(const char* what) {
    throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
}

// The firmware's MTRR set-up, if the CPU model has MTRRs (CPUID 1 EDX[12]).
std::vector<MsrValue> mtrrs_for(const std::vector<kvm_cpuid_entry2>& cpuid, uint64_t ram_below_4g) {
    const kvm_cpuid_entry2* l1 = find_cpuid_leaf(cpuid, 1);
    if (!l1 || !(l1->edx & (1u << 12)) || ram_below_4g == 0) return {};
    const kvm_cpuid_entry2* addr = find_cpuid_leaf(cpuid, 0x80000008);
    return pc_mtrr_msrs(ram_below_4g, addr ? addr->eax & 0xff : 36);
}

} // namespace

void Vcpu::install_kick_handler() {
    struct sigaction sa {};
    sa.sa_handler = on_kick;
    sigemptyset(&sa.sa_mask);
    sigaction(KICK_SIGNAL, &sa, nullptr);  // no SA_RESTART: KVM_RUN returns EINTR
}

Vcpu::Vcpu(VcpuSetup s)
    : vm_(s.vm), index_(s.index), apic_id_(s.apic_id), cpuid_(std::move(s.cpuid)),
      mtrrs_(mtrrs_for(cpuid_, s.ram_below_4g)), pio_(s.pio), mmio_(s.mmio), control_(s.control) {
    fd_.reset(ioctl(vm_.fd(), KVM_CREATE_VCPU, apic_id_));
    if (!fd_) fail("kvm_init_vcpu: KVM_CREATE_VCPU failed");
    run_size_ = size_t(vm_.kvm().vcpu_mmap_size());
    void* p = mmap(nullptr, run_size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_.get(), 0);
    if (p == MAP_FAILED) fail("mmap kvm_run");
    run_ = static_cast<kvm_run*>(p);
    // The coalesced MMIO ring is one page of every vCPU's run area.
    if (int page = vm_.kvm().check_extension(KVM_CAP_COALESCED_MMIO); page > 0 && index_ == 0)
        vm_.set_coalesced_ring(static_cast<uint8_t*>(p) + size_t(page) * size_t(sysconf(_SC_PAGESIZE)));

    std::vector<uint8_t> buf(sizeof(kvm_cpuid2) + cpuid_.size() * sizeof(kvm_cpuid_entry2));
    auto* table = reinterpret_cast<kvm_cpuid2*>(buf.data());
    table->nent = uint32_t(cpuid_.size());
    std::memcpy(table->entries, cpuid_.data(), cpuid_.size() * sizeof(kvm_cpuid_entry2));
    if (ioctl(fd_.get(), KVM_SET_CPUID2, table) < 0) fail("KVM_SET_CPUID2");

    if (ioctl(fd_.get(), KVM_GET_MP_STATE, &mp_state_at_power_on_) < 0) fail("KVM_GET_MP_STATE");
    if (ioctl(fd_.get(), KVM_GET_LAPIC, &lapic_at_power_on_) < 0) fail("KVM_GET_LAPIC");
    if (ioctl(fd_.get(), KVM_GET_REGS, &regs_at_power_on_) < 0) fail("KVM_GET_REGS");
    if (ioctl(fd_.get(), KVM_GET_SREGS, &sregs_at_power_on_) < 0) fail("KVM_GET_SREGS");
    if (ioctl(fd_.get(), KVM_GET_FPU, &fpu_at_power_on_) < 0) fail("KVM_GET_FPU");
}

Vcpu::~Vcpu() {
    stop_thread();
    if (run_) munmap(run_, run_size_);
}

void Vcpu::reset() {
    kvm_sregs sregs = sregs_at_power_on_;
    if (ioctl(fd_.get(), KVM_SET_SREGS, &sregs) < 0) fail("KVM_SET_SREGS");
    kvm_regs regs = regs_at_power_on_;
    if (ioctl(fd_.get(), KVM_SET_REGS, &regs) < 0) fail("KVM_SET_REGS");
    kvm_fpu fpu = fpu_at_power_on_;
    if (ioctl(fd_.get(), KVM_SET_FPU, &fpu) < 0) fail("KVM_SET_FPU");
    kvm_lapic_state lapic = lapic_at_power_on_;
    if (ioctl(fd_.get(), KVM_SET_LAPIC, &lapic) < 0) fail("KVM_SET_LAPIC");
    kvm_mp_state mp = mp_state_at_power_on_;
    if (ioctl(fd_.get(), KVM_SET_MP_STATE, &mp) < 0) fail("KVM_SET_MP_STATE");
    set_reset_msrs(fd_.get(), vm_.kvm(), mtrrs_);
    if (index_ == 0) set_lapic_virtual_wire(fd_.get());
}

void Vcpu::start_thread() {
    {
        std::lock_guard guard(lock_);  // again after stop_thread: a vCPU plugged back in
        want_ = Want::Pause;
        parked_ = true;
        thread_id_ = 0;
    }
    thread_ = std::thread([this] { thread_main(); });
    std::unique_lock guard(lock_);
    cv_.wait(guard, [&] { return thread_id_.load() != 0; });
}

void Vcpu::thread_main() {
    std::string name = "CPU " + std::to_string(index_) + "/KVM";
    pthread_setname_np(pthread_self(), name.c_str());
    {
        std::lock_guard guard(lock_);
        thread_id_ = gettid();
        cv_.notify_all();
    }
    sigset_t unblock;
    sigemptyset(&unblock);
    sigaddset(&unblock, KICK_SIGNAL);
    pthread_sigmask(SIG_UNBLOCK, &unblock, nullptr);
    try {
        enter_thread_sandbox(ThreadClass::Vcpu);
    } catch (const std::exception& e) {
        spdlog::error("vCPU {}: {}", index_, e.what());  // never runs unfiltered
        park_self();
        control_.request_exit(1);
    }
    this_thread_run = run_;
    while (wait_until_runnable()) run_once();
    this_thread_run = nullptr;
}

// Clearing immediate_exit before looking at want_ means a kick that comes
// after the look sets it again, and one that came before changed want_.
bool Vcpu::wait_until_runnable() {
    run_->immediate_exit = 0;
    std::unique_lock guard(lock_);
    if (want_ == Want::Run) {
        parked_ = false;  // a thread that starts after resume() comes here first
        return true;
    }
    parked_ = true;
    cv_.notify_all();
    cv_.wait(guard, [&] { return want_ != Want::Pause; });
    if (want_ == Want::Exit) return false;
    parked_ = false;
    run_->immediate_exit = 0;
    return true;
}

void Vcpu::request_pause() {
    std::lock_guard guard(lock_);
    if (want_ == Want::Exit) return;
    want_ = Want::Pause;
    if (thread_.joinable() && !parked_) pthread_kill(thread_.native_handle(), KICK_SIGNAL);
}

void Vcpu::wait_parked() {
    std::unique_lock guard(lock_);
    cv_.wait(guard, [&] { return parked_ || !thread_.joinable(); });
}

void Vcpu::resume() {
    std::lock_guard guard(lock_);
    if (want_ == Want::Exit) return;
    want_ = Want::Run;
    cv_.notify_all();
}

void Vcpu::stop_thread() {
    if (!thread_.joinable()) return;
    {
        std::lock_guard guard(lock_);
        want_ = Want::Exit;
        cv_.notify_all();
        if (!parked_) pthread_kill(thread_.native_handle(), KICK_SIGNAL);
    }
    thread_.join();
}

// The vCPU asked the machine for something (reset, poweroff, error): it stops
// running until the machine decides what happens next.
void Vcpu::park_self() {
    std::lock_guard guard(lock_);
    if (want_ == Want::Run) want_ = Want::Pause;
}

void Vcpu::run_once() {
    int result = ioctl(fd_.get(), KVM_RUN, 0);
    int error = errno;
    // Writes queued in the coalesced ring come before whatever this exit is.
    deliver_coalesced_writes(vm_, pio_, mmio_);
    if (result < 0) {
        if (error == EINTR || error == EAGAIN) return;
        report_fatal(std::strerror(error));
        return;
    }
    switch (run_->exit_reason) {
    case KVM_EXIT_IO: handle_io(); break;
    case KVM_EXIT_MMIO: handle_mmio(); break;
    case KVM_EXIT_INTR:
    case KVM_EXIT_HLT:
    case KVM_EXIT_IRQ_WINDOW_OPEN: break;
    case KVM_EXIT_SHUTDOWN:  // triple fault: a PC resets
        log_triple_fault();
        park_self();
        control_.request_reset(ShutdownCause::GuestReset);
        break;
    case KVM_EXIT_SYSTEM_EVENT: handle_system_event(); break;
    case KVM_EXIT_FAIL_ENTRY: report_fatal("KVM_EXIT_FAIL_ENTRY"); break;
    case KVM_EXIT_INTERNAL_ERROR: report_fatal("KVM internal error"); break;
    default:
        spdlog::debug("vcpu {}: unhandled exit reason {}", index_, run_->exit_reason);
        break;
    }
}

void Vcpu::handle_io() {
    auto* data = reinterpret_cast<uint8_t*>(run_) + run_->io.data_offset;
    for (uint32_t i = 0; i < run_->io.count; ++i, data += run_->io.size) {
        if (run_->io.direction == KVM_EXIT_IO_OUT)
            pio_.write(run_->io.port, {data, run_->io.size});
        else
            pio_.read(run_->io.port, {data, run_->io.size});
    }
}

void Vcpu::handle_mmio() {
    auto& m = run_->mmio;
    uint32_t len = m.len > 8 ? 8 : m.len;
    if (m.is_write)
        mmio_.write(m.phys_addr, {m.data, len});
    else
        mmio_.read(m.phys_addr, {m.data, len});
}

void Vcpu::handle_system_event() {
    if (run_->system_event.type == KVM_SYSTEM_EVENT_CRASH) {  // the machine pauses us if -action says so
        control_.report_guest_panic();
        return;
    }
    park_self();
    switch (run_->system_event.type) {
    case KVM_SYSTEM_EVENT_RESET: control_.request_reset(ShutdownCause::GuestReset); break;
    default: control_.request_shutdown(ShutdownCause::GuestPoweroff); break;
    }
}

// Shown with -d cpu_reset (or any -d item). On Intel these are the registers
// at the triple fault; AMD KVM has already reset the vCPU (RIP=0xfff0) by the
// time it reports the exit, so there only the event itself is informative.
void Vcpu::log_triple_fault() {
    if (!spdlog::should_log(spdlog::level::debug)) return;
    kvm_regs regs{};
    kvm_sregs sregs{};
    ioctl(fd_.get(), KVM_GET_REGS, &regs);
    ioctl(fd_.get(), KVM_GET_SREGS, &sregs);
    spdlog::debug("vCPU {}: triple fault, CPU reset: RIP={:#x} RSP={:#x} CS={:#x} CR0={:#x} CR2={:#x} "
                  "CR3={:#x} CR4={:#x} EFER={:#x}",
                  index_, regs.rip, regs.rsp, sregs.cs.selector, sregs.cr0, sregs.cr2, sregs.cr3, sregs.cr4,
                  sregs.efer);
}

void Vcpu::report_fatal(const char* what) {
    kvm_regs regs{};
    ioctl(fd_.get(), KVM_GET_REGS, &regs);
    spdlog::error("vCPU {}: {} (exit reason {}) at RIP={:#x} RSP={:#x}", index_, what, run_->exit_reason,
                  regs.rip, regs.rsp);
    park_self();
    control_.request_shutdown(ShutdownCause::GuestPanic);
}

} // namespace kestrel
