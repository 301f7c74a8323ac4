#include "devices/kvm_device_memory.h"

#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

namespace kestrel {
namespace {
constexpr long kFlushPeriodNs = 100'000'000;
} // namespace

KvmDeviceMemory::KvmDeviceMemory(Vm& vm, Bus& mmio, Bus& pio, EventLoop& loop)
    : vm_(vm), mmio_(mmio), pio_(pio), loop_(loop) {}

KvmDeviceMemory::~KvmDeviceMemory() {
    if (flush_timer_) loop_.remove_fd(flush_timer_.get());
}

bool KvmDeviceMemory::add_coalesced(uint64_t gpa, uint64_t size) {
    return zone_added(vm_.add_coalesced_mmio(gpa, size));
}

bool KvmDeviceMemory::add_coalesced_pio(uint16_t port, uint16_t size) {
    return zone_added(vm_.add_coalesced_pio(port, size));
}

void deliver_coalesced_writes(Vm& vm, Bus& pio, Bus& mmio) {
    vm.drain_coalesced_writes([&](Vm::Space space, uint64_t address, std::span<const uint8_t> data) {
        (space == Vm::Space::Pio ? pio : mmio).write(address, data);
    });
}

void KvmDeviceMemory::flush_coalesced() { deliver_coalesced_writes(vm_, pio_, mmio_); }

// Any thread (a BAR moves in a vCPU's configuration write): the timer
// starts on the loop thread.
bool KvmDeviceMemory::zone_added(bool added) {
    if (added && !flush_started_.exchange(true)) {
        loop_.post([this, alive = std::weak_ptr<int>(alive_)] {
            if (alive.lock()) start_periodic_flush();
        });
    }
    return added;
}

void KvmDeviceMemory::start_periodic_flush() {
    flush_timer_ = UniqueFd(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    if (!flush_timer_) return;
    itimerspec every{{0, kFlushPeriodNs}, {0, kFlushPeriodNs}};
    timerfd_settime(flush_timer_.get(), 0, &every, nullptr);
    loop_.add_fd(flush_timer_.get(), EPOLLIN, [this](uint32_t) {
        uint64_t expirations;
        [[maybe_unused]] auto n = ::read(flush_timer_.get(), &expirations, sizeof expirations);
        flush_coalesced();
    });
}

} // namespace kestrel
