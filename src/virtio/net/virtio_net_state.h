#pragma once
// virtio-net's guest-visible state in one plain struct: its address, link
// and announce status, the receive filter the driver set through the
// control queue, the queue pairs in use and the guest offloads.
#include "net/mac_address.h"
#include "virtio/net/virtio_net_abi.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace kestrel {

struct VirtioNetState {
    MacAddress mac;
    uint16_t status = virtio_net::kStatusLinkUp;
    // Receive filter, as QEMU keeps it (promiscuous until the driver says otherwise).
    bool promisc = true, allmulti = false, alluni = false;
    bool nomulti = false, nouni = false, nobcast = false;
    std::vector<MacAddress> mac_table;   // unicast entries, then multicast
    size_t first_multi = 0;
    bool uni_overflow = false, multi_overflow = false;
    std::array<uint32_t, virtio_net::kMaxVlan / 32> vlans{};  // allowed VLAN ids
    uint16_t curr_queue_pairs = 1;
    uint64_t guest_offloads = 0;         // kGuestOffloads bits in effect

    // Device reset: the filter and queue pairs back to power-on, the
    // address back to `mac`; the link bit stays.
    void reset(const MacAddress& configured);
    // Without VIRTIO_NET_F_CTRL_VLAN every VLAN passes.
    void set_vlan_filtering(bool on) { vlans.fill(on ? 0 : ~0u); }
};

// QEMU's receive_filter: does the driver want this frame (destination
// address, VLAN tag)? `frame` starts at the Ethernet header.
bool rx_filter_accepts(const VirtioNetState& state, const uint8_t* frame, size_t len);

} // namespace kestrel
