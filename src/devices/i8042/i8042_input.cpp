#include "devices/i8042/i8042_input.h"

#include "ui/qcode.h"

#include <array>

namespace kestrel {

uint8_t translate_set1_to_set2(uint8_t code) {
    static const std::array<uint8_t, 128> table = [] {
        std::array<uint8_t, 128> t{};
        for (unsigned c = 0; c < 0x80; ++c) {
            uint8_t one = translate_set2_to_set1(uint8_t(c));
            if (one < 0x80 && t[one] == 0) t[one] = uint8_t(c);
        }
        t[0x41] = 0x83;  // F7 (set 2's only code above 0x7f)
        return t;
    }();
    return code < 0x80 ? table[code] : 0;
}

namespace {

std::vector<uint8_t> set1(unsigned qcode, bool down) {
    if (qcode == qcode::pause())  // make only: E1 1D 45 E1 9D C5
        return down ? std::vector<uint8_t>{0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5} : std::vector<uint8_t>{};
    if (qcode == qcode::print())
        return down ? std::vector<uint8_t>{0xe0, 0x2a, 0xe0, 0x37} : std::vector<uint8_t>{0xe0, 0xb7, 0xe0, 0xaa};
    unsigned qnum = qkeycodes()[qcode].qnum;
    if (qnum == 0) return {};
    std::vector<uint8_t> out;
    if (qnum & 0x80) out.push_back(0xe0);
    out.push_back(uint8_t((qnum & 0x7f) | (down ? 0 : 0x80)));
    return out;
}

std::vector<uint8_t> set2(unsigned qcode, bool down) {
    if (qcode == qcode::pause())
        return down ? std::vector<uint8_t>{0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77} : std::vector<uint8_t>{};
    if (qcode == qcode::print())
        return down ? std::vector<uint8_t>{0xe0, 0x12, 0xe0, 0x7c} : std::vector<uint8_t>{0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12};
    unsigned qnum = qkeycodes()[qcode].qnum;
    uint8_t code = translate_set1_to_set2(uint8_t(qnum & 0x7f));
    if (qnum == 0 || code == 0) return {};
    std::vector<uint8_t> out;
    if (qnum & 0x80) out.push_back(0xe0);
    if (!down) out.push_back(0xf0);
    out.push_back(code);
    return out;
}

} // namespace

std::vector<uint8_t> ps2_scancodes(unsigned qcode, bool down, uint8_t set) {
    if (qcode == 0 || qcode >= qkeycodes().size()) return {};
    return set == 1 ? set1(qcode, down) : set2(qcode, down);
}

void Ps2KeyboardInput::input_event(const InputEvent& event) {
    if (event.kind != InputEvent::Kind::Key) return;
    std::vector<uint8_t> bytes = ps2_scancodes(event.qcode, event.down, kbc_->keyboard_scancode_set());
    if (!bytes.empty()) kbc_->put_keyboard_bytes(bytes);
}

// Screen coordinates (y down) to PS/2's (y up); wheel up is -1, as QEMU's.
void Ps2MouseInput::input_event(const InputEvent& event) {
    switch (event.kind) {
    case InputEvent::Kind::Rel:
        if (event.axis == InputAxis::X)
            dx_ += int(event.value);
        else
            dy_ -= int(event.value);
        break;
    case InputEvent::Kind::Button: {
        uint8_t bit = event.button == InputButton::Left     ? Ps2Mouse::kLeft
                      : event.button == InputButton::Right  ? Ps2Mouse::kRight
                      : event.button == InputButton::Middle ? Ps2Mouse::kMiddle
                                                            : 0;
        if (bit) buttons_ = event.down ? uint8_t(buttons_ | bit) : uint8_t(buttons_ & ~bit);
        if (event.down && event.button == InputButton::WheelUp) --dz_;
        if (event.down && event.button == InputButton::WheelDown) ++dz_;
        break;
    }
    default: return;
    }
    pending_ = true;
}

void Ps2MouseInput::input_sync() {
    if (!pending_) return;
    kbc_->put_mouse_event(dx_, dy_, dz_, buttons_);
    dx_ = dy_ = dz_ = 0;
    pending_ = false;
}

} // namespace kestrel
