#pragma once
// A 16550A UART: the PC's COM ports. Transmit is instant (bytes go to the
// chardev as the guest writes THR, so THR/TX FIFO are empty again at once);
// receive comes from the chardev through the CharFrontend interface into a
// 16-byte RX FIFO. The interrupt output is a level (high while IIR reports
// an interrupt). Like QEMU, MCR.OUT2 does not gate the IRQ: guests written
// for QEMU (xv6 and friends) leave OUT2 clear and still expect interrupts.
//
// Threads: vCPUs call read()/write(), the event loop calls can_receive()/
// receive()/send_break(); one mutex guards the state. The device writes to the
// chardev with its lock held (Chardev::write must not call back into the
// frontend) and calls Chardev::frontend_ready() without it.
#include "chardev/chardev.h"
#include "devices/bus_device.h"
#include "base/irq_line.h"

#include <array>
#include <cstdint>
#include <mutex>

namespace kestrel {

// Where the lead maps COM1..COM4 (8 ports each) and which ISA IRQ each uses.
struct ComPortResources {
    uint16_t base;
    uint8_t irq;
};
inline constexpr std::array<ComPortResources, 4> kComPorts{{
    {0x3f8, 4}, {0x2f8, 3}, {0x3e8, 4}, {0x2e8, 3}}};
inline constexpr uint64_t kSerialPortCount = 8;

class Serial16550 final : public BusDevice, public CharFrontend {
public:
    // chardev may be null: output is discarded and no input arrives, until
    // connect_chardev() gives one.
    Serial16550(Chardev* chardev, IrqLine& irq);
    // Before the guest runs: the chardev the port talks over from now on.
    void connect_chardev(Chardev& chardev);
    ~Serial16550() override;
    Serial16550(const Serial16550&) = delete;
    Serial16550& operator=(const Serial16550&) = delete;

    void read(uint64_t offset, std::span<uint8_t> data) override;
    void write(uint64_t offset, std::span<const uint8_t> data) override;

    size_t can_receive() override;
    void receive(std::span<const uint8_t> data) override;

    // A break condition on the line (e.g. the mux's "C-a b"): a zero byte
    // with LSR.BI, which Linux turns into SysRq.
    void send_break();
    void receive_break() override { send_break(); }

    // Power-on state (machine reset).
    void reset();

private:
    static constexpr size_t kFifoSize = 16;

    class RxFifo {
    public:
        void push(uint8_t v);  // caller checks size() first
        uint8_t pop();         // 0 when empty
        void clear() { head_ = count_ = 0; }
        size_t size() const { return count_; }
        bool empty() const { return count_ == 0; }

    private:
        std::array<uint8_t, kFifoSize> buf_{};
        size_t head_ = 0;
        size_t count_ = 0;
    };

    uint8_t read_register(unsigned reg);
    void write_register(unsigned reg, uint8_t value);
    uint8_t read_rbr();
    uint8_t read_iir();
    uint8_t read_lsr();
    uint8_t read_msr();
    void write_thr(uint8_t value);
    void write_ier(uint8_t value);
    void write_fcr(uint8_t value);
    void write_mcr(uint8_t value);

    void receive_byte(uint8_t value);
    void clear_rx();
    void note_rx_room();
    size_t rx_capacity() const;
    size_t rx_trigger_level() const;
    bool fifo_enabled() const;
    bool loopback() const;
    uint8_t modem_inputs() const;   // MSR bits 7:4 as the line shows them now
    void update_modem_inputs(uint8_t old_inputs);
    uint8_t pending_interrupt() const;  // IIR bits 3:0
    void update_irq();
    void unlock_and_notify(std::unique_lock<std::mutex>& guard);

    Chardev* chardev_;
    IrqLine& irq_;
    std::mutex lock_;

    uint8_t ier_ = 0, lcr_ = 0, mcr_ = 0, lsr_ = 0, msr_ = 0, scr_ = 0, fcr_ = 0;
    uint16_t divisor_ = 12;
    RxFifo rx_;
    bool thr_interrupt_ = false; // THRE interrupt pending (until IIR read/THR write)
    bool rx_blocked_ = false;    // told the backend there was no room
    bool notify_backend_ = false; // call frontend_ready() once unlocked
    bool irq_level_ = false;
    bool logged_bad_access_ = false;
};

} // namespace kestrel
