// e1000: the Intel 82540EM Gigabit Ethernet controller (PCI 8086:100e) on
// a NetBackend, QEMU's default NIC of the pc machine. BAR 0 holds its
// registers, BAR 1 the IOADDR/IODATA window onto them, INTA its interrupt.
//
// Threads: vCPUs access the registers (a transmit runs in the vCPU that
// writes TDT); frames from the backend are received on the main loop. One
// lock guards the core; the main loop reads the backend without it. The
// driver's most frequent write, RDT (buffers posted), takes no lock at all:
// a vCPU that waited for it behind the main loop waited as long as the
// host's scheduler kept the loop off the CPU (1 ms per write, traced). The
// tail goes into posted_tail_ and the core takes it before it receives. A
// frame the ring has no room for waits, and the backend is not read, until
// the driver posts buffers.
#include "base/event_loop.h"
#include "base/service_registry.h"
#include "base/unique_fd.h"
#include "devices/device_context.h"
#include "devices/e1000/e1000_core.h"
#include "devices/pci/pci_function_device.h"
#include "net/net_clients.h"

#include <atomic>
#include <fmt/format.h>
#include <mutex>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

namespace kestrel {
namespace {

using namespace e1000;

uint64_t monotonic_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000000 + uint64_t(ts.tv_nsec);
}

constexpr PropertySpec kProperties[] = {
    kMacProperty,
    kNetdevProperty,
    kBootIndexProperty,
    prop_bool("autonegotiation", true, "on/off"),
    prop_bool("init-vet", true, "on/off"),
    prop_bool("mitigation", true, "on/off"),
};

// QEMU 7.2's other e1000 properties.
constexpr std::string_view kUnsupported[] = {
    "acpi-index", "extra_mac_registers", "failover_pair_id", "migrate_tso_props", "multifunction",
    "x-pcie-extcap-init", "x-pcie-lnksta-dllla",
};

class E1000Function final : public PciDevice, public NetNic {
public:
    E1000Function(const GuestMemory& memory, NetBackend* backend, E1000Core::Options options, EventLoop& loop)
        : vnet_hdr_(options.vnet_hdr), backend_(backend), port_(backend ? &backend->port(0) : nullptr), loop_(loop), mac_(options.mac),
          core_(memory, port_, options, [this](bool level) { set_irq_level(level); }) {
        set_ids({kVendorId, kDeviceId, 0x03, 0x020000});
        set_interrupt_pin(pci::PIN_INTA);
        add_bar(0, kMmioSize, BarKind::Mem32, false, std::make_shared<Window>(*this, false), "e1000-mmio");
        add_bar(1, kIoSize, BarKind::Io, false, std::make_shared<Window>(*this, true), "e1000-io");
        if (backend_) {
            backend_->set_vnet_hdr_len(vnet_hdr_ ? kVnetHdrLen : 0);
            backend_->set_offloads({});   // frames to the guest whole, checksums complete
        }
        core_.set_moderation_timer(monotonic_ns, [this](uint64_t deadline) {
            itimerspec spec{};
            spec.it_value.tv_sec = time_t(deadline / 1000000000);
            spec.it_value.tv_nsec = long(deadline % 1000000000);
            timerfd_settime(moderation_timer_.get(), TFD_TIMER_ABSTIME, &spec, nullptr);
        });
    }
    ~E1000Function() override {
        unwatch();
        if (timer_watched_) loop_.remove_fd(moderation_timer_.get());
    }

    // The main loop, once the NIC is registered.
    void start() {
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

    void reset() override {
        PciDevice::reset();
        std::lock_guard guard(lock_);
        core_.reset();   // a frame the main loop holds is dropped while RX is off, as on the wire
        posted_tail_.store(core_.rx_tail());
    }

    // NetNic
    std::string nic_info() const override { return "model=e1000,macaddr=" + mac_.text(); }
    void link_status_changed() override {
        std::lock_guard guard(lock_);
        core_.set_link(!link_down());
    }
    void backend_deleted() override {
        unwatch();
        std::lock_guard guard(lock_);
        core_.set_port(nullptr);
        port_ = nullptr;
        pending_.clear();
    }

private:
    class Window final : public BusDevice {
    public:
        Window(E1000Function& f, bool io) : f_(f), io_(io) {}
        void read(uint64_t offset, std::span<uint8_t> data) override { f_.access(io_, offset, data, nullptr); }
        void write(uint64_t offset, std::span<const uint8_t> data) override {
            f_.access(io_, offset, {}, &data);
        }

    private:
        E1000Function& f_;
        bool io_;
    };

    // Registers are 32 bits wide: narrower or unaligned accesses read the
    // whole register, and writes merge into its current value.
    void access(bool io, uint64_t offset, std::span<uint8_t> out, const std::span<const uint8_t>* in) {
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

    // The guest posted receive buffers (any vCPU, no lock). Sequentially
    // consistent with pump()'s decision to wait: either pump sees this tail
    // or this sees rx_waiting_.
    void post_rx_tail(uint32_t value) {
        posted_tail_.store(value & 0xffff);
        if (rx_waiting_.exchange(false)) post_pump();
    }
    // lock_ held: the core's RDT is the guest's last.
    void take_posted_tail() { core_.set_rx_tail(posted_tail_.load()); }
    void post_pump() {
        loop_.post([this, alive = std::weak_ptr<int>(alive_)] {
            if (alive.lock()) pump();
        });
    }
    // lock_ held: whether pending_ must wait for buffers (and the backend
    // is not read meanwhile). Set rx_waiting_, then look at the tail again.
    bool rx_must_wait() {
        take_posted_tail();
        if (!core_.rx_enabled() || core_.rx_has_room(pending_.size()) || !core_.rx_would_accept(pending_))
            return false;
        rx_waiting_.store(true);
        take_posted_tail();
        if (!core_.rx_has_room(pending_.size())) return true;
        rx_waiting_.store(false);
        return false;
    }

    void watch() {
        if (!port_ || watching_ || port_->rx_fd() < 0) return;
        watching_ = true;
        loop_.add_fd(port_->rx_fd(), EPOLLIN, [this](uint32_t) { pump(); });
    }
    void unwatch() {
        if (!watching_) return;
        watching_ = false;
        loop_.remove_fd(port_->rx_fd());
    }

    // Frames from the backend into the ring, a bounded batch per wake-up
    // (main loop thread: pending_, buffer_ and port_ are its own).
    void pump() {
        for (int i = 0; i < 64; ++i) {
            if (!port_) return;
            if (pending_.empty() && !read_frame()) break;
            std::unique_lock guard(lock_);
            if (rx_must_wait()) {   // until the driver posts buffers
                guard.unlock();
                unwatch();
                return;
            }
            core_.receive(pending_);   // or dropped: RX off, filtered, link down
            pending_.clear();
        }
        rx_waiting_.store(false);
        watch();
    }

    // One frame from the backend into pending_ (false: none waiting). With
    // the vnet header, the tap's offloads are off, so it hands over no GSO
    // frame and no partial checksum; one that came anyway is dropped.
    bool read_frame() {
        buffer_.resize(kMaxFrameSize);
        uint8_t hdr[kVnetHdrLen] = {};
        iovec v[2] = {{hdr, sizeof hdr}, {buffer_.data(), buffer_.size()}};
        const size_t skip = vnet_hdr_ ? sizeof hdr : 0;
        for (int dropped = 0; dropped < 64; ++dropped) {
            ssize_t n = port_->receive({v + (vnet_hdr_ ? 0 : 1), vnet_hdr_ ? 2u : 1u});
            if (n <= 0) return false;
            if (size_t(n) < skip || (vnet_hdr_ && (hdr[0] || hdr[1]))) continue;
            n -= ssize_t(skip);
            pending_.assign(buffer_.begin(), buffer_.begin() + std::min<ssize_t>(n, ssize_t(buffer_.size())));
            return true;
        }
        return false;
    }

    const bool vnet_hdr_;   // frames to and from the port carry a virtio_net_hdr
    NetBackend* backend_;
    NetPort* port_;
    EventLoop& loop_;
    MacAddress mac_;
    std::mutex lock_;
    UniqueFd moderation_timer_{timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK)};
    bool timer_watched_ = false;
    E1000Core core_;
    std::vector<uint8_t> pending_;   // a received frame waiting for room
    std::vector<uint8_t> buffer_;
    std::atomic<uint32_t> posted_tail_{0};   // RDT as the guest last wrote it
    std::atomic<bool> rx_waiting_{false};    // pump() waits for buffers
    bool watching_ = false;          // loop thread
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

class E1000Pci final : public PciFunctionDevice {
public:
    using PciFunctionDevice::PciFunctionDevice;
    // The function outlives this object (the PCI bus shares it) and may
    // outlive the net backends: it lets go of its backend port now, while
    // the port still exists.
    ~E1000Pci() override {
        if (clients_ && nic_) clients_->remove_nic(*nic_);
        if (nic_) nic_->backend_deleted();
    }

private:
    std::shared_ptr<PciDevice> make_function(DeviceContext& context) override {
        const PropertyValues& p = properties();
        clients_ = context.services().find<NetClients>();
        NetBackend* backend = clients_ ? clients_->attach(p.str("netdev")) : nullptr;
        E1000Core::Options options;
        options.mac = MacAddress::parse(p.str("mac")).value_or(MacAddress{});
        options.autonegotiation = p.boolean("autonegotiation");
        options.init_vet = p.boolean("init-vet");
        options.mitigation = p.boolean("mitigation");
        options.vnet_hdr = backend && backend->has_vnet_hdr();
        nic_ = std::make_shared<E1000Function>(context.memory(), backend, options, context.main_loop());
        if (clients_) clients_->add_nic(*nic_, id(), std::string(type().name), qom_path(), backend);
        nic_->start();
        return nic_;
    }

    NetClients* clients_ = nullptr;
    std::shared_ptr<E1000Function> nic_;
};

} // namespace

extern const DeviceType kE1000Type = {
    .name = "e1000",
    .bus = BusKind::Pci,
    .category = DeviceCategory::Network,
    .description = "Intel Gigabit Ethernet",
    .properties = kProperties,
    .create = &create_device<E1000Pci>,
    .qom_parent = "e1000-base",
    .alias = "e1000-82540em",
    .unsupported_properties = kUnsupported,
    .has_rom = true,
    .romfile = "efi-e1000.rom",
};

} // namespace kestrel
