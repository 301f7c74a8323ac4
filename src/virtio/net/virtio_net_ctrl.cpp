// virtio-net's control queue (VIRTIO 1.2 §5.1.6.5): receive modes, the MAC
// filter table and address, VLAN filter, announce, queue pairs, guest
// offloads. Malformed commands get VIRTIO_NET_ERR, as in QEMU; a chain
// without room for the command header or the ack needs a device reset.
#include "virtio/net/virtio_net_abi.h"
#include "virtio/net/virtio_net_internal.h"

#include <cstring>
#include <fmt/format.h>

namespace kestrel {

using namespace virtio_net;

namespace {

constexpr size_t kMaxCommand = 2 + 2 * (4 + 6 * 4096);  // far beyond any MAC table a driver sends

uint32_t le32(std::span<const uint8_t> data, size_t at) {
    uint32_t v;
    std::memcpy(&v, data.data() + at, sizeof v);
    return v;
}

} // namespace

void VirtioNet::process_ctrl() {
    Virtqueue& vq = *ctrl_->binding.queue;
    VirtqueueChain& chain = ctrl_->chain;
    std::vector<uint8_t> command;
    for (;;) {
        vq.disable_notification();
        while (vq.pop(chain) == PopResult::Chain) {
            size_t in = iov_total(chain.readable_buffers()), out = iov_total(chain.writable_buffers());
            if (in < 2 || out < 1) {
                vq.set_broken(fmt::format("control command {} without its header or ack ({} and {} bytes)",
                                          chain.head, in, out));
                break;
            }
            uint8_t ack = kErr;
            if (in <= kMaxCommand) {
                command.resize(in);
                iov_read(chain.readable_buffers(), 0, command);
                ack = handle_ctrl(command[0], command[1], std::span(command).subspan(2));
            }
            iov_write(chain.writable_buffers(), 0, {&ack, 1});
            vq.push(chain.head, 1);
        }
        if (vq.broken() || !vq.enable_notification()) break;
    }
    if (vq.broken()) {
        needs_reset();
        return;
    }
    if (vq.needs_interrupt() && ctrl_->binding.interrupt) ctrl_->binding.interrupt();
}

uint8_t VirtioNet::handle_ctrl(uint8_t cls, uint8_t cmd, std::span<const uint8_t> data) {
    switch (cls) {
    case kClassRx: return handle_rx_mode(cmd, data);
    case kClassMac: return handle_mac(cmd, data);
    case kClassVlan: return handle_vlan(cmd, data);
    case kClassAnnounce: {
        std::lock_guard guard(state_lock_);
        if (cmd != kAnnounceAck || !(state_.status & kStatusAnnounce)) return kErr;
        state_.status &= ~kStatusAnnounce;
        return kOk;
    }
    case kClassMq: return handle_mq(cmd, data);
    case kClassGuestOffloads: return handle_offloads(cmd, data);
    default: return kErr;
    }
}

uint8_t VirtioNet::handle_rx_mode(uint8_t cmd, std::span<const uint8_t> data) {
    if (data.size() != 1) return kErr;
    const bool on = data[0] != 0;
    {
        std::lock_guard guard(state_lock_);
        switch (cmd) {
        case kRxPromisc: state_.promisc = on; break;
        case kRxAllmulti: state_.allmulti = on; break;
        case kRxAlluni: state_.alluni = on; break;
        case kRxNomulti: state_.nomulti = on; break;
        case kRxNouni: state_.nouni = on; break;
        case kRxNobcast: state_.nobcast = on; break;
        default: return kErr;
        }
    }
    rx_filter_changed();
    return kOk;
}

// QEMU's virtio_net_handle_mac: a table of unicast then multicast entries,
// each a 32-bit count and the addresses; more than the table holds sets the
// overflow flag instead.
uint8_t VirtioNet::handle_mac(uint8_t cmd, std::span<const uint8_t> data) {
    if (cmd == kMacAddrSet) {
        if (data.size() != 6) return kErr;
        {
            std::lock_guard guard(state_lock_);
            std::memcpy(state_.mac.bytes.data(), data.data(), 6);
        }
        rx_filter_changed();
        return kOk;
    }
    if (cmd != kMacTableSet) return kErr;
    std::vector<MacAddress> table;
    size_t at = 0, first_multi = 0;
    bool overflow[2] = {false, false};
    for (int part = 0; part < 2; ++part) {
        if (data.size() - at < 4) return kErr;
        uint64_t entries = le32(data, at);
        at += 4;
        uint64_t bytes = entries * 6;
        if (part == 0 ? bytes > data.size() - at : bytes != data.size() - at) return kErr;
        if (entries <= kMacTableEntries - table.size()) {
            for (uint64_t i = 0; i < entries; ++i) {
                MacAddress mac;
                std::memcpy(mac.bytes.data(), data.data() + at + 6 * i, 6);
                table.push_back(mac);
            }
        } else {
            overflow[part] = true;
        }
        at += bytes;
        if (part == 0) first_multi = table.size();
    }
    {
        std::lock_guard guard(state_lock_);
        state_.mac_table = std::move(table);
        state_.first_multi = first_multi;
        state_.uni_overflow = overflow[0];
        state_.multi_overflow = overflow[1];
    }
    rx_filter_changed();
    return kOk;
}

uint8_t VirtioNet::handle_vlan(uint8_t cmd, std::span<const uint8_t> data) {
    if (data.size() != 2) return kErr;
    uint16_t vid;
    std::memcpy(&vid, data.data(), 2);
    if (vid >= kMaxVlan || (cmd != kVlanAdd && cmd != kVlanDel)) return kErr;
    {
        std::lock_guard guard(state_lock_);
        if (cmd == kVlanAdd)
            state_.vlans[vid >> 5] |= 1u << (vid & 31);
        else
            state_.vlans[vid >> 5] &= ~(1u << (vid & 31));
    }
    rx_filter_changed();
    return kOk;
}

uint8_t VirtioNet::handle_mq(uint8_t cmd, std::span<const uint8_t> data) {
    if (cmd != kMqVqPairsSet || data.size() != 2 || !negotiated(kFMq)) return kErr;
    uint16_t pairs;
    std::memcpy(&pairs, data.data(), 2);
    if (pairs < 1 || pairs > config_.max_queue_pairs) return kErr;
    set_queue_pairs(pairs);
    for (auto& pair : pairs_)
        if (pair->userspace) process_rx(*pair);
    return kOk;
}

uint8_t VirtioNet::handle_offloads(uint8_t cmd, std::span<const uint8_t> data) {
    if (cmd != kGuestOffloadsSet || data.size() != 8 || !negotiated(kFCtrlGuestOffloads)) return kErr;
    uint64_t offloads;
    std::memcpy(&offloads, data.data(), 8);
    uint64_t supported = driver_features_ & kGuestOffloads;
    if (offloads & ~supported) return kErr;
    {
        std::lock_guard guard(state_lock_);
        state_.guest_offloads = offloads;
    }
    configure_backend();
    return kOk;
}

} // namespace kestrel
