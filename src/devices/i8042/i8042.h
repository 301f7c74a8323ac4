#pragma once
// The i8042 keyboard controller (PS/2 keyboard + mouse) at ports 0x60/0x64,
// including the CPU reset line (command 0xfe, output port bit 0).
//
// As a BusDevice its offsets are 0 = data (0x60) and 4 = status/command
// (0x64); 0x61-0x63 belong to others, so the lead maps two 1-byte windows:
//     pio.insert(I8042::kDataPort, 1, kbc);
//     pio.insert(I8042::kCommandPort, 1, std::make_shared<I8042CommandPort>(kbc));
//
// IRQ 1 (keyboard) and IRQ 12 (mouse) are levels that follow the output
// buffer: high while it holds a byte from that device and the command byte
// enables the interrupt. Every new byte is a fresh rising edge.
//
// Threads: vCPUs call read()/write(); a UI thread or the event loop calls
// put_keyboard_bytes()/put_mouse_event(). One mutex guards everything.
#include "devices/bus_device.h"
#include "devices/i8042/ps2_keyboard.h"
#include "devices/i8042/ps2_mouse.h"
#include "base/irq_line.h"
#include "base/machine_control.h"

#include <array>
#include <deque>
#include <memory>
#include <mutex>

namespace kestrel {

class I8042 final : public BusDevice {
public:
    static constexpr uint16_t kDataPort = 0x60;
    static constexpr uint16_t kCommandPort = 0x64;
    static constexpr uint64_t kDataOffset = 0;
    static constexpr uint64_t kCommandOffset = 4;
    static constexpr uint8_t kKeyboardIrq = 1;
    static constexpr uint8_t kMouseIrq = 12;

    I8042(IrqLine& keyboard_irq, IrqLine& mouse_irq, MachineControl& control);

    void read(uint64_t offset, std::span<uint8_t> data) override;
    void write(uint64_t offset, std::span<const uint8_t> data) override;
    void reset();
    // What SeaBIOS's keyboard set-up leaves, for a kernel booted without
    // firmware: the keyboard scanning in set 2 (as at reset) and the command
    // byte "keyboard interrupt, mouse port off, translation on" (0x61).
    void post_firmware_state();

    // Keyboard input for later UIs (VNC, monitor sendkey): scancode set 2
    // bytes as the keyboard would send them (make "1c", break "f0 1c", "e0"
    // prefixes). The controller translates them to set 1 when the guest has
    // translation on (command byte bit 6).
    void put_keyboard_bytes(std::span<const uint8_t> set2_bytes);
    // Mouse input: dx right, dy up, dz wheel, buttons Ps2Mouse::kLeft|kRight|kMiddle.
    void put_mouse_event(int dx, int dy, int dz, uint8_t buttons);

    uint8_t command_byte() const;
    // The scancode set the guest chose for the keyboard (1, 2 or 3).
    uint8_t keyboard_scancode_set() const;

private:
    struct ControllerByte {
        uint8_t value;
        bool aux;
    };

    uint8_t read_data();
    uint8_t read_status() const;
    void write_data(uint8_t value);
    void write_command(uint8_t cmd);
    void command_parameter(uint8_t cmd, uint8_t value);
    void write_output_port(uint8_t value);
    uint8_t output_port() const;
    void queue_controller(uint8_t value, bool aux = false);
    void refill_output();
    bool take_keyboard_byte(uint8_t& out);
    void update_irqs();
    void finish_access(std::unique_lock<std::mutex>& guard);

    IrqLine& keyboard_irq_;
    IrqLine& mouse_irq_;
    MachineControl& control_;
    mutable std::mutex lock_;

    Ps2Keyboard keyboard_;
    Ps2Mouse mouse_;
    std::deque<ControllerByte> controller_out_;  // answers to controller commands
    std::array<uint8_t, 32> ram_{};  // ram_[0] is the command byte
    uint8_t status_ = 0;             // SYS, CMD/DATA and keylock bits; OBFs come from below
    uint8_t output_port_ = 0;
    uint8_t pending_command_ = 0;    // a command waiting for its data byte, 0 if none
    uint8_t out_byte_ = 0;
    bool out_full_ = false;
    bool out_from_mouse_ = false;
    bool translate_break_ = false;   // translating: saw set 2's 0xf0 break prefix
    bool keyboard_irq_level_ = false;
    bool mouse_irq_level_ = false;
    bool reset_requested_ = false;
    bool logged_unknown_ = false;
};

// The 0x64 window onto an I8042 (its offset 4).
class I8042CommandPort final : public BusDevice {
public:
    explicit I8042CommandPort(std::shared_ptr<I8042> kbc) : kbc_(std::move(kbc)) {}
    void read(uint64_t offset, std::span<uint8_t> data) override {
        kbc_->read(offset + I8042::kCommandOffset, data);
    }
    void write(uint64_t offset, std::span<const uint8_t> data) override {
        kbc_->write(offset + I8042::kCommandOffset, data);
    }

private:
    std::shared_ptr<I8042> kbc_;
};

// Set 2 to set 1 as the 8042 translates (bytes from 0x80 up pass through,
// except 0x83, F7's code, which becomes 0x41).
uint8_t translate_set2_to_set1(uint8_t code);

} // namespace kestrel
