#pragma once
// An interrupt input of the in-kernel irqchip (or a fake in unit tests).
// Edge-triggered ISA devices call pulse(); level-triggered ones set_level().
namespace kestrel {

class IrqLine {
public:
    virtual ~IrqLine() = default;
    virtual void set_level(bool high) = 0;
    void pulse() {
        set_level(true);
        set_level(false);
    }
};

} // namespace kestrel
