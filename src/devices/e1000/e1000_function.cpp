// The e1000's PCI function: register windows, RDT without the lock (and
// without exits), and the receive pump (e1000_function.h).
#include "devices/e1000/e1000_function.h"

#include "base/event_loop.h"
#include "base/monotonic_clock.h"
#include "devices/device_memory.h"
#include "net/net_backend.h"

#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

namespace kestrel {
namespace {

using namespace e1000;

// Registers whose writes wait in KVM's coalesced ring: RDT (buffers
// posted) and ITR (Linux's driver retunes the interrupt rate as often as
// once per interrupt). Neither acts before the guest's next exit or the
// pump's flush needs it.
constexpr uint32_t kQueuedRegisters[] = {RDT, ITR};

constexpr int kRxBatch = 64;   // frames into the ring per wake-up

} // namespace

class E1000Function::Window final : public BusDevice {
public:
    Window(E1000Function& f, bool io) : f_(f), io_(io) {}
    void read(uint64_t offset, std::span<uint8_t> data) override { f_.access(io_, offset, data, nullptr); }
    void write(uint64_t offset, std::span<const uint8_t> data) override { f_.access(io_, offset, {}, &data); }

private:
    E1000Function& f_;
    bool io_;
};

E1000Function::E1000Function(const GuestMemory& memory, NetBackend* backend, E1000Core::Options options,
                             EventLoop& loop, std::shared_ptr<DeviceMemory> device_memory)
    : vnet_hdr_(options.vnet_hdr), backend_(backend), port_(backend ? &backend->port(0) : nullptr), loop_(loop),
      device_memory_(std::move(device_memory)), mac_(options.mac),
      moderation_timer_(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK)),
      core_(memory, port_, options, [this](bool level) { raise_irq(level); }) {
    set_ids({kVendorId, kDeviceId, 0x03, 0x020000});
    set_interrupt_pin(pci::PIN_INTA);
    add_bar(0, kMmioSize, BarKind::Mem32, false, std::make_shared<Window>(*this, false), "e1000-mmio");
    add_bar(1, kIoSize, BarKind::Io, false, std::make_shared<Window>(*this, true), "e1000-io");
    if (backend_) {
        backend_->set_vnet_hdr_len(vnet_hdr_ ? kVnetHdrLen : 0);
        backend_->set_offloads({});   // frames to the guest whole, checksums complete
    }
    core_.set_moderation_timer(monotonic_ns, [this](uint64_t deadline) { arm_moderation_timer(deadline); });
}

E1000Function::~E1000Function() {
    unwatch();
    if (timer_watched_) loop_.remove_fd(moderation_timer_.get());
    for (uint64_t gpa : queued_) device_memory_->remove_coalesced(gpa, 4);
}

// lock_ held. A raise by a frame of a burst waits for the burst's end
// (hold_raise_); anything that lowers the line cancels it.
void E1000Function::raise_irq(bool level) {
    if (level && hold_raise_) {
        raise_held_ = true;
        return;
    }
    raise_held_ = false;
    set_irq_level(level);
}

// lock_ held: the burst is in the ring, or waits for buffers.
void E1000Function::release_held_raise() {
    if (!raise_held_) return;
    raise_held_ = false;
    set_irq_level(true);
}

void E1000Function::arm_moderation_timer(uint64_t deadline) {
    itimerspec spec{};
    spec.it_value.tv_sec = time_t(deadline / 1000000000);
    spec.it_value.tv_nsec = long(deadline % 1000000000);
    timerfd_settime(moderation_timer_.get(), TFD_TIMER_ABSTIME, &spec, nullptr);
}

void E1000Function::start() {
    loop_.add_fd(moderation_timer_.get(), EPOLLIN, [this](uint32_t) {
        uint64_t expirations;
        [[maybe_unused]] auto r = ::read(moderation_timer_.get(), &expirations, sizeof expirations);
        std::lock_guard guard(lock_);
        core_.moderation_timer_expired();
    });
    timer_watched_ = true;
    {
        std::lock_guard guard(lock_);
        core_.set_link(!link_down());
    }
    watch();
}

void E1000Function::reset() {
    PciDevice::reset();
    std::lock_guard guard(lock_);
    core_.reset();   // a frame the main loop holds is dropped while RX is off, as on the wire
    posted_tail_.store(core_.rx_tail());
}

std::string E1000Function::nic_info() const { return "model=e1000,macaddr=" + mac_.text(); }

void E1000Function::link_status_changed() {
    std::lock_guard guard(lock_);
    core_.set_link(!link_down());
}

void E1000Function::backend_deleted() {
    unwatch();
    std::lock_guard guard(lock_);
    core_.set_port(nullptr);
    port_ = nullptr;
    pending_len_ = 0;
}

// Config lock held. The queued registers' zones follow BAR 0.
void E1000Function::bar_moved(unsigned index, std::optional<uint64_t> old_base, std::optional<uint64_t> new_base) {
    (void)old_base;
    if (index != 0 || !device_memory_) return;
    for (uint64_t gpa : queued_) device_memory_->remove_coalesced(gpa, 4);
    queued_.clear();
    bool rdt = false;
    for (uint32_t reg : kQueuedRegisters) {
        if (!new_base || !device_memory_->add_coalesced(*new_base + reg, 4)) continue;
        queued_.push_back(*new_base + reg);
        rdt = rdt || reg == RDT;
    }
    rdt_queued_.store(rdt);
}

// Registers are 32 bits wide: narrower or unaligned accesses read the
// whole register, and writes merge into its current value.
void E1000Function::access(bool io, uint64_t offset, std::span<uint8_t> out, const std::span<const uint8_t>* in) {
    if (in && !io && offset == RDT && in->size() == 4) return post_rx_tail(uint32_t(load_le(*in)));
    bool resume = false;
    {
        std::lock_guard guard(lock_);
        take_posted_tail();
        const uint32_t tail = core_.rx_tail();
        core_.serve_due_timers();
        uint32_t base = uint32_t(offset & ~3ull), shift = uint32_t(offset & 3) * 8;
        size_t len = in ? in->size() : out.size();
        if (in) {
            uint32_t value = uint32_t(load_le(*in));
            if (len < 4 || shift) {
                uint32_t old = io ? core_.io_peek(base) : core_.peek(base);
                uint32_t mask = (len >= 4 ? 0xffffffffu : (1u << (8 * len)) - 1) << shift;
                value = (old & ~mask) | ((value << shift) & mask);
            }
            io ? core_.io_write(base, value) : core_.write(base, value);
            if (len == 8 && !io && shift == 0) core_.write(base + 4, uint32_t(load_le(*in) >> 32));
            if (core_.rx_tail() != tail) {   // RDT through the I/O window, or a reset
                posted_tail_.store(core_.rx_tail());
                resume = rx_waiting_.exchange(false);
            }
        } else {
            uint64_t value = (io ? core_.io_read(base) : core_.read(base)) >> shift;
            if (len == 8 && !io && shift == 0) value |= uint64_t(core_.read(base + 4)) << 32;
            store_le(out, value);
        }
    }
    if (resume) post_pump();
}

// The guest posted receive buffers (any vCPU, or whoever delivers the
// queued writes; no lock). Sequentially consistent with pump()'s decision
// to wait: either pump sees this tail or this sees rx_waiting_.
void E1000Function::post_rx_tail(uint32_t value) {
    posted_tail_.store(value & 0xffff);
    if (rx_waiting_.exchange(false)) post_pump();
}

// lock_ held: the core's RDT is the guest's last.
void E1000Function::take_posted_tail() { core_.set_rx_tail(posted_tail_.load()); }

void E1000Function::post_pump() {
    loop_.post([this, alive = std::weak_ptr<int>(alive_)] {
        if (alive.lock()) pump();
    });
}

// lock_ held: whether the pending frame must wait for buffers (and the backend is
// not read meanwhile). Set rx_waiting_, then look at the tail again.
bool E1000Function::rx_must_wait() {
    take_posted_tail();
    if (!core_.rx_enabled() || core_.rx_has_room(pending_len_) || !core_.rx_would_accept(pending()))
        return false;
    rx_waiting_.store(true);
    take_posted_tail();
    if (!core_.rx_has_room(pending_len_)) return true;
    rx_waiting_.store(false);
    return false;
}

// Lock not held: RDT writes still in the hypervisor's queue reach
// post_rx_tail now. False if RDT's writes are not queued.
bool E1000Function::deliver_queued_tail() {
    if (!rdt_queued_.load()) return false;
    device_memory_->flush_coalesced();
    return true;
}

void E1000Function::watch() {
    if (!port_ || watching_ || port_->rx_fd() < 0) return;
    watching_ = true;
    loop_.add_fd(port_->rx_fd(), EPOLLIN, [this](uint32_t) { pump(); });
}

void E1000Function::unwatch() {
    if (!watching_) return;
    watching_ = false;
    loop_.remove_fd(port_->rx_fd());
}

// Frames from the backend into the ring, a bounded batch per wake-up (main
// loop thread: pending_len_, buffer_ and port_ are its own). While the
// backend has more frames ready in memory (user networking hands over a
// burst of slirp's segments at once), their interrupt waits until the burst
// is in the ring: a guest interrupted at its first frame would take the
// rest in further interrupts, with an acknowledgement and five register
// exits each. A tap's frames raise it at once, as before.
void E1000Function::pump() {
    for (int i = 0; i < kRxBatch; ++i) {
        if (!port_) return;
        if (!pending_len_ && !read_frame()) break;
        std::unique_lock guard(lock_);
        if (rx_must_wait()) {
            release_held_raise();
            guard.unlock();
            if (!deliver_queued_tail()) return unwatch();   // until the driver posts buffers
            guard.lock();
            if (rx_must_wait()) {
                guard.unlock();
                return unwatch();
            }
        }
        hold_raise_ = i + 1 < kRxBatch && port_->frame_waiting();
        core_.receive(pending());   // or dropped: RX off, filtered, link down
        hold_raise_ = false;
        pending_len_ = 0;
        if (raise_held_ && !port_->frame_waiting()) release_held_raise();
    }
    {
        std::lock_guard guard(lock_);
        release_held_raise();
    }
    rx_waiting_.store(false);
    watch();
}

// One frame from the backend into buffer_, its length in pending_len_
// (false: none waiting). With the vnet header, the tap's offloads are off,
// so it hands over no GSO frame and no partial checksum; one that came
// anyway is dropped.
bool E1000Function::read_frame() {
    if (buffer_.size() < kMaxFrameSize) buffer_.resize(kMaxFrameSize);
    uint8_t hdr[kVnetHdrLen] = {};
    iovec v[2] = {{hdr, sizeof hdr}, {buffer_.data(), buffer_.size()}};
    const size_t skip = vnet_hdr_ ? sizeof hdr : 0;
    for (int dropped = 0; dropped < 64; ++dropped) {
        ssize_t n = port_->receive({v + (vnet_hdr_ ? 0 : 1), vnet_hdr_ ? 2u : 1u});
        if (n <= 0) return false;
        if (size_t(n) < skip || (vnet_hdr_ && (hdr[0] || hdr[1]))) continue;
        pending_len_ = std::min(size_t(n) - skip, buffer_.size());
        return true;
    }
    return false;
}

} // namespace kestrel
