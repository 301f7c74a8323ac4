#pragma once
// -serial null / -chardev null: output vanishes, no input ever arrives.
// Never "connected", as QEMU's null backend never reports CHR_EVENT_OPENED:
// a virtserialport on it stays closed on the host side, a monitor on it
// never greets.
#include "chardev/chardev.h"

namespace kestrel {

class NullChardev final : public Chardev {
public:
    explicit NullChardev(std::string label) : Chardev(std::move(label)) {}
    std::string filename() const override { return "null"; }
    bool connected() const override { return false; }
    void write(std::span<const uint8_t>) override {}
    void attach(CharFrontend* frontend) override { frontend_ = frontend; }
};

} // namespace kestrel
