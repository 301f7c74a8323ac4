// The 82540EM's transmit ring: legacy descriptors, and context plus data
// descriptors with IP/TCP/UDP checksum insertion and TCP segmentation
// (TSO), done here in software so every backend gets plain frames; a
// backend with a vnet header (a tap) takes a TCP/IPv4 TSO packet whole.
#include "devices/e1000/e1000_core.h"
#include "kvm/guest_memory.h"
#include "net/net_backend.h"

#include <algorithm>
#include <cstring>

namespace kestrel {

using namespace e1000;

namespace {

uint32_t le32(const uint8_t* p) { return uint32_t(p[0] | p[1] << 8 | p[2] << 16 | uint32_t(p[3]) << 24); }
uint64_t le64(const uint8_t* p) { return le32(p) | uint64_t(le32(p + 4)) << 32; }
uint16_t be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
void put_be16(uint8_t* p, uint16_t v) { p[0] = uint8_t(v >> 8), p[1] = uint8_t(v); }
uint32_t be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | p[1] << 16 | p[2] << 8 | p[3]; }
void put_be32(uint8_t* p, uint32_t v) { put_be16(p, uint16_t(v >> 16)), put_be16(p + 2, uint16_t(v)); }

uint32_t ones_sum(std::span<const uint8_t> data, uint32_t sum = 0) {
    size_t i = 0;
    for (; i + 1 < data.size(); i += 2) sum += be16(&data[i]);
    if (i < data.size()) sum += uint32_t(data[i]) << 8;
    return sum;
}

uint16_t fold(uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return uint16_t(sum);
}

// Sums [start, end] (end inclusive; 0: to the end of the frame) plus
// `extra`, and stores the complement at `at`; nothing for ranges outside
// the frame.
void insert_checksum(std::span<uint8_t> frame, size_t start, size_t end, size_t at, uint32_t extra = 0) {
    size_t stop = end ? std::min(end + 1, frame.size()) : frame.size();
    if (start >= stop || at + 2 > frame.size()) return;
    put_be16(&frame[at], uint16_t(~fold(ones_sum(frame.subspan(start, stop - start), extra))));
}

} // namespace

void E1000Core::transmit() {
    if (!(reg(TCTL) & TCTL_EN)) return;
    uint32_t count = reg(TDLEN) / kDescSize;
    if (count == 0) return;
    uint64_t base = uint64_t(reg(TDBAH)) << 32 | reg(TDBAL);
    bool now = false, delayed = false;
    // At most one lap of the ring per kick: a TDT the ring never reaches
    // cannot keep the device here.
    for (uint32_t n = 0; n < count && reg(TDH) != reg(TDT); ++n) {
        if (reg(TDH) >= count) reg(TDH) = 0;
        TxReport report = process_tx_descriptor(base + uint64_t(reg(TDH)) * kDescSize);
        now |= report == TxReport::Now;
        delayed |= report == TxReport::Delayed;
        reg(TDH) = (reg(TDH) + 1) % count;
    }
    // An immediate write-back's TXDW covers the delayed ones before it.
    if (now || delayed) tx_written_back(!now);
    set_cause(ICR_TXQE);
}

E1000Core::TxReport E1000Core::process_tx_descriptor(uint64_t addr) {
    uint8_t d[kDescSize];
    if (!memory_.read(addr, d)) {  // a ring outside RAM: nothing to send, nothing to write back
        tx_bad_ = true;
        return TxReport::None;
    }
    uint64_t buffer = le64(d);
    uint32_t lower = le32(d + 8), upper = le32(d + 12);
    if (!(lower & TXD_CMD_DEXT)) {  // legacy
        if (!s_.tx_in_packet) {
            s_.tx_in_packet = true;
            s_.tx_vle = lower & TXD_CMD_VLE;
            s_.tx_vlan = uint16_t(upper >> 16);
        }
        gather(buffer, lower & 0xffff);
        if (lower & TXD_CMD_EOP) finish_legacy(uint8_t(upper >> 8), uint8_t(lower >> 16), lower & TXD_CMD_IC);
    } else if ((lower & TXD_DTYP_MASK) == TXD_DTYP_C) {
        load_context(d);
    } else if ((lower & TXD_DTYP_MASK) == TXD_DTYP_D) {
        if (!s_.tx_in_packet) {
            s_.tx_in_packet = true;
            s_.tx_popts = uint8_t(upper >> 8);
            s_.tx_tse = lower & TXD_CMD_TSE;
            s_.tx_vle = lower & TXD_CMD_VLE;
            s_.tx_vlan = uint16_t(upper >> 16);
        }
        gather(buffer, lower & 0xfffff);
        if (lower & TXD_CMD_EOP) finish_packet();
    }
    if (!(lower & (TXD_CMD_RS | TXD_CMD_RPS))) return TxReport::None;
    uint32_t status = upper | TXD_STAT_DD;
    uint8_t out[4] = {uint8_t(status), uint8_t(status >> 8), uint8_t(status >> 16), uint8_t(status >> 24)};
    memory_.write(addr + 12, out);
    return (lower & TXD_CMD_IDE) ? TxReport::Delayed : TxReport::Now;
}

void E1000Core::load_context(const uint8_t* d) {
    E1000TxContext& c = s_.tx_ctx;
    c.ipcss = d[0];
    c.ipcso = d[1];
    c.ipcse = uint16_t(d[2] | d[3] << 8);
    c.tucss = d[4];
    c.tucso = d[5];
    c.tucse = uint16_t(d[6] | d[7] << 8);
    uint32_t lower = le32(d + 8), upper = le32(d + 12);
    c.paylen = lower & 0xfffff;
    c.tcp = lower & TXD_CMD_TCP;
    c.ipv4 = lower & TXD_CMD_IP;
    c.tse = lower & TXD_CMD_TSE;
    c.hdrlen = uint8_t(upper >> 8);
    c.mss = uint16_t(upper >> 16);
}

// Appends a buffer to the packet; what does not fit kMaxFrame, or lies
// outside guest RAM, spoils the packet.
bool E1000Core::gather(uint64_t addr, uint32_t len) {
    if (len == 0) return true;
    size_t at = tx_packet_.size();
    if (at + len > kMaxFrame) {
        tx_bad_ = true;
        return false;
    }
    tx_packet_.resize(at + len);
    if (!memory_.read(addr, {tx_packet_.data() + at, len})) {
        tx_packet_.resize(at);
        tx_bad_ = true;
        return false;
    }
    return true;
}

void E1000Core::finish_legacy(uint8_t css, uint8_t cso, bool insert) {
    if (!tx_bad_ && !tx_packet_.empty()) {
        if (insert) insert_checksum(tx_packet_, css, 0, cso);
        emit(tx_packet_);
    } else {
        ++counters_.tx_dropped;
    }
    tx_packet_.clear();
    tx_bad_ = false;
    s_.tx_in_packet = false;
}

void E1000Core::finish_packet() {
    if (tx_bad_ || tx_packet_.empty()) {
        ++counters_.tx_dropped;
    } else if (s_.tx_tse && s_.tx_ctx.tse) {
        send_tso(tx_packet_);
    } else {
        send_frame(tx_packet_, s_.tx_popts & TXD_POPTS_IXSM, s_.tx_popts & TXD_POPTS_TXSM);
    }
    tx_packet_.clear();
    tx_bad_ = false;
    s_.tx_in_packet = false;
}

void E1000Core::send_frame(std::span<uint8_t> frame, bool csum_ip, bool csum_l4) {
    const E1000TxContext& c = s_.tx_ctx;
    if (csum_ip) insert_checksum(frame, c.ipcss, c.ipcse, c.ipcso);
    if (csum_l4) insert_checksum(frame, c.tucss, c.tucse, c.tucso);
    emit(frame);
}

// TCP segmentation: the context's header (hdrlen bytes) in front of each
// mss bytes of payload, lengths, IP ids, sequence numbers, flags and
// checksums fixed per segment.
void E1000Core::send_tso(std::span<uint8_t> packet) {
    const E1000TxContext& c = s_.tx_ctx;
    size_t hdrlen = c.hdrlen;
    bool ip_ok = size_t(c.ipcss) + 20 <= hdrlen, l4_ok = size_t(c.tucss) + (c.tcp ? 20 : 8) <= hdrlen;
    if (hdrlen == 0 || hdrlen > packet.size() || c.mss == 0 || !ip_ok || !l4_ok) {
        send_frame(packet, s_.tx_popts & TXD_POPTS_IXSM, s_.tx_popts & TXD_POPTS_TXSM);
        return;
    }
    ++reg(TSCTC);   // one per TSO packet ("contexts transmitted"), whatever its segments
    if (options_.vnet_hdr && send_gso(packet)) return;
    size_t payload = packet.size() - hdrlen;
    uint16_t ip_id = be16(&packet[c.ipcss + 4]);
    uint32_t seq = c.tcp ? be32(&packet[c.tucss + 4]) : 0;
    unsigned index = 0;
    for (size_t off = 0; off < payload || (payload == 0 && index == 0); off += c.mss, ++index) {
        size_t len = std::min<size_t>(c.mss, payload - off);
        bool last = off + len >= payload;
        tx_scratch_.assign(packet.begin(), packet.begin() + ptrdiff_t(hdrlen));
        tx_scratch_.insert(tx_scratch_.end(), packet.begin() + ptrdiff_t(hdrlen + off),
                           packet.begin() + ptrdiff_t(hdrlen + off + len));
        uint8_t* f = tx_scratch_.data();
        size_t ip_len = hdrlen - c.ipcss + len, l4_len = hdrlen - c.tucss + len;
        if (c.ipv4) {
            put_be16(f + c.ipcss + 2, uint16_t(ip_len));
            put_be16(f + c.ipcss + 4, uint16_t(ip_id + index));
            if (s_.tx_popts & TXD_POPTS_IXSM) {
                if (size_t(c.ipcso) + 2 <= hdrlen) put_be16(f + c.ipcso, 0);
                insert_checksum(tx_scratch_, c.ipcss, c.ipcse, c.ipcso);
            }
        } else {
            put_be16(f + c.ipcss + 4, uint16_t(ip_len - 40));
        }
        if (c.tcp) {
            put_be32(f + c.tucss + 4, seq + uint32_t(off));
            if (!last) f[c.tucss + 13] &= uint8_t(~0x09);  // FIN and PSH only on the last
        } else {
            put_be16(f + c.tucss + 4, uint16_t(l4_len));
        }
        // The driver put the pseudo-header sum without the length in the field.
        if (s_.tx_popts & TXD_POPTS_TXSM) insert_checksum(tx_scratch_, c.tucss, 0, c.tucso, uint32_t(l4_len));
        emit(tx_scratch_);
        if (payload == 0) break;
    }
}

// One TCP/IPv4 TSO packet as one frame behind a GSO vnet header: the
// headers made those of the whole packet (IP length and checksum, the TCP
// pseudo-header sum a partial checksum starts from), the segment counters
// moved as if each segment had gone. False: not such a packet (UDP, IPv6,
// a VLAN tag to insert, ECN's CWR, headers that do not add up), for the
// software path.
bool E1000Core::send_gso(std::span<uint8_t> packet) {
    const E1000TxContext& c = s_.tx_ctx;
    const size_t hdrlen = c.hdrlen, ip = c.ipcss, tcp = c.tucss;
    if (!c.tcp || !c.ipv4 || (s_.tx_vle && (reg(CTRL) & CTRL_VME)) || packet.size() <= hdrlen + c.mss) return false;
    if (ip + 20 > tcp || tcp + 20 > hdrlen || c.tucso != tcp + 16 || packet.size() - ip > 0xffff) return false;
    uint8_t* p = packet.data();
    const size_t ihl = size_t(p[ip] & 0x0f) * 4;
    if ((p[ip] >> 4) != 4 || ip + ihl != tcp || p[ip + 9] != 6 || (p[tcp + 13] & 0x80)) return false;
    if (!port_ || !carrier_) {
        ++counters_.tx_dropped;
        return true;
    }
    put_be16(p + ip + 2, uint16_t(packet.size() - ip));
    put_be16(p + ip + 10, 0);
    insert_checksum(packet, ip, ip + ihl - 1, ip + 10);
    const uint32_t tcp_len = uint32_t(packet.size() - tcp);
    put_be16(p + tcp + 16, fold(ones_sum({p + ip + 12, 8}, 6 + tcp_len)));
    uint8_t hdr[kVnetHdrLen] = {1 /* NEEDS_CSUM */, 1 /* GSO_TCPV4 */};
    auto put_le16 = [&](size_t at, size_t v) { hdr[at] = uint8_t(v), hdr[at + 1] = uint8_t(v >> 8); };
    put_le16(2, hdrlen), put_le16(4, c.mss), put_le16(6, tcp), put_le16(8, 16);
    iovec iov[2] = {{hdr, sizeof hdr}, {p, packet.size()}};
    port_->send({iov, 2});
    for (size_t off = 0, payload = packet.size() - hdrlen; off < payload; off += c.mss)
        count_tx(p, hdrlen + std::min<size_t>(c.mss, payload - off));
    return true;
}

void E1000Core::emit(std::span<const uint8_t> frame) {
    if (!port_ || !carrier_ || frame.size() < 14) {
        ++counters_.tx_dropped;
        return;
    }
    static const uint8_t kNoOffload[kVnetHdrLen] = {};
    uint8_t tag[4];
    iovec iov[4];
    size_t n = 0;
    if (options_.vnet_hdr) iov[n++] = {const_cast<uint8_t*>(kNoOffload), sizeof kNoOffload};
    if (s_.tx_vle && (reg(CTRL) & CTRL_VME)) {  // 802.1Q tag after the addresses
        put_be16(tag, uint16_t(reg(VET)));
        put_be16(tag + 2, s_.tx_vlan);
        iov[n++] = {const_cast<uint8_t*>(frame.data()), 12};
        iov[n++] = {tag, 4};
        iov[n++] = {const_cast<uint8_t*>(frame.data()) + 12, frame.size() - 12};
    } else {
        iov[n++] = {const_cast<uint8_t*>(frame.data()), frame.size()};
    }
    port_->send({iov, n});
    count_tx(frame);
}

void E1000Core::count_tx(const uint8_t* dst_mac, size_t size) {
    ++counters_.tx_frames;
    uint64_t bytes = size + 4;   // with the FCS, as the hardware counts
    ++reg(GPTC), ++reg(TPT);
    add_stat64(GOTCL, bytes);
    add_stat64(TOTL, bytes);
    if (dst_mac[0] & 1) ++reg(std::all_of(dst_mac, dst_mac + 6, [](uint8_t b) { return b == 0xff; }) ? BPTC : MPTC);
}

} // namespace kestrel
