#pragma once
// One human monitor on one chardev (-monitor stdio, -mon chardev=x,
// mon:stdio, a socket): greets when a peer opens it, edits the typed line
// (HmpReadline), runs it and prints the output and a new "(qemu) " prompt.
// Everything happens on the event loop thread, as CharFrontend calls do.
#include "chardev/chardev.h"
#include "monitor/hmp/hmp.h"
#include "monitor/hmp/hmp_readline.h"

namespace kestrel {

class HmpSession final : public CharFrontend {
public:
    // Attaches itself to `chardev` (and detaches when destroyed).
    HmpSession(Chardev& chardev, HmpServices& services);
    ~HmpSession() override;
    HmpSession(const HmpSession&) = delete;
    HmpSession& operator=(const HmpSession&) = delete;

    size_t can_receive() override;
    void receive(std::span<const uint8_t> data) override;
    // "QEMU 7.2.0 monitor - type 'help' for more information" and, if this
    // monitor has the keyboard, the prompt.
    void opened() override;
    // Losing a mux's focus ends the line on screen; getting it back drops
    // the partial line and prints the prompt (as QEMU does).
    void focus_changed(bool has_focus) override;

    const HmpState& state() const { return state_; }

private:
    void write(std::string_view text);   // "\n" becomes "\r\n"

    Chardev& chardev_;
    HmpServices& services_;
    HmpState state_;
    HmpReadline readline_;
    bool has_focus_ = true;
    bool suspended_ = false;   // after "quit": no more prompts or input
};

} // namespace kestrel
