#pragma once
// -serial stdio / -chardev stdio: input from fd 0, output to fd 1. A terminal
// on stdin goes into raw mode (see terminal.h) until this chardev is
// destroyed or the process exits. Only one may exist at a time.
#include "chardev/fd_chardev.h"

namespace kestrel {

class StdioChardev final : public FdChardev {
public:
    // Throws std::runtime_error("cannot use stdio by multiple character
    // devices") if another StdioChardev exists.
    StdioChardev(std::string label, EventLoop& loop, bool allow_signals);
    std::string filename() const override { return "stdio"; }
    ~StdioChardev() override;
};

} // namespace kestrel
