// virtio-net's own datapath: frames between the rings and the backend's
// ports, on the device's loop. Received frames go straight into the
// driver's buffers: with mergeable buffers the device keeps enough of them
// taken ahead for the largest frame the backend may hand over, reads into
// the first one with a bounce buffer behind it and copies only what
// overflowed on into the next ones; when the driver has posted too little
// for the largest frame, the whole frame goes through the bounce buffer.
// Transmitted frames leave from the driver's buffers.
#include "base/event_loop.h"
#include "virtio/net/virtio_net_abi.h"
#include "virtio/net/virtio_net_internal.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>

namespace kestrel {

using namespace virtio_net;

namespace {

constexpr unsigned kRxBudget = 256;     // frames per wake-up before others get the loop
constexpr unsigned kTxBudget = 256;
constexpr size_t kMaxIov = 1000;        // below IOV_MAX with the backend's own header entry

size_t writable_bytes(const VirtqueueChain& chain) { return iov_total(chain.writable_buffers()); }

} // namespace

size_t iov_total(std::span<const iovec> iov) {
    size_t total = 0;
    for (const iovec& v : iov) total += v.iov_len;
    return total;
}

size_t iov_read(std::span<const iovec> iov, size_t offset, std::span<uint8_t> out) {
    size_t done = 0;
    for (const iovec& v : iov) {
        if (done == out.size()) break;
        if (offset >= v.iov_len) {
            offset -= v.iov_len;
            continue;
        }
        size_t n = std::min(v.iov_len - offset, out.size() - done);
        std::memcpy(out.data() + done, static_cast<const uint8_t*>(v.iov_base) + offset, n);
        done += n;
        offset = 0;
    }
    return done;
}

size_t iov_write(std::span<const iovec> iov, size_t offset, std::span<const uint8_t> in) {
    size_t done = 0;
    for (const iovec& v : iov) {
        if (done == in.size()) break;
        if (offset >= v.iov_len) {
            offset -= v.iov_len;
            continue;
        }
        size_t n = std::min(v.iov_len - offset, in.size() - done);
        std::memcpy(static_cast<uint8_t*>(v.iov_base) + offset, in.data() + done, n);
        done += n;
        offset = 0;
    }
    return done;
}

void iov_skip(std::span<const iovec> iov, size_t offset, std::vector<iovec>& out) {
    out.clear();
    for (const iovec& v : iov) {
        if (offset >= v.iov_len) {
            offset -= v.iov_len;
            continue;
        }
        out.push_back({static_cast<uint8_t*>(v.iov_base) + offset, v.iov_len - offset});
        offset = 0;
    }
}

// What the loop watches on a pair's port: its frames while the pair
// receives, and room to send while a transmission waits for it.
void VirtioNet::watch_port(Pair& pair) {
    if (pair.port_fd < 0) return;
    const bool enabled = pair.index < state_.curr_queue_pairs;
    uint32_t want = 0;
    if (pair.userspace && enabled && pair.has_rx && !pair.rx_starved) want |= EPOLLIN;
    if (pair.userspace && pair.tx_blocked && pair.port_tx_fd == pair.port_fd) want |= EPOLLOUT;
    if (want == pair.port_events) return;
    if (pair.port_events == 0) {
        Pair* p = &pair;
        loop().add_fd(pair.port_fd, want, [this, p](uint32_t events) {
            if (events & EPOLLOUT) {
                p->tx_blocked = false;
                process_tx(*p);
            }
            if (events & ~uint32_t(EPOLLOUT)) process_rx(*p);
            watch_port(*p);
        });
    } else if (want == 0) {
        loop().remove_fd(pair.port_fd);
    } else {
        loop().modify_fd(pair.port_fd, want);
    }
    pair.port_events = want;
}

// --- Receive ---

void VirtioNet::process_rx(Pair& pair) {
    if (!pair.userspace || !pair.has_rx || !pair.port) return;
    Virtqueue& vq = *pair.rx.queue;
    const bool drop = link_down() || backend_->link_down() || pair.index >= state_.curr_queue_pairs;
    for (unsigned frames = 0; frames < kRxBudget && !vq.broken(); ++frames) {
        if (!(drop ? drop_one(pair) : receive_one(pair))) break;
    }
    if (vq.broken()) {
        needs_reset();
        return;
    }
    if (vq.needs_interrupt() && pair.rx.interrupt) pair.rx.interrupt();
    watch_port(pair);
}

bool VirtioNet::drop_one(Pair& pair) {
    iovec v{bounce_.data(), bounce_.size()};
    ssize_t n = pair.port->receive({&v, 1});
    if (n <= 0) return port_failed(pair, n);
    ++counters_.rx_dropped;
    return true;
}

// A frame that did not fit the buffers (EFAULT, EINVAL from a tap) is
// lost and the next one comes; any other error stops receiving on that
// port (a level-triggered descriptor in error would spin the loop).
bool VirtioNet::port_failed(Pair& pair, ssize_t result) {
    if (result < 0 && (errno == EFAULT || errno == EINVAL || errno == EMSGSIZE)) {
        ++counters_.rx_dropped;
        return true;
    }
    if (result < 0) {
        spdlog::warn("{}: receiving from the backend failed: {}; queue pair {} stops receiving", name(),
                     std::strerror(errno), pair.index);
        pair.rx_starved = true;
    }
    return false;
}

bool VirtioNet::fill_held(Pair& pair, size_t needed) {
    Virtqueue& vq = *pair.rx.queue;
    while (pair.held_bytes < needed) {
        if (pair.spare.empty()) pair.spare.emplace_back();
        VirtqueueChain& chain = pair.spare.back();
        PopResult r = vq.pop(chain);
        if (r == PopResult::Empty) return true;
        if (r == PopResult::Broken) return false;
        size_t bytes = writable_bytes(chain);
        if (chain.readable != 0 || bytes < header_len()) {
            vq.set_broken(fmt::format("receive buffer {} has {} device-readable parts and {} writable bytes",
                                      chain.head, chain.readable, bytes));
            return false;
        }
        pair.held.push_back(std::move(chain));
        pair.spare.pop_back();
        pair.held_bytes += bytes;
    }
    return true;
}

void VirtioNet::give_back_held(Pair& pair) {
    if (pair.held.empty()) return;
    pair.rx.queue->rewind(uint16_t(pair.held.size()));
    for (VirtqueueChain& c : pair.held) pair.spare.push_back(std::move(c));
    pair.held.clear();
    pair.held_bytes = 0;
}

// Copies `data` into the held chains' buffers taken as one run of bytes,
// from `offset` on.
void VirtioNet::held_write(Pair& pair, size_t offset, std::span<const uint8_t> data) {
    for (const VirtqueueChain& chain : pair.held) {
        if (data.empty()) return;
        std::span<const iovec> buffers = chain.writable_buffers();
        const size_t bytes = iov_total(buffers);
        if (offset >= bytes) {
            offset -= bytes;
            continue;
        }
        data = data.subspan(iov_write(buffers, offset, data));
        offset = 0;
    }
}

size_t VirtioNet::held_read(const Pair& pair, size_t offset, std::span<uint8_t> out) const {
    size_t done = 0;
    for (const VirtqueueChain& chain : pair.held) {
        if (done == out.size()) break;
        std::span<const iovec> buffers = chain.writable_buffers();
        const size_t bytes = iov_total(buffers);
        if (offset >= bytes) {
            offset -= bytes;
            continue;
        }
        done += iov_read(buffers, offset, out.subspan(done));
        offset = 0;
    }
    return done;
}

// Mergeable buffers with room for the largest frame: the frame is read into
// the first held chain with the bounce buffer behind it, and only what
// overflowed is copied on into the next chains. A frame that fits one
// buffer costs a readv of two or three entries, not one over every buffer
// held (33 of Linux's 2 KiB buffers per 64 KiB). Used while the frames fit
// one buffer; after one that did not, read_other reads into them all.
// Returns the bytes in the held chains, header included, or the port's
// result when it had no frame.
ssize_t VirtioNet::read_spilling(Pair& pair, bool own_header) {
    const size_t skip = own_header ? header_len() : 0;
    std::span<const iovec> first = pair.held.front().writable_buffers();
    if (own_header) {
        static const uint8_t zeros[kVnetHdrMrgLen] = {};
        iov_write(first, 0, {zeros, skip});
    }
    iov_skip(first, skip, pair.iov);
    if (pair.iov.size() > kMaxIov - 1) pair.iov.resize(kMaxIov - 1);
    const size_t direct = iov_total(pair.iov);
    pair.iov.push_back({bounce_.data(), bounce_.size()});
    ssize_t n = pair.port->receive(pair.iov);
    if (n <= 0) return n;
    if (size_t(n) > direct) held_write(pair, skip + direct, {bounce_.data(), size_t(n) - direct});
    return n + ssize_t(skip);
}

// The frame into the held buffers all at once: one chain without mergeable
// buffers, every held chain when they have room for the largest frame
// (after a frame that spilled: big GSO frames keep coming, and this reads
// them with no copy), else through the bounce buffer. Returns as
// read_spilling does.
ssize_t VirtioNet::read_other(Pair& pair, bool own_header) {
    const size_t hdr = header_len();
    const bool mergeable = negotiated(kFMrgRxbuf);
    pair.iov.clear();
    for (const VirtqueueChain& chain : pair.held) {
        for (const iovec& v : chain.writable_buffers()) {
            if (pair.iov.size() == kMaxIov) break;
            pair.iov.push_back(v);
        }
        if (!mergeable) break;
    }
    const size_t skip = own_header ? hdr : 0;
    ssize_t n;
    if (!mergeable || pair.held_bytes >= hdr + kMaxFrameSize) {
        if (own_header) {
            static const uint8_t zeros[kVnetHdrMrgLen] = {};
            iov_write(pair.iov, 0, {zeros, hdr});
        }
        std::vector<iovec> after;
        if (own_header) iov_skip(pair.iov, hdr, after);
        n = pair.port->receive(own_header ? std::span<const iovec>(after) : std::span<const iovec>(pair.iov));
        return n <= 0 ? n : n + ssize_t(skip);
    }
    if (own_header) std::memset(bounce_.data(), 0, hdr);
    iovec v{bounce_.data() + skip, bounce_.size() - skip};
    n = pair.port->receive({&v, 1});
    if (n <= 0) return n;
    const size_t total = size_t(n) + skip;
    if (total <= iov_total(pair.iov)) iov_write(pair.iov, 0, {bounce_.data(), total});
    return ssize_t(total);
}

// Reads one frame into the driver's buffers and hands them over; false when
// no frame is waiting or no buffer is there to take it.
bool VirtioNet::receive_one(Pair& pair) {
    const size_t hdr = header_len();
    const bool mergeable = negotiated(kFMrgRxbuf);
    if (!fill_held(pair, mergeable ? hdr + kMaxFrameSize : 1)) return false;
    if (pair.held.empty()) {  // wait for the driver's next buffers
        pair.rx_starved = true;
        if (!pair.rx.queue->enable_notification()) return false;
        pair.rx_starved = false;
        pair.rx.queue->disable_notification();
        return true;
    }
    const bool own_header = !backend_->has_vnet_hdr();
    const size_t room = mergeable ? pair.held_bytes : writable_bytes(pair.held.front());
    const bool spill = mergeable && room >= hdr + kMaxFrameSize && !pair.rx_last_spilled;
    const ssize_t n = spill ? read_spilling(pair, own_header) : read_other(pair, own_header);
    if (n <= 0) return port_failed(pair, n);
    const size_t total = size_t(n);
    pair.rx_last_spilled = total > writable_bytes(pair.held.front());
    if (total > room || total < hdr) {  // cut short, or (QEMU would keep it) more than the driver posted
        ++counters_.rx_dropped;
        return true;
    }
    uint8_t eth[16] = {};
    size_t eth_len = held_read(pair, hdr, eth);
    if (!accepts(eth, std::min(eth_len, total - hdr))) return true;  // the buffers stay ours for the next frame
    deliver(pair, total);
    ++counters_.rx_frames;
    counters_.rx_bytes += total - hdr;
    return true;
}

bool VirtioNet::accepts(const uint8_t* frame, size_t len) const {
    std::lock_guard guard(state_lock_);
    return rx_filter_accepts(state_, frame, len);
}

// Hands `total` bytes (header included) in the first held chains to the
// driver, all of them in one publish, with their count in num_buffers.
void VirtioNet::deliver(Pair& pair, size_t total) {
    Virtqueue& vq = *pair.rx.queue;
    uint16_t count = 0;
    for (size_t covered = 0; covered < total; ++count) covered += writable_bytes(pair.held[count]);
    if (header_len() == kVnetHdrMrgLen) {
        uint16_t num = negotiated(kFMrgRxbuf) ? count : 1;
        iov_write(pair.held.front().writable_buffers(), kHdrNumBuffersOffset,
                  {reinterpret_cast<const uint8_t*>(&num), sizeof num});
    }
    size_t left = total;
    for (uint16_t i = 0; i < count; ++i) {
        VirtqueueChain& chain = pair.held.front();
        size_t bytes = writable_bytes(chain);
        size_t used = std::min(bytes, left);
        vq.push_unpublished(chain.head, uint32_t(used));
        left -= used;
        pair.held_bytes -= bytes;
        pair.spare.push_back(std::move(chain));
        pair.held.pop_front();
    }
    vq.publish();
}

// --- Transmit ---

void VirtioNet::process_tx(Pair& pair) {
    if (!pair.userspace || !pair.has_tx || pair.tx_blocked) return;
    Virtqueue& vq = *pair.tx.queue;
    unsigned sent = 0;
    for (bool more = true; more;) {
        vq.disable_notification();
        while (sent < kTxBudget && !pair.tx_blocked) {
            if (vq.pop(pair.tx_chain) != PopResult::Chain) break;
            if (transmit_one(pair, pair.tx_chain)) {
                ++sent;
                continue;
            }
            vq.rewind(1);
            pair.tx_blocked = true;
        }
        if (vq.broken() || pair.tx_blocked) break;
        if (sent >= kTxBudget) {  // let the other queues have the loop, then go on
            schedule_tx(pair);
            break;
        }
        more = vq.enable_notification();
    }
    if (vq.broken()) {
        needs_reset();
        return;
    }
    if (vq.needs_interrupt() && pair.tx.interrupt) pair.tx.interrupt();
    watch_port(pair);
}

void VirtioNet::schedule_tx(Pair& pair) {
    if (pair.tx_scheduled) return;
    pair.tx_scheduled = true;
    std::weak_ptr<int> alive = alive_token_;
    const uint64_t generation = generation_;
    Pair* p = &pair;
    loop().post([this, alive, generation, p] {
        if (!alive.lock() || generation != generation_) return;
        p->tx_scheduled = false;
        process_tx(*p);
    });
}

// False when the backend cannot take the frame now.
bool VirtioNet::transmit_one(Pair& pair, VirtqueueChain& chain) {
    Virtqueue& vq = *pair.tx.queue;
    const size_t hdr = header_len();
    std::span<const iovec> readable = chain.readable_buffers();
    const size_t total = iov_total(readable);
    if (total < hdr) {
        vq.set_broken(fmt::format("transmitted chain {} of {} bytes has no room for the {}-byte header", chain.head,
                                  total, hdr));
        return true;
    }
    const bool drop = !pair.port || link_down() || backend_->link_down() || total - hdr > kMaxFrameSize ||
                      total == hdr;
    if (!drop) {
        std::span<const iovec> frame = readable;
        if (!backend_->has_vnet_hdr()) {
            iov_skip(readable, hdr, pair.iov);
            frame = pair.iov;
        }
        if (pair.port->send(frame) < 0 && errno == EAGAIN) return false;
        ++counters_.tx_frames;
        counters_.tx_bytes += total - hdr;
    } else {
        ++counters_.tx_dropped;
    }
    vq.push(chain.head, 0);
    return true;
}

} // namespace kestrel
