#pragma once
// What the HMP and QMP input commands share: key names and numbers as
// QEMU reads them, send-key's press-hold-release sequence, and events
// sent through the machine's InputService.
#include "monitor/vm_control.h"
#include "ui/input.h"

#include <string_view>
#include <vector>

namespace kestrel {

// One key of sendkey/send-key: a QKeyCode name, or a number (qnum) as
// "0x1e". Throws MonitorError("invalid parameter: NAME").
unsigned key_from_text(std::string_view text);
// A key number (KeyValue "number"): its QKeyCode; 0 for none.
unsigned key_from_number(int64_t number);

// Presses `keys` in order, releases them in reverse, each step `hold_ms`
// after the previous one (QEMU's send-key). Returns at once.
void send_keys(VmControl& vm, const std::vector<unsigned>& keys, int hold_ms);
// Sends events now (input-send-event, mouse_move). Throws MonitorError
// when the machine has no input devices.
void send_input(VmControl& vm, const std::vector<InputEvent>& events);
InputService& input_service(VmControl& vm);

} // namespace kestrel
