#include "monitor/input_control.h"

#include "ui/key_queue.h"
#include "ui/qcode.h"

#include <charconv>

namespace kestrel {

unsigned key_from_number(int64_t number) {
    if (number <= 0 || number > 0xff) return 0;
    return qcode_by_qnum(unsigned(number)).value_or(0);
}

unsigned key_from_text(std::string_view text) {
    if (text.starts_with("0x") || text.starts_with("0X")) {
        unsigned v = 0;
        auto [end, ec] = std::from_chars(text.data() + 2, text.data() + text.size(), v, 16);
        if (ec == std::errc() && end == text.data() + text.size()) {
            if (unsigned q = key_from_number(v)) return q;
        }
    } else if (auto q = qcode_by_name(text); q && *q != 0) {
        return *q;
    } else if (text == "<") {
        return *qcode_by_name("less");
    }
    throw MonitorError("invalid parameter: " + std::string(text));
}

InputService& input_service(VmControl& vm) {
    auto* input = vm.services().find<InputService>();
    if (!input) throw MonitorError("the machine has no input devices");
    return *input;
}

void send_keys(VmControl& vm, const std::vector<unsigned>& keys, int hold_ms) {
    auto* queue = vm.services().find<KeyQueue>();
    if (!queue) throw MonitorError("the machine has no input devices");
    for (unsigned key : keys) queue->push(InputEvent::key(key, true), hold_ms);
    for (auto it = keys.rbegin(); it != keys.rend(); ++it) queue->push(InputEvent::key(*it, false), hold_ms);
}

void send_input(VmControl& vm, const std::vector<InputEvent>& events) { input_service(vm).send(events); }

} // namespace kestrel
