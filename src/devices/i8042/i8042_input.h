#pragma once
// The i8042's keyboard and mouse as the UI's input handlers: a key becomes
// the scancodes of the keyboard's current set (QEMU's ps2 rules for
// Print Screen and Pause); buttons, moves and the wheel become one PS/2
// mouse packet per report.
#include "devices/i8042/i8042.h"
#include "ui/input.h"

#include <memory>
#include <vector>

namespace kestrel {

// A key's make or break bytes in scancode set 1 or 2 (set 3 falls back to
// set 2, which Linux and Windows never change to); empty for a key without
// a PC scancode.
std::vector<uint8_t> ps2_scancodes(unsigned qcode, bool down, uint8_t set);
// Scancode set 1 to set 2 (the inverse of the 8042's translation).
uint8_t translate_set1_to_set2(uint8_t code);

class Ps2KeyboardInput final : public InputHandler {
public:
    explicit Ps2KeyboardInput(std::shared_ptr<I8042> kbc) : kbc_(std::move(kbc)) {}
    void input_event(const InputEvent& event) override;

private:
    std::shared_ptr<I8042> kbc_;
};

class Ps2MouseInput final : public InputHandler {
public:
    explicit Ps2MouseInput(std::shared_ptr<I8042> kbc) : kbc_(std::move(kbc)) {}
    void input_event(const InputEvent& event) override;
    void input_sync() override;

private:
    std::shared_ptr<I8042> kbc_;
    int dx_ = 0, dy_ = 0, dz_ = 0;
    uint8_t buttons_ = 0;
    bool pending_ = false;
};

} // namespace kestrel
