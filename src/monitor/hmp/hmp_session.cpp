#include "monitor/hmp/hmp_session.h"

#include "monitor/hmp/hmp_command.h"

namespace kestrel {

HmpSession::HmpSession(Chardev& chardev, HmpServices& services)
    : chardev_(chardev), services_(services), readline_(state_.history, "(qemu) ", complete_hmp_command) {
    chardev_.attach(this);
}

HmpSession::~HmpSession() { chardev_.attach(nullptr); }

size_t HmpSession::can_receive() { return suspended_ ? 0 : 4096; }

void HmpSession::receive(std::span<const uint8_t> data) {
    std::string out;
    for (uint8_t byte : data) {
        if (suspended_) break;
        auto line = readline_.feed(byte, out);
        if (!line) continue;
        HmpContext ctx{services_, state_, {}};
        suspended_ = !run_hmp_line(ctx, *line);
        out += ctx.out;
        if (!suspended_) readline_.show_prompt(out);
        write(out);
        out.clear();
    }
    write(out);
}

void HmpSession::opened() {
    std::string out = "QEMU " + services_.qemu_version + " monitor - type 'help' for more information\n";
    if (has_focus_ && !suspended_) {
        readline_.restart();
        readline_.show_prompt(out);
    }
    write(out);
}

void HmpSession::focus_changed(bool has_focus) {
    has_focus_ = has_focus;
    if (suspended_) return;
    std::string out;
    if (has_focus) {
        readline_.restart();
        readline_.show_prompt(out);
    } else {
        out = "\n";
    }
    write(out);
}

void HmpSession::write(std::string_view text) {
    if (text.empty()) return;
    std::string crlf = hmp_crlf(text);
    chardev_.write({reinterpret_cast<const uint8_t*>(crlf.data()), crlf.size()});
}

} // namespace kestrel
