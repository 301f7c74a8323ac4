#include "virtio/net/virtio_net_state.h"

#include <algorithm>
#include <cstring>

namespace kestrel {

void VirtioNetState::reset(const MacAddress& configured) {
    uint16_t link = status & virtio_net::kStatusLinkUp;
    *this = VirtioNetState{};
    mac = configured;
    status = link;
}

namespace {

bool in_table(const VirtioNetState& s, const uint8_t* address, size_t from, size_t to) {
    for (size_t i = from; i < to && i < s.mac_table.size(); ++i)
        if (std::memcmp(s.mac_table[i].bytes.data(), address, 6) == 0) return true;
    return false;
}

} // namespace

bool rx_filter_accepts(const VirtioNetState& s, const uint8_t* frame, size_t len) {
    if (s.promisc) return true;
    if (len < 14) return false;
    if (len >= 16 && frame[12] == 0x81 && frame[13] == 0x00) {
        unsigned vid = ((unsigned(frame[14]) << 8) | frame[15]) & 0xfff;
        if (!(s.vlans[vid >> 5] & (1u << (vid & 31)))) return false;
    }
    static const uint8_t broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    if (frame[0] & 1) {
        if (std::memcmp(frame, broadcast, 6) == 0) return !s.nobcast;
        if (s.nomulti) return false;
        if (s.allmulti || s.multi_overflow) return true;
        return in_table(s, frame, s.first_multi, s.mac_table.size());
    }
    if (s.nouni) return false;
    if (s.alluni || s.uni_overflow) return true;
    if (std::memcmp(frame, s.mac.bytes.data(), 6) == 0) return true;
    return in_table(s, frame, 0, s.first_multi);
}

} // namespace kestrel
