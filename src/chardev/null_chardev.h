#pragma once
// -serial null / -chardev null: output vanishes, no input ever arrives.
#include "chardev/chardev.h"

namespace kestrel {

class NullChardev final : public Chardev {
public:
    explicit NullChardev(std::string label) : Chardev(std::move(label)) {}
    std::string filename() const override { return "null"; }
    void write(std::span<const uint8_t>) override {}
};

} // namespace kestrel
