#pragma once
// One ISA interrupt line driven by several level-triggered devices (COM1 and
// COM3 share IRQ 4, COM2 and COM4 IRQ 3): the line is high while any input
// is high. Each device gets its own input; the output changes only when the
// OR of the inputs does.
#include "base/irq_line.h"

#include <deque>
#include <mutex>

namespace kestrel {

class SharedIrqLine {
public:
    explicit SharedIrqLine(IrqLine& out) : out_(out) {}
    SharedIrqLine(const SharedIrqLine&) = delete;
    SharedIrqLine& operator=(const SharedIrqLine&) = delete;

    // The returned input lives as long as this object.
    IrqLine& add_input() {
        std::lock_guard guard(lock_);
        return inputs_.emplace_back(*this);
    }

private:
    class Input final : public IrqLine {
    public:
        explicit Input(SharedIrqLine& owner) : owner_(owner) {}
        void set_level(bool high) override { owner_.input_changed(high_, high); }

    private:
        SharedIrqLine& owner_;
        bool high_ = false;
    };

    void input_changed(bool& input_level, bool high) {
        std::lock_guard guard(lock_);
        if (input_level == high) return;
        input_level = high;
        high_inputs_ += high ? 1 : -1;
        bool out = high_inputs_ > 0;
        if (out != out_level_) {
            out_level_ = out;
            out_.set_level(out);
        }
    }

    IrqLine& out_;
    std::mutex lock_;
    std::deque<Input> inputs_;  // deque: references stay valid as it grows
    int high_inputs_ = 0;
    bool out_level_ = false;
};

} // namespace kestrel
