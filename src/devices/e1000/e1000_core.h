#pragma once
// The 82540EM's registers, EEPROM, PHY, interrupt causes and its transmit
// and receive rings, over guest memory and a NetPort. The PCI function
// (e1000_function.cpp) maps it and moves it between threads; this part has no
// threads of its own and is what the unit tests drive.
//
// Every guest-supplied address and length is checked: descriptors are read
// and written with GuestMemory's bounds checks, a transmit pass handles at
// most one ring's worth of descriptors, frames are capped at kMaxFrame, and
// ring registers are masked to the sizes the hardware has.
#include "devices/e1000/e1000_regs.h"
#include "net/mac_address.h"

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace kestrel {

class GuestMemory;
class NetPort;

// The transmit context a context descriptor loads (checksum and TSO).
struct E1000TxContext {
    uint8_t ipcss = 0, ipcso = 0, tucss = 0, tucso = 0, hdrlen = 0;
    uint16_t ipcse = 0, tucse = 0, mss = 0;
    uint32_t paylen = 0;
    bool tcp = false, ipv4 = false, tse = false;
};

// Interrupt moderation (8254x manual 3.2.7, 3.4.3 and the RDTR, RADV, ITR,
// TIDV and TADV registers): each timer is a deadline on the monotonic
// clock in ns, 0 while it is idle.
struct E1000Moderation {
    uint64_t rx_packet = 0;     // RDTR: restarted by every frame put in the ring
    uint64_t rx_absolute = 0;   // RADV: started by the first frame since the last RXT0
    uint64_t tx_packet = 0;     // TIDV: restarted by every write-back of an IDE descriptor
    uint64_t tx_absolute = 0;   // TADV: started by the first of those since the last TXDW
    uint64_t itr_end = 0;       // ITR: the window an interrupt opened, in which causes gather
    // Receive descriptors used while RDTR runs, their status written back
    // (DD) when RXT0 is raised, as the hardware flushes them.
    struct PendingWriteBack {
        uint64_t addr;
        std::array<uint8_t, 8> status;
    };
    std::vector<PendingWriteBack> rx_write_backs;
};

// Everything the guest can see, in one plain struct.
struct E1000State {
    std::array<uint32_t, e1000::kRegSpace / 4> regs{};
    std::array<uint16_t, e1000::kPhyRegs> phy{};
    std::array<uint16_t, e1000::kEepromWords> eeprom{};
    // Microwire: bits clocked in since chip select, and the read position.
    uint32_t eecd_latch = 0;      // SK, CS, DI, REQ as last written
    uint32_t mw_in = 0;
    unsigned mw_bits_in = 0;
    unsigned mw_bit_out = 0;
    bool mw_reading = false;
    uint32_t ioaddr = 0;          // BAR 1's IOADDR
    E1000TxContext tx_ctx;
    // The packet being gathered from data descriptors (options of its first).
    bool tx_in_packet = false;
    uint8_t tx_popts = 0;
    bool tx_tse = false, tx_vle = false;
    uint16_t tx_vlan = 0;
    E1000Moderation moderation;
};

class E1000Core {
public:
    static constexpr size_t kMaxFrame = 65536 + 256;   // a TSO packet with its headers

    struct Options {
        MacAddress mac;
        bool autonegotiation = true;
        bool init_vet = true;
        bool mitigation = true;   // off: RDTR, RADV, TIDV, TADV and ITR are stored but not applied
        // The port carries a virtio_net_hdr in front of every frame both
        // ways (a tap): a TCP/IPv4 TSO packet goes whole, for the host's
        // kernel to segment (or to deliver as one if it stays on the host).
        bool vnet_hdr = false;
    };
    // `irq` drives the INTx pin; `port` may be null (no backend).
    E1000Core(const GuestMemory& memory, NetPort* port, Options options, std::function<void(bool)> irq);

    // Interrupt moderation needs a clock (`now`, monotonic ns) and a
    // one-shot timer: `arm` sets it to fire at a deadline on that clock (an
    // earlier one replaces a later one); its owner calls
    // moderation_timer_expired() when it fires, early or late. Without
    // them the delay registers are stored and interrupts raised at once.
    void set_moderation_timer(std::function<uint64_t()> now, std::function<void(uint64_t deadline)> arm) {
        now_ = std::move(now);
        arm_timer_ = std::move(arm);
    }
    void moderation_timer_expired();
    // Raises the moderated causes whose time has come (register accesses
    // call it, so a busy guest need not wait for the timer's wake-up).
    void serve_due_timers();

    // Power-on and software reset (CTRL.RST).
    void reset();

    // 32-bit register access at a BAR 0 offset (other widths are the
    // caller's: see e1000_function.cpp).
    uint32_t read(uint32_t offset);
    void write(uint32_t offset, uint32_t value);
    // A register's stored value, without a read's side effects (for
    // partial writes).
    uint32_t peek(uint32_t offset) const {
        offset &= (e1000::kMmioSize - 1) & ~3u;
        return offset < e1000::kRegSpace ? reg(offset) : 0;
    }
    uint32_t io_peek(uint32_t offset) const { return offset == 0 ? s_.ioaddr : offset == 4 ? peek(s_.ioaddr) : 0; }
    // BAR 1: IOADDR (offset 0) selects, IODATA (offset 4) accesses.
    uint32_t io_read(uint32_t offset);
    void io_write(uint32_t offset, uint32_t value);

    // Link as the backend and set_link see it (carrier); raises LSC.
    void set_link(bool up);
    bool link_up() const;

    // Receive: whether a frame of `len` bytes fits the posted buffers now,
    // and delivering one (false: dropped by the filters or RX disabled).
    bool rx_enabled() const;
    bool rx_has_room(size_t len) const;
    bool receive(std::span<const uint8_t> frame);
    // Whether the address and VLAN filters let `frame` in.
    bool rx_would_accept(std::span<const uint8_t> frame) const { return accepts(frame); }
    // The backend went away: frames sent from now on are dropped.
    void set_port(NetPort* port) { port_ = port; }
    // The receive tail, for an owner that takes the guest's RDT writes
    // without its lock and hands them over before it receives.
    uint32_t rx_tail() const { return reg(e1000::RDT); }
    void set_rx_tail(uint32_t value) { reg(e1000::RDT) = value & 0xffff; }

    const E1000State& state() const { return s_; }
    struct Counters {
        uint64_t tx_frames = 0, tx_dropped = 0, rx_frames = 0, rx_filtered = 0;
    };
    const Counters& counters() const { return counters_; }

private:
    uint32_t& reg(uint32_t offset) { return s_.regs[offset / 4]; }
    // A 64-bit statistic kept in a low/high register pair.
    void add_stat64(uint32_t low, uint64_t value);
    uint32_t reg(uint32_t offset) const { return s_.regs[offset / 4]; }

    void init_eeprom();
    void init_phy();
    void write_eecd(uint32_t value);
    uint32_t read_eecd() const;
    void write_eerd(uint32_t value);
    void write_mdic(uint32_t value);
    void write_phy(unsigned reg, uint16_t value);
    void link_changed(bool was_up);
    void autoneg_done();

    void set_cause(uint32_t cause);
    void update_irq();
    uint32_t read_clear_icr();

    // Interrupt moderation (e1000_moderation.cpp).
    bool moderating() const { return options_.mitigation && arm_timer_ && now_; }
    void write_back_rx(uint64_t addr, const std::array<uint8_t, 8>& status);
    void flush_rx_write_backs();
    bool start_delay(uint64_t& packet, uint64_t& absolute, uint32_t packet_reg, uint32_t absolute_reg);
    void rx_frame_done();
    void rx_timer_interrupt();
    void tx_written_back(bool delayed);
    void tx_timer_interrupt();
    void write_rdtr(uint32_t value);
    bool itr_holds(bool level);
    void rearm();

    // Transmit (e1000_tx.cpp).
    void transmit();
    // What a descriptor's write-back asks for.
    enum class TxReport { None, Now, Delayed };
    TxReport process_tx_descriptor(uint64_t addr);
    void load_context(const uint8_t* desc);
    bool gather(uint64_t addr, uint32_t len);
    void finish_packet();
    void finish_legacy(uint8_t css, uint8_t cso, bool insert_checksum);
    void send_frame(std::span<uint8_t> frame, bool csum_ip, bool csum_l4);
    void send_tso(std::span<uint8_t> packet);
    bool send_gso(std::span<uint8_t> packet);
    void emit(std::span<const uint8_t> frame);
    void count_tx(std::span<const uint8_t> frame) { count_tx(frame.data(), frame.size()); }
    void count_tx(const uint8_t* dst_mac, size_t size);

    // Receive (e1000_rx.cpp).
    bool accepts(std::span<const uint8_t> frame) const;
    size_t rx_buffer_size() const;
    uint32_t rx_ring_size() const;
    void count_rx(std::span<const uint8_t> frame);

    const GuestMemory& memory_;
    NetPort* port_;
    Options options_;
    std::function<void(bool)> irq_;
    std::function<uint64_t()> now_;
    std::function<void(uint64_t)> arm_timer_;
    uint64_t armed_ = 0;               // the deadline the timer is set to (0: none)
    E1000State s_;
    Counters counters_;
    bool irq_level_ = false;
    bool carrier_ = true;             // the backend's link (set_link)
    bool tx_bad_ = false;             // the current packet lost data: dropped at its end
    std::vector<uint8_t> tx_packet_;   // data gathered for the current packet
    std::vector<uint8_t> tx_scratch_;  // one segment of a TSO packet
};

} // namespace kestrel
