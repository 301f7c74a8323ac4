// The 82540EM's receive side: address, multicast and VLAN filters, the
// receive ring (a frame over as many buffers as it needs), VLAN stripping
// and the statistics the driver reads.
#include "devices/e1000/e1000_core.h"
#include "kvm/guest_memory.h"

#include <algorithm>
#include <cstring>

namespace kestrel {

using namespace e1000;

namespace {

constexpr size_t kMinFrame = 60;
constexpr size_t kFcs = 4;
constexpr size_t kMaxStandardFrame = 1522;   // 1518 and a VLAN tag, with FCS

uint16_t be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }

} // namespace

bool E1000Core::rx_enabled() const { return (reg(RCTL) & RCTL_EN) && carrier_; }

uint32_t E1000Core::rx_ring_size() const { return reg(RDLEN) / kDescSize; }

size_t E1000Core::rx_buffer_size() const {
    unsigned code = (reg(RCTL) >> RCTL_BSIZE_SHIFT) & 3;
    if (reg(RCTL) & RCTL_BSEX) return code == 1 ? 16384 : code == 2 ? 8192 : code == 3 ? 4096 : 2048;
    return 2048u >> code;
}

bool E1000Core::rx_has_room(size_t len) const {
    uint32_t n = rx_ring_size(), head = reg(RDH), tail = reg(RDT);
    if (n == 0 || head >= n || tail >= n || head == tail) return false;
    uint32_t free = tail > head ? tail - head : n - head + tail;
    size_t total = std::max(len, kMinFrame) + ((reg(RCTL) & RCTL_SECRC) ? 0 : kFcs);
    size_t buffer = rx_buffer_size();
    return (total + buffer - 1) / buffer <= free;
}

bool E1000Core::accepts(std::span<const uint8_t> frame) const {
    if (frame.size() < 14) return false;
    uint32_t rctl = reg(RCTL);
    if ((rctl & RCTL_VFE) && be16(&frame[12]) == uint16_t(reg(VET)) && frame.size() >= 16) {
        unsigned vid = be16(&frame[14]) & 0xfff;
        if (!((reg(VFTA + (vid >> 5) * 4) >> (vid & 31)) & 1)) return false;
    }
    const uint8_t* dst = frame.data();
    if (dst[0] & 1) {
        bool broadcast = std::all_of(dst, dst + 6, [](uint8_t b) { return b == 0xff; });
        if ((broadcast && (rctl & RCTL_BAM)) || (rctl & RCTL_MPE)) return true;
        static constexpr unsigned kShift[4] = {4, 3, 2, 0};   // RCTL.MO: which 12 address bits hash
        unsigned shift = kShift[(rctl >> RCTL_MO_SHIFT) & 3];
        unsigned hash = ((dst[4] >> shift) | (unsigned(dst[5]) << (8 - shift))) & 0xfff;
        return (reg(MTA + (hash >> 5) * 4) >> (hash & 31)) & 1;
    }
    if (rctl & RCTL_UPE) return true;
    for (unsigned i = 0; i < kRaPairs; ++i) {
        uint32_t low = reg(RA + i * 8), high = reg(RA + i * 8 + 4);
        if (!(high & RAH_AV)) continue;
        uint8_t mac[6] = {uint8_t(low), uint8_t(low >> 8), uint8_t(low >> 16), uint8_t(low >> 24), uint8_t(high),
                          uint8_t(high >> 8)};
        if (std::memcmp(mac, dst, 6) == 0) return true;
    }
    return false;
}

bool E1000Core::receive(std::span<const uint8_t> in) {
    if (!rx_enabled()) return false;
    if (!accepts(in)) {
        ++counters_.rx_filtered;
        return false;
    }
    uint8_t frame_buf[kMinFrame];
    std::span<const uint8_t> frame = in;
    uint16_t vlan = 0;
    bool tagged = false;
    std::vector<uint8_t> stripped;
    if ((reg(CTRL) & CTRL_VME) && in.size() >= 18 && be16(&in[12]) == uint16_t(reg(VET))) {
        tagged = true;
        vlan = be16(&in[14]);
        stripped.assign(in.begin(), in.begin() + 12);
        stripped.insert(stripped.end(), in.begin() + 16, in.end());
        frame = stripped;
    }
    if (frame.size() < kMinFrame) {
        std::memset(frame_buf, 0, sizeof frame_buf);
        std::memcpy(frame_buf, frame.data(), frame.size());
        frame = {frame_buf, kMinFrame};
    }
    size_t total = frame.size() + ((reg(RCTL) & RCTL_SECRC) ? 0 : kFcs);
    if (!(reg(RCTL) & RCTL_LPE) && total > kMaxStandardFrame) {
        ++reg(ROC);
        return false;
    }
    if (!rx_has_room(frame.size())) {
        ++reg(RNBC);
        set_cause(ICR_RXO);
        return false;
    }
    uint32_t n = rx_ring_size();
    uint64_t base = uint64_t(reg(RDBAH)) << 32 | reg(RDBAL);
    size_t buffer = rx_buffer_size(), done = 0;
    static const uint8_t kZeroFcs[kFcs] = {};
    while (done < total) {
        uint64_t desc = base + uint64_t(reg(RDH)) * kDescSize;
        uint8_t d[kDescSize] = {};
        memory_.read(desc, d);
        uint64_t addr = 0;
        std::memcpy(&addr, d, 8);
        size_t chunk = std::min(buffer, total - done);
        if (addr) {  // frame bytes, then the (zero) FCS
            size_t data = done < frame.size() ? std::min(chunk, frame.size() - done) : 0;
            if (data) memory_.write(addr, frame.subspan(done, data));
            if (data < chunk) memory_.write(addr + data, {kZeroFcs, chunk - data});
        }
        done += chunk;
        uint8_t status = RXD_STAT_DD | RXD_STAT_IXSM | (done == total ? RXD_STAT_EOP : 0) | (tagged ? RXD_STAT_VP : 0);
        write_back_rx(desc + 8, {uint8_t(chunk), uint8_t(chunk >> 8), 0, 0, status, 0, uint8_t(vlan), uint8_t(vlan >> 8)});
        reg(RDH) = (reg(RDH) + 1) % n;
    }
    count_rx(frame);
    uint32_t head = reg(RDH), tail = reg(RDT);
    uint32_t free = tail >= head ? tail - head : n - head + tail;
    if (free <= n >> (((reg(RCTL) >> RCTL_RDMTS_SHIFT) & 3) + 1)) set_cause(ICR_RXDMT0);
    rx_frame_done();   // RXT0, now or when RDTR/RADV run out
    return true;
}

void E1000Core::count_rx(std::span<const uint8_t> frame) {
    ++counters_.rx_frames;
    uint64_t bytes = frame.size() + kFcs;
    ++reg(GPRC), ++reg(TPR);
    add_stat64(GORCL, bytes);
    add_stat64(TORL, bytes);
    if (frame[0] & 1)
        ++reg(std::all_of(frame.begin(), frame.begin() + 6, [](uint8_t b) { return b == 0xff; }) ? BPRC : MPRC);
    static constexpr uint32_t kBins[] = {PRC64, PRC127, PRC255, PRC511, PRC1023, PRC1522};
    static constexpr uint64_t kLimits[] = {64, 127, 255, 511, 1023, 1522};
    for (size_t i = 0; i < 6; ++i)
        if (bytes <= kLimits[i]) {
            ++reg(kBins[i]);
            break;
        }
}

} // namespace kestrel
