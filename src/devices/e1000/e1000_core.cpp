// The 82540EM's registers: reset values, the Microwire EEPROM and EERD,
// the PHY behind MDIC with auto-negotiation, link changes and the
// interrupt cause registers (their moderation: e1000_moderation.cpp).
#include "devices/e1000/e1000_core.h"

namespace kestrel {

using namespace e1000;

namespace {

// The 82540EM's EEPROM image (8254x manual, "EEPROM Address Map"): the MAC
// address goes into words 0-2, the checksum into word 0x3f.
constexpr std::array<uint16_t, kEepromWords> kEepromTemplate = {
    0x0000, 0x0000, 0x0000, 0x0000, 0xffff, 0x0000, 0x0000, 0x0000,
    0x3000, 0x1000, 0x6403, kDeviceId, 0x8086, kDeviceId, 0x8086, 0x3040,
    0x0008, 0x2000, 0x7e14, 0x0048, 0x1000, 0x00d8, 0x0000, 0x2700,
    0x6cc9, 0x3150, 0x0722, 0x040b, 0x0984, 0x0000, 0xc000, 0x0706,
    0x1008, 0x0000, 0x0f04, 0x7fff, 0x4d01, 0xffff, 0xffff, 0xffff,
    0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff,
    0x0100, 0x4000, 0x121c, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff,
    0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0x0000,
};

constexpr uint16_t kMicrowireRead = 0x6;   // start bit and opcode 10

bool is_stat(uint32_t offset) { return offset >= STATS_FIRST && offset <= STATS_LAST; }

} // namespace

E1000Core::E1000Core(const GuestMemory& memory, NetPort* port, Options options, std::function<void(bool)> irq)
    : memory_(memory), port_(port), options_(options), irq_(std::move(irq)) {
    init_eeprom();
    reset();
}

void E1000Core::init_eeprom() {
    s_.eeprom = kEepromTemplate;
    const auto& m = options_.mac.bytes;
    for (unsigned i = 0; i < 3; ++i) s_.eeprom[i] = uint16_t(m[2 * i] | m[2 * i + 1] << 8);
    uint16_t sum = 0;
    for (unsigned i = 0; i + 1 < kEepromWords; ++i) sum = uint16_t(sum + s_.eeprom[i]);
    s_.eeprom[kEepromWords - 1] = uint16_t(kEepromChecksum - sum);
}

void E1000Core::init_phy() {
    s_.phy = {};
    s_.phy[PHY_CTRL] = 0x1140;            // auto-negotiation on, 1000 Mb/s full duplex
    s_.phy[PHY_STATUS] = 0x794d;          // abilities; no link yet
    s_.phy[PHY_ID1] = 0x0141;             // Marvell 88E1011
    s_.phy[PHY_ID2] = 0x0c20;
    s_.phy[PHY_AUTONEG_ADV] = 0x0de1;
    s_.phy[PHY_LP_ABILITY] = 0x01e0;
    s_.phy[PHY_AUTONEG_EXP] = 0x0001;
    s_.phy[PHY_NEXT_PAGE_TX] = 0x2001;
    s_.phy[PHY_1000T_CTRL] = 0x0e00;
    s_.phy[PHY_1000T_STATUS] = 0x3c00;
    s_.phy[PHY_EXT_STATUS] = 0x3000;
    s_.phy[M88_PHY_SPEC_CTRL] = 0x0360;
    s_.phy[M88_PHY_SPEC_STATUS] = 0xac00;
    s_.phy[M88_EXT_PHY_SPEC_CTRL] = 0x0d60;
    s_.phy[M88_LED_CTRL] = 0x4100;
}

void E1000Core::reset() {
    bool up = link_up();
    std::array<uint16_t, kEepromWords> eeprom = s_.eeprom;
    s_ = E1000State{};
    s_.eeprom = eeprom;
    init_phy();
    reg(CTRL) = CTRL_SLU | (1u << 9);     // link up, 1000 Mb/s
    reg(STATUS) = STATUS_FD | STATUS_SPEED_1000 | (3u << 8);
    reg(PBA) = 0x00100030;
    reg(LEDCTL) = 0x07068302;
    reg(TXCW) = 0x000001a0;
    if (options_.init_vet) reg(VET) = 0x8100;
    const auto& m = options_.mac.bytes;
    reg(RA) = uint32_t(m[0] | m[1] << 8 | m[2] << 16 | uint32_t(m[3]) << 24);
    reg(RA + 4) = uint32_t(m[4] | m[5] << 8) | RAH_AV;
    tx_packet_.clear();
    if (up) {
        s_.phy[PHY_STATUS] |= MII_SR_LINK_STATUS | MII_SR_AUTONEG_COMPLETE;
        s_.phy[PHY_LP_ABILITY] |= NWAY_LPAR_LINK_UP;
        reg(STATUS) |= STATUS_LU;
    }
    carrier_ = up;
    if (irq_level_) {
        irq_level_ = false;
        irq_(false);
    }
}

bool E1000Core::link_up() const { return carrier_; }

// --- Registers ---

uint32_t E1000Core::read(uint32_t offset) {
    offset &= (kMmioSize - 1) & ~3u;
    if (offset >= kRegSpace) return 0;
    switch (offset) {
    case ICR: return read_clear_icr();
    case EECD: return read_eecd();
    case IMC: case ICS: return 0;
    default: break;
    }
    if (is_stat(offset)) {
        uint32_t v = reg(offset);
        reg(offset) = 0;
        return v;
    }
    return reg(offset);
}

void E1000Core::write(uint32_t offset, uint32_t value) {
    offset &= (kMmioSize - 1) & ~3u;
    if (offset >= kRegSpace) return;
    switch (offset) {
    case CTRL:
        if (value & CTRL_RST) {
            reset();
            return;
        }
        reg(CTRL) = value & ~(CTRL_RST | CTRL_PHY_RST);
        return;
    case STATUS: return;
    case EECD: write_eecd(value); return;
    case EERD: write_eerd(value); return;
    case MDIC: write_mdic(value); return;
    case ICR: reg(ICR) &= ~value; update_irq(); return;
    case ICS: set_cause(value); return;
    case IMS: reg(IMS) |= value; update_irq(); return;
    case IMC: reg(IMS) &= ~value; update_irq(); return;
    case RDBAL: case TDBAL: reg(offset) = value & ~0xfu; return;
    case RDLEN: case TDLEN: reg(offset) = value & 0xfff80; return;
    case RDH: case TDH: reg(offset) = value & 0xffff; return;
    case RDTR: write_rdtr(value); return;
    case RADV: case TIDV: case TADV: case ITR: reg(offset) = value & 0xffff; return;
    case RDT: set_rx_tail(value); return;
    case TDT:
        reg(TDT) = value & 0xffff;
        transmit();
        return;
    case TCTL:
        reg(TCTL) = value;
        transmit();
        return;
    default: break;
    }
    if (is_stat(offset)) return;
    reg(offset) = value;
}

uint32_t E1000Core::io_read(uint32_t offset) {
    if (offset == 0) return s_.ioaddr;
    if (offset == 4) return read(s_.ioaddr);
    return 0;
}

void E1000Core::io_write(uint32_t offset, uint32_t value) {
    if (offset == 0) s_.ioaddr = value & (kMmioSize - 1) & ~3u;
    else if (offset == 4) write(s_.ioaddr, value);
}

void E1000Core::add_stat64(uint32_t low, uint64_t value) {
    uint64_t total = (uint64_t(reg(low + 4)) << 32 | reg(low)) + value;
    reg(low) = uint32_t(total);
    reg(low + 4) = uint32_t(total >> 32);
}

// --- EEPROM: Microwire, clocked by the driver through EECD, and EERD ---

void E1000Core::write_eecd(uint32_t value) {
    uint32_t old = s_.eecd_latch;
    s_.eecd_latch = value & (EECD_SK | EECD_CS | EECD_DI | EECD_REQ);
    if (!(value & EECD_CS)) return;
    if ((value ^ old) & EECD_CS) {  // chip select: a new command
        s_.mw_in = 0;
        s_.mw_bits_in = 0;
        s_.mw_bit_out = 0;
        s_.mw_reading = false;
    }
    if (!((value ^ old) & EECD_SK)) return;
    if (!(value & EECD_SK)) {  // falling clock: the next data bit
        if (s_.mw_reading) s_.mw_bit_out = (s_.mw_bit_out + 1) & 0xffff;
        return;
    }
    s_.mw_in = (s_.mw_in << 1) | ((value & EECD_DI) ? 1 : 0);
    if (++s_.mw_bits_in == 9 && !s_.mw_reading) {
        // start bit, 2-bit opcode, 6-bit word address; the first data bit
        // follows the next falling clock.
        s_.mw_reading = ((s_.mw_in >> 6) & 7) == kMicrowireRead;
        s_.mw_bit_out = ((s_.mw_in & 0x3f) * 16 - 1) & 0xffff;
    }
}

uint32_t E1000Core::read_eecd() const {
    uint32_t v = EECD_PRES | EECD_GNT | s_.eecd_latch;
    if (!s_.mw_reading) return v | EECD_DO;
    unsigned word = (s_.mw_bit_out >> 4) & 0x3f, bit = 15 - (s_.mw_bit_out & 15);
    return (s_.eeprom[word] >> bit) & 1 ? v | EECD_DO : v;
}

void E1000Core::write_eerd(uint32_t value) {
    if (!(value & EERD_START)) {
        reg(EERD) = value;
        return;
    }
    uint32_t addr = (value >> 8) & 0xff;
    uint32_t data = addr < kEepromWords ? s_.eeprom[addr] : 0;
    reg(EERD) = EERD_DONE | addr << 8 | data << 16;
}

// --- PHY ---

void E1000Core::write_mdic(uint32_t value) {
    unsigned phy_addr = (value >> 21) & 0x1f, r = (value >> 16) & 0x1f;
    uint32_t op = value & (3u << 26);
    if (phy_addr != 1) {
        value |= MDIC_ERROR;
    } else if (op == MDIC_OP_READ) {
        value = (value & ~0xffffu) | s_.phy[r];
    } else if (op == MDIC_OP_WRITE) {
        write_phy(r, uint16_t(value));
    }
    reg(MDIC) = value | MDIC_READY;
    if (value & MDIC_INT_EN) set_cause(ICR_MDAC);
}

void E1000Core::write_phy(unsigned r, uint16_t value) {
    switch (r) {
    case PHY_STATUS: case PHY_ID1: case PHY_ID2: case PHY_LP_ABILITY: case PHY_AUTONEG_EXP:
    case PHY_1000T_STATUS: case PHY_EXT_STATUS: case M88_PHY_SPEC_STATUS:
        return;  // read-only
    case PHY_CTRL:
        s_.phy[PHY_CTRL] = value & ~(MII_CR_RESET | MII_CR_RESTART_AUTO_NEG);
        if ((value & MII_CR_AUTO_NEG_EN) && (value & MII_CR_RESTART_AUTO_NEG) && options_.autonegotiation) {
            // The partner answers at once: the link (if any) comes back negotiated.
            bool was_up = reg(STATUS) & STATUS_LU;
            s_.phy[PHY_STATUS] &= uint16_t(~(MII_SR_LINK_STATUS | MII_SR_AUTONEG_COMPLETE));
            reg(STATUS) &= ~STATUS_LU;
            if (carrier_) autoneg_done();
            link_changed(was_up);
        }
        return;
    default:
        s_.phy[r] = value;
    }
}

void E1000Core::autoneg_done() {
    s_.phy[PHY_STATUS] |= MII_SR_LINK_STATUS | MII_SR_AUTONEG_COMPLETE;
    s_.phy[PHY_LP_ABILITY] |= NWAY_LPAR_LINK_UP;
    reg(STATUS) |= STATUS_LU;
}

void E1000Core::set_link(bool up) {
    bool was_up = reg(STATUS) & STATUS_LU;
    carrier_ = up;
    if (!up) {
        reg(STATUS) &= ~STATUS_LU;
        s_.phy[PHY_STATUS] &= uint16_t(~(MII_SR_LINK_STATUS | MII_SR_AUTONEG_COMPLETE));
        s_.phy[PHY_LP_ABILITY] &= uint16_t(~NWAY_LPAR_LINK_UP);
    } else if (options_.autonegotiation && (s_.phy[PHY_CTRL] & MII_CR_AUTO_NEG_EN)) {
        autoneg_done();
    } else {
        s_.phy[PHY_STATUS] |= MII_SR_LINK_STATUS;
        reg(STATUS) |= STATUS_LU;
    }
    link_changed(was_up);
}

void E1000Core::link_changed(bool was_up) {
    if (bool(reg(STATUS) & STATUS_LU) != was_up) set_cause(ICR_LSC);
}

// --- Interrupts ---

void E1000Core::set_cause(uint32_t cause) {
    reg(ICR) |= cause;
    update_irq();
}

void E1000Core::update_irq() {
    bool level = (reg(ICR) & reg(IMS)) != 0;
    if (level == irq_level_ || itr_holds(level)) return;
    irq_level_ = level;
    irq_(level);
    uint64_t window_ns = uint64_t(reg(ITR) & 0xffff) * 256;
    if (level && window_ns && moderating()) {
        s_.moderation.itr_end = now_() + window_ns;
        rearm();
    }
}

uint32_t E1000Core::read_clear_icr() {
    uint32_t v = reg(ICR);
    reg(ICR) = 0;
    update_irq();
    return v;
}

} // namespace kestrel
