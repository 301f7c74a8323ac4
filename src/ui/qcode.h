#pragma once
// QEMU's key names (QAPI QKeyCode, in QEMU 7.2's order: sendkey,
// input-send-event and send-key use them) and each key's "qnum": its PC
// scancode set 1 make code, with 0x80 added for the 0xe0-prefixed keys.
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace kestrel {

struct QKeyCode {
    std::string_view name;
    uint16_t qnum;  // 0: no PC scancode
};

// Index = the QKeyCode value (0 is "unmapped").
std::span<const QKeyCode> qkeycodes();
std::optional<unsigned> qcode_by_name(std::string_view name);
// The key with this qnum, if any (sendkey's "0x1e" form, KeyValue number).
std::optional<unsigned> qcode_by_qnum(unsigned qnum);

namespace qcode {
// The ones code refers to by name.
constexpr unsigned SHIFT = 1, SHIFT_R = 2, ALT = 3, ALT_R = 4, CTRL = 5, CTRL_R = 6;
unsigned print();
unsigned pause();
} // namespace qcode

} // namespace kestrel
