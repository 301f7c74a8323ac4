#pragma once
// A UHCI host controller (Intel's, as in the PIIX3): its I/O registers and
// the frame list the guest builds in its memory, walked frame by frame on
// a thread of its own. Transfer descriptors go to the devices on its two
// root ports. Guest memory is read and written only through GuestMemory's
// checked accessors; a descriptor outside RAM halts the controller with a
// host system error, and a schedule that loops is cut off per frame.
#include "base/event_loop.h"
#include "devices/bus_device.h"
#include "devices/usb/usb_bus.h"
#include "kvm/guest_memory.h"

#include <array>
#include <chrono>
#include <functional>
#include <mutex>

namespace kestrel {

struct UhciState {
    uint16_t cmd = 0;
    uint16_t status = 0;
    uint16_t intr = 0;
    uint16_t frnum = 0;
    uint32_t frame_list = 0;
    uint8_t sof_timing = 64;
    std::array<uint16_t, 2> ports{};
    uint8_t pending = 0;  // interrupt causes of the last frames: 1 IOC, 2 short packet
};

class Uhci final : public BusDevice, public UsbController {
public:
    static constexpr uint64_t kRegisterBytes = 0x20;
    // USBCMD, USBSTS, USBINTR and PORTSC bits.
    static constexpr uint16_t CMD_RS = 1, CMD_HCRESET = 2, CMD_GRESET = 4, CMD_EGSM = 8, CMD_FGR = 0x10;
    static constexpr uint16_t STS_USBINT = 1, STS_USBERR = 2, STS_RD = 4, STS_HSERR = 8, STS_HCPERR = 0x10;
    static constexpr uint16_t STS_HALTED = 0x20;
    static constexpr uint16_t INTR_TIMEOUT = 1, INTR_RESUME = 2, INTR_IOC = 4, INTR_SPD = 8;
    static constexpr uint16_t PORT_CCS = 1, PORT_CSC = 2, PORT_EN = 4, PORT_ENC = 8, PORT_RD = 0x40;
    static constexpr uint16_t PORT_ALWAYS = 0x80, PORT_LSDA = 0x100, PORT_RESET = 0x200, PORT_SUSPEND = 0x1000;

    // `irq`: the INTx level. `loop`: where frames are processed.
    Uhci(const GuestMemory& memory, std::function<void(bool)> irq, EventLoop& loop, unsigned max_frames);
    ~Uhci() override;

    void read(uint64_t offset, std::span<uint8_t> data) override;
    void write(uint64_t offset, std::span<const uint8_t> data) override;
    void reset();

    // UsbController
    unsigned port_count() const override { return 2; }
    UsbDevice* device_at(unsigned port) const override;
    void attach(unsigned port, UsbDevice& device) override;
    void detach(unsigned port) override;

    // Processes `frames` frames now (the timer does this; tests call it).
    void run_frames(unsigned frames);
    UhciState state() const;

private:
    uint16_t read_register(uint64_t offset);
    void write_register(uint64_t offset, uint16_t value, unsigned size);
    void write_port(unsigned port, uint16_t value);
    void write_command(uint16_t value);
    void reset_locked();
    void update_irq();
    void process_frame();
    enum class TdResult { Next, NextQh, Halt };
    TdResult execute_td(uint32_t addr, uint32_t& ctrl, uint32_t token, uint32_t buffer);
    UsbDevice* find_device(uint8_t address) const;
    void host_error();
    void schedule_timer();
    void on_timer();

    const GuestMemory& memory_;
    std::function<void(bool)> irq_;
    EventLoop& loop_;
    unsigned max_frames_;
    mutable std::mutex lock_;
    UhciState s_;
    std::array<UsbDevice*, 2> devices_{};
    bool irq_level_ = false;
    int timer_fd_ = -1;
    bool timer_armed_ = false;
    std::chrono::steady_clock::time_point last_frame_;
    unsigned idle_frames_ = 0;  // frames since a descriptor completed
};

} // namespace kestrel
