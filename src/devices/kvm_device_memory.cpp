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
    if (flush_watched_) loop_.remove_fd(flush_timer_.get());
}

bool KvmDeviceMemory::add_coalesced(uint64_t gpa, uint64_t size) {
    return zone_added(vm_.add_coalesced_mmio(gpa, size));
}

bool KvmDeviceMemory::add_coalesced_pio(uint16_t port, uint16_t size) {
    return zone_added(vm_.add_coalesced_pio(port, size));
}

void KvmDeviceMemory::flush_coalesced() {
    vm_.drain_coalesced_writes([this](Vm::Space space, uint64_t address, std::span<const uint8_t> data) {
        (space == Vm::Space::Pio ? pio_ : mmio_).write(address, data);
    });
}

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
    flush_watched_ = true;
}

} // namespace kestrel
