#include "virtio/net/virtio_net.h"

#include "base/event_loop.h"
#include "virtio/net/virtio_net_abi.h"
#include "virtio/net/virtio_net_internal.h"

#include <cstring>
#include <future>
#include <spdlog/spdlog.h>
#include <stdexcept>
#include <sys/epoll.h>
#include <sys/eventfd.h>

namespace kestrel {

using namespace virtio_net;

namespace {

EventLoop& checked_loop(const VirtioNetConfig& config) {
    if (!config.loop) throw std::invalid_argument("virtio-net: no event loop");
    return *config.loop;
}

template <typename T> void put_le(uint8_t* out, unsigned offset, T value) {
    std::memcpy(out + offset, &value, sizeof value);  // x86: little-endian already
}

// The ring features vhost-net has a say in (QEMU's kernel_feature_bits).
constexpr uint64_t kVhostRingFeatures = bit(kVirtioFRingIndirectDesc) | bit(kVirtioFRingEventIdx) |
                                        bit(kFMrgRxbuf) | bit(kVirtioFVersion1) | bit(kFNotifyOnEmpty);
// vhost-net's "I add and strip the header" bit (the socket has none).
constexpr uint64_t kVhostNetFVirtioNetHdr = 1ull << 27;

// The features that need the control queue.
constexpr uint64_t kCtrlFeatures = bit(kFCtrlRx) | bit(kFCtrlVlan) | bit(kFCtrlRxExtra) | bit(kFCtrlMacAddr) |
                                   bit(kFGuestAnnounce) | bit(kFMq) | bit(kFCtrlGuestOffloads);

} // namespace

VirtioNet::VirtioNet(VirtioNetConfig config)
    : VirtioLoopDevice(checked_loop(config), config.name), config_(std::move(config)), backend_(config_.backend) {
    if (config_.max_queue_pairs == 0) config_.max_queue_pairs = 1;
    if (backend_ && backend_->vhost().wanted) vhost_features_ = VhostNet::features(backend_->vhost_fd(0));
    features_ = compute_features();
    state_.reset(config_.mac);
    state_.set_vlan_filtering(false);
}

VirtioNet::~VirtioNet() { halt(); }

uint16_t VirtioNet::device_type() const { return kDeviceType; }

// QEMU's virtio_net_get_features: the properties' bits, what every device
// has, minus what the backend cannot carry.
uint64_t VirtioNet::compute_features() const {
    uint64_t f = config_.features | bit(kFMac) | bit(kVirtioFVersion1);
    if (config_.mtu) f |= bit(kFMtu);
    if (config_.speed >= 0 || config_.duplex != kDuplexUnknown) f |= bit(kFSpeedDuplex);
    if (config_.event_idx) f |= bit(kVirtioFRingEventIdx);
    if (config_.indirect_desc) f |= bit(kVirtioFRingIndirectDesc);
    if (config_.any_layout) f |= bit(kFAnyLayout);
    if (!(f & bit(kFCtrlVq))) f &= ~kCtrlFeatures;
    if (!backend_ || !backend_->has_vnet_hdr()) f &= ~kHeaderOffloads;
    if (vhost_features_) f &= ~(kVhostRingFeatures & ~vhost_features_);
    return f;
}

// QEMU sizes the config space by the last field its features use.
uint32_t VirtioNet::config_size() const {
    if (features_ & bit(kFSpeedDuplex)) return cfg::kDuplex + 1;
    if (features_ & bit(kFMtu)) return cfg::kMtu + 2;
    if (features_ & bit(kFMq)) return cfg::kMaxVirtqueuePairs + 2;
    if (features_ & bit(kFStatus)) return cfg::kStatus + 2;
    return cfg::kMac + 6;
}

void VirtioNet::fill_config(uint8_t* out) const {
    std::memset(out, 0, cfg::kSize);
    std::lock_guard guard(state_lock_);
    std::memcpy(out + cfg::kMac, state_.mac.bytes.data(), 6);
    put_le<uint16_t>(out, cfg::kStatus, state_.status);
    put_le<uint16_t>(out, cfg::kMaxVirtqueuePairs, config_.max_queue_pairs);
    put_le<uint16_t>(out, cfg::kMtu, config_.mtu);
    put_le<uint32_t>(out, cfg::kSpeed, uint32_t(config_.speed));
    out[cfg::kDuplex] = config_.duplex;
}

void VirtioNet::read_config(uint64_t offset, std::span<uint8_t> data) {
    uint8_t space[cfg::kSize];
    fill_config(space);
    for (size_t i = 0; i < data.size(); ++i) data[i] = offset + i < config_size() ? space[offset + i] : 0;
}

// Only a legacy driver without CTRL_MAC_ADDR may set the address here.
void VirtioNet::write_config(uint64_t offset, std::span<const uint8_t> data) {
    uint64_t negotiated = negotiated_features_.load();
    if (negotiated & (bit(kFCtrlMacAddr) | bit(kVirtioFVersion1))) return;
    bool changed = false;
    {
        std::lock_guard guard(state_lock_);
        for (size_t i = 0; i < data.size(); ++i) {
            if (offset + i >= cfg::kMac + 6) break;
            changed |= state_.mac.bytes[offset + i] != data[i];
            state_.mac.bytes[offset + i] = data[i];
        }
    }
    if (changed) rx_filter_changed();
}

std::string VirtioNet::nic_info() const {
    std::lock_guard guard(state_lock_);
    return "model=" + config_.model + ",macaddr=" + state_.mac.text();
}

unsigned VirtioNet::header_len() const {
    return negotiated(kFMrgRxbuf) || negotiated(kVirtioFVersion1) ? kVnetHdrMrgLen : kVnetHdrLen;
}

// --- Life cycle (loop thread) ---

void VirtioNet::start(VirtioActivation activation) {
    driver_features_ = activation.driver_features;
    negotiated_features_.store(driver_features_);
    memory_ = &activation.memory;
    {
        std::lock_guard guard(state_lock_);
        state_.status = link_down() || (backend_ && backend_->link_down()) ? 0 : kStatusLinkUp;
        state_.set_vlan_filtering(negotiated(kFCtrlVlan));
        state_.guest_offloads = driver_features_ & kGuestOffloads;
    }
    bounce_.resize(kMaxFrameSize + kVnetHdrMrgLen);
    bind_queues(activation);
    configure_backend();
    serving_ = true;
    ++generation_;
    set_queue_pairs(1);
    update_datapath();
    if (ctrl_) process_ctrl();
}

void VirtioNet::bind_queues(const VirtioActivation& activation) {
    const bool mq = negotiated(kFMq);
    const unsigned ctrl_index = mq ? 2u * config_.max_queue_pairs : 2u;
    const unsigned pairs = mq ? config_.max_queue_pairs : 1u;
    for (unsigned i = 0; i < pairs; ++i) {
        auto pair = std::make_unique<Pair>();
        pair->index = i;
        if (backend_ && i < backend_->queues()) {
            pair->port = &backend_->port(i);
            pair->port_fd = pair->port->rx_fd();
            pair->port_tx_fd = pair->port->tx_fd();
        }
        pairs_.push_back(std::move(pair));
    }
    for (const VirtioQueueBinding& b : activation.queues) {
        if (b.index == ctrl_index && negotiated(kFCtrlVq)) {
            ctrl_ = std::make_unique<Ctrl>();
            ctrl_->binding = b;
            Ctrl* ctrl = ctrl_.get();
            loop().add_fd(b.notify_fd, EPOLLIN, [this, ctrl](uint32_t) {
                uint64_t count;
                [[maybe_unused]] auto r = ::read(ctrl->binding.notify_fd, &count, sizeof count);
                process_ctrl();
            });
            continue;
        }
        if (b.index / 2 >= pairs_.size()) continue;
        Pair& pair = *pairs_[b.index / 2];
        (b.index % 2 == 0 ? pair.rx : pair.tx) = b;
        (b.index % 2 == 0 ? pair.has_rx : pair.has_tx) = true;
    }
}

// The header both sides use, and what the backend may hand the guest.
void VirtioNet::configure_backend() {
    if (!backend_) return;
    backend_->set_vnet_hdr_len(backend_->has_vnet_hdr() ? header_len() : 0);
    uint64_t o = state_.guest_offloads;
    backend_->set_offloads({bool(o & bit(kFGuestCsum)), bool(o & bit(kFGuestTso4)), bool(o & bit(kFGuestTso6)),
                            bool(o & bit(kFGuestEcn)), bool(o & bit(kFGuestUfo))});
}

void VirtioNet::stop() {
    for (auto& pair : pairs_) {
        if (pair->vhost) stop_vhost(*pair);
        if (pair->userspace) stop_userspace(*pair);
    }
    if (ctrl_) loop().remove_fd(ctrl_->binding.notify_fd);
    pairs_.clear();
    ctrl_.reset();
    serving_ = false;
    ++generation_;
    memory_ = nullptr;
    negotiated_features_.store(0);
    {
        std::lock_guard guard(state_lock_);  // QEMU's virtio_net_reset
        state_.reset(config_.mac);
        state_.set_vlan_filtering(false);
    }
    if (backend_) {
        for (unsigned q = 0; q < backend_->queues(); ++q) backend_->set_queue_enabled(q, true);
    }
}

// Userspace or vhost for each pair, as the link and the backend allow.
void VirtioNet::update_datapath() {
    if (!serving_) return;
    const bool vhost = vhost_allowed() && !link_down() && !backend_->link_down();
    for (auto& p : pairs_) {
        Pair& pair = *p;
        if (vhost && !pair.vhost) {
            if (pair.userspace) stop_userspace(pair);
            if (start_vhost(pair)) continue;
        }
        if (!vhost && pair.vhost) stop_vhost(pair);
        if (!pair.vhost && !pair.userspace) start_userspace(pair);
    }
}

bool VirtioNet::vhost_allowed() const {
    if (!backend_ || !vhost_features_ || backend_->link_down()) return false;
    if (backend_->vhost().force) return true;
    for (const auto& pair : pairs_)  // QEMU: vhost only for guests that use MSI-X, unless forced
        if ((pair->has_rx && pair->rx.call_fd < 0) || (pair->has_tx && pair->tx.call_fd < 0)) return false;
    return true;
}

namespace {

// Without an irqfd the device raises the interrupt: vhost signals an
// eventfd of ours instead.
UniqueFd watch_relay(EventLoop& loop, const VirtioQueueBinding& b) {
    UniqueFd fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    int raw = fd.get();
    auto interrupt = b.interrupt;
    loop.add_fd(raw, EPOLLIN, [raw, interrupt](uint32_t) {
        uint64_t count;
        if (::read(raw, &count, sizeof count) > 0 && interrupt) interrupt();
    });
    return fd;
}

VhostRing vhost_ring(const VirtioQueueBinding& b, int call_fd) {
    const VirtqueueLayout& l = b.queue->layout();
    return {l.size, l.desc, l.avail, l.used, b.queue->last_avail_idx(), b.notify_fd, call_fd};
}

} // namespace

bool VirtioNet::start_vhost(Pair& pair) {
    if (!pair.has_rx || !pair.has_tx || pair.rx.queue->broken() || pair.tx.queue->broken()) return false;
    int vhost_fd = backend_->vhost_fd(pair.index), tap_fd = backend_->tap_fd(pair.index);
    if (vhost_fd < 0 || tap_fd < 0) return false;
    int rx_call = pair.rx.call_fd, tx_call = pair.tx.call_fd;
    if (rx_call < 0) {
        pair.rx_call_relay = watch_relay(loop(), pair.rx);
        rx_call = pair.rx_call_relay.get();
    }
    if (tx_call < 0) {
        pair.tx_call_relay = watch_relay(loop(), pair.tx);
        tx_call = pair.tx_call_relay.get();
    }
    uint64_t features = driver_features_ & kVhostRingFeatures & vhost_features_;
    if (!backend_->has_vnet_hdr()) features |= kVhostNetFVirtioNetHdr;
    auto vhost = std::make_unique<VhostNet>(vhost_fd);
    try {
        vhost->start(*memory_, features, vhost_ring(pair.rx, rx_call), vhost_ring(pair.tx, tx_call), tap_fd);
    } catch (const std::exception& e) {
        spdlog::warn("{}: unable to start vhost net: {}: falling back on userspace virtio", name(), e.what());
        for (UniqueFd* relay : {&pair.rx_call_relay, &pair.tx_call_relay}) {
            if (*relay) loop().remove_fd(relay->get());
            relay->reset();
        }
        return false;
    }
    pair.vhost = std::move(vhost);
    return true;
}

void VirtioNet::stop_vhost(Pair& pair) {
    VhostNet::Bases bases = pair.vhost->stop();
    pair.vhost.reset();
    pair.rx.queue->restart_at(bases.rx);
    pair.tx.queue->restart_at(bases.tx);
    for (UniqueFd* relay : {&pair.rx_call_relay, &pair.tx_call_relay}) {
        if (*relay) loop().remove_fd(relay->get());
        relay->reset();
    }
    // What vhost used last may not have been signalled.
    if (pair.rx.interrupt) pair.rx.interrupt();
    if (pair.tx.interrupt) pair.tx.interrupt();
}

void VirtioNet::start_userspace(Pair& pair) {
    pair.userspace = true;
    auto kick = [this, &pair](bool rx) {
        return [this, &pair, rx](uint32_t) {
            uint64_t count;
            [[maybe_unused]] auto r = ::read(rx ? pair.rx.notify_fd : pair.tx.notify_fd, &count, sizeof count);
            if (rx) {
                pair.rx_starved = false;
                pair.rx.queue->disable_notification();
                process_rx(pair);
            } else {
                process_tx(pair);
            }
        };
    };
    if (pair.has_rx) {
        pair.rx.queue->disable_notification();  // the port drives receiving, not the driver's kicks
        loop().add_fd(pair.rx.notify_fd, EPOLLIN, kick(true));
    }
    if (pair.has_tx) loop().add_fd(pair.tx.notify_fd, EPOLLIN, kick(false));
    watch_port(pair);
    process_tx(pair);
    process_rx(pair);
}

void VirtioNet::stop_userspace(Pair& pair) {
    pair.userspace = false;
    if (pair.has_rx) loop().remove_fd(pair.rx.notify_fd);
    if (pair.has_tx) loop().remove_fd(pair.tx.notify_fd);
    give_back_held(pair);
    pair.tx_blocked = false;
    pair.rx_starved = false;
    watch_port(pair);
    if (pair.has_rx) pair.rx.queue->enable_notification();
}

void VirtioNet::set_queue_pairs(uint16_t count) {
    {
        std::lock_guard guard(state_lock_);
        state_.curr_queue_pairs = count;
    }
    if (backend_)
        for (unsigned q = 0; q < backend_->queues(); ++q) backend_->set_queue_enabled(q, q < count);
    for (auto& pair : pairs_)
        if (pair->userspace) watch_port(*pair);
}

void VirtioNet::apply_link() {
    const bool up = !link_down() && !(backend_ && backend_->link_down());
    bool changed;
    {
        std::lock_guard guard(state_lock_);
        uint16_t old = state_.status;
        state_.status = up ? (state_.status | kStatusLinkUp) : (state_.status & ~kStatusLinkUp);
        changed = old != state_.status;
    }
    if (changed && serving_ && on_config_changed) on_config_changed();
    update_datapath();
}

// Runs `fn` on the device's loop and waits for it.
void VirtioNet::run_on_loop(const std::function<void()>& fn) {
    if (on_loop_thread() || loop().running_here()) {   // the latter: served on the main loop, not started yet
        fn();
        return;
    }
    std::promise<void> done;
    auto finished = done.get_future();
    loop().post([&] {
        fn();
        done.set_value();
    });
    finished.wait();
}

void VirtioNet::link_status_changed() {
    run_on_loop([this] {
        if (!serving_) {
            std::lock_guard guard(state_lock_);
            bool up = !link_down() && !(backend_ && backend_->link_down());
            state_.status = up ? (state_.status | kStatusLinkUp) : (state_.status & ~kStatusLinkUp);
            return;
        }
        apply_link();
    });
}

void VirtioNet::backend_deleted() {
    run_on_loop([this] {
        for (auto& pair : pairs_) {
            if (pair->vhost) stop_vhost(*pair);
            if (pair->userspace) stop_userspace(*pair);
            pair->port = nullptr;
            pair->port_fd = pair->port_tx_fd = -1;
        }
        backend_ = nullptr;
        if (serving_) update_datapath();
    });
}

VirtioNet::Counters VirtioNet::counters() const {
    Counters c;
    const_cast<VirtioNet*>(this)->run_on_loop([&] { c = counters_; });
    return c;
}

bool VirtioNet::vhost_running() const {
    bool running = false;
    const_cast<VirtioNet*>(this)->run_on_loop([&] {
        for (const auto& pair : pairs_) running |= pair->vhost != nullptr;
    });
    return running;
}

std::optional<RxFilterInfo> VirtioNet::query_rx_filter() {
    RxFilterInfo info;
    std::lock_guard guard(state_lock_);
    const VirtioNetState& s = state_;
    info.promiscuous = s.promisc;
    info.unicast = s.nouni ? "none" : s.alluni ? "all" : "normal";
    info.multicast = s.nomulti ? "none" : s.allmulti ? "all" : "normal";
    info.broadcast_allowed = s.nobcast;  // sic: QEMU 7.2 reports nobcast here
    info.multicast_overflow = s.multi_overflow;
    info.unicast_overflow = s.uni_overflow;
    info.main_mac = s.mac.text();
    for (size_t i = 0; i < s.mac_table.size(); ++i)
        (i < s.first_multi ? info.unicast_table : info.multicast_table).push_back(s.mac_table[i].text());
    for (unsigned vid = kMaxVlan; vid-- > 0;)  // QEMU lists them highest first
        if (s.vlans[vid >> 5] & (1u << (vid & 31))) info.vlan_table.push_back(vid);
    uint64_t negotiated = negotiated_features_.load();
    if (!(negotiated & bit(kFCtrlVlan)))
        info.vlan = "all";
    else
        info.vlan = info.vlan_table.empty() ? "none" : "normal";
    return info;
}

} // namespace kestrel
