// e1000's core as Linux's e1000 driver drives it (EEPROM, PHY, interrupt
// causes, the rings, checksum offload and TSO) and as a broken or hostile
// guest might: rings outside RAM, descriptors that never end a packet,
// lengths past any buffer, ring registers out of range.
#include "devices/e1000/e1000_core.h"
#include "kvm/guest_memory.h"
#include "net/frame_queue.h"
#include "net/net_backend.h"

#include <catch2/catch.hpp>
#include <cstring>

using namespace kestrel;
using namespace kestrel::e1000;

namespace {

constexpr uint64_t kRam = 4 << 20;
constexpr uint64_t kTxRing = 0x10000, kRxRing = 0x20000, kBuffers = 0x100000;

class FakePort final : public NetPort {
public:
    int rx_fd() const override { return -1; }
    ssize_t receive(std::span<const iovec>) override { return 0; }
    ssize_t send(std::span<const iovec> iov) override {
        sent.push_back(gather(iov));
        return ssize_t(sent.back().size());
    }
    int tx_fd() const override { return -1; }
    std::vector<std::vector<uint8_t>> sent;
};

struct Nic {
    // vnet_hdr: the port carries virtio_net_hdr (a tap).
    explicit Nic(bool vnet_hdr = false)
        : core{memory, &port, {MacAddress{{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}}, true, true, true, vnet_hdr},
               [this](bool level) { irq = level; }} {}
    GuestMemory memory = GuestMemory::create_flat(kRam);
    FakePort port;
    bool irq = false;
    E1000Core core;

    void put_desc(uint64_t at, uint64_t addr, uint32_t lower, uint32_t upper) {
        uint8_t d[16];
        std::memcpy(d, &addr, 8);
        std::memcpy(d + 8, &lower, 4);
        std::memcpy(d + 12, &upper, 4);
        REQUIRE(memory.write(at, d));
    }
    uint32_t desc_word(uint64_t at, unsigned word) {
        uint32_t v = 0;
        memory.read_obj(at + 4 * word, v);
        return v;
    }
    void setup_tx(uint32_t descriptors) {
        core.write(TDBAL, uint32_t(kTxRing));
        core.write(TDBAH, 0);
        core.write(TDLEN, descriptors * 16);
        core.write(TDH, 0);
        core.write(TDT, 0);
        core.write(TCTL, TCTL_EN);
    }
    void setup_rx(uint32_t descriptors, uint32_t posted) {
        for (uint32_t i = 0; i < descriptors; ++i) put_desc(kRxRing + i * 16, kBuffers + i * 2048, 0, 0);
        core.write(RDBAL, uint32_t(kRxRing));
        core.write(RDLEN, descriptors * 16);
        core.write(RDH, 0);
        core.write(RDT, posted);
        core.write(RCTL, RCTL_EN | RCTL_BAM | RCTL_SECRC);
    }
};

uint16_t be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }

uint16_t checksum(const uint8_t* p, size_t len, uint32_t sum = 0) {
    for (size_t i = 0; i + 1 < len; i += 2) sum += be16(p + i);
    if (len & 1) sum += uint32_t(p[len - 1]) << 8;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return uint16_t(sum);
}

// An Ethernet/IPv4/TCP packet with `payload` bytes, prepared as Linux's
// e1000 driver does for TSO: IP length and checksum zero, the TCP checksum
// field holding the pseudo-header sum without the length.
std::vector<uint8_t> tso_packet(size_t payload) {
    std::vector<uint8_t> p(54 + payload);
    const uint8_t eth[14] = {0x52, 0x54, 0, 0x12, 0x34, 0x99, 0x52, 0x54, 0, 0x12, 0x34, 0x56, 0x08, 0x00};
    std::memcpy(p.data(), eth, 14);
    uint8_t* ip = p.data() + 14;
    ip[0] = 0x45, ip[6] = 0x40, ip[8] = 64, ip[9] = 6;
    ip[4] = 0x12, ip[5] = 0x34;                          // id
    const uint8_t addrs[8] = {10, 0, 2, 15, 10, 0, 2, 2};
    std::memcpy(ip + 12, addrs, 8);
    uint8_t* tcp = ip + 20;
    tcp[0] = 0x80, tcp[1] = 0x00, tcp[2] = 0x00, tcp[3] = 0x50;
    tcp[4] = 0, tcp[5] = 0, tcp[6] = 0x10, tcp[7] = 0;   // seq 0x1000
    tcp[12] = 0x50, tcp[13] = 0x19;                      // ACK, PSH, FIN
    uint16_t pseudo = checksum(addrs, 8, 6);
    tcp[16] = uint8_t(pseudo >> 8), tcp[17] = uint8_t(pseudo);
    for (size_t i = 0; i < payload; ++i) p[54 + i] = uint8_t(i * 7);
    return p;
}

} // namespace

TEST_CASE("e1000: EEPROM through EERD and Microwire, checksum 0xBABA", "[e1000]") {
    Nic nic;
    uint16_t sum = 0;
    for (uint32_t word = 0; word < kEepromWords; ++word) {
        nic.core.write(EERD, EERD_START | word << 8);
        uint32_t v = nic.core.read(EERD);
        CHECK((v & EERD_DONE));
        sum = uint16_t(sum + (v >> 16));
    }
    CHECK(sum == kEepromChecksum);
    nic.core.write(EERD, EERD_START | 1 << 8);
    CHECK(nic.core.read(EERD) >> 16 == 0x1200);   // MAC bytes 2 and 3

    // Microwire: chip select, start bit, opcode 10, address 000001, then 16 bits out.
    auto clock_in = [&](unsigned bit) {
        uint32_t di = bit ? EECD_DI : 0;
        nic.core.write(EECD, EECD_CS | di);
        nic.core.write(EECD, EECD_CS | di | EECD_SK);
        nic.core.write(EECD, EECD_CS | di);
    };
    nic.core.write(EECD, EECD_CS);
    for (unsigned bit : {1u, 1u, 0u, 0u, 0u, 0u, 0u, 0u, 1u}) clock_in(bit);
    uint16_t word = 0;
    for (int i = 0; i < 16; ++i) {
        nic.core.write(EECD, EECD_CS | EECD_SK);
        word = uint16_t(word << 1 | ((nic.core.read(EECD) & EECD_DO) ? 1 : 0));
        nic.core.write(EECD, EECD_CS);
    }
    CHECK(word == 0x1200);
    CHECK((nic.core.read(EECD) & (EECD_PRES | EECD_GNT)) == (EECD_PRES | EECD_GNT));
}

TEST_CASE("e1000: PHY over MDIC, auto-negotiation and link changes raise LSC", "[e1000]") {
    Nic nic;
    nic.core.write(MDIC, MDIC_OP_READ | 1u << 21 | uint32_t(PHY_ID2) << 16);
    CHECK((nic.core.read(MDIC) & 0xffff) == 0x0c20);
    CHECK((nic.core.read(MDIC) & MDIC_READY));
    nic.core.write(MDIC, MDIC_OP_READ | 2u << 21);   // no PHY at address 2
    CHECK((nic.core.read(MDIC) & MDIC_ERROR));
    nic.core.write(IMS, ICR_LSC);
    nic.core.write(MDIC, MDIC_OP_WRITE | 1u << 21 | uint32_t(PHY_CTRL) << 16 | MII_CR_AUTO_NEG_EN |
                             MII_CR_RESTART_AUTO_NEG);
    CHECK((nic.core.read(STATUS) & STATUS_LU));
    nic.core.write(MDIC, MDIC_OP_READ | 1u << 21 | uint32_t(PHY_STATUS) << 16);
    CHECK((nic.core.read(MDIC) & (MII_SR_LINK_STATUS | MII_SR_AUTONEG_COMPLETE)) ==
          (MII_SR_LINK_STATUS | MII_SR_AUTONEG_COMPLETE));
    nic.core.read(ICR);
    CHECK(!nic.irq);
    nic.core.set_link(false);
    CHECK(!(nic.core.read(STATUS) & STATUS_LU));
    CHECK(nic.irq);
    CHECK((nic.core.read(ICR) & ICR_LSC));
    CHECK(!nic.irq);
    nic.core.set_link(true);
    CHECK((nic.core.read(STATUS) & STATUS_LU));
    CHECK(nic.irq);
}

TEST_CASE("e1000: ICS, IMS, IMC and ICR's read-to-clear drive the pin", "[e1000]") {
    Nic nic;
    nic.core.write(ICS, ICR_RXT0);
    CHECK(!nic.irq);                 // masked
    nic.core.write(IMS, ICR_RXT0 | ICR_TXDW);
    CHECK(nic.irq);
    CHECK(nic.core.read(IMS) == (ICR_RXT0 | ICR_TXDW));
    nic.core.write(IMC, ICR_RXT0);
    CHECK(!nic.irq);
    nic.core.write(IMS, ICR_RXT0);
    CHECK(nic.core.read(ICR) == ICR_RXT0);
    CHECK(!nic.irq);
    CHECK(nic.core.read(ICR) == 0);
    nic.core.write(0x1fffc, 0xffffffff);          // past the 82540EM's registers: nothing there
    CHECK(nic.core.read(0x1fffc) == 0);
    nic.core.io_write(0, 0x1fffc);
    CHECK(nic.core.io_read(4) == 0);
}

TEST_CASE("e1000: a legacy descriptor sends a frame and reports DD", "[e1000]") {
    Nic nic;
    nic.setup_tx(8);
    std::vector<uint8_t> frame(64, 0xab);
    REQUIRE(nic.memory.write(kBuffers, frame));
    nic.put_desc(kTxRing, kBuffers, 64 | TXD_CMD_EOP | TXD_CMD_RS | TXD_CMD_IFCS, 0);
    nic.core.write(IMS, ICR_TXDW);
    nic.core.write(TDT, 1);
    REQUIRE(nic.port.sent.size() == 1);
    CHECK(nic.port.sent[0] == frame);
    CHECK((nic.desc_word(kTxRing, 3) & TXD_STAT_DD));
    CHECK(nic.core.read(TDH) == 1);
    CHECK(nic.irq);
    CHECK(nic.core.read(GPTC) == 1);
    CHECK(nic.core.read(GPTC) == 0);  // statistics clear when read
}

// Posts `packet` (from tso_packet) for TSO with mss 1000: a context
// descriptor and the packet in two data descriptors.
static void post_tso(Nic& nic, const std::vector<uint8_t>& packet) {
    nic.setup_tx(8);
    REQUIRE(nic.memory.write(kBuffers, packet));
    // Context: IP header 14..33 (checksum at 24), TCP from 34 (checksum at 50), mss 1000.
    uint8_t ctx[16] = {14, 24, 33, 0, 34, 50, 0, 0};
    uint32_t lower = 2500 | TXD_CMD_DEXT | TXD_DTYP_C | TXD_CMD_TCP | TXD_CMD_IP | TXD_CMD_TSE;
    uint32_t upper = 54u << 8 | 1000u << 16;
    std::memcpy(ctx + 8, &lower, 4);
    std::memcpy(ctx + 12, &upper, 4);
    REQUIRE(nic.memory.write(kTxRing, ctx));
    // Data: the header and payload in two buffers.
    nic.put_desc(kTxRing + 16, kBuffers, 100 | TXD_CMD_DEXT | TXD_DTYP_D | TXD_CMD_TSE, 0x3u << 8);
    nic.put_desc(kTxRing + 32, kBuffers + 100, uint32_t(packet.size() - 100) | TXD_CMD_DEXT | TXD_DTYP_D |
                     TXD_CMD_TSE | TXD_CMD_EOP | TXD_CMD_RS, 0x3u << 8);
    nic.core.write(TDT, 3);
}

TEST_CASE("e1000: TSO cuts a TCP packet into segments with correct headers and checksums", "[e1000]") {
    Nic nic;
    std::vector<uint8_t> packet = tso_packet(2500);
    post_tso(nic, packet);
    REQUIRE(nic.port.sent.size() == 3);
    uint32_t seq = 0x1000;
    for (size_t i = 0; i < 3; ++i) {
        const std::vector<uint8_t>& f = nic.port.sent[i];
        size_t payload = i < 2 ? 1000 : 500;
        REQUIRE(f.size() == 54 + payload);
        const uint8_t* ip = f.data() + 14;
        CHECK(be16(ip + 2) == 40 + payload);
        CHECK(be16(ip + 4) == 0x1234 + i);
        CHECK(checksum(ip, 20) == 0xffff);
        const uint8_t* tcp = ip + 20;
        CHECK((uint32_t(be16(tcp + 4)) << 16 | be16(tcp + 6)) == seq);
        CHECK((tcp[13] & 0x09) == (i == 2 ? 0x09 : 0));    // FIN and PSH only at the end
        uint32_t pseudo = checksum(ip + 12, 8, 6 + uint32_t(20 + payload));
        CHECK(checksum(tcp, 20 + payload, pseudo) == 0xffff);
        CHECK(std::equal(f.begin() + 54, f.end(), packet.begin() + 54 + ptrdiff_t(i * 1000)));
        seq += uint32_t(payload);
    }
    CHECK((nic.desc_word(kTxRing + 32, 3) & TXD_STAT_DD));
    CHECK(nic.core.read(TSCTC) == 1);             // one TSO packet
    CHECK(nic.core.read(GPTC) == 3);              // three frames on the wire
}

TEST_CASE("e1000: on a port with a vnet header a TSO packet goes whole, for the host to segment", "[e1000]") {
    Nic nic(true);
    std::vector<uint8_t> packet = tso_packet(2500);
    post_tso(nic, packet);
    REQUIRE(nic.port.sent.size() == 1);
    std::vector<uint8_t> f = nic.port.sent[0];
    REQUIRE(f.size() == 10 + packet.size());
    auto le16 = [&](size_t at) { return unsigned(f[at] | f[at + 1] << 8); };
    CHECK(f[0] == 1);                             // VIRTIO_NET_HDR_F_NEEDS_CSUM
    CHECK(f[1] == 1);                             // VIRTIO_NET_HDR_GSO_TCPV4
    CHECK(le16(2) == 54);                         // headers
    CHECK(le16(4) == 1000);                       // mss
    CHECK(le16(6) == 34);                         // checksum from the TCP header
    CHECK(le16(8) == 16);                         // into its checksum field
    uint8_t* ip = f.data() + 10 + 14;
    CHECK(be16(ip + 2) == 20 + 20 + 2500);        // the whole packet's length
    CHECK(checksum(ip, 20) == 0xffff);
    uint8_t* tcp = ip + 20;
    const size_t tcp_len = 20 + 2500;
    // Completed as the host's kernel completes a partial checksum, it is right.
    uint16_t sum = uint16_t(~checksum(tcp, tcp_len));
    tcp[16] = uint8_t(sum >> 8), tcp[17] = uint8_t(sum);
    CHECK(checksum(tcp, tcp_len, checksum(ip + 12, 8, 6 + uint32_t(tcp_len))) == 0xffff);
    CHECK(std::equal(f.begin() + 10 + 54, f.end(), packet.begin() + 54));
    CHECK((nic.desc_word(kTxRing + 32, 3) & TXD_STAT_DD));
    CHECK(nic.core.read(TSCTC) == 1);
    CHECK(nic.core.read(GPTC) == 3);              // counted as the three frames the host sends
}

TEST_CASE("e1000: on a port with a vnet header other frames go behind an empty one", "[e1000]") {
    Nic nic(true);
    nic.setup_tx(8);
    std::vector<uint8_t> frame(60, 0xab);
    REQUIRE(nic.memory.write(kBuffers, frame));
    nic.put_desc(kTxRing, kBuffers, 60 | TXD_CMD_EOP | TXD_CMD_RS, 0);
    nic.core.write(TDT, 1);
    REQUIRE(nic.port.sent.size() == 1);
    const std::vector<uint8_t>& f = nic.port.sent[0];
    REQUIRE(f.size() == 70);
    CHECK(std::all_of(f.begin(), f.begin() + 10, [](uint8_t b) { return b == 0; }));
    CHECK(std::equal(f.begin() + 10, f.end(), frame.begin()));
}

TEST_CASE("e1000: checksum offload without TSO fills the TCP checksum", "[e1000]") {
    Nic nic;
    nic.setup_tx(8);                              // rings are multiples of 8 descriptors
    std::vector<uint8_t> packet = tso_packet(300);
    uint8_t* ip = packet.data() + 14;
    ip[2] = 0x01, ip[3] = uint8_t(340 - 256);            // a complete IP header (length 340)
    uint16_t pseudo = checksum(ip + 12, 8, 6 + 320);      // the stack's pseudo header, with length
    packet[50] = uint8_t(pseudo >> 8), packet[51] = uint8_t(pseudo);
    REQUIRE(nic.memory.write(kBuffers, packet));
    uint8_t ctx[16] = {14, 24, 33, 0, 34, 50, 0, 0};
    uint32_t lower = TXD_CMD_DEXT | TXD_DTYP_C | TXD_CMD_TCP | TXD_CMD_IP;
    std::memcpy(ctx + 8, &lower, 4);
    REQUIRE(nic.memory.write(kTxRing, ctx));
    nic.put_desc(kTxRing + 16, kBuffers, uint32_t(packet.size()) | TXD_CMD_DEXT | TXD_DTYP_D | TXD_CMD_EOP,
                 uint32_t(TXD_POPTS_TXSM | TXD_POPTS_IXSM) << 8);
    nic.core.write(TDT, 2);
    REQUIRE(nic.port.sent.size() == 1);
    const uint8_t* sent_ip = nic.port.sent[0].data() + 14;
    CHECK(checksum(sent_ip, 20) == 0xffff);
    CHECK(checksum(sent_ip + 20, 320, checksum(sent_ip + 12, 8, 6 + 320)) == 0xffff);
}

TEST_CASE("e1000: wild transmit rings never crash, hang or send garbage", "[e1000][malformed]") {
    Nic nic;
    SECTION("a ring outside guest RAM") {
        nic.core.write(TDBAL, 0xfffff000);
        nic.core.write(TDBAH, 0xffffffff);
        nic.core.write(TDLEN, 0xfff80);          // the largest ring the register holds
        nic.core.write(TCTL, TCTL_EN);
        nic.core.write(TDT, 0xffff);             // far past the ring
        CHECK(nic.port.sent.empty());
        CHECK(nic.core.read(TDH) < 0xfff80 / 16);
    }
    SECTION("descriptors that never end a packet, around and around") {
        nic.setup_tx(16);
        for (unsigned i = 0; i < 16; ++i)
            nic.put_desc(kTxRing + i * 16, kBuffers, 0xffff | TXD_CMD_DEXT | TXD_DTYP_D, 0);  // 1 MiB each, no EOP
        for (unsigned round = 0; round < 10; ++round) nic.core.write(TDT, (nic.core.read(TDH) + 15) % 16);
        CHECK(nic.port.sent.empty());
        // A packet that ends normally afterwards is not mixed with the spoiled one.
        nic.put_desc(kTxRing + nic.core.read(TDH) * 16, kBuffers, 60 | TXD_CMD_EOP, 0);
        nic.core.write(TDT, (nic.core.read(TDH) + 1) % 16);
        CHECK(nic.port.sent.empty());            // the end of the spoiled packet is dropped
        nic.put_desc(kTxRing + nic.core.read(TDH) * 16, kBuffers, 60 | TXD_CMD_EOP, 0);
        nic.core.write(TDT, (nic.core.read(TDH) + 1) % 16);
        REQUIRE(nic.port.sent.size() == 1);
        CHECK(nic.port.sent[0].size() == 60);
    }
    SECTION("buffers outside RAM, zero lengths, TSO contexts that make no sense") {
        nic.setup_tx(8);
        nic.put_desc(kTxRing, 0xffffffffffff0000ull, 1000 | TXD_CMD_EOP | TXD_CMD_RS, 0);
        nic.put_desc(kTxRing + 16, kBuffers, 0 | TXD_CMD_EOP, 0);
        uint8_t ctx[16] = {200, 255, 0xff, 0xff, 250, 255, 0, 0};
        uint32_t lower = 100 | TXD_CMD_DEXT | TXD_DTYP_C | TXD_CMD_TSE | TXD_CMD_TCP | TXD_CMD_IP;
        uint32_t upper = 255u << 8 | 1u << 16;   // header longer than the packet, mss 1
        std::memcpy(ctx + 8, &lower, 4);
        std::memcpy(ctx + 12, &upper, 4);
        REQUIRE(nic.memory.write(kTxRing + 32, ctx));
        nic.put_desc(kTxRing + 48, kBuffers, 100 | TXD_CMD_DEXT | TXD_DTYP_D | TXD_CMD_TSE | TXD_CMD_EOP, 0x3u << 8);
        nic.core.write(TDT, 4);
        CHECK((nic.desc_word(kTxRing, 3) & TXD_STAT_DD));
        REQUIRE(nic.port.sent.size() == 1);      // only the TSO packet, sent whole
        CHECK(nic.port.sent[0].size() == 100);
    }
}

TEST_CASE("e1000: receive into the ring, filters, frames over several buffers", "[e1000]") {
    Nic nic;
    nic.setup_rx(8, 7);
    nic.core.write(IMS, ICR_RXT0);
    std::vector<uint8_t> mine(100, 0x11), other(100, 0x22), broadcast(100, 0x33);
    const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    std::memcpy(mine.data(), mac, 6);
    std::memset(broadcast.data(), 0xff, 6);
    CHECK(nic.core.receive(mine));
    CHECK(!nic.core.receive(other));             // another station's
    CHECK(nic.core.receive(broadcast));
    CHECK(nic.core.read(RDH) == 2);
    CHECK(nic.irq);
    std::vector<uint8_t> got(100);
    REQUIRE(nic.memory.read(kBuffers, got));
    CHECK(got == mine);
    CHECK((nic.desc_word(kRxRing, 2) & 0xffff) == 100);
    CHECK(((nic.desc_word(kRxRing, 3) & 0xff) & (RXD_STAT_DD | RXD_STAT_EOP)) == (RXD_STAT_DD | RXD_STAT_EOP));

    nic.core.write(RCTL, nic.core.read(RCTL) | RCTL_LPE);
    std::vector<uint8_t> big(5000, 0x44);
    std::memcpy(big.data(), mac, 6);
    CHECK(nic.core.rx_has_room(big.size()));
    CHECK(nic.core.receive(big));                 // three 2 KiB buffers
    CHECK(nic.core.read(RDH) == 5);
    CHECK(!(nic.desc_word(kRxRing + 2 * 16, 3) & RXD_STAT_EOP));
    CHECK((nic.desc_word(kRxRing + 4 * 16, 3) & RXD_STAT_EOP));
    CHECK((nic.desc_word(kRxRing + 4 * 16, 2) & 0xffff) == 5000 - 4096);
    CHECK(!nic.core.rx_has_room(big.size()));    // two left
    CHECK(!nic.core.receive(big));
    CHECK(nic.core.read(RDH) == 5);
}

static std::vector<uint8_t> frame_to(std::initializer_list<uint8_t> dst, uint8_t fill = 0x55) {
    std::vector<uint8_t> f(100, fill);
    std::copy(dst.begin(), dst.end(), f.begin());
    f[12] = 0x08, f[13] = 0x00;
    return f;
}

// The 8254x manual's multicast table: RCTL.MO picks which 12 bits of the
// destination index the 4096-bit MTA (Linux's e1000_hash_mc_addr).
TEST_CASE("e1000: multicast frames pass by the MTA hash of RCTL.MO's bits, or with MPE", "[e1000]") {
    Nic nic;
    nic.setup_rx(8, 7);
    const auto mdns = frame_to({0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb});     // MO=0: hash 0xfb0
    const auto all_hosts = frame_to({0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}); // MO=0: hash 0x010
    CHECK(!nic.core.receive(mdns));                  // empty table
    nic.core.write(MTA + 125 * 4, 1u << 16);         // 0xfb0: register 125, bit 16
    CHECK(nic.core.receive(mdns));
    CHECK(!nic.core.receive(all_hosts));
    CHECK(nic.core.read(MPRC) == 1);

    nic.core.write(RCTL, nic.core.read(RCTL) | 1u << RCTL_MO_SHIFT);   // MO=1: bits 46:35
    CHECK(!nic.core.receive(mdns));                  // now hash 0xf60
    nic.core.write(MTA + 123 * 4, 1u << 0);
    CHECK(nic.core.receive(mdns));

    nic.core.write(RCTL, nic.core.read(RCTL) | RCTL_MPE);
    CHECK(nic.core.receive(all_hosts));
    CHECK(nic.core.read(RDH) == 3);
}

TEST_CASE("e1000: another station's unicast passes only in promiscuous mode (UPE) or by a second RA", "[e1000]") {
    Nic nic;
    nic.setup_rx(8, 7);
    const auto other = frame_to({0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc});
    CHECK(!nic.core.receive(other));
    nic.core.write(RA + 8, 0xaa005452u);             // RA[1]: 52:54:00:aa:bb:cc, not yet valid
    nic.core.write(RA + 12, 0xccbbu);
    CHECK(!nic.core.receive(other));
    nic.core.write(RA + 12, 0xccbbu | RAH_AV);
    CHECK(nic.core.receive(other));
    nic.core.write(RA + 12, 0xccbbu);
    nic.core.write(RCTL, nic.core.read(RCTL) | RCTL_UPE);
    CHECK(nic.core.receive(other));
    CHECK(!nic.core.receive(frame_to({0x01, 0x00, 0x5e, 0x00, 0x00, 0x01})));   // UPE is not MPE
}

TEST_CASE("e1000: VFE drops tags VFTA does not hold; VME strips the tag into the descriptor", "[e1000]") {
    Nic nic;
    nic.setup_rx(8, 7);
    nic.core.write(VET, 0x8100);
    auto tagged = frame_to({0x52, 0x54, 0x00, 0x12, 0x34, 0x56});
    const uint8_t tag[4] = {0x81, 0x00, 0x20, 0x05};   // priority 1, VLAN 5
    tagged.insert(tagged.begin() + 12, tag, tag + 4);
    const auto untagged = frame_to({0x52, 0x54, 0x00, 0x12, 0x34, 0x56});

    nic.core.write(RCTL, nic.core.read(RCTL) | RCTL_VFE);
    CHECK(!nic.core.receive(tagged));
    CHECK(nic.core.receive(untagged));               // the filter looks at tagged frames only
    nic.core.write(VFTA, 1u << 5);
    CHECK(nic.core.receive(tagged));                 // kept whole without VME
    CHECK((nic.desc_word(kRxRing + 16, 2) & 0xffff) == tagged.size());
    CHECK(!((nic.desc_word(kRxRing + 16, 3) & 0xff) & RXD_STAT_VP));

    nic.core.write(CTRL, nic.core.read(CTRL) | CTRL_VME);
    CHECK(nic.core.receive(tagged));
    CHECK((nic.desc_word(kRxRing + 32, 2) & 0xffff) == tagged.size() - 4);
    const uint32_t status = nic.desc_word(kRxRing + 32, 3);
    CHECK((status & RXD_STAT_VP));
    CHECK(status >> 16 == 0x2005);                   // the special field: the whole tag control
    std::vector<uint8_t> got(untagged.size());
    REQUIRE(nic.memory.read(kBuffers + 2 * 2048, got));
    CHECK(got == untagged);                          // the frame as if never tagged
}

TEST_CASE("e1000: wild receive rings never crash", "[e1000][malformed]") {
    Nic nic;
    nic.core.write(RDBAL, 0xfffffff0);
    nic.core.write(RDBAH, 0xffffffff);
    nic.core.write(RDLEN, 0xfff80);
    nic.core.write(RDT, 0xffff);                  // outside the ring: no room
    nic.core.write(RCTL, RCTL_EN | RCTL_UPE | RCTL_LPE);
    std::vector<uint8_t> frame(9000, 0x54);
    CHECK(!nic.core.receive(frame));
    nic.core.write(RDT, 100);                     // inside, but the ring is not in RAM
    CHECK(nic.core.receive(frame));
    nic.core.write(RDBAH, 0);
    nic.setup_rx(8, 3);
    for (unsigned i = 0; i < 8; ++i) nic.put_desc(kRxRing + i * 16, 0xfffffffffffff000ull, 0, 0);  // buffers nowhere
    nic.core.write(RCTL, RCTL_EN | RCTL_UPE);
    std::vector<uint8_t> small(60, 0x66);
    CHECK(nic.core.receive(small));
    CHECK((nic.desc_word(kRxRing, 3) & RXD_STAT_DD));
    std::vector<uint8_t> runt(5, 0x76);
    CHECK(!nic.core.receive(runt));               // not even an Ethernet header
    nic.core.write(RDLEN, 64);                    // not a multiple of 128 bytes: no ring
    CHECK(!nic.core.receive(small));
}

// A clock the test moves, and the deadlines the core set its timer to.
struct ModeratedNic : Nic {
    uint64_t now = 1'000'000'000;
    std::vector<uint64_t> armed;
    ModeratedNic() {
        core.set_moderation_timer([this] { return now; }, [this](uint64_t deadline) { armed.push_back(deadline); });
    }
    // Time passes; the timer fires while it is set for now or before (as a
    // timerfd would), until the core sets no new deadline.
    void advance(uint64_t ns) {
        now += ns;
        for (size_t served = SIZE_MAX; !armed.empty() && armed.back() <= now && armed.size() != served;) {
            served = armed.size();
            core.moderation_timer_expired();
        }
    }
    std::vector<uint8_t> frame() {
        std::vector<uint8_t> f(100, 0x11);
        const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
        std::memcpy(f.data(), mac, 6);
        return f;
    }
    // Sends one legacy frame from descriptor `i` with `cmd` bits.
    void send(uint32_t i, uint32_t cmd) {
        std::vector<uint8_t> f(64, 0xab);
        REQUIRE(memory.write(kBuffers, f));
        put_desc(kTxRing + i * 16, kBuffers, 64 | TXD_CMD_EOP | TXD_CMD_IFCS | cmd, 0);
        core.write(TDT, i + 1);
    }
};

TEST_CASE("e1000: ITR gathers causes into one interrupt per window", "[e1000]") {
    ModeratedNic nic;
    nic.core.write(IMS, ICR_RXT0 | ICR_TXDW);
    nic.core.write(ITR, 100);                     // 25.6 us windows
    nic.core.write(ICS, ICR_RXT0);
    CHECK(nic.irq);
    REQUIRE(nic.armed == std::vector<uint64_t>{nic.now + 25600});
    CHECK(nic.core.read(ICR) == ICR_RXT0);
    CHECK(!nic.irq);
    nic.core.write(ICS, ICR_TXDW);                // inside the window: held back
    nic.core.write(ICS, ICR_RXT0);
    CHECK(!nic.irq);
    nic.advance(25599);
    CHECK(!nic.irq);
    nic.advance(1);                               // the window closes: one interrupt for both
    CHECK(nic.irq);
    CHECK(nic.armed.size() == 2);
    CHECK(nic.core.read(ICR) == (ICR_RXT0 | ICR_TXDW));
    nic.advance(25600);
    CHECK(!nic.irq);                              // nothing pending: the pin stays low
    nic.core.write(ITR, 0);                       // no moderation: at once, no timer
    nic.core.write(ICS, ICR_RXT0);
    CHECK(nic.irq);
    CHECK(nic.armed.size() == 2);
}

TEST_CASE("e1000: RDTR's packet timer restarts per frame, RADV's does not", "[e1000]") {
    ModeratedNic nic;
    nic.setup_rx(32, 31);
    nic.core.write(IMS, ICR_RXT0);
    nic.core.write(RDTR, 10);                     // 10.24 us after the last frame
    nic.core.write(RADV, 25);                     // 25.6 us after the first
    auto f = nic.frame();
    REQUIRE(nic.core.receive(f));
    CHECK(nic.core.read(RDH) == 1);               // the descriptor is used, its DD waits for RXT0
    CHECK(!(nic.desc_word(kRxRing, 3) & RXD_STAT_DD));
    CHECK(!nic.irq);
    nic.advance(8000);
    REQUIRE(nic.core.receive(f));                 // restarts the packet timer
    nic.advance(8000);
    CHECK(!nic.irq);                              // 16 us since the first frame
    REQUIRE(nic.core.receive(f));
    nic.advance(8000);
    REQUIRE(nic.core.receive(f));
    CHECK(!nic.irq);
    nic.advance(1600);                            // 25.6 us: the absolute timer runs out
    CHECK(nic.irq);
    for (uint32_t i = 0; i < 4; ++i) CHECK((nic.desc_word(kRxRing + i * 16, 3) & RXD_STAT_DD));
    CHECK(nic.core.read(ICR) == ICR_RXT0);
    nic.advance(20000);                           // both stopped: no second RXT0
    CHECK(nic.core.read(ICR) == 0);
    REQUIRE(nic.core.receive(f));                 // a quiet line: the packet timer ends it
    nic.advance(10240);
    CHECK(nic.core.read(ICR) == ICR_RXT0);
    nic.core.write(RDTR, 0);                      // RDTR 0: RXT0 per frame, at once
    nic.core.write(RDH, 0);
    nic.core.write(RDT, 31);
    REQUIRE(nic.core.receive(f));
    CHECK(nic.core.read(ICR) == ICR_RXT0);
}

TEST_CASE("e1000: a delay timer running out inside an ITR window is served when it closes", "[e1000]") {
    ModeratedNic nic;
    nic.setup_rx(32, 31);
    nic.core.write(IMS, ICR_RXT0);
    nic.core.write(ITR, 1000);                    // 256 us
    nic.core.write(RDTR, 10);
    nic.core.write(ICS, ICR_RXT0);                // an interrupt opens the window
    uint64_t window_end = nic.now + 256000;
    CHECK(nic.core.read(ICR) == ICR_RXT0);
    auto f = nic.frame();
    REQUIRE(nic.core.receive(f));
    CHECK(nic.armed.back() == window_end);        // not now + 10.24 us: no wake-up that could not raise the pin
    nic.advance(20000);
    CHECK(!nic.irq);
    nic.advance(236000);
    CHECK(nic.irq);
    CHECK(nic.core.read(ICR) == ICR_RXT0);
}

TEST_CASE("e1000: writing RDTR with FPD raises the pending RXT0 now", "[e1000]") {
    ModeratedNic nic;
    nic.setup_rx(32, 31);
    nic.core.write(IMS, ICR_RXT0);
    nic.core.write(RDTR, 0xffff | RDTR_FPD);      // nothing pending: nothing to flush
    CHECK(nic.core.read(ICR) == 0);
    CHECK(nic.core.read(RDTR) == 0xffff);         // FPD is not stored
    auto f = nic.frame();
    REQUIRE(nic.core.receive(f));
    CHECK(!nic.irq);
    CHECK(!(nic.desc_word(kRxRing, 3) & RXD_STAT_DD));
    nic.core.write(RDTR, 0xffff | RDTR_FPD);
    CHECK(nic.irq);
    CHECK((nic.desc_word(kRxRing, 3) & RXD_STAT_DD));   // flushed
    CHECK(nic.core.read(ICR) == ICR_RXT0);
    nic.advance(uint64_t(0xffff) * 1024);         // the flushed timer stays quiet
    CHECK(nic.core.read(ICR) == 0);
}

TEST_CASE("e1000: a guest rewinding RDH cannot grow the pending write-backs past the ring", "[e1000][malformed]") {
    ModeratedNic nic;
    nic.setup_rx(8, 7);
    nic.core.write(RDTR, 0xffff);
    auto f = nic.frame();
    for (int i = 0; i < 100; ++i) {
        REQUIRE(nic.core.receive(f));
        nic.core.write(RDH, 0);
        CHECK(nic.core.state().moderation.rx_write_backs.size() <= 8);
    }
    CHECK((nic.desc_word(kRxRing, 3) & RXD_STAT_DD));   // flushed on the way
}

TEST_CASE("e1000: TIDV and TADV delay TXDW of IDE descriptors; others raise it at once", "[e1000]") {
    ModeratedNic nic;
    nic.setup_tx(16);
    nic.core.write(IMS, ICR_TXDW);
    nic.core.write(TIDV, 8);                      // Linux's defaults: 8.192 us
    nic.core.write(TADV, 32);                     // and 32.768 us
    nic.send(0, TXD_CMD_RS | TXD_CMD_IDE);
    CHECK(nic.port.sent.size() == 1);
    CHECK((nic.desc_word(kTxRing, 3) & TXD_STAT_DD));
    CHECK(!nic.irq);
    for (uint32_t i = 1; i < 5; ++i) {            // a steady stream: TIDV keeps restarting
        nic.advance(8000);
        nic.send(i, TXD_CMD_RS | TXD_CMD_IDE);
        CHECK(!nic.irq);
    }
    nic.advance(768);                             // TADV: 32.768 us after the first
    CHECK(nic.irq);
    CHECK((nic.core.read(ICR) & ICR_TXDW));
    nic.send(5, TXD_CMD_RS | TXD_CMD_IDE);
    nic.advance(8192);                            // TIDV alone
    CHECK((nic.core.read(ICR) & ICR_TXDW));
    nic.send(6, TXD_CMD_RS | TXD_CMD_IDE);
    nic.send(7, TXD_CMD_RS);                      // no IDE: at once, and the delayed one is covered
    CHECK((nic.core.read(ICR) & ICR_TXDW));
    nic.advance(40000);
    CHECK(!(nic.core.read(ICR) & ICR_TXDW));      // timers stopped: no spurious second TXDW
    nic.core.write(TDH, 0);
    nic.core.write(TDT, 0);
    nic.send(0, TXD_CMD_IDE);                     // no RS: no write-back, no TXDW
    nic.advance(40000);
    CHECK(!(nic.core.read(ICR) & ICR_TXDW));
}

TEST_CASE("e1000: a due delay timer is served by the next register access, never an early one", "[e1000]") {
    ModeratedNic nic;
    nic.setup_tx(16);
    nic.core.write(IMS, ICR_TXDW);
    nic.core.write(TIDV, 8);
    nic.send(0, TXD_CMD_RS | TXD_CMD_IDE);
    nic.now += 8191;                              // the timer has not fired
    nic.core.serve_due_timers();
    CHECK(!nic.irq);
    nic.now += 1;
    nic.core.serve_due_timers();                  // as a vCPU's access does, before the timer's wake-up
    CHECK(nic.irq);
    nic.core.moderation_timer_expired();          // the late wake-up finds nothing more to do
    CHECK(nic.core.read(ICR) == (ICR_TXDW | ICR_TXQE));
}

TEST_CASE("e1000: mitigation=off ignores the delay registers, as QEMU's", "[e1000]") {
    GuestMemory memory = GuestMemory::create_flat(kRam);
    FakePort port;
    bool irq = false;
    E1000Core core{memory, &port, {MacAddress{{0x52, 0x54, 0, 0x12, 0x34, 0x56}}, true, true, false},
                   [&](bool level) { irq = level; }};
    std::vector<uint64_t> armed;
    core.set_moderation_timer([] { return uint64_t(1000); }, [&](uint64_t d) { armed.push_back(d); });
    core.write(IMS, ICR_RXT0);
    core.write(ITR, 1000);
    core.write(RDTR, 100);
    core.write(RADV, 100);
    core.write(ICS, ICR_RXT0);
    CHECK(irq);
    CHECK(core.read(ICR) == ICR_RXT0);
    core.write(ICS, ICR_RXT0);
    CHECK(irq);                                   // no ITR window either
    CHECK(armed.empty());
}

TEST_CASE("e1000: absurd moderation values never hang, loop or stall interrupts", "[e1000][malformed]") {
    for (uint32_t value : {0u, 1u, 0xffffu, 0xffffffffu}) {
        ModeratedNic nic;
        nic.setup_rx(8, 7);
        nic.setup_tx(8);
        nic.core.write(IMS, ICR_RXT0 | ICR_TXDW);
        for (uint32_t r : {ITR, RDTR, RADV, TIDV, TADV}) nic.core.write(r, value);
        for (uint32_t r : {ITR, RADV, TIDV, TADV}) CHECK(nic.core.read(r) == (value & 0xffff));
        auto f = nic.frame();
        REQUIRE(nic.core.receive(f));
        nic.send(0, TXD_CMD_RS | TXD_CMD_IDE);
        for (int i = 0; i < 5; ++i) nic.core.moderation_timer_expired();   // early, spurious: harmless
        for (uint64_t d : nic.armed) CHECK(d - nic.now <= uint64_t(0xffff) * 1024);   // at most 67 ms away
        nic.advance(uint64_t(0xffff) * 1024);     // the longest delay has passed: both causes are in
        CHECK((nic.core.read(ICR) & (ICR_RXT0 | ICR_TXDW)) == (ICR_RXT0 | ICR_TXDW));
        nic.advance(uint64_t(0xffff) * 256);      // and an ITR window cannot keep the pin low for ever
        nic.core.write(ICS, ICR_RXT0);
        nic.advance(uint64_t(0xffff) * 256);
        CHECK(nic.irq);
        CHECK(nic.armed.size() < 16);
        nic.core.write(CTRL, CTRL_RST);           // reset forgets the timers
        CHECK(nic.core.state().moderation.rx_packet == 0);
        CHECK(nic.core.state().moderation.itr_end == 0);
        nic.core.moderation_timer_expired();
        CHECK(!nic.irq);
    }
}
