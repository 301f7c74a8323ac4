#pragma once
// An interrupt input of the in-kernel irqchip (or a fake in unit tests).
// Edge-triggered ISA devices call pulse(); level-triggered ones set_level().
#include <memory>

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

// A shared_ptr that does not own `line`, for interfaces that take one
// when the board keeps the line alive.
inline std::shared_ptr<IrqLine> borrowed_line(IrqLine& line) {
    return std::shared_ptr<IrqLine>(std::shared_ptr<void>{}, &line);
}

} // namespace kestrel
